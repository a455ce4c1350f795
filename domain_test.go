package smartlic_test

import (
	"reflect"
	"slices"
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
	for _, p := range smartlic.ComputePools(now, types, counters, deposits, nil) {
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
	roll := smartlic.ComputePools(now, types, counters, deposits, &smartlic.Rollup{To: "top", Names: map[string]string{"va2": "Lab"}})
	for _, p := range roll {
		// va2 is short by one even though va1 has spare licenses: pools
		// are per VA, so the rolled-up row must still say so.
		if p.LicenseTag == "a" && (p.Purchased != 12 || p.InUse != 7 || p.Available != 5 || p.Overage != 1 || p.Status != smartlic.Insufficient || p.VirtualAccountID != "top" ||
			!slices.Equal(p.ShortVirtualAccounts, []string{"Lab"})) {
			t.Errorf("rolled up a = %+v", p)
		}
	}
}

// TestPoolsAfterTransfers: a pool is what it holds now, net of transfers.
// Every license of a lot transferred away leaves it empty, not expired,
// and with no next expiry of a lot it no longer holds.
func TestPoolsAfterTransfers(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { t := now.Add(time.Duration(days) * smartlic.Day); return &t }
	types := map[string]smartlic.LicenseType{"lt": {ID: "lt", Tag: "na"}}
	lot := func(va string, q int64, starts, ends int) smartlic.Deposit {
		return smartlic.Deposit{VirtualAccountID: va, LicenseTypeID: "lt", Quantity: q, StartsAt: *at(starts), EndsAt: at(ends)}
	}
	for _, tc := range []struct {
		name       string
		deposits   []smartlic.Deposit
		inUse      int64
		status     smartlic.PoolStatus
		purchased  int64
		nextExpiry *time.Time
	}{
		{"all transferred away", []smartlic.Deposit{lot("src", 10, -100, 20), lot("src", -10, -5, 20)}, 0, smartlic.Empty, 0, nil},
		{"the soonest lot transferred away", []smartlic.Deposit{lot("src", 10, -100, 20), lot("src", 5, -100, 200), lot("src", -10, -5, 20)}, 0, smartlic.InCompliance, 5, at(200)},
		{"part of a lot transferred away", []smartlic.Deposit{lot("src", 10, -100, 20), lot("src", -4, -5, 20)}, 0, smartlic.Expiring, 6, at(20)},
		{"transferred away, then ended", []smartlic.Deposit{lot("src", 10, -100, -20), lot("src", -10, -50, -20)}, 0, smartlic.Empty, 0, nil},
		{"ended here", []smartlic.Deposit{lot("src", 10, -100, -20), lot("src", -4, -50, -20)}, 0, smartlic.Expired, 0, nil},
		{"starts later", []smartlic.Deposit{lot("src", 10, 5, 400)}, 0, smartlic.Empty, 0, nil},
		{"transferred away while in use", []smartlic.Deposit{lot("src", 10, -100, 20), lot("src", -10, -5, 20)}, 1, smartlic.Insufficient, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var counters []smartlic.PoolCounter
			if tc.inUse > 0 {
				counters = append(counters, smartlic.PoolCounter{VirtualAccountID: "src", LicenseTypeID: "lt", InUse: tc.inUse})
			}
			pools := smartlic.ComputePools(now, types, counters, tc.deposits, nil)
			if len(pools) != 1 {
				t.Fatalf("pools = %+v", pools)
			}
			p := pools[0]
			if p.Status != tc.status || p.Purchased != tc.purchased || !reflect.DeepEqual(p.NextExpiry, tc.nextExpiry) {
				t.Errorf("pool = %+v (next expiry %v), want %s, purchased %d, next expiry %v", p, p.NextExpiry, tc.status, tc.purchased, tc.nextExpiry)
			}
		})
	}
}

// TestRolledUpStatus: the status of a rolled-up or account-wide row, as
// docs/reports.md defines it.
func TestRolledUpStatus(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { t := now.Add(time.Duration(days) * smartlic.Day); return &t }
	types := map[string]smartlic.LicenseType{"lt": {ID: "lt", Tag: "na"}}
	names := map[string]string{"a": "Building A", "b": "Building B", "c": "Campus"}
	dep := func(va string, q int64, ends *time.Time) smartlic.Deposit {
		return smartlic.Deposit{VirtualAccountID: va, LicenseTypeID: "lt", Quantity: q, StartsAt: *at(-100), EndsAt: ends}
	}
	use := func(va string, n int64) smartlic.PoolCounter {
		return smartlic.PoolCounter{VirtualAccountID: va, LicenseTypeID: "lt", InUse: n}
	}
	for _, tc := range []struct {
		name     string
		deposits []smartlic.Deposit
		counters []smartlic.PoolCounter
		status   smartlic.PoolStatus
		short    []string
	}{
		{"one VA short, spare elsewhere", []smartlic.Deposit{dep("a", 5, nil), dep("b", 20, nil), dep("c", 20, nil)},
			[]smartlic.PoolCounter{use("a", 6), use("b", 10), use("c", 10), use("c", 0)}, smartlic.Insufficient, []string{"Building A"}},
		{"two VAs short", []smartlic.Deposit{dep("a", 5, nil), dep("b", 1, nil), dep("c", 50, nil)},
			[]smartlic.PoolCounter{use("a", 6), use("b", 2)}, smartlic.Insufficient, []string{"Building A", "Building B"}},
		{"one VA expired, another holds licenses", []smartlic.Deposit{dep("a", 5, at(-1)), dep("b", 5, at(300))}, nil, smartlic.InCompliance, nil},
		{"every VA expired", []smartlic.Deposit{dep("a", 5, at(-1)), dep("b", 5, at(-2))}, nil, smartlic.Expired, nil},
		{"soonest expiry anywhere", []smartlic.Deposit{dep("a", 5, at(30)), dep("b", 5, nil)}, nil, smartlic.Expiring, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []*smartlic.Rollup{{To: "top", Names: names}, {Names: names}} {
				pools := smartlic.ComputePools(now, types, tc.counters, tc.deposits, r)
				if len(pools) != 1 {
					t.Fatalf("pools = %+v", pools)
				}
				p := pools[0]
				if p.Status != tc.status || !slices.Equal(p.ShortVirtualAccounts, tc.short) || p.VirtualAccountID != r.To {
					t.Errorf("rolled up to %q: %+v, want %s, short %v", r.To, p, tc.status, tc.short)
				}
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		end  time.Time
		want int
	}{
		{now.Add(19*smartlic.Day + 12*time.Hour), 20}, // a part of a day counts as a day
		{now.Add(20 * smartlic.Day), 20},
		{now.Add(time.Second), 1},
		{now, 0},
		{now.Add(-smartlic.Day), 0},
	} {
		if got := smartlic.DaysLeft(now, tc.end); got != tc.want {
			t.Errorf("DaysLeft(%s) = %d, want %d", tc.end.Sub(now), got, tc.want)
		}
	}
}

// PoolsChangeAt names the first instant ComputePools would answer
// differently by the clock alone; right before it the answer is the same
// as at now, at it the answer differs.
func TestPoolsChangeAt(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := smartlic.Day
	at := func(d time.Duration) time.Time { return now.Add(d) }
	end := func(d time.Duration) *time.Time { e := now.Add(d); return &e }
	types := map[string]smartlic.LicenseType{"a": {ID: "a", Tag: "a"}}
	for _, tc := range []struct {
		name     string
		deposits []smartlic.Deposit
		want     time.Time
	}{
		{"perpetual, started", []smartlic.Deposit{{LicenseTypeID: "a", Quantity: 5, StartsAt: at(-day)}}, time.Time{}},
		{"starts later", []smartlic.Deposit{{LicenseTypeID: "a", Quantity: 5, StartsAt: at(3 * day)}}, at(3 * day)},
		{"enters the expiring window", []smartlic.Deposit{{LicenseTypeID: "a", Quantity: 5, StartsAt: at(-day), EndsAt: end(100 * day)}}, at(10 * day)},
		{"expiring, then ends", []smartlic.Deposit{{LicenseTypeID: "a", Quantity: 5, StartsAt: at(-day), EndsAt: end(20 * day)}}, at(20 * day)},
		{"the earliest of several", []smartlic.Deposit{
			{LicenseTypeID: "a", Quantity: 5, StartsAt: at(-day), EndsAt: end(300 * day)},
			{LicenseTypeID: "a", Quantity: 2, StartsAt: at(50 * day)},
			{LicenseTypeID: "a", Quantity: 1, StartsAt: at(-9 * day), EndsAt: end(-day)},
		}, at(50 * day)},
	} {
		got := smartlic.PoolsChangeAt(now, tc.deposits)
		if !got.Equal(tc.want) {
			t.Errorf("%s: change at %v, want %v", tc.name, got, tc.want)
			continue
		}
		if got.IsZero() {
			continue
		}
		counters := []smartlic.PoolCounter{{VirtualAccountID: "v", LicenseTypeID: "a", InUse: 3}}
		for i := range tc.deposits {
			tc.deposits[i].VirtualAccountID = "v"
		}
		before := smartlic.ComputePools(now, types, counters, tc.deposits, nil)
		if just := smartlic.ComputePools(got.Add(-time.Nanosecond), types, counters, tc.deposits, nil); !reflect.DeepEqual(before, just) {
			t.Errorf("%s: the pools changed before %v", tc.name, got)
		}
		if after := smartlic.ComputePools(got, types, counters, tc.deposits, nil); reflect.DeepEqual(before, after) {
			t.Errorf("%s: the pools did not change at %v", tc.name, got)
		}
	}
}
