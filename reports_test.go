package smartlic_test

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

func TestMeasurePeak(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * smartlic.Day) }
	end := day(10)
	deposits := []smartlic.Deposit{
		{Quantity: 5, StartsAt: day(-30)},               // perpetual
		{Quantity: 3, StartsAt: day(-30), EndsAt: &end}, // lapses on day 10
		{Quantity: -1, StartsAt: day(4)},                // transferred away on day 4
	}
	changes := []smartlic.InUseChange{
		{At: day(2), InUse: 8},
		{At: day(5), InUse: 8}, // 7 purchased since day 4: 1 over
		{At: day(6), InUse: 3},
		{At: day(12), InUse: 6}, // 4 purchased since day 10: 2 over
		{At: day(12), Seq: 1, InUse: 5},
	}
	l := smartlic.MeasurePeak(t0, day(20), 1, changes, deposits)
	if l.PeakInUse != 8 || !l.PeakInUseAt.Equal(day(2)) {
		t.Errorf("peak in use = %d at %v, want 8 on day 2", l.PeakInUse, l.PeakInUseAt)
	}
	// Day 4: 8 in use, 7 purchased (1 over); day 12: 5 in use, 4 purchased (1 over);
	// day 10: 3 in use, 4 purchased. The first moment of the largest overage wins.
	if l.PeakOverage != 1 || !l.PeakOverageAt.Equal(day(4)) || l.PurchasedAtPeak != 7 || l.Purchased != 4 {
		t.Errorf("peak overage = %+v", l)
	}
	// Nothing in use: no peak moment, purchased at the start.
	l = smartlic.MeasurePeak(t0, day(20), 0, nil, deposits[:1])
	if l.PeakInUse != 0 || l.PeakInUseAt != nil || l.PeakOverage != 0 || l.PurchasedAtPeak != 5 || l.Purchased != 5 {
		t.Errorf("idle pool = %+v", l)
	}
}

func TestOrderLotsForTransfer(t *testing.T) {
	a, b := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	lots := []smartlic.LicenseLot{{DepositID: "p2"}, {DepositID: "late", EndsAt: &b}, {DepositID: "p1"}, {DepositID: "early", EndsAt: &a}}
	smartlic.OrderLotsForTransfer(lots)
	var got []string
	for _, l := range lots {
		got = append(got, l.DepositID)
	}
	if want := []string{"early", "late", "p1", "p2"}; len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("order = %v, want %v", got, want)
	}
}
