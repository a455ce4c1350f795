package smartlic_test

import (
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

func TestDefaultPolicyValues(t *testing.T) {
	p := smartlic.DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	want := map[smartlic.LicenseClass][3]int{
		smartlic.ClassUnenforcedPerpetual:    {365, 0, 90},
		smartlic.ClassUnenforcedSubscription: {90, 90, 90},
		smartlic.ClassEnforced:               {0, 0, 0},
		smartlic.ClassExportControlled:       {0, 0, 0},
	}
	for c, w := range want {
		r := p.Rules.For(c)
		if got := [3]int{r.FirstReportDays, r.ReportingFrequencyDays, r.ReportAfterChangeDays}; got != w || !r.AckRequired {
			t.Errorf("%s = %v ack=%v; want %v ack=true", c, got, r.AckRequired, w)
		}
	}
	if p.Scope != smartlic.ScopeDefault || p.Version != 1 || p.ID != smartlic.DefaultPolicyID {
		t.Errorf("default policy identity = %+v", p)
	}
}

func TestClassOf(t *testing.T) {
	for _, tc := range []struct {
		term smartlic.Term
		enf  smartlic.Enforcement
		want smartlic.LicenseClass
	}{
		{smartlic.TermPerpetual, smartlic.Unenforced, smartlic.ClassUnenforcedPerpetual},
		{smartlic.TermSubscription, smartlic.Unenforced, smartlic.ClassUnenforcedSubscription},
		{smartlic.TermPerpetual, smartlic.Enforced, smartlic.ClassEnforced},
		{smartlic.TermSubscription, smartlic.Enforced, smartlic.ClassEnforced},
		{smartlic.TermPerpetual, smartlic.ExportControlled, smartlic.ClassExportControlled},
		{smartlic.TermSubscription, smartlic.ExportControlled, smartlic.ClassExportControlled},
	} {
		if got := smartlic.ClassOf(smartlic.LicenseType{Term: tc.term, Enforcement: tc.enf}); got != tc.want {
			t.Errorf("ClassOf(%s, %s) = %s; want %s", tc.term, tc.enf, got, tc.want)
		}
	}
}

func TestParseLicenseClass(t *testing.T) {
	for _, c := range smartlic.LicenseClasses {
		if got, err := smartlic.ParseLicenseClass("class", string(c)); err != nil || got != c {
			t.Errorf("ParseLicenseClass(%q) = %q, %v", c, got, err)
		}
	}
	_, err := smartlic.ParseLicenseClass("class", "Enforced")
	if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != "class" {
		t.Errorf("ParseLicenseClass(Enforced) = %v; want invalid class", err)
	}
	var r smartlic.PolicyRules
	if err := r.Set("gold", smartlic.ReportingRule{}); smartlic.ErrorField(err) != "class" {
		t.Errorf("Set(gold) = %v; want invalid class", err)
	}
	if err := r.Set(smartlic.ClassEnforced, smartlic.ReportingRule{FirstReportDays: 7}); err != nil || r.Enforced.FirstReportDays != 7 {
		t.Errorf("Set(enforced) = %v, %+v", err, r.Enforced)
	}
}

func TestPolicyValidate(t *testing.T) {
	valid := func() smartlic.Policy {
		p := smartlic.DefaultPolicy()
		p.Name = "Lab policy"
		p.Scope = smartlic.ScopeVirtualAccount
		p.SmartAccountID = "sa1"
		p.VirtualAccountID = "va1"
		return p
	}
	for _, tc := range []struct {
		name  string
		edit  func(*smartlic.Policy)
		field string
	}{
		{"ok", func(*smartlic.Policy) {}, ""},
		{"max days", func(p *smartlic.Policy) { p.Rules.Enforced.FirstReportDays = smartlic.MaxPolicyDays }, ""},
		{"no name", func(p *smartlic.Policy) { p.Name = "" }, "name"},
		{"long name", func(p *smartlic.Policy) { p.Name = strings.Repeat("x", 65) }, "name"},
		{"control char", func(p *smartlic.Policy) { p.Name = "a\x00b" }, "name"},
		{"negative", func(p *smartlic.Policy) { p.Rules.UnenforcedPerpetual.FirstReportDays = -1 }, "classes.unenforced_perpetual.first_report_days"},
		{"absurd", func(p *smartlic.Policy) { p.Rules.UnenforcedSubscription.ReportingFrequencyDays = 1 << 40 }, "classes.unenforced_subscription.reporting_frequency_days"},
		{"over max", func(p *smartlic.Policy) { p.Rules.ExportControlled.ReportAfterChangeDays = smartlic.MaxPolicyDays + 1 }, "classes.export_controlled.report_after_change_days"},
		{"bad scope", func(p *smartlic.Policy) { p.Scope = "global" }, "scope"},
		{"va without sa", func(p *smartlic.Policy) { p.SmartAccountID = "" }, "smart_account_id"},
		{"va scope without va", func(p *smartlic.Policy) { p.VirtualAccountID = "" }, "virtual_account_id"},
		{"sa scope with va", func(p *smartlic.Policy) { p.Scope = smartlic.ScopeSmartAccount }, "virtual_account_id"},
		{"default with account", func(p *smartlic.Policy) { p.Scope = smartlic.ScopeDefault }, "scope"},
	} {
		p := valid()
		tc.edit(&p)
		err := p.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != tc.field {
			t.Errorf("%s: Validate = %v; want invalid %s", tc.name, err, tc.field)
		}
	}
}

func TestEffectivePolicy(t *testing.T) {
	def := smartlic.DefaultPolicy()
	sa := smartlic.Policy{ID: "p-sa", Scope: smartlic.ScopeSmartAccount, SmartAccountID: "sa"}
	parent := smartlic.Policy{ID: "p-parent", Scope: smartlic.ScopeVirtualAccount, SmartAccountID: "sa", VirtualAccountID: "parent"}
	sibling := smartlic.Policy{ID: "p-sibling", Scope: smartlic.ScopeVirtualAccount, SmartAccountID: "sa", VirtualAccountID: "sibling"}
	chain := []string{"child", "parent", "root"}
	for _, tc := range []struct {
		name     string
		policies []smartlic.Policy
		chain    []string
		want     string
	}{
		{"nothing custom", nil, chain, smartlic.DefaultPolicyID},
		{"sa only", []smartlic.Policy{sa}, chain, "p-sa"},
		{"ancestor beats sa", []smartlic.Policy{sa, parent}, chain, "p-parent"},
		{"sibling does not apply", []smartlic.Policy{sibling}, chain, smartlic.DefaultPolicyID},
		{"own beats ancestor", []smartlic.Policy{parent, {ID: "p-child", Scope: smartlic.ScopeVirtualAccount, VirtualAccountID: "child"}}, chain, "p-child"},
		{"above the parent, not below", []smartlic.Policy{sa, parent}, []string{"root"}, "p-sa"},
	} {
		if got := smartlic.EffectivePolicy(tc.chain, tc.policies, def); got.ID != tc.want {
			t.Errorf("%s: EffectivePolicy = %s; want %s", tc.name, got.ID, tc.want)
		}
	}
}

func TestNextReport(t *testing.T) {
	day := smartlic.Day
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	def := smartlic.DefaultPolicy()
	perp := []smartlic.LicenseClass{smartlic.ClassUnenforcedPerpetual}
	sub := []smartlic.LicenseClass{smartlic.ClassUnenforcedSubscription}
	noAck := def
	noAck.Rules.UnenforcedSubscription.AckRequired = false
	periodicOnly := def
	periodicOnly.Rules.UnenforcedPerpetual = smartlic.ReportingRule{ReportingFrequencyDays: 30}
	for _, tc := range []struct {
		name    string
		p       smartlic.Policy
		s       smartlic.ReportingState
		now     time.Time
		due     time.Time // zero: none
		reason  smartlic.ReportReason
		overdue bool
	}{
		{"no usage", def, smartlic.ReportingState{FirstUseAt: t0}, t0.Add(1000 * day), time.Time{}, "", false},
		{"no first use", def, smartlic.ReportingState{Classes: perp}, t0, time.Time{}, "", false},
		{"perpetual first report", def, smartlic.ReportingState{FirstUseAt: t0, Classes: perp}, t0.Add(364 * day), t0.Add(365 * day), smartlic.ReasonFirstReport, false},
		{"perpetual first report at the deadline is on time", def, smartlic.ReportingState{FirstUseAt: t0, Classes: perp}, t0.Add(365 * day), t0.Add(365 * day), smartlic.ReasonFirstReport, false},
		{"perpetual first report missed", def, smartlic.ReportingState{FirstUseAt: t0, Classes: perp}, t0.Add(365*day + time.Second), t0.Add(365 * day), smartlic.ReasonFirstReport, true},
		{"change at first use is the first use", def, smartlic.ReportingState{FirstUseAt: t0, LastChangeAt: t0, Classes: perp}, t0.Add(100 * day), t0.Add(365 * day), smartlic.ReasonFirstReport, false},
		{"perpetual change before first report", def, smartlic.ReportingState{FirstUseAt: t0, LastChangeAt: t0.Add(10 * day), Classes: perp}, t0.Add(101 * day), t0.Add(100 * day), smartlic.ReasonAfterChange, true},
		{"perpetual reported: never due again", def, smartlic.ReportingState{FirstUseAt: t0, LastReportAt: t0.Add(5 * day), LastAckAt: t0.Add(5 * day), Classes: perp}, t0.Add(5000 * day), time.Time{}, "", false},
		{"perpetual change after ack", def, smartlic.ReportingState{FirstUseAt: t0, LastAckAt: t0.Add(5 * day), LastChangeAt: t0.Add(20 * day), Classes: perp}, t0.Add(50 * day), t0.Add(110 * day), smartlic.ReasonAfterChange, false},
		{"perpetual change reported but unacknowledged", def, smartlic.ReportingState{FirstUseAt: t0, LastAckAt: t0.Add(5 * day), LastChangeAt: t0.Add(20 * day), LastReportAt: t0.Add(21 * day), Classes: perp}, t0.Add(111 * day), t0.Add(110 * day), smartlic.ReasonAfterChange, true},
		{"perpetual change acknowledged", def, smartlic.ReportingState{FirstUseAt: t0, LastAckAt: t0.Add(21 * day), LastChangeAt: t0.Add(20 * day), LastReportAt: t0.Add(21 * day), Classes: perp}, t0.Add(1000 * day), time.Time{}, "", false},
		{"subscription first", def, smartlic.ReportingState{FirstUseAt: t0, Classes: sub}, t0, t0.Add(90 * day), smartlic.ReasonFirstReport, false},
		{"subscription periodic", def, smartlic.ReportingState{FirstUseAt: t0, LastAckAt: t0.Add(80 * day), Classes: sub}, t0.Add(171 * day), t0.Add(170 * day), smartlic.ReasonFrequency, true},
		{"subscription change sooner than period", def, smartlic.ReportingState{FirstUseAt: t0, LastAckAt: t0.Add(80 * day), LastChangeAt: t0.Add(81 * day), Classes: sub}, t0, t0.Add(170 * day), smartlic.ReasonFrequency, false},
		{"subscription: report without ack does not count", def, smartlic.ReportingState{FirstUseAt: t0, LastReportAt: t0.Add(80 * day), Classes: sub}, t0.Add(91 * day), t0.Add(90 * day), smartlic.ReasonFirstReport, true},
		{"subscription: report counts when no ack required", noAck, smartlic.ReportingState{FirstUseAt: t0, LastReportAt: t0.Add(80 * day), Classes: sub}, t0.Add(91 * day), t0.Add(170 * day), smartlic.ReasonFrequency, false},
		{"enforced: nothing due", def, smartlic.ReportingState{FirstUseAt: t0, LastChangeAt: t0.Add(day), Classes: []smartlic.LicenseClass{smartlic.ClassEnforced, smartlic.ClassExportControlled}}, t0.Add(5000 * day), time.Time{}, "", false},
		{"earliest class wins", def, smartlic.ReportingState{FirstUseAt: t0, Classes: []smartlic.LicenseClass{smartlic.ClassEnforced, smartlic.ClassUnenforcedPerpetual, smartlic.ClassUnenforcedSubscription}}, t0.Add(91 * day), t0.Add(90 * day), smartlic.ReasonFirstReport, true},
		{"periodic only starts at first use", periodicOnly, smartlic.ReportingState{FirstUseAt: t0, Classes: perp}, t0, t0.Add(30 * day), smartlic.ReasonFrequency, false},
	} {
		got := tc.p.NextReport(tc.s, tc.now)
		if tc.due.IsZero() {
			if got.Due != nil || got.Overdue {
				t.Errorf("%s: NextReport = %+v; want nothing due", tc.name, got)
			}
			continue
		}
		if got.Due == nil || !got.Due.Equal(tc.due) || got.Reason != tc.reason || got.Overdue != tc.overdue {
			t.Errorf("%s: NextReport = due %v reason %s overdue %v; want %v %s %v", tc.name, got.Due, got.Reason, got.Overdue, tc.due, tc.reason, tc.overdue)
		}
		if got.Message == "" || strings.Contains(got.Message, "overdue") != tc.overdue {
			t.Errorf("%s: message %q does not match overdue=%v", tc.name, got.Message, tc.overdue)
		}
	}
}

// TestNextReportMovesWithClock: the same state becomes overdue as the fake
// clock passes the deadline, and a report moves the deadline on.
func TestNextReportMovesWithClock(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := smartlic.NewFakeClock(t0)
	p := smartlic.DefaultPolicy()
	s := smartlic.ReportingState{FirstUseAt: t0, Classes: []smartlic.LicenseClass{smartlic.ClassUnenforcedSubscription}}
	clock.Advance(89 * smartlic.Day)
	if d := p.NextReport(s, clock.Now()); d.Overdue || smartlic.DaysLeft(clock.Now(), *d.Due) != 1 {
		t.Fatalf("day 89: %+v", d)
	}
	clock.Advance(2 * smartlic.Day)
	if d := p.NextReport(s, clock.Now()); !d.Overdue || !strings.Contains(d.Message, `"Default Policy"`) {
		t.Fatalf("day 91: %+v; want overdue naming the policy", d)
	}
	s.LastReportAt, s.LastAckAt = clock.Now(), clock.Now()
	if d := p.NextReport(s, clock.Now()); d.Overdue || !d.Due.Equal(clock.Now().Add(90*smartlic.Day)) {
		t.Fatalf("after ack: %+v", d)
	}
}

func TestReportingOfAndAlerts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	types := map[string]smartlic.LicenseType{
		"sub":  {ID: "sub", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced},
		"perp": {ID: "perp", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced},
	}
	expired := t0.Add(-smartlic.Day)
	inst := smartlic.Instance{ID: "i1", UDI: smartlic.UDI{PID: "C9300", SN: "FOC1"}, Mode: smartlic.ModePolicy, FirstUseAt: &t0, AuthExpiresAt: &expired,
		Usage: []smartlic.Usage{{LicenseTypeID: "perp", Count: 1}, {LicenseTypeID: "sub", Count: 0}, {LicenseTypeID: "unknown", Count: 3}}}
	// A zero count uses nothing; an unknown type counts as perpetual.
	r := smartlic.ReportingOf(inst, smartlic.DefaultPolicy(), types, t0.Add(366*smartlic.Day))
	if !r.Overdue || r.Class != smartlic.ClassUnenforcedPerpetual || r.PolicyName != "Default Policy" || r.FirstUseAt != &t0 {
		t.Fatalf("reporting = %+v", r)
	}
	va := smartlic.VirtualAccount{ID: "va", Name: "Lab"}
	// The expired authorization of a policy-mode instance raises nothing.
	if got := smartlic.InstanceAlerts(t0, va, inst); len(got) != 0 {
		t.Fatalf("classic alerts of a policy instance: %+v", got)
	}
	if got := smartlic.ReportingAlerts(va, inst); len(got) != 0 {
		t.Fatalf("alerts without reporting state: %+v", got)
	}
	inst.Reporting = &r
	got := smartlic.ReportingAlerts(va, inst)
	if len(got) != 1 || got[0].Type != smartlic.AlertReportOverdue || got[0].Key != smartlic.AlertKey(smartlic.AlertReportOverdue, "i1") || !got[0].DueAt.Equal(*r.Due) {
		t.Fatalf("alerts = %+v", got)
	}
	r.Overdue = false
	if got := smartlic.ReportingAlerts(va, inst); len(got) != 0 {
		t.Fatalf("alert while on time: %+v", got)
	}
}
