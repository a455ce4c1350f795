package sign

import (
	"regexp"
	"testing"
)

// docTypeRule is the rule isDocType implements, as the protocol states it.
var docTypeRule = regexp.MustCompile(`^smartlic\.[a-z0-9-]{1,40}/v[0-9]{1,3}$`)

func docTypeSeeds() []string {
	return []string{
		"smartlic.rum-report/v1", "smartlic.a/v0", "smartlic.usage-ack/v123", "smartlic.x/v1234", "smartlic./v1",
		"smartlic.a/v", "smartlic.a/1", "smartlic.A/v1", "smartlic.a_b/v1", "smartlic.a/b/v1", "smartlic.a/v1/v2",
		"smartlic.a/v1\n", "xsmartlic.a/v1", "smartlic.a.b/v1", "smartlic." + string(make([]byte, 41)) + "/v1",
		"smartlic.0123456789012345678901234567890123456789/v1", "smartlic.01234567890123456789012345678901234567890/v1",
		"", "smartlic.", "smartlic.é/v1", "smartlic.a/v١",
	}
}

func TestIsDocTypeIsTheRule(t *testing.T) {
	for _, s := range docTypeSeeds() {
		if got, want := isDocType(s), docTypeRule.MatchString(s); got != want {
			t.Errorf("isDocType(%q) = %v, the rule says %v", s, got, want)
		}
	}
}

func FuzzIsDocType(f *testing.F) {
	for _, s := range docTypeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isDocType(s), docTypeRule.MatchString(s); got != want {
			t.Fatalf("isDocType(%q) = %v, the rule says %v", s, got, want)
		}
	})
}
