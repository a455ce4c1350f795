package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// Policies: the policy in force per VA, a VA's policy set through the form
// with its refusal beside the field, the history, a VA administrator kept
// to its own VAs, and an instance under Using Policy showing its reporting
// state as the fake clock passes its deadline.
func TestPolicies(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		db := open(t)
		p := newPortal(t, func(*testing.T) *store.DB { return db })
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")

		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.press("Policies")
		if got := b.text("main h1"); got != "Reporting policies" {
			t.Fatalf("Policies opens %q", got)
		}
		if got := b.text("main table.policies tbody"); !strings.Contains(got, "Building A") || !strings.Contains(got, "the vendor default") {
			t.Fatalf("in force = %q", got)
		}

		b.open("/sa/acme.example/policies?va=Lab")
		b.fill("Enforced: days to the first report", "99999")
		b.press("Save policy")
		if got := b.fieldError("Enforced: days to the first report"); !strings.Contains(got, "between 0 and 3650") {
			t.Fatalf("absurd value: error beside the field = %q", got)
		}
		if _, err := p.mgr.GetPolicy(p.op, sa.Domain, "Lab"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("a refused form stored a policy: %v", err)
		}
		// The table of the rules in force shows them, not the refused edit.
		if got := b.text("main table.policy-rules tbody"); strings.Contains(got, "99999") || strings.Contains(got, "[") ||
			!strings.Contains(got, "365") || !strings.Contains(got, "yes") {
			t.Fatalf("rules in force after a refused edit = %q", got)
		}
		b.fill("Enforced: days to the first report", "30")
		b.fill("Unenforced, subscription: reporting frequency in days", "45")
		b.press("Save policy")
		if got := b.text(".flash"); got != "Policy “Lab policy” saved as version 1." {
			t.Fatalf("flash = %q", got)
		}
		lab := must[smartlic.PolicyInForce](t)(p.mgr.EffectivePolicy(p.op, sa.Domain, "Lab"))
		if lab.Inherited || lab.Policy.Rules.Enforced.FirstReportDays != 30 || lab.Policy.Rules.UnenforcedSubscription.ReportingFrequencyDays != 45 {
			t.Fatalf("stored = %+v", lab)
		}
		if got := b.text("main table.policy-rules tbody"); !strings.Contains(got, "30") || !strings.Contains(got, "45") {
			t.Fatalf("rules in force after the edit = %q", got)
		}
		if got := b.text("main table.policy-history tbody"); !strings.Contains(got, "Lab policy") || !strings.Contains(got, "admin@acme.example") {
			t.Fatalf("history = %q", got)
		}
		b.screenshot("policies")
	})
}

// A VA administrator edits its own VA's policy (inherited below it) and is
// refused on a sibling's.
func TestPoliciesVAAdministrator(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("campus@acme.example", smartlic.RoleVAAdmin, sa.Domain, "Campus")
		c := newBrowser(t, p)
		c.signIn("campus@acme.example", testPassword)
		c.open("/sa/acme.example/policies")
		if !strings.Contains(c.location(), "va=Campus") {
			t.Fatalf("a VA administrator lands on %s, want its VA", c.location())
		}
		c.fill("Unenforced, perpetual: days to the first report", "180")
		c.press("Save policy")
		if got := c.text(".flash"); got != "Policy “Campus policy” saved as version 1." {
			t.Fatalf("flash = %q", got)
		}
		if in := must[smartlic.PolicyInForce](t)(p.mgr.EffectivePolicy(p.op, sa.Domain, "Building A")); in.Policy.Name != "Campus policy" || !in.Inherited {
			t.Fatalf("Building A's = %+v", in)
		}
		c.open("/sa/acme.example/policies?va=Lab")
		if got := c.text("main h1"); got != "Not allowed" {
			t.Fatalf("a Campus administrator on Lab's policies sees %q", got)
		}
	})
}

// An instance under Using Policy shows its reporting state on its page,
// overdue once the fake clock passes the deadline of its VA's policy, and
// the VA's Licenses tab counts it.
func TestInstanceReportingState(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		db := open(t)
		p := newPortal(t, func(*testing.T) *store.DB { return db })
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		in := smartlic.PolicyInput{Name: "Campus policy", Rules: smartlic.DefaultPolicy().Rules}
		in.Rules.UnenforcedPerpetual.FirstReportDays = 180
		must[smartlic.Policy](t)(p.mgr.SetPolicy(p.op, sa.Domain, "Campus", in))
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)

		// An instance under Using Policy in Building A (as ingestion records it).
		prod := must[smartlic.Product](t)(p.mgr.GetProduct(p.op, "C9300-24T"))
		lt := must[smartlic.LicenseType](t)(p.mgr.GetLicenseType(p.op, "network-advantage"))
		bldg := must[smartlic.VirtualAccount](t)(p.mgr.GetVirtualAccount(p.op, sa.Domain, "Building A"))
		now := p.clock.Now()
		id, _ := uuid.NewV7()
		inst := smartlic.Instance{ID: id.String(), SmartAccountID: sa.ID, VirtualAccountID: bldg.ID, UDI: smartlic.UDI{PID: "C9300-24T", SN: "POL1"},
			Hostname: "edge-1", ProductID: prod.ID, Mode: smartlic.ModePolicy, RegisteredAt: now, LastContactAt: now, IDCertExpiresAt: now.Add(365 * smartlic.Day),
			FirstUseAt: &now, Usage: []smartlic.Usage{{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: 1}}}
		err := db.Write(context.Background(), func(tx smartlic.Tx) error {
			if err := tx.InsertInstance(context.Background(), inst); err != nil {
				return err
			}
			return tx.AddInUse(context.Background(), bldg.ID, lt.ID, 1, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		// Campus policy: perpetual first report within 180 days.
		b.open("/sa/acme.example/instances/C9300-24T:POL1")
		if !b.has("#inst-reporting") {
			t.Fatalf("no reporting section on %s: %q", b.location(), b.text("main"))
		}
		if got := b.text("#inst-reporting + dl"); !strings.Contains(got, "Campus policy") || !strings.Contains(got, "On time") {
			t.Fatalf("reporting on day 0 = %q", got)
		}
		p.clock.Advance(181 * smartlic.Day)
		b.signIn("admin@acme.example", testPassword) // the session ended with the days that passed
		b.open("/sa/acme.example/instances/C9300-24T:POL1")
		if got := b.text("#inst-reporting + dl"); !strings.Contains(got, "Overdue") || !strings.Contains(got, "first report within 180 days") {
			t.Fatalf("reporting on day 181 = %q", got)
		}
		b.screenshot("instance-reporting-overdue")
		b.open("/sa/acme.example/va/Building%20A/licenses")
		if got := b.text("main table tbody"); !strings.Contains(got, "1 overdue for reporting") {
			t.Fatalf("licenses = %q", got)
		}
		alerts := must[[]smartlic.Alert](t)(p.mgr.ListAlerts(p.op, sa.Domain, ""))
		if !slices.ContainsFunc(alerts, func(a smartlic.Alert) bool { return a.Type == smartlic.AlertReportOverdue && a.InstanceID == inst.ID }) {
			t.Fatalf("alerts = %+v", alerts)
		}
	})
}
