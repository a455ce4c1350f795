package smartlic_test

import (
	"testing"

	"github.com/smartlic/smartlic"
)

func TestTextRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in                string
		text, ident, name bool // accepted by ValidateText, ValidateIdentifier, ValidateName
	}{
		{"Acme EMEA", true, true, true},
		{"Zürich Büro 東京", true, true, true},
		{"line\nbreak", true, false, false},
		{"tab\there", true, false, false},
		{"a\x00b", false, false, false},
		{"a\xffb", false, false, false},
		{"a\xc0\x80b", false, false, false}, // overlong NUL
		{"a\u0085b", true, false, false},    // C1 control
		{"a\u2028b", true, false, false},    // line separator
		{"EMEA\u202egnp", true, false, false},
		{"EM\u200bEA", true, false, false},
		{"\ufeffAcme", true, false, false},
		{"a\u2066b\u2069", true, false, false},
		{"soft\u00adhyphen", true, false, false},
	} {
		if err := smartlic.ValidateText("f", tc.in); (err == nil) != tc.text {
			t.Errorf("ValidateText(%q) = %v, want ok=%v", tc.in, err, tc.text)
		}
		if err := smartlic.ValidateIdentifier("f", tc.in); (err == nil) != tc.ident {
			t.Errorf("ValidateIdentifier(%q) = %v, want ok=%v", tc.in, err, tc.ident)
		}
		err := smartlic.ValidateName("f", tc.in, 100)
		if (err == nil) != tc.name {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.in, err, tc.name)
		}
		if err != nil && (smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != "f") {
			t.Errorf("ValidateName(%q) error %v lacks code or field", tc.in, err)
		}
	}
}

func TestPageCursors(t *testing.T) {
	t.Parallel()
	id := "019a22bb-a5b6-7386-9a04-846717edad69"
	for _, tc := range []struct {
		after       string
		byID, bySeq bool
	}{
		{"", true, true},
		{id, true, false},
		{"019A22BB-A5B6-7386-9A04-846717EDAD69", false, false},
		{"{" + id + "}", false, false},
		{"!", false, false},
		{"42", false, true},
		{"0", false, true},
		{"042", false, false},
		{"-1", false, false},
		{"+1", false, false},
	} {
		_, err := smartlic.Page{After: tc.after}.Normalize()
		if (err == nil) != tc.byID {
			t.Errorf("Normalize(after %q) = %v, want ok=%v", tc.after, err, tc.byID)
		}
		if err != nil && smartlic.ErrorField(err) != "after" {
			t.Errorf("Normalize(after %q) error %v does not name after", tc.after, err)
		}
		if _, err := (smartlic.Page{After: tc.after}).NormalizeSeq(); (err == nil) != tc.bySeq {
			t.Errorf("NormalizeSeq(after %q) = %v, want ok=%v", tc.after, err, tc.bySeq)
		}
	}
}
