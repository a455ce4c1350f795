package smartlic_test

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

func TestParseUDI(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"C9300-24T:FOC2231X0AB", true},
		{"ISR4451-X/K9:FGL1234", true},
		{"C9300-24T", false},
		{":FOC1", false},
		{"C9300:", false},
		{"C9300:FOC 1", false},
		{"C9300:FOC1:extra", false},
		{"C9300:" + string(make([]byte, 41)), false},
	} {
		u, err := smartlic.ParseUDI("udi", tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseUDI(%q) = %v, %v; want ok=%v", tc.in, u, err, tc.ok)
		}
		if err != nil && (smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != "udi") {
			t.Errorf("ParseUDI(%q) error %v lacks code/field", tc.in, err)
		}
		if err == nil && u.String() != tc.in {
			t.Errorf("round trip %q -> %q", tc.in, u.String())
		}
	}
}

func TestNames(t *testing.T) {
	for _, bad := range []string{"", " lead", "trail ", "a/b", "50%", ".", "..", "tab\there"} {
		if err := smartlic.ValidateVAName("name", bad); err == nil {
			t.Errorf("VA name %q accepted", bad)
		}
	}
	for _, good := range []string{"DEFAULT", "EMEA Sales", "Zürich Büro", "R&D + QA"} {
		if err := smartlic.ValidateVAName("name", good); err != nil {
			t.Errorf("VA name %q refused: %v", good, err)
		}
	}
	if d, err := smartlic.NormalizeDomain("domain", " Acme.Example "); err != nil || d != "acme.example" {
		t.Errorf("NormalizeDomain = %q, %v", d, err)
	}
	for _, bad := range []string{"acme", "acme..example", "-acme.example", "acme.example/x"} {
		if _, err := smartlic.NormalizeDomain("domain", bad); err == nil {
			t.Errorf("domain %q accepted", bad)
		}
	}
}

func TestTokenState(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	two := int64(2)
	revokedAt := now.Add(-time.Hour)
	for _, tc := range []struct {
		tok  smartlic.Token
		want smartlic.TokenState
		code string
	}{
		{smartlic.Token{ExpiresAt: now.Add(time.Hour)}, smartlic.TokenActive, ""},
		{smartlic.Token{ExpiresAt: now}, smartlic.TokenExpired, smartlic.ETokenExpired},
		{smartlic.Token{ExpiresAt: now.Add(time.Hour), MaxUses: &two, Uses: 2}, smartlic.TokenExhausted, smartlic.ETokenExhausted},
		{smartlic.Token{ExpiresAt: now.Add(time.Hour), MaxUses: &two, Uses: 1}, smartlic.TokenActive, ""},
		{smartlic.Token{ExpiresAt: now.Add(time.Hour), RevokedAt: &revokedAt}, smartlic.TokenRevoked, smartlic.ETokenRevoked},
	} {
		if got := tc.tok.State(now); got != tc.want {
			t.Errorf("%+v: state %s, want %s", tc.tok, got, tc.want)
		}
		if got := smartlic.ErrorCode(tc.tok.UsableErr(now)); got != tc.code {
			t.Errorf("%+v: error code %q, want %q", tc.tok, got, tc.code)
		}
	}
}

func TestComputePools(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { t := now.Add(time.Duration(days) * smartlic.Day); return &t }
	types := map[string]smartlic.LicenseType{
		"lt-a": {ID: "lt-a", Tag: "a"}, "lt-b": {ID: "lt-b", Tag: "b"}, "lt-c": {ID: "lt-c", Tag: "c"}, "lt-d": {ID: "lt-d", Tag: "d"},
	}
	deposits := []smartlic.Deposit{
		{VirtualAccountID: "va1", LicenseTypeID: "lt-a", Quantity: 10, StartsAt: now.Add(-smartlic.Day)},                 // perpetual
		{VirtualAccountID: "va1", LicenseTypeID: "lt-b", Quantity: 5, StartsAt: now.Add(-smartlic.Day), EndsAt: at(30)},  // expiring
		{VirtualAccountID: "va1", LicenseTypeID: "lt-c", Quantity: 5, StartsAt: *at(-400), EndsAt: at(-35)},              // expired
		{VirtualAccountID: "va2", LicenseTypeID: "lt-a", Quantity: 2, StartsAt: now.Add(-smartlic.Day), EndsAt: at(400)}, // in compliance
	}
	counters := []smartlic.PoolCounter{
		{VirtualAccountID: "va1", LicenseTypeID: "lt-a", InUse: 4},
		{VirtualAccountID: "va2", LicenseTypeID: "lt-a", InUse: 3},
		{VirtualAccountID: "va2", LicenseTypeID: "lt-d", InUse: 0}, // nothing ever deposited, nothing used: no row
	}
	got := map[string]smartlic.Pool{}
	for _, p := range smartlic.ComputePools(now, types, counters, deposits, "") {
		got[p.VirtualAccountID+"/"+p.LicenseTag] = p
	}
	want := map[string]struct {
		purchased, inUse, available int64
		status                      smartlic.PoolStatus
	}{
		"va1/a": {10, 4, 6, smartlic.InCompliance},
		"va1/b": {5, 0, 5, smartlic.Expiring},
		"va1/c": {0, 0, 0, smartlic.Expired},
		"va2/a": {2, 3, -1, smartlic.Insufficient},
	}
	if len(got) != len(want) {
		t.Fatalf("pools %v, want %d rows", got, len(want))
	}
	for k, w := range want {
		p := got[k]
		if p.Purchased != w.purchased || p.InUse != w.inUse || p.Available != w.available || p.Status != w.status {
			t.Errorf("%s = %+v, want %+v", k, p, w)
		}
	}
	roll := smartlic.ComputePools(now, types, counters, deposits, "top")
	for _, p := range roll {
		// va2 is short by one even though va1 has spare licenses: pools
		// are per VA, so the rolled-up row must still say so.
		if p.LicenseTag == "a" && (p.Purchased != 12 || p.InUse != 7 || p.Available != 5 || p.Overage != 1 || p.Status != smartlic.Insufficient || p.VirtualAccountID != "top") {
			t.Errorf("rolled up a = %+v", p)
		}
	}
}
