package web_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// fetch GETs a path with the browser's session, as a download would, and
// returns the body.
func (b *browser) fetch(path string) string {
	b.t.Helper()
	body, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(`+jsString(path)+`).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("fetch %s: %v", path, err)
	}
	return body
}

// The alerts page lists what the AlertService computes, by severity, with
// filters by VA, severity and type, a link to the license type, and a CSV.
func TestAlertsPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(p.op, smartlic.LicenseType{Tag: "dna-essentials", Name: "DNA Essentials", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced}))
		ends := epoch.Add(45 * smartlic.Day)
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "SO-3", License: "dna-essentials", Quantity: 5, EndsAt: &ends}))
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Lab", smartlic.DepositInput{OrderNumber: "SO-2", License: "network-advantage", Quantity: 10}))
		p.useDaily(sa.Domain, "Lab", "FOC0001", "network-advantage", 12) // deposit 10, use 12
		p.user("licensing@acme.example", smartlic.RoleSAUser, sa.Domain, "")

		b := newBrowser(t, p)
		b.signIn("licensing@acme.example", testPassword)
		b.press("Alerts")
		if loc := b.location(); loc != "/sa/acme.example/alerts" {
			t.Fatalf("the Alerts link leads to %s", loc)
		}
		for sev, want := range map[string]string{"critical": "1", "warning": "1", "info": "0"} {
			if got := b.text(`[data-severity="` + sev + `"]`); got != want {
				t.Errorf("%s alerts = %q, want %s", sev, got, want)
			}
		}
		row := b.cells("table.alerts tbody tr:nth-child(1)")
		if len(row) != 6 || row[0] != "Critical" || row[1] != "license.insufficient" || row[2] != "Lab" || !strings.HasPrefix(row[3], "network-advantage") ||
			row[4] != "network-advantage: 12 in use, 10 purchased (2 short) in Lab" {
			t.Errorf("first alert = %q, want the Lab's shortfall", row)
		}
		row = b.cells("table.alerts tbody tr:nth-child(2)")
		if len(row) != 6 || row[0] != "Warning" || row[1] != "license.expiring_60" || row[2] != "Building A" ||
			!b.has(`table.alerts tbody tr:nth-child(2) time[datetime="2026-02-19T09:00:00Z"]`) {
			t.Errorf("second alert = %q, want DNA Essentials ending in Building A on 2026-02-19", row)
		}
		b.screenshot("alerts")

		csv := b.fetch("/sa/acme.example/alerts?format=csv")
		lines := strings.Split(strings.TrimSpace(csv), "\n")
		if len(lines) != 3 || lines[0] != "severity,type,virtual_account,license_tag,udi,message,due_at,key" ||
			!strings.HasPrefix(lines[1], `critical,license.insufficient,Lab,network-advantage,,"network-advantage: 12 in use, 10 purchased (2 short) in Lab",,`) {
			t.Errorf("alerts CSV =\n%s", csv)
		}

		// Filters: warnings only; then the Lab alone.
		b.selectOption("Severity", "Warning")
		b.press("Filter")
		if got := b.cells("table.alerts tbody tr:nth-child(1)"); len(got) < 2 || got[1] != "license.expiring_60" || b.has("table.alerts tbody tr:nth-child(2)") {
			t.Errorf("warnings only = %q", got)
		}
		b.open("/sa/acme.example/alerts")
		b.selectOption("Virtual Account", "Lab")
		b.selectOption("Type", "license.expiring_60")
		b.press("Filter")
		if got := b.text("main"); !strings.Contains(got, "No alert matches the filter.") {
			t.Errorf("Lab's expiring alerts = %q, want none", got)
		}

		// The license type's link opens the Lab's licenses, filtered to it.
		b.open("/sa/acme.example/alerts?va=Lab")
		b.press("network-advantage")
		if loc := b.location(); loc != "/sa/acme.example/va/Lab/licenses?q=network-advantage" {
			t.Fatalf("the license link leads to %s", loc)
		}
		if got := b.cells("main table tbody tr:nth-child(1)"); len(got) < 6 || !slices.Equal(got[1:6], []string{"10", "12", "0", "-2", "Insufficient"}) {
			t.Errorf("the Lab's Network Advantage = %q", got)
		}
	})
}
