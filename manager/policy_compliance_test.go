package manager_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestPolicyOverdue: an instance under Using Policy becomes overdue when
// the fake clock passes its policy's deadline — on the instance, in the
// VA's license view and as an alert — and a report acknowledged, or a
// policy edited, moves the deadline.
func TestPolicyOverdue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		st := open(t)
		clock := smartlic.NewFakeClock(epoch)
		mgr, err := manager.New(context.Background(), st, clock)
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{t: t, clock: clock, mgr: mgr,
			ctx: smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})}
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "Lab")
		d := newDevice(t, "FOC1")
		if _, err := f.register(d, f.token(sa, "Lab", smartlic.TokenInput{})); err != nil {
			t.Fatal(err)
		}
		f.mustUse(d, use("network-advantage", 2), use("network-essentials", 1))
		classic := newDevice(t, "FOC2")
		if _, err := f.register(classic, f.token(sa, "Lab", smartlic.TokenInput{})); err != nil {
			t.Fatal(err)
		}
		f.mustUse(classic, use("network-advantage", 1))

		// What ingestion records when the instance moves to Using Policy and
		// first reports (the usage package sets these).
		setState := func(edit func(*smartlic.Instance)) {
			t.Helper()
			err := st.Write(context.Background(), func(tx smartlic.Tx) error {
				inst, err := tx.GetInstance(context.Background(), d.id)
				if err != nil {
					return err
				}
				edit(&inst)
				return tx.UpdateInstance(context.Background(), inst)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		t0 := clock.Now()
		setState(func(i *smartlic.Instance) { i.Mode, i.FirstUseAt = smartlic.ModePolicy, &t0 })

		get := func() smartlic.Instance {
			t.Helper()
			return must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa, "Lab", d.id))
		}
		overdueAlerts := func() []smartlic.Alert {
			t.Helper()
			var out []smartlic.Alert
			for _, a := range must[[]smartlic.Alert](t)(f.mgr.ListAlerts(f.ctx, sa, "")) {
				if a.Type == smartlic.AlertReportOverdue && a.InstanceID == d.id {
					out = append(out, a)
				}
			}
			return out
		}
		overdueIn := func(va, tag string, rollup bool) int64 {
			t.Helper()
			return f.pool(sa, va, tag, rollup).OverdueInstances
		}

		// Day 0: the subscription's first report is due in 90 days.
		r := get().Reporting
		if r == nil || r.Overdue || r.Due == nil || !r.Due.Equal(t0.Add(90*smartlic.Day)) || r.Reason != smartlic.ReasonFirstReport ||
			r.Class != smartlic.ClassUnenforcedSubscription || r.PolicyName != "Default Policy" {
			t.Fatalf("day 0: %+v", r)
		}
		if classicInst := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa, "Lab", classic.id)); classicInst.Reporting != nil {
			t.Fatalf("a classic instance has reporting state: %+v", classicInst.Reporting)
		}
		if n := overdueIn("Lab", "network-advantage", false); n != 0 {
			t.Fatalf("day 0: %d overdue", n)
		}

		// Day 91: overdue on the instance, in the license views, as one alert.
		clock.Advance(91 * smartlic.Day)
		r = get().Reporting
		if !r.Overdue || !strings.Contains(r.Message, "overdue since") {
			t.Fatalf("day 91: %+v", r)
		}
		list, _ := mustPage[smartlic.Instance](t)(f.mgr.ListInstances(f.ctx, sa, "Lab", smartlic.Page{}))
		for _, i := range list {
			if (i.ID == d.id) != (i.Reporting != nil && i.Reporting.Overdue) {
				t.Fatalf("list: %s reporting %+v", i.UDI, i.Reporting)
			}
		}
		for _, c := range []struct {
			va, tag string
			rollup  bool
			want    int64
		}{{"Lab", "network-advantage", false, 1}, {"Lab", "network-essentials", false, 1}} {
			if n := overdueIn(c.va, c.tag, c.rollup); n != c.want {
				t.Errorf("%s %s: %d overdue, want %d", c.va, c.tag, n, c.want)
			}
		}
		for _, p := range must[[]smartlic.Pool](t)(f.mgr.ListAccountPools(f.ctx, sa)) {
			if p.LicenseTag == "network-advantage" && p.OverdueInstances != 1 {
				t.Errorf("account-wide: %+v", p)
			}
		}
		for _, p := range must[[]smartlic.Pool](t)(f.mgr.ListPools(f.ctx, sa, "DEFAULT", false)) {
			if p.OverdueInstances != 0 {
				t.Errorf("another VA counts the Lab's instance: %+v", p)
			}
		}
		alerts := overdueAlerts()
		if len(alerts) != 1 || alerts[0].InstanceID != d.id || alerts[0].Severity != smartlic.SeverityCritical ||
			!strings.Contains(alerts[0].Message, "has not reported usage") || alerts[0].VirtualAccount != "Lab" {
			t.Fatalf("alerts = %+v", alerts)
		}
		if got := must[[]smartlic.Alert](t)(f.mgr.ListAlerts(f.ctx, sa, "DEFAULT")); len(got) != 0 {
			t.Fatalf("DEFAULT's alerts = %+v", got)
		}

		// A report acknowledged now: in compliance, next due in 90 days.
		ack := clock.Now()
		setState(func(i *smartlic.Instance) { i.LastReportAt, i.LastAckAt = &ack, &ack })
		if r = get().Reporting; r.Overdue || !r.Due.Equal(ack.Add(90*smartlic.Day)) || r.Reason != smartlic.ReasonFrequency {
			t.Fatalf("after ack: %+v", r)
		}
		if len(overdueAlerts()) != 0 || overdueIn("Lab", "network-advantage", false) != 0 {
			t.Fatal("still overdue after the ACK")
		}

		// A stricter policy on the Lab moves the deadline: 30 days.
		in := policyInput("Lab", 30)
		must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "Lab", in))
		if r = get().Reporting; !r.Due.Equal(ack.Add(30*smartlic.Day)) || r.PolicyName != "Lab" || r.PolicyScope != smartlic.ScopeVirtualAccount {
			t.Fatalf("under the Lab policy: %+v", r)
		}
		clock.Advance(31 * smartlic.Day)
		if !get().Reporting.Overdue || len(overdueAlerts()) != 1 {
			t.Fatal("not overdue 31 days after the ACK under a 30-day policy")
		}

		// An unacknowledged change past the after-change window: overdue,
		// with the periodic report (yearly now) not yet due.
		must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa, "Lab", policyInput("Lab yearly", 365)))
		ack2, change := clock.Now(), clock.Now().Add(time.Hour)
		setState(func(i *smartlic.Instance) { i.LastReportAt, i.LastAckAt, i.UsageChangedAt = &ack2, &ack2, &change })
		clock.Advance(89 * smartlic.Day)
		if r = get().Reporting; r.Overdue || r.Reason != smartlic.ReasonAfterChange {
			t.Fatalf("day 89 after the change: %+v", r)
		}
		clock.Advance(2 * smartlic.Day)
		if r = get().Reporting; !r.Overdue || r.Reason != smartlic.ReasonAfterChange {
			t.Fatalf("day 91 after the change: %+v", r)
		}
	})
}
