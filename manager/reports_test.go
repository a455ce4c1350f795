package manager_test

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func usageRow(t *testing.T, r smartlic.UsageReport, va, tag string) smartlic.UsageRow {
	t.Helper()
	for _, u := range r.Items {
		if u.VirtualAccount == va && u.LicenseTag == tag {
			return u
		}
	}
	t.Fatalf("no %s/%s row in %+v", va, tag, r.Items)
	return smartlic.UsageRow{}
}

func trueUpLine(t *testing.T, lines []smartlic.TrueUpLine, va, tag string) smartlic.TrueUpLine {
	t.Helper()
	for _, l := range lines {
		if l.VirtualAccount == va && l.LicenseTag == tag {
			return l
		}
	}
	t.Fatalf("no %s/%s line in %+v", va, tag, lines)
	return smartlic.TrueUpLine{}
}

// Usage at a point in time reads the pool history; true-up finds the peak
// above purchased within a period.
func TestUsageAndTrueUpReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "A", "B")
		t0 := epoch
		end := t0.Add(30 * smartlic.Day)
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-advantage", Quantity: 3, EndsAt: &end}))
		tok := f.token(sa, "A", smartlic.TokenInput{})
		d := newDevice(t, "FOC0001")
		must[smartlic.IDCert](t)(f.register(d, tok))

		f.clock.Set(t0.Add(1 * smartlic.Day))
		f.mustUse(d, use("network-advantage", 2))
		f.clock.Set(t0.Add(2 * smartlic.Day))
		f.mustUse(d, use("network-advantage", 5)) // 2 over
		f.clock.Set(t0.Add(3 * smartlic.Day))
		f.mustUse(d, use("network-advantage", 1))
		// A transfer on day 4 moves 1 of the 2 spare licenses to B.
		f.clock.Set(t0.Add(4 * smartlic.Day))
		must[smartlic.Transfer](t)(f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", License: "network-advantage", Quantity: 1}))
		f.clock.Set(t0.Add(5 * smartlic.Day))

		at := func(days float64) *time.Time {
			v := t0.Add(time.Duration(days * float64(smartlic.Day)))
			return &v
		}
		for _, c := range []struct {
			days                        float64
			purchased, inUse, available int64
			status                      smartlic.PoolStatus
		}{
			{0.5, 3, 0, 3, smartlic.Expiring},
			{1.5, 3, 2, 1, smartlic.Expiring},
			{2.5, 3, 5, -2, smartlic.Insufficient},
			{3.5, 3, 1, 2, smartlic.Expiring},
			{4.5, 2, 1, 1, smartlic.Expiring},
		} {
			r := must[smartlic.UsageReport](t)(f.mgr.UsageReport(f.ctx, sa, smartlic.UsageQuery{At: at(c.days)}))
			u := usageRow(t, r, "A", "network-advantage")
			if u.Purchased != c.purchased || u.InUse != c.inUse || u.Available != c.available || u.Status != c.status {
				t.Errorf("day %.1f: %+v, want purchased %d in use %d available %d %s", c.days, u, c.purchased, c.inUse, c.available, c.status)
			}
		}
		// B had nothing before the transfer and one after.
		r := must[smartlic.UsageReport](t)(f.mgr.UsageReport(f.ctx, sa, smartlic.UsageQuery{VA: "B"}))
		if len(r.Items) != 1 || r.Items[0].Purchased != 1 || r.Items[0].InUse != 0 {
			t.Fatalf("B now = %+v", r.Items)
		}
		r = must[smartlic.UsageReport](t)(f.mgr.UsageReport(f.ctx, sa, smartlic.UsageQuery{VA: "B", At: at(3.5)}))
		if len(r.Items) != 0 {
			t.Fatalf("B before the transfer = %+v", r.Items)
		}
		_, err := f.mgr.UsageReport(f.ctx, sa, smartlic.UsageQuery{At: at(6)})
		wantCode(t, err, smartlic.EInvalid)

		// True-up over the whole period: peak 5 in use, 2 above purchased.
		tu := must[smartlic.TrueUpReport](t)(f.mgr.TrueUpReport(f.ctx, sa, smartlic.TrueUpQuery{From: t0, To: t0.Add(10 * smartlic.Day)}))
		l := trueUpLine(t, tu.Items, "A", "network-advantage")
		if l.PeakInUse != 5 || l.PeakOverage != 2 || l.PurchasedAtPeak != 3 || !l.PeakOverageAt.Equal(t0.Add(2*smartlic.Day)) || l.Purchased != 2 {
			t.Fatalf("true-up = %+v", l)
		}
		if !tu.To.Equal(f.clock.Now()) {
			t.Fatalf("period cut at %v, want now %v", tu.To, f.clock.Now())
		}
		// A period after the peak sees none of it.
		tu = must[smartlic.TrueUpReport](t)(f.mgr.TrueUpReport(f.ctx, sa, smartlic.TrueUpQuery{From: t0.Add(3 * smartlic.Day), To: t0.Add(5 * smartlic.Day)}))
		if l := trueUpLine(t, tu.Items, "A", "network-advantage"); l.PeakInUse != 1 || l.PeakOverage != 0 {
			t.Fatalf("later true-up = %+v", l)
		}
		_, err = f.mgr.TrueUpReport(f.ctx, sa, smartlic.TrueUpQuery{From: t0.Add(smartlic.Day), To: t0})
		wantCode(t, err, smartlic.EInvalid)

		// Expiring: the deposit ends on day 30, 25 days from now.
		ex := must[smartlic.ExpiringReport](t)(f.mgr.ExpiringReport(f.ctx, sa, smartlic.ExpiringQuery{Days: 30}))
		if len(ex.Items) != 2 || ex.Items[0].DaysLeft != 25 || ex.Items[0].VirtualAccount != "A" || ex.Items[0].Quantity != 2 || ex.Items[1].Quantity != 1 {
			t.Fatalf("expiring = %+v", ex.Items)
		}
		if ex := must[smartlic.ExpiringReport](t)(f.mgr.ExpiringReport(f.ctx, sa, smartlic.ExpiringQuery{Days: 7})); len(ex.Items) != 0 {
			t.Fatalf("expiring within 7 days = %+v", ex.Items)
		}
		_, err = f.mgr.ExpiringReport(f.ctx, sa, smartlic.ExpiringQuery{})
		wantCode(t, err, smartlic.EInvalid)

		// Instances, with authorization.
		in := must[smartlic.InstancesReport](t)(f.mgr.InstancesReport(f.ctx, sa, smartlic.InstancesQuery{}))
		if len(in.Items) != 1 || in.Items[0].UDI != d.udi.String() || in.Items[0].VirtualAccount != "A" || in.Items[0].Authorization != smartlic.AuthValid {
			t.Fatalf("instances = %+v", in.Items)
		}
		if tbl := in.Table(); len(tbl.Rows) != 1 || len(tbl.Rows[0]) != len(tbl.Header) {
			t.Fatalf("instances table = %+v", tbl)
		}
	})
}

// An Enterprise Agreement allows consumption above its counts and measures
// it for the true-forward.
func TestEnterpriseAgreement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "EA")
		end := epoch.Add(365 * smartlic.Day)
		a := must[smartlic.Agreement](t)(f.mgr.CreateAgreement(f.ctx, sa, "EA", smartlic.AgreementInput{
			Number: "EA-2026-1", EndsAt: end,
			Lines: []smartlic.AgreementLine{{LicenseTag: "network-advantage", Quantity: 2}, {LicenseTag: "network-essentials", Quantity: 1}},
		}))
		if len(a.Lines) != 2 {
			t.Fatalf("agreement = %+v", a)
		}
		_, err := f.mgr.CreateAgreement(f.ctx, sa, "EA", smartlic.AgreementInput{Number: "EA-2026-1", EndsAt: end,
			Lines: []smartlic.AgreementLine{{LicenseTag: "network-advantage", Quantity: 1}}})
		wantCode(t, err, smartlic.EConflict)
		_, err = f.mgr.CreateAgreement(f.ctx, sa, "EA", smartlic.AgreementInput{Number: "EA-2", EndsAt: epoch.Add(-smartlic.Day),
			Lines: []smartlic.AgreementLine{{LicenseTag: "network-advantage", Quantity: 1}}})
		wantCode(t, err, smartlic.EInvalid)
		_, err = f.mgr.CreateAgreement(f.ctx, sa, "EA", smartlic.AgreementInput{Number: "EA-3", EndsAt: end})
		wantCode(t, err, smartlic.EInvalid)

		if p := f.pool(sa, "EA", "network-advantage", false); p.Purchased != 2 || !p.NextExpiry.Equal(end) {
			t.Fatalf("EA pool = %+v", p)
		}
		tok := f.token(sa, "EA", smartlic.TokenInput{})
		d := newDevice(t, "FOC0001")
		must[smartlic.IDCert](t)(f.register(d, tok))
		f.clock.Advance(10 * smartlic.Day)
		f.mustUse(d, use("network-advantage", 6)) // 4 above the agreement: allowed
		inst := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa, "EA", d.id))
		if inst.Usage[0].Count != 6 || inst.Usage[0].Status == smartlic.NotAuthorized {
			t.Fatalf("usage under the agreement = %+v", inst.Usage)
		}
		f.clock.Advance(10 * smartlic.Day)
		f.mustUse(d, use("network-advantage", 3))
		f.clock.Advance(10 * smartlic.Day)

		tf := must[smartlic.TrueForward](t)(f.mgr.TrueForward(f.ctx, sa, a.ID))
		na := trueUpLine(t, tf.Lines, "EA", "network-advantage")
		if na.PeakInUse != 6 || na.PeakOverage != 4 || na.PurchasedAtPeak != 2 {
			t.Fatalf("true-forward network-advantage = %+v", na)
		}
		ne := trueUpLine(t, tf.Lines, "EA", "network-essentials")
		if ne.PeakInUse != 0 || ne.PeakOverage != 0 || ne.Purchased != 1 {
			t.Fatalf("true-forward network-essentials = %+v", ne)
		}
		list := must[[]smartlic.Agreement](t)(func() ([]smartlic.Agreement, error) {
			l, _, err := f.mgr.ListAgreements(f.ctx, sa, "EA", smartlic.Page{})
			return l, err
		}())
		if len(list) != 1 || list[0].ID != a.ID || len(list[0].Lines) != 2 {
			t.Fatalf("agreements = %+v", list)
		}
		_, err = f.mgr.TrueForward(f.ctx, sa, "no-such-agreement")
		wantCode(t, err, smartlic.ENotFound)
	})
}

// The approver, who holds agreement.accept and no license.view, reads the
// account's agreements and accepts one, once; an SA user may read but not
// accept; another account's approver does not find it.
func TestAcceptAgreement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		must[smartlic.SmartAccount](t)(f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Beta", Domain: "beta.example", Status: smartlic.SAActive}))
		f.vas(sa, "EA")
		a := must[smartlic.Agreement](t)(f.mgr.CreateAgreement(f.ctx, sa, "EA", smartlic.AgreementInput{
			Number: "EA-7", EndsAt: epoch.Add(365 * smartlic.Day), Lines: []smartlic.AgreementLine{{LicenseTag: "network-essentials", Quantity: 5}}}))
		approver := f.user("approver@acme.example", sa, smartlic.RoleSAApprover)
		user := f.user("user@acme.example", sa, smartlic.RoleSAUser)
		stranger := f.user("approver@beta.example", "beta.example", smartlic.RoleSAApprover)

		if list, _, err := f.mgr.ListAgreements(approver, sa, "EA", smartlic.Page{}); err != nil || len(list) != 1 || list[0].AcceptedAt != nil {
			t.Fatalf("an approver's agreements = %+v, %v; want EA-7, not accepted", list, err)
		}
		if _, err := f.mgr.TrueForward(approver, sa, a.ID); err != nil {
			t.Fatalf("an approver's true-forward: %v", err)
		}
		_, err := f.mgr.AcceptAgreement(user, sa, a.ID)
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.AcceptAgreement(stranger, sa, a.ID)
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.AcceptAgreement(stranger, "beta.example", a.ID)
		wantCode(t, err, smartlic.ENotFound)

		f.clock.Advance(smartlic.Day)
		got := must[smartlic.Agreement](t)(f.mgr.AcceptAgreement(approver, sa, a.ID))
		if got.AcceptedAt == nil || !got.AcceptedAt.Equal(f.clock.Now()) || got.AcceptedBy != "approver@acme.example" {
			t.Fatalf("accepted agreement = %+v", got)
		}
		_, err = f.mgr.AcceptAgreement(approver, sa, a.ID)
		wantCode(t, err, smartlic.EConflict)
		list, _, err := f.mgr.ListAgreements(user, sa, "EA", smartlic.Page{})
		if err != nil || len(list) != 1 || list[0].AcceptedAt == nil || !list[0].AcceptedAt.Equal(f.clock.Now()) || list[0].AcceptedBy != "approver@acme.example" {
			t.Fatalf("agreements after acceptance = %+v, %v", list, err)
		}
		events, _, err := f.mgr.ListEvents(f.ctx, sa, smartlic.EventFilter{Type: "agreement.accepted"}, smartlic.Page{})
		if err != nil || len(events) != 1 || events[0].ActorEmail != "approver@acme.example" {
			t.Fatalf("agreement.accepted events = %+v, %v", events, err)
		}
	})
}
