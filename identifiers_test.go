package smartlic_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// TestIdentifierRules holds the loops that check tags, product IDs, serial
// numbers and report ids to the regular expressions they replace, over
// every short string of a mixed alphabet and random longer ones around the
// length limits.
func TestIdentifierRules(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	rules := []struct {
		name string
		re   *regexp.Regexp
		ok   func(s string) bool
	}{
		{"tag", regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`), func(s string) bool { return smartlic.ValidateTag("tag", s) == nil }},
		{"pid", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/+-]{0,39}$`), func(s string) bool { return smartlic.ValidatePID("pid", s) == nil }},
		{"sn", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`), func(s string) bool {
			return smartlic.UDI{PID: "C9300-24T", SN: s}.Validate("udi") == nil
		}},
		{"report id", regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`), func(s string) bool {
			r := smartlic.RUMReport{ReportID: s, InstanceID: "i", UDI: smartlic.UDI{PID: "C9300-24T", SN: "FOC1"}, CreatedAt: now}
			return r.Validate(now) == nil
		}},
	}
	alphabet := []string{"a", "Z", "0", "9", ".", "_", "-", "/", "+", " ", "\n", "é", "\x00", "$", "A"}
	var cases []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		cases = append(cases, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+c, n-1)
		}
	}
	gen("", 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		// Mostly characters every rule allows, so that long strings are
		// accepted too, with now and then one some rule refuses.
		var b strings.Builder
		for range 35 + rng.IntN(35) {
			if rng.IntN(60) == 0 {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			} else {
				b.WriteString([]string{"a", "0", "9", "-"}[rng.IntN(4)])
			}
		}
		cases = append(cases, b.String())
	}
	for _, r := range rules {
		for _, s := range cases {
			if got, want := r.ok(s), r.re.MatchString(s); got != want {
				t.Errorf("%s %q: accepted %v, the regular expression says %v", r.name, s, got, want)
			}
		}
	}
}
