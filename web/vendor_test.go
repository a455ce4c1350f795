package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// The operator adds a license type and a product to the catalogue, then
// deposits 10 licenses into acme's Campus; acme's administrator sees them
// purchased under Licenses and transfers 3 to Lab.
func TestOperatorDepositsAndAdminTransfers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")

		op := newBrowser(t, p)
		op.signIn("ops@vendor.example", p.opKey)
		op.press("Vendor")
		if got := op.text("main h1"); got != "License types" {
			t.Fatalf("the Vendor link opens %q, want the catalogue's license types", got)
		}
		op.fill("Tag", "Security Plus")
		op.fill("Name", "Security Plus")
		op.selectOption("Enforcement", "Enforced")
		op.press("Add license type")
		if got := op.fieldError("Tag"); !strings.Contains(got, "must be 1-64 characters of a-z") {
			t.Fatalf("error beside a tag with capitals and a space = %q", got)
		}
		if got := op.fieldValue("Name"); got != "Security Plus" {
			t.Fatalf("name after the error = %q, want it kept", got)
		}
		if got := op.fieldValue("Enforcement"); got != "enforced" {
			t.Fatalf("enforcement after the error = %q, want it kept", got)
		}
		op.screenshot("catalog-tag-error")
		op.fill("Tag", "security-plus")
		op.press("Add license type")
		if got := op.text(".flash"); !strings.Contains(got, "Security Plus") {
			t.Fatalf("flash after adding a license type = %q", got)
		}
		if row := rowWith(op, "security-plus"); !slices.Equal(row[:4], []string{"security-plus", "Security Plus", "Perpetual", "Enforced"}) {
			t.Fatalf("license type row = %q", row)
		}

		op.screenshot("license-types")

		op.press("Products")
		op.fill("PID", "ISR4331")
		op.fill("Name", "ISR 4331")
		op.check("Security Plus (security-plus)")
		op.press("Add product")
		if row := rowWith(op, "ISR4331"); len(row) < 3 || row[2] != "security-plus" {
			t.Fatalf("product row = %q", row)
		}
		op.press("Edit product ISR4331")
		op.check("Network Advantage (network-advantage)")
		op.press("Save product")
		if row := rowWith(op, "ISR4331"); len(row) < 3 || row[2] != "network-advantage, security-plus" && row[2] != "security-plus, network-advantage" {
			t.Fatalf("product row after adding a license type = %q", row)
		}
		op.screenshot("products")

		op.press("Deposits")
		op.selectOption("Smart Account", "Acme Corporation (acme.example)")
		op.press("Show")
		op.selectOption("Virtual Account", "Campus")
		op.press("Show")
		if got := op.text("#deposits"); got != "Deposits in Campus of Acme Corporation" {
			t.Fatalf("deposits heading = %q", got)
		}
		op.fill("Order number", "SO-2001")
		op.selectOption("License type", "Security Plus (security-plus)")
		op.fill("Quantity", "0")
		op.press("Deposit licenses")
		if got := op.fieldError("Quantity"); !strings.Contains(got, "greater than 0") {
			t.Fatalf("error beside quantity 0 = %q", got)
		}
		if got := op.fieldValue("Order number"); got != "SO-2001" {
			t.Fatalf("order number after the error = %q, want it kept", got)
		}
		op.fill("Quantity", "10")
		op.fill("Ends on", "")
		op.press("Deposit licenses")
		if got := op.text(".flash"); !strings.Contains(got, "10 × security-plus deposited into Campus") {
			t.Fatalf("flash after the deposit = %q", got)
		}
		if row := op.cells("main table tbody tr"); len(row) < 3 || !slices.Equal(row[:3], []string{"SO-2001", "security-plus", "10"}) {
			t.Fatalf("deposit row = %q", row)
		}
		op.screenshot("deposits")

		admin := newBrowser(t, p)
		admin.signIn("admin@acme.example", testPassword)
		admin.open("/sa/acme.example/va/Campus/licenses")
		if row := rowWith(admin, "Security Plus"); len(row) < 5 || !slices.Equal(row[1:5], []string{"10", "0", "0", "10"}) {
			t.Fatalf("Campus licenses row = %q, want 10 purchased and available", row)
		}
		admin.press("Transfers")
		admin.selectOption("License type", "Security Plus (security-plus)")
		admin.fill("Quantity", "30")
		admin.selectOption("From Virtual Account", "Campus")
		admin.selectOption("To Virtual Account", "Lab")
		admin.press("Transfer licenses")
		if got := admin.fieldError("Quantity"); !strings.Contains(got, "10") {
			t.Fatalf("error beside a quantity above what is available = %q", got)
		}
		if got := admin.fieldValue("To Virtual Account"); got != "Lab" {
			t.Fatalf("destination after the error = %q, want it kept", got)
		}
		admin.screenshot("transfer-error")
		admin.fill("Quantity", "3")
		admin.press("Transfer licenses")
		if got := admin.text(".flash"); got != "3 × security-plus transferred from Campus to Lab." {
			t.Fatalf("flash after the transfer = %q", got)
		}
		if row := admin.cells("table.transfers tbody tr"); len(row) < 6 || !slices.Equal(row[1:6], []string{"security-plus", "3", "Campus", "Lab", "admin@acme.example"}) {
			t.Fatalf("transfer row = %q", row)
		}
		admin.screenshot("transfers")
		admin.open("/sa/acme.example/va/Lab/licenses")
		if row := rowWith(admin, "Security Plus"); len(row) < 2 || row[1] != "3" {
			t.Fatalf("Lab licenses row = %q, want 3 purchased", row)
		}

		c := newClient(t, p)
		c.signIn("admin@acme.example", testPassword)
		resp, body := c.do("GET", "/sa/acme.example/transfers?format=csv", nil)
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if resp.StatusCode != http.StatusOK || len(lines) != 2 || lines[0] != "id,created_at,kind,from,to,license,quantity,actor" ||
			!strings.HasSuffix(lines[1], ",licenses,Campus,Lab,security-plus,3,admin@acme.example") {
			t.Fatalf("transfers CSV: %s\n%s", resp.Status, body)
		}
	})
}

// rowWith is the cells of the first table row whose text contains s.
func rowWith(b *browser, s string) []string {
	b.t.Helper()
	row, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
		const row = [...document.querySelectorAll("main table tbody tr")].find(r => r.textContent.includes(`+jsString(s)+`));
		return row ? [...row.querySelectorAll("th, td")].map(c => c.textContent.trim().replace(/\s+/g, " ")) : [];
	})()`))
	if err != nil || len(row) == 0 {
		b.t.Fatalf("no row with %q on %s (%v): %s", s, b.location(), err, b.text("main"))
	}
	return row
}

// Customers typing a vendor page's address get the 403 page, and a form
// posted there changes nothing.
func TestVendorPagesRefuseCustomers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		for _, path := range []string{"/vendor/catalog", "/vendor/deposits?sa=acme.example", "/vendor/paks", "/vendor/accounts", "/vendor/accounts/acme.example/deny", "/vendor/catalog/products/C9300-24T"} {
			b.open(path)
			if got := b.text("main h1"); got != "Not allowed" {
				t.Fatalf("%s shows %q to an SA administrator, want the 403 page", path, got)
			}
		}
		b.screenshot("vendor-403")

		c := newClient(t, p)
		csrf := c.signIn("admin@acme.example", testPassword)
		for path, form := range map[string]url.Values{
			"/vendor/catalog/license-types":           {"tag": {"stolen"}, "name": {"Stolen"}, "term": {"perpetual"}, "enforcement": {"unenforced"}},
			"/vendor/deposits?sa=acme.example&va=Lab": {"sa": {"acme.example"}, "va": {"Lab"}, "order_number": {"SO-X"}, "license": {"network-advantage"}, "quantity": {"1000"}},
			"/vendor/accounts/acme.example/approve":   {},
			"/vendor/accounts/acme.example/deny":      {"reason": {"spite"}},
			// The vendor's settings: export control and PLR.
			"/vendor/accounts/acme.example/export-control":             {"allowed": {"1"}},
			"/vendor/accounts/acme.example/permanent-reservation":      {"permanent": {"1"}},
			"/vendor/catalog/products/C9300-24T/permanent-reservation": {"permanent": {"1"}},
		} {
			form.Set("csrf_token", csrf)
			if resp, _ := c.do("POST", path, form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s by an SA administrator: %s, want 403", path, resp.Status)
			}
		}
		if _, err := p.mgr.GetLicenseType(p.op, "stolen"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Errorf("license type after the refused form: %v, want not found", err)
		}
		if deps, _, err := p.mgr.ListDeposits(p.op, sa.Domain, "Lab", smartlic.Page{}); err != nil || len(deps) != 0 {
			t.Errorf("Lab deposits after the refused form: %v, %v", deps, err)
		}
		if e, err := p.mgr.GetExportControl(p.op, sa.Domain); err != nil || e.Allowed {
			t.Errorf("export control after the refused form: %+v, %v", e, err)
		}
		if rs, err := p.mgr.ReservationSettingsOfAccount(p.op, sa.Domain); err != nil || rs.Permanent {
			t.Errorf("account PLR after the refused form: %+v, %v", rs, err)
		}
		if rs, err := p.mgr.ReservationSettingsOfProduct(p.op, "C9300-24T"); err != nil || rs.Permanent {
			t.Errorf("product PLR after the refused form: %+v, %v", rs, err)
		}
	})
}

// A customer asks for a Smart Account; the operator sees the request and
// approves it, then creates another account, fixing a mistyped domain.
func TestOperatorApprovesAndCreatesAccounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		p.acme()
		u := must[smartlic.User](t)(p.mgr.CreateUser(p.op, smartlic.UserInput{Email: "boss@beta.example", Name: "Beta Boss", Password: testPassword}))
		asUser := smartlic.WithActor(context.Background(), smartlic.Actor{Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorSession})
		must[smartlic.SmartAccount](t)(p.mgr.CreateSmartAccount(asUser, smartlic.SmartAccount{Name: "Beta Labs", Domain: "beta.example"}))

		b := newBrowser(t, p)
		b.signIn("ops@vendor.example", p.opKey)
		b.open("/vendor/accounts")
		if row := b.cells("table.pending tbody tr"); len(row) < 2 || !slices.Equal(row[:2], []string{"Beta Labs", "beta.example"}) {
			t.Fatalf("pending requests = %q, want Beta Labs", row)
		}
		b.screenshot("accounts-pending")
		b.press("Approve beta.example")
		if got := b.text(".flash"); !strings.Contains(got, "approved") {
			t.Fatalf("flash after approving = %q", got)
		}
		if b.has("table.pending") {
			t.Fatal("the request is still listed after its approval")
		}
		if got, err := p.mgr.GetSmartAccount(p.op, "beta.example"); err != nil || got.Status != smartlic.SAActive {
			t.Fatalf("beta.example after approval: %v, %v", got.Status, err)
		}

		// Another request is refused: the reason is required, shown beside
		// its field when missing, and lands in the account's event log.
		must[smartlic.SmartAccount](t)(p.mgr.CreateSmartAccount(asUser, smartlic.SmartAccount{Name: "Delta Spam", Domain: "delta.example"}))
		b.open("/vendor/accounts")
		b.press("Deny delta.example")
		b.press("Deny request")
		if got := b.fieldError("Reason"); !strings.Contains(got, "required") {
			t.Fatalf("error beside an empty reason = %q", got)
		}
		b.fill("Reason", "not a customer of ours")
		b.press("Deny request")
		if got := b.text(".flash"); !strings.Contains(got, "denied") {
			t.Fatalf("flash after denying = %q", got)
		}
		if b.has("table.pending") {
			t.Fatal("the request is still listed after its denial")
		}
		if row := rowWith(b, "delta.example"); len(row) < 3 || row[2] != "Denied" {
			t.Fatalf("denied account row = %q", row)
		}
		evs, _, err := p.mgr.ListEvents(p.op, "delta.example", smartlic.EventFilter{Type: "account.denied"}, smartlic.Page{})
		if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Message, "not a customer of ours") {
			t.Fatalf("account.denied events = %+v", evs)
		}

		b.fill("Name", "Gamma Networks")
		b.fill("Domain", "gamma networks")
		b.press("Create Smart Account")
		if got := b.fieldError("Domain"); !strings.Contains(got, "must be a DNS domain") {
			t.Fatalf("error beside a bad domain = %q", got)
		}
		if got := b.fieldValue("Name"); got != "Gamma Networks" {
			t.Fatalf("name after the error = %q, want it kept", got)
		}
		b.fill("Domain", "gamma.example")
		b.press("Create Smart Account")
		if row := rowWith(b, "gamma.example"); len(row) < 3 || row[2] != "Active" {
			t.Fatalf("new account row = %q, want it active", row)
		}
		b.screenshot("accounts")
	})
}
