package manager_test

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A license type's history is read from the pool history and deposits:
// one point per day, in use at the end of the day and its peak, for the
// account or a VA's subtree, and a projection of the trend; a VA user
// sees its own subtree only.
func TestLicenseHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "A", "B")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa, smartlic.VirtualAccountInput{Name: "A1", Parent: "A"}))
		t0 := epoch // day 0, 09:00
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-essentials", Quantity: 10}))
		dA := newDevice(t, "FOC0001")
		must[smartlic.IDCert](t)(f.register(dA, f.token(sa, "A1", smartlic.TokenInput{})))
		dB := newDevice(t, "FOC0002")
		must[smartlic.IDCert](t)(f.register(dB, f.token(sa, "B", smartlic.TokenInput{})))
		// In A1: 1 more a day from day 1; in B: 3 on day 2 only, for two hours.
		for day := 1; day <= 4; day++ {
			f.clock.Set(t0.Add(time.Duration(day) * smartlic.Day))
			f.mustUse(dA, use("network-essentials", int64(day)))
			if day == 2 {
				f.mustUse(dB, use("network-essentials", 3))
				f.clock.Set(t0.Add(2*smartlic.Day + 2*time.Hour))
				f.mustUse(dB, use("network-essentials", 0))
			}
		}

		h := must[smartlic.LicenseHistory](t)(f.mgr.LicenseHistory(f.ctx, sa, "network-essentials", smartlic.HistoryQuery{Days: 7}))
		if len(h.Points) != 7 || h.LicenseName != "Network Essentials" {
			t.Fatalf("history = %+v, want 7 days of Network Essentials", h)
		}
		type pt struct{ purchased, inUse, peak int64 }
		want := []pt{{0, 0, 0}, {0, 0, 0}, {10, 0, 0}, {10, 1, 1}, {10, 2, 5}, {10, 3, 3}, {10, 4, 4}}
		first := t0.Truncate(smartlic.Day).Add(-2 * smartlic.Day)
		for i, w := range want {
			p := h.Points[i]
			if !p.Day.Equal(first.Add(time.Duration(i)*smartlic.Day)) || p.Purchased != w.purchased || p.InUse != w.inUse || p.PeakInUse != w.peak {
				t.Errorf("point %d = %+v, want day %s %+v", i, p, first.Add(time.Duration(i)*smartlic.Day).Format(time.DateOnly), w)
			}
		}
		// In use 0,0,0,1,2,3,4 over the window: the line rises ~0.75 a
		// day and passes 10 purchased some days ahead.
		if h.Projection.State != smartlic.ProjectionCrosses || h.Projection.ExceedsOn == nil || !h.Projection.ExceedsOn.After(h.Points[6].Day) {
			t.Errorf("projection = %+v, want a crossing after today", h.Projection)
		}

		// A's subtree has A1's usage but not B's.
		sub := must[smartlic.LicenseHistory](t)(f.mgr.LicenseHistory(f.ctx, sa, "network-essentials", smartlic.HistoryQuery{VA: "A", Days: 7}))
		if p := sub.Points[4]; p.InUse != 2 || p.PeakInUse != 2 || sub.VirtualAccount != "A" {
			t.Errorf("day 2 in A's subtree = %+v (%s), want in use 2, peak 2", p, sub.VirtualAccount)
		}

		// Default 90 days; bad input is refused with its field.
		if h := must[smartlic.LicenseHistory](t)(f.mgr.LicenseHistory(f.ctx, sa, "network-essentials", smartlic.HistoryQuery{})); len(h.Points) != smartlic.DefaultHistoryDays {
			t.Errorf("default history has %d points", len(h.Points))
		}
		_, err := f.mgr.LicenseHistory(f.ctx, sa, "network-essentials", smartlic.HistoryQuery{Days: 1000})
		wantCode(t, err, smartlic.EInvalid)
		_, err = f.mgr.LicenseHistory(f.ctx, sa, "no-such-license", smartlic.HistoryQuery{})
		wantCode(t, err, smartlic.ENotFound)

		vaUser := f.user("b@acme.example", sa, "va_user:B")
		_, err = f.mgr.LicenseHistory(vaUser, sa, "network-essentials", smartlic.HistoryQuery{})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.LicenseHistory(vaUser, sa, "network-essentials", smartlic.HistoryQuery{VA: "A"})
		wantCode(t, err, smartlic.EForbidden)
		mine := must[smartlic.LicenseHistory](t)(f.mgr.LicenseHistory(vaUser, sa, "network-essentials", smartlic.HistoryQuery{VA: "B", Days: 7}))
		if p := mine.Points[4]; p.InUse != 0 || p.PeakInUse != 3 {
			t.Errorf("day 2 in B = %+v, want in use 0 after a peak of 3", p)
		}
	})
}
