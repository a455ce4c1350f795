package smartlic_test

import (
	"math"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// series makes consecutive days of history from in-use counts, with the
// same purchased quantity every day.
func series(first time.Time, purchased int64, inUse ...int64) []smartlic.HistoryPoint {
	out := make([]smartlic.HistoryPoint, len(inUse))
	for i, n := range inUse {
		out[i] = smartlic.HistoryPoint{Day: first.Add(time.Duration(i) * smartlic.Day), Purchased: purchased, InUse: n, PeakInUse: n}
	}
	return out
}

func TestProjectUsage(t *testing.T) {
	t.Parallel()
	d0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) *time.Time { d := d0.Add(time.Duration(n) * smartlic.Day); return &d }
	ramp := func(n int, from, step int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = from + int64(i)*step
		}
		return out
	}
	tests := []struct {
		name      string
		points    []smartlic.HistoryPoint
		window    int
		state     smartlic.ProjectionState
		slope     float64
		intercept float64
		exceedsOn *time.Time
	}{
		{name: "no history", points: nil, window: 30, state: smartlic.ProjectionUnknown},
		{name: "one day", points: series(d0, 10, 4), window: 30, state: smartlic.ProjectionUnknown},
		{name: "one day already over", points: series(d0, 10, 12), window: 30, state: smartlic.ProjectionExceeded},
		// 0,1,2,…,9 on days 0..9: in use = day; purchased 20 → 21 > 20 on day 21.
		{name: "one a day crosses", points: series(d0, 20, ramp(10, 0, 1)...), window: 30, state: smartlic.ProjectionCrosses,
			slope: 1, intercept: 0, exceedsOn: day(21)},
		// The line reaches 20 exactly on day 20: equal is not above.
		{name: "equal is not exceeding", points: series(d0, 20, ramp(5, 0, 1)...), window: 30, state: smartlic.ProjectionCrosses,
			slope: 1, exceedsOn: day(21)},
		// Two a day from 1: 1 + 2x > 10 for x > 4.5 → day 5, but the data
		// (last day 3, in use 7) says it is below today, so tomorrow at the earliest.
		{name: "two a day", points: series(d0, 10, 1, 3, 5, 7), window: 30, state: smartlic.ProjectionCrosses,
			slope: 2, intercept: 1, exceedsOn: day(5)},
		// Noisy: 2,4,3,5 → slope 0.8, intercept 2.3; 2.3+0.8x > 6 for x > 4.625 → day 5.
		{name: "least squares through noise", points: series(d0, 6, 2, 4, 3, 5), window: 30, state: smartlic.ProjectionCrosses,
			slope: 0.8, intercept: 2.3, exceedsOn: day(5)},
		// The fitted line is above purchased already though today's count
		// is not: the crossing is tomorrow, not in the past.
		{name: "line above but count not", points: series(d0, 8, 0, 0, 9, 8), window: 30, state: smartlic.ProjectionCrosses,
			slope: 3.3, intercept: -0.7, exceedsOn: day(4)},
		{name: "flat", points: series(d0, 10, 5, 5, 5, 5), window: 30, state: smartlic.ProjectionNone, intercept: 5},
		{name: "falling", points: series(d0, 10, 9, 8, 7, 6), window: 30, state: smartlic.ProjectionNone, slope: -1, intercept: 9},
		{name: "already over", points: series(d0, 10, 8, 10, 12), window: 30, state: smartlic.ProjectionExceeded, slope: 2, intercept: 8},
		// Only the window counts: a steep past and a flat recent window.
		{name: "window keeps the recent days", points: series(d0, 100, 0, 50, 90, 90, 90), window: 3, state: smartlic.ProjectionNone, intercept: 90},
		// One license a year on 1000 purchased: beyond the horizon.
		{name: "beyond the horizon", points: series(d0, 1000, 0, 0, 0, 1), window: 30, state: smartlic.ProjectionNone, slope: 0.3, intercept: -0.2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := smartlic.ProjectUsage(tc.points, tc.window)
			if p.State != tc.state {
				t.Fatalf("state = %s, want %s (%+v)", p.State, tc.state, p)
			}
			if math.Abs(p.SlopePerDay-tc.slope) > 1e-9 || math.Abs(p.Intercept-tc.intercept) > 1e-9 {
				t.Errorf("line = %g + %g·day, want %g + %g·day", p.Intercept, p.SlopePerDay, tc.intercept, tc.slope)
			}
			switch {
			case tc.exceedsOn == nil && p.ExceedsOn != nil:
				t.Errorf("exceeds on %s, want never", p.ExceedsOn.Format(time.DateOnly))
			case tc.exceedsOn != nil && (p.ExceedsOn == nil || !p.ExceedsOn.Equal(*tc.exceedsOn)):
				t.Errorf("exceeds on %v, want %s", p.ExceedsOn, tc.exceedsOn.Format(time.DateOnly))
			}
		})
	}
}

func TestProjectionSummary(t *testing.T) {
	t.Parallel()
	on := time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		p    smartlic.Projection
		want string
	}{
		{smartlic.Projection{State: smartlic.ProjectionCrosses, SlopePerDay: 0.25, Window: 30, ExceedsOn: &on},
			"At the current trend (+0.25 a day over the last 30 days), usage exceeds purchases around 2027-03-14."},
		{smartlic.Projection{State: smartlic.ProjectionNone, SlopePerDay: -1, Window: 30},
			"Usage does not exceed purchases at the current trend (-1 a day over the last 30 days)."},
		{smartlic.Projection{State: smartlic.ProjectionExceeded, InUse: 12, Purchased: 10},
			"Usage already exceeds purchases: 12 in use, 10 purchased."},
		{smartlic.Projection{State: smartlic.ProjectionUnknown}, "Not enough history for a trend yet."},
	}
	for _, tc := range tests {
		if got := tc.p.Summary(); got != tc.want {
			t.Errorf("Summary() = %q, want %q", got, tc.want)
		}
	}
}

func TestDailyHistory(t *testing.T) {
	t.Parallel()
	d0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(day int, hour int) time.Time {
		return d0.Add(time.Duration(day)*smartlic.Day + time.Duration(hour)*time.Hour)
	}
	ends := at(2, 12)
	deposits := []smartlic.Deposit{
		{Quantity: 10, StartsAt: at(-10, 0)},
		{Quantity: 5, StartsAt: at(1, 6), EndsAt: &ends}, // bought on day 1, ends mid-day 2
		{Quantity: -2, StartsAt: at(3, 1)},               // transferred away on day 3
	}
	changes := []smartlic.InUseChange{
		// Two VAs, given out of time order as the store gives them (by pool).
		{VirtualAccountID: "b", At: at(1, 9), InUse: 4},
		{VirtualAccountID: "a", At: at(1, 8), InUse: 9},
		{VirtualAccountID: "a", At: at(1, 10), InUse: 2},
		{VirtualAccountID: "a", At: at(3, 5), InUse: 6},
	}
	now := at(3, 12)
	got := smartlic.DailyHistory(d0, now, map[string]int64{"a": 3, "b": 1}, changes, deposits)
	want := []smartlic.HistoryPoint{
		{Day: at(0, 0), Purchased: 10, InUse: 4, PeakInUse: 4},
		{Day: at(1, 0), Purchased: 15, InUse: 6, PeakInUse: 13}, // a 9 + b 1 = 10, then 9+4 = 13, then 2+4
		{Day: at(2, 0), Purchased: 10, InUse: 6, PeakInUse: 6},
		{Day: at(3, 0), Purchased: 8, InUse: 10, PeakInUse: 10},
	}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Day.Equal(want[i].Day) || got[i].Purchased != want[i].Purchased || got[i].InUse != want[i].InUse || got[i].PeakInUse != want[i].PeakInUse {
			t.Errorf("day %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
