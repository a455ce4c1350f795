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

// rows is the text of every cell of every row of the table body the CSS
// selector matches.
func (b *browser) rows(css string) [][]string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[[][]string](`[...document.querySelectorAll(`+jsString(css+" tbody tr")+`)].map(r =>
		[...r.querySelectorAll("th, td")].map(c => c.textContent.trim().replace(/\s+/g, " ")))`))
	if err != nil {
		b.t.Fatalf("read the rows of %s: %v", css, err)
	}
	return out
}

// rowStarting finds the row whose first cells are first.
func rowStarting(rows [][]string, first ...string) []string {
	for _, r := range rows {
		if len(r) >= len(first) && slices.Equal(r[:len(first)], first) {
			return r
		}
	}
	return nil
}

// The four reports, each with the API report's filters, its numbers, a
// validation error beside its field, and its CSV.
func TestReportPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(p.op, smartlic.LicenseType{Tag: "dna-essentials", Name: "DNA Essentials", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced}))
		ends := epoch.Add(45 * smartlic.Day)
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "SO-3", License: "dna-essentials", Quantity: 5, EndsAt: &ends}))
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Lab", smartlic.DepositInput{OrderNumber: "SO-2", License: "network-advantage", Quantity: 10}))
		p.useDaily(sa.Domain, "Lab", "FOC0001", "network-advantage", 12, 9) // 12 on the 5th, 9 on the 6th
		p.user("licensing@acme.example", smartlic.RoleSAUser, sa.Domain, "")

		b := newBrowser(t, p)
		b.signIn("licensing@acme.example", testPassword)
		b.press("Reports")
		if loc := b.location(); loc != "/sa/acme.example/reports/usage" {
			t.Fatalf("the Reports link leads to %s", loc)
		}
		if got := rowStarting(b.rows("table.report"), "Lab", "network-advantage"); !slices.Equal(got, []string{"Lab", "network-advantage", "10", "9", "0", "1", "0", "in_compliance"}) {
			t.Errorf("usage of the Lab now = %q", got)
		}
		// At the end of the 5th, the Lab was 2 short.
		b.fill("At", "2026-01-05T23:00:00Z")
		b.press("Run")
		if got := rowStarting(b.rows("table.report"), "Lab", "network-advantage"); !slices.Equal(got, []string{"Lab", "network-advantage", "10", "12", "0", "-2", "2", "insufficient"}) {
			t.Errorf("usage of the Lab on the 5th = %q", got)
		}
		b.screenshot("usage")
		csv := b.fetch("/sa/acme.example/reports/usage?at=2026-01-05T23:00:00Z&format=csv")
		if !strings.HasPrefix(csv, "virtual_account,license,purchased,in_use,reserved,available,overage,status\n") || !strings.Contains(csv, "\nLab,network-advantage,10,12,0,-2,2,insufficient\n") {
			t.Errorf("usage CSV =\n%s", csv)
		}
		b.fill("At", "yesterday")
		b.press("Run")
		if got := b.fieldError("At"); !strings.Contains(got, "must be a date") {
			t.Errorf("error beside a bad date = %q", got)
		}
		if got := b.fieldValue("At"); got != "yesterday" {
			t.Errorf("the date typed = %q, want it kept", got)
		}

		// True-up: the default period (the last 90 days) has the Lab's peak.
		b.press("True-up")
		if got := rowStarting(b.rows("table.report"), "Lab", "network-advantage"); len(got) != 8 || got[2] != "10" || got[3] != "12" || got[5] != "2" || got[7] != "10" {
			t.Errorf("true-up of the Lab = %q, want peak 12 in use, 2 over 10 purchased", got)
		}
		b.screenshot("true-up")
		b.fill("From", "2026-02-01")
		b.fill("To (exclusive)", "2026-01-01")
		b.press("Run")
		if got := b.fieldError("To (exclusive)"); got != "must be after from" {
			t.Errorf("error beside an end before the start = %q", got)
		}

		// Expiring: 90 days by default; 30 leaves nothing; 0 is refused.
		b.open("/sa/acme.example/reports/expiring")
		if got := b.rows("table.report"); len(got) != 1 || !slices.Equal(got[0][:3], []string{"Building A", "dna-essentials", "5"}) || got[0][4] != "44" {
			t.Errorf("expiring in 90 days = %q, want Building A's 5 DNA Essentials, 44 days left", got)
		}
		if !b.has(`table.report time[datetime="2026-02-19T09:00:00Z"]`) {
			t.Error("the end date is not a <time>")
		}
		b.screenshot("expiring")
		b.fill("Ending within (days)", "30")
		b.press("Run")
		if got := b.text("main"); !strings.Contains(got, "Nothing to report.") {
			t.Errorf("expiring within 30 days = %q", got)
		}
		b.fill("Ending within (days)", "0")
		b.press("Run")
		if got := b.fieldError("Ending within (days)"); !strings.Contains(got, "between 1 and 3650") {
			t.Errorf("error beside 0 days = %q", got)
		}

		// Instances, for one VA.
		b.open("/sa/acme.example/reports/instances")
		b.selectOption("Virtual Account", "Lab")
		b.press("Run")
		if got := b.rows("table.report"); len(got) != 1 || got[0][0] != "Lab" || got[0][1] != "C9300-24T:FOC0001" || got[0][7] != "network-advantage=9/authorized" {
			t.Errorf("instances of the Lab = %q", got)
		}
		b.screenshot("instances")
		csv = b.fetch("/sa/acme.example/reports/instances?va=Lab&format=csv")
		if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "Lab,C9300-24T:FOC0001,foc0001,registered,authorized,") {
			t.Errorf("instances CSV =\n%s", csv)
		}
	})
}
