package rescode_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
)

func sample() []byte {
	var w rescode.Writer
	w.String("C9300-24T:FOC2231X0AB")
	w.Fixed([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	w.Uint(300)
	return w.Payload()
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range [][]byte{nil, {0}, {0xff}, sample(), bytes.Repeat([]byte{0xa5}, rescode.MaxPayload)} {
		code := rescode.Encode("RQ1", p)
		got, err := rescode.Decode("code", "RQ1", code)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("Decode(Encode(%x)) = %x, %v", p, got, err)
		}
	}
}

func TestShape(t *testing.T) {
	t.Parallel()
	code := rescode.Encode("RQ1", sample())
	groups := strings.Split(code, "-")
	if groups[0] != "RQ1" {
		t.Fatalf("prefix %q", groups[0])
	}
	for i, g := range groups[1:] {
		if len(g) > rescode.GroupSize || (i < len(groups)-2 && len(g) != rescode.GroupSize) {
			t.Fatalf("group %d %q of %s", i, g, code)
		}
		if strings.Trim(g, rescode.Alphabet) != "" {
			t.Fatalf("group %q has characters outside the alphabet", g)
		}
	}
}

// A person may retype a code in lower case, with spaces or line breaks,
// and with O, I or L for 0 and 1: it still reads.
func TestLenientReading(t *testing.T) {
	t.Parallel()
	p := sample()
	code := rescode.Encode("RQ1", p)
	messy := strings.ToLower(code)
	messy = strings.ReplaceAll(messy, "-", " ")
	messy = strings.ReplaceAll(messy, "0", "o")
	messy = strings.ReplaceAll(messy, "1", "l")
	messy = "rq1" + strings.ReplaceAll(messy[3:], "l", "I") // the prefix keeps its digit
	messy = messy[:20] + "\n" + messy[20:]
	got, err := rescode.Decode("code", "RQ1", messy)
	if err != nil || !bytes.Equal(got, p) {
		t.Fatalf("Decode(%q) = %x, %v", messy, got, err)
	}
}

func body(code string) (string, string) {
	k, b := rescode.Normalize(code)
	return k, b
}

func group(k, b string) string {
	var s strings.Builder
	s.WriteString(k)
	for i := 0; i < len(b); i += 5 {
		s.WriteString("-" + b[i:min(i+5, len(b))])
	}
	return s.String()
}

func wantCodeError(t *testing.T, text, why string) {
	t.Helper()
	_, err := rescode.Decode("request_code", "RQ1", text)
	if smartlic.ErrorCode(err) != smartlic.ECodeInvalid || smartlic.ErrorField(err) != "request_code" {
		t.Fatalf("%s: Decode(%q) = %v, want code_invalid on request_code", why, text, err)
	}
}

// Every single mistyped character, every swap of two neighbours and every
// truncation is refused by the checks, for several payloads.
func TestChecksCatchTypos(t *testing.T) {
	t.Parallel()
	for _, p := range [][]byte{sample(), {}, bytes.Repeat([]byte{0}, 40), bytes.Repeat([]byte{0xff}, 77)} {
		k, b := body(rescode.Encode("RQ1", p))
		for i := range len(b) {
			for _, c := range rescode.Alphabet {
				if byte(c) == b[i] {
					continue
				}
				wantCodeError(t, group(k, b[:i]+string(c)+b[i+1:]), "substitution")
			}
			if i+1 < len(b) && b[i] != b[i+1] {
				wantCodeError(t, group(k, b[:i]+b[i+1:i+2]+b[i:i+1]+b[i+2:]), "transposition")
			}
			wantCodeError(t, group(k, b[:i]), "truncation")
			wantCodeError(t, group(k, b[:i]+b[i+1:]), "deletion")
			wantCodeError(t, group(k, b[:i]+"7"+b[i:]), "insertion")
		}
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	code := rescode.Encode("RQ1", sample())
	other := rescode.Encode("RA1", sample())
	for name, text := range map[string]string{
		"empty":         "",
		"spaces":        "  - -",
		"kind only":     "RQ1",
		"another kind":  other,
		"no kind":       strings.TrimPrefix(code, "RQ1-"),
		"U":             code[:len(code)-1] + "U",
		"punctuation":   code + "!",
		"non-ASCII":     code[:6] + "é" + code[7:],
		"doubled":       code + code[3:],
		"too long":      "RQ1-" + strings.Repeat("A", 5000),
		"kind in body":  "RQ1" + code,
		"renamed kind":  "RA1" + code[3:],
		"newer version": "RQ2" + code[3:],
	} {
		wantCodeError(t, text, name)
	}
}

// The checksum covers the kind: a code of one kind relabelled as another
// fails the check even where the kinds have the same body format.
func TestKindIsChecked(t *testing.T) {
	t.Parallel()
	code := rescode.Encode("RR1", sample())
	if _, err := rescode.Decode("code", "RC1", "RC1"+code[3:]); smartlic.ErrorCode(err) != smartlic.ECodeInvalid {
		t.Fatalf("relabelled code: %v", err)
	}
	if rescode.KindOf(" rr1-abc") != "RR1" {
		t.Fatalf("KindOf = %q", rescode.KindOf(" rr1-abc"))
	}
}

func TestReader(t *testing.T) {
	t.Parallel()
	var w rescode.Writer
	w.Uint(7)
	w.String("network-advantage")
	w.Fixed([]byte{9, 9})
	r := rescode.NewReader(w.Payload())
	if r.Uint("n") != 7 || r.String("tag", 64) != "network-advantage" || !bytes.Equal(r.Fixed("x", 2), []byte{9, 9}) || r.Done() != nil {
		t.Fatalf("reader did not read what the writer wrote: %v", r.Err)
	}
	r = rescode.NewReader(w.Payload())
	r.Uint("n")
	if r.String("tag", 4); r.Err == nil || smartlic.ErrorCode(r.Err) != smartlic.ECodeInvalid {
		t.Fatalf("a string over its bound was read: %v", r.Err)
	}
	if r.Uint("after") != 0 || r.Fixed("after", 1) != nil {
		t.Fatal("reads after an error return values")
	}
	r = rescode.NewReader(append(w.Payload(), 0))
	r.Uint("n")
	r.String("tag", 64)
	r.Fixed("x", 2)
	if r.Done() == nil {
		t.Fatal("trailing byte accepted")
	}
	r = rescode.NewReader([]byte{0x80})
	if r.Uint("n"); r.Err == nil {
		t.Fatal("truncated varint accepted")
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to
// the normalized text it read, so there is one spelling of every payload.
func FuzzDecode(f *testing.F) {
	f.Add(rescode.Encode("RQ1", sample()))
	f.Add(rescode.Encode("RQ1", nil))
	f.Add("rq1-0000")
	f.Add("RQ1-ZZZZZ-ZZZZZ")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := rescode.Decode("code", "RQ1", text)
		if err != nil {
			if smartlic.ErrorCode(err) != smartlic.ECodeInvalid {
				t.Fatalf("error with code %q: %v", smartlic.ErrorCode(err), err)
			}
			return
		}
		k, b := rescode.Normalize(text)
		if again := rescode.Encode("RQ1", p); again != group(k, b) {
			t.Fatalf("accepted %q but it encodes as %q", text, again)
		}
	})
}

// A mistyped character is called mistyped, wherever it is — the last one
// included, whose unused bits make the length check fail first — never
// "incomplete"; a code of another kind says where it goes.
func TestCodeErrorsSayWhatHappened(t *testing.T) {
	t.Parallel()
	for _, p := range [][]byte{sample(), {1}, bytes.Repeat([]byte{7}, 33)} {
		k, b := body(rescode.Encode("RQ1", p))
		for i := range len(b) {
			for _, c := range rescode.Alphabet {
				if byte(c) == b[i] {
					continue
				}
				_, err := rescode.Decode("request_code", "RQ1", group(k, b[:i]+string(c)+b[i+1:]))
				if msg := smartlic.ErrorMessage(err); !strings.Contains(msg, "mistyped") {
					t.Fatalf("character %d of %d changed: %q, want it called mistyped", i+1, len(b), msg)
				}
			}
		}
	}
	_, err := rescode.Decode("code", "SR1", rescode.Encode("RR1", sample()))
	if msg := smartlic.ErrorMessage(err); !strings.Contains(msg, "smartlic reservation return --code") {
		t.Fatalf("a return code of a reservation given as a SLAC return: %q, want where it goes", msg)
	}
}
