package web_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// The operator maps a classic SKU to a smart license and deposits a PAK
// into acme; acme's administrator converts part of it into Campus, sees
// the result, and cannot convert more than remains.
func TestPAKDepositedAndConverted(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")

		op := newBrowser(t, p)
		op.signIn("ops@vendor.example", p.opKey)
		op.open("/vendor/catalog/skus")
		op.fill("SKU", "L-C3850-24-S-E")
		op.selectOption("Converts to", "Network Advantage (network-advantage)")
		op.fill("Ratio", "2")
		op.fill("Term (days)", "365")
		op.press("Add SKU")
		if got := op.fieldError("Term (days)"); !strings.Contains(got, "perpetual license") {
			t.Fatalf("error beside a term for a perpetual license = %q", got)
		}
		if got := op.fieldValue("SKU"); got != "L-C3850-24-S-E" {
			t.Fatalf("SKU after the error = %q, want it kept", got)
		}
		op.fill("Term (days)", "")
		op.press("Add SKU")
		if row := rowWith(op, "L-C3850-24-S-E"); len(row) < 4 || row[2] != "network-advantage" || row[3] != "2" {
			t.Fatalf("SKU row = %q", row)
		}
		op.screenshot("skus")

		op.press("PAKs")
		op.selectOption("Smart Account", "Acme Corporation (acme.example)")
		op.press("Show")
		op.fill("PAK number", "3300J7A1B2C")
		op.fill("Order number", "SO-1001")
		op.fill("Lines", "L-C3850-24-S-E,10\nL-NOT-SOLD,1")
		op.press("Deposit PAK")
		if got := op.fieldError("Lines"); !strings.Contains(got, `unknown classic SKU "L-NOT-SOLD"`) {
			t.Fatalf("error beside a line of an unknown SKU = %q", got)
		}
		if got := op.fieldValue("PAK number"); got != "3300J7A1B2C" {
			t.Fatalf("PAK number after the error = %q, want it kept", got)
		}
		op.screenshot("pak-error")
		op.fill("Lines", "L-C3850-24-S-E,10")
		op.press("Deposit PAK")
		if got := op.text(".flash"); !strings.Contains(got, "PAK 3300J7A1B2C deposited into acme.example") {
			t.Fatalf("flash after the PAK deposit = %q", got)
		}
		if row := rowWith(op, "3300J7A1B2C"); len(row) < 3 || row[2] != "L-C3850-24-S-E: 0 of 10" {
			t.Fatalf("PAK row = %q", row)
		}

		admin := newBrowser(t, p)
		admin.signIn("admin@acme.example", testPassword)
		admin.press("Conversions")
		if row := admin.cells("table.paks tbody tr"); len(row) < 6 || !slices.Equal(row[:6], []string{"3300J7A1B2C", "SO-1001", "L-C3850-24-S-E", "10", "0", "10"}) {
			t.Fatalf("PAK row on Conversions = %q", row)
		}
		admin.press("3300J7A1B2C")
		admin.selectOption("Line", "Line 1: L-C3850-24-S-E (10 left)")
		admin.fill("Units to convert", "4")
		admin.selectOption("Into Virtual Account", "Campus")
		admin.press("Convert")
		if got := admin.text(".flash"); got != "4 classic units of PAK 3300J7A1B2C converted: 8 smart licenses deposited into Campus." {
			t.Fatalf("flash after converting = %q", got)
		}
		if row := admin.cells("table.conversions tbody tr"); len(row) < 7 || !slices.Equal(row[1:7], []string{"1", "L-C3850-24-S-E", "4", "8 × network-advantage", "Campus", "portal"}) {
			t.Fatalf("conversion row = %q", row)
		}
		admin.screenshot("pak-converted")

		admin.selectOption("Line", "Line 1: L-C3850-24-S-E (6 left)")
		admin.fill("Units to convert", "7")
		admin.selectOption("Into Virtual Account", "Lab")
		admin.press("Convert")
		if got := admin.fieldError("Units to convert"); !strings.Contains(got, "6 remain (asked for 7)") {
			t.Fatalf("error beside converting more units than remain = %q", got)
		}
		if got := admin.fieldValue("Into Virtual Account"); got != "Lab" {
			t.Fatalf("VA after the error = %q, want it kept", got)
		}
		admin.screenshot("pak-convert-error")

		admin.open("/sa/acme.example/va/Campus/licenses")
		if row := rowWith(admin, "Network Advantage"); len(row) < 2 || row[1] != "8" {
			t.Fatalf("Campus licenses after the conversion = %q, want 8 purchased", row)
		}

		c := newClient(t, p)
		c.signIn("admin@acme.example", testPassword)
		resp, body := c.do("GET", "/sa/acme.example/conversions?format=csv", nil)
		if want := "pak,order_number,line,sku,quantity,converted,remaining\n3300J7A1B2C,SO-1001,1,L-C3850-24-S-E,10,4,6\n"; resp.StatusCode != http.StatusOK || body != want {
			t.Fatalf("PAKs CSV: %s\n%s\nwant\n%s", resp.Status, body, want)
		}
		resp, body = c.do("GET", "/sa/acme.example/conversions/3300J7A1B2C?format=csv", nil)
		if lines := strings.Split(strings.TrimSpace(body), "\n"); resp.StatusCode != http.StatusOK || len(lines) != 2 || !strings.Contains(lines[1], ",3300J7A1B2C,1,L-C3850-24-S-E,4,network-advantage,8,") {
			t.Fatalf("conversions CSV: %s\n%s", resp.Status, body)
		}
	})
}

// An Enterprise Agreement deposited into Campus shows on the account's
// Agreements page with its deposits and the true-forward measure; the SA
// approver accepts it; a Lab user, who does not work in Campus, sees none.
func TestAgreementsPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("approver@acme.example", smartlic.RoleSAApprover, sa.Domain, "")
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		must[smartlic.Agreement](t)(p.mgr.CreateAgreement(p.op, sa.Domain, "Campus", smartlic.AgreementInput{
			Number: "EA-100", EndsAt: epoch.Add(365 * 24 * time.Hour),
			Lines: []smartlic.AgreementLine{{LicenseTag: "network-advantage", Quantity: 50}, {LicenseTag: "dna-advantage", Quantity: 20}},
		}))

		admin := newBrowser(t, p)
		admin.signIn("admin@acme.example", testPassword)
		admin.press("Agreements")
		row := admin.cells("table.agreements tbody tr")
		if len(row) < 5 || row[0] != "EA-100" || row[1] != "Campus" || row[3] != "Active" || !strings.Contains(row[4], "50 × network-advantage") || !strings.Contains(row[4], "20 × dna-advantage") {
			t.Fatalf("agreement row = %q", row)
		}
		admin.screenshot("agreements")
		if !admin.has("table.agreements button") {
			t.Fatal("an SA administrator has no Accept button")
		}
		admin.press("EA-100")
		if got := admin.text("main h1"); got != "Enterprise Agreement EA-100" {
			t.Fatalf("agreement page heading = %q", got)
		}
		if got := admin.text("#deposits + p"); !strings.Contains(got, "EA EA-100") {
			t.Fatalf("deposits note = %q, want the order number of the agreement's deposits", got)
		}
		if row := rowWith(admin, "network-advantage"); len(row) < 2 || row[1] != "50" {
			t.Fatalf("deposit row = %q", row)
		}
		admin.screenshot("agreement")

		// The approver, who holds agreement.accept (and no license.view),
		// reads the agreement and accepts it, once.
		approver := newBrowser(t, p)
		approver.signIn("approver@acme.example", testPassword)
		approver.press("Agreements")
		approver.press("Accept EA-100")
		if got := approver.text(".flash"); got != "Enterprise Agreement EA-100 accepted." {
			t.Fatalf("flash after accepting = %q", got)
		}
		if row := approver.cells("table.agreements tbody tr"); len(row) < 6 || !strings.HasSuffix(row[5], "by approver@acme.example") {
			t.Fatalf("agreement row after acceptance = %q", row)
		}
		if approver.has("table.agreements button") {
			t.Fatal("an accepted agreement still offers Accept")
		}
		approver.screenshot("agreement-accepted")
		if got := must[[]smartlic.Agreement](t)(func() ([]smartlic.Agreement, error) {
			l, _, err := p.mgr.ListAgreements(p.op, sa.Domain, "Campus", smartlic.Page{})
			return l, err
		}()); len(got) != 1 || got[0].AcceptedBy != "approver@acme.example" {
			t.Fatalf("agreements after acceptance in the portal = %+v", got)
		}

		lab := newBrowser(t, p)
		lab.signIn("lab@acme.example", testPassword)
		lab.open("/sa/acme.example/agreements")
		if got := lab.text("main"); !strings.Contains(got, "No Enterprise Agreements in the Virtual Accounts you work in.") {
			t.Fatalf("a Lab user's Agreements page = %q", got)
		}

		c := newClient(t, p)
		c.signIn("admin@acme.example", testPassword)
		resp, body := c.do("GET", "/sa/acme.example/agreements?format=csv", nil)
		if lines := strings.Split(strings.TrimSpace(body), "\n"); resp.StatusCode != http.StatusOK || len(lines) != 3 || !strings.HasPrefix(lines[1], "EA-100,Campus,") {
			t.Fatalf("agreements CSV: %s\n%s", resp.Status, body)
		}
	})
}
