package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A fresh server says how to begin; a wrong password is shown beside the
// password and the e-mail stays typed; the right one opens the account.
func TestSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		b := newBrowser(t, p)

		b.open("/login")
		if got := b.text(".notice"); !strings.Contains(got, "No one can sign in yet") || !strings.Contains(got, "smartlic admin create-operator") {
			t.Fatalf("sign-in page of an empty server = %q, want how to create the first operator", got)
		}
		b.screenshot("first-run")

		sa := p.acme()
		p.user("jane@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		b.open("/login")
		if b.has(".notice") {
			t.Fatal("the first-run notice is still shown once a user exists")
		}
		b.fill("E-mail", "jane@acme.example")
		b.fill("Password", "not the password")
		b.press("Sign in")
		if got := b.fieldError("Password"); got != "Wrong e-mail or password." {
			t.Fatalf("error beside the password = %q", got)
		}
		if got := b.fieldValue("E-mail"); got != "jane@acme.example" {
			t.Fatalf("e-mail after a failed sign-in = %q, want it kept", got)
		}
		if got := b.fieldValue("Password"); got != "" {
			t.Fatal("the password was sent back to the page")
		}
		b.screenshot("wrong-password")

		b.fill("Password", testPassword)
		b.press("Sign in")
		if loc := b.location(); loc != "/sa/acme.example" {
			t.Fatalf("after sign-in the browser is at %s, want the account's dashboard", loc)
		}
		if got := b.text("header .who"); got != "jane@acme.example" {
			t.Fatalf("header shows %q", got)
		}
		b.press("Sign out")
		if got := b.text(".flash"); got != "You are signed out." {
			t.Fatalf("after signing out: %q", got)
		}
		b.open("/sa/acme.example/va/DEFAULT/general")
		if loc := b.location(); !strings.HasPrefix(loc, "/login?next=") {
			t.Fatalf("a signed-out visit lands on %s, want the sign-in page", loc)
		}
	})
}

// The seed's walkthrough: generate a token in Inventory › General, copy
// it from the page, register a device with it, and see its usage in
// Inventory › Licenses.
func TestTokenRegistersDeviceAndUsageShows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("net@acme.example", smartlic.RoleVAAdmin, sa.Domain, "Campus")
		b := newBrowser(t, p)
		b.signIn("net@acme.example", testPassword)

		b.open("/sa/acme.example/va/Building%20A/general")
		if got := b.text("main h1"); got != "Building A" {
			t.Fatalf("General page heading = %q", got)
		}
		b.fill("Description", "Building A switches")
		b.fill("Expires after (days)", "30")
		b.fill("Maximum uses", "5")
		b.press("Create token")
		secret := b.value("token-secret")
		if !strings.HasPrefix(secret, "slt_") {
			t.Fatalf("token secret on the page = %q", secret)
		}
		if got := b.text("main table tbody tr"); !strings.Contains(got, "Building A switches") || !strings.Contains(got, "0 of 5") || !strings.Contains(got, "Active") {
			t.Fatalf("token row = %q", got)
		}
		b.screenshot("token-created")

		// The secret is shown once: the page reloaded does not have it.
		b.open("/sa/acme.example/va/Building%20A/general")
		if b.has("#token-secret") {
			t.Fatal("the token secret is shown again after a reload")
		}

		ctx := context.Background()
		dev, err := agent.New(agent.Options{Server: p.url, Clock: p.clock, Store: agent.MemoryState(),
			UDI: smartlic.UDI{PID: "C9300-24T", SN: "FOC0001"}, Hostname: "bldg-a-sw1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := dev.Register(ctx, secret, false); err != nil {
			t.Fatalf("register with the token from the page: %v", err)
		}
		if err := dev.SetUsage("network-advantage", 3); err != nil {
			t.Fatal(err)
		}
		if err := dev.Authorize(ctx); err != nil {
			t.Fatal(err)
		}

		b.open("/sa/acme.example/va/Building%20A/general")
		if got := b.text("main table tbody tr"); !strings.Contains(got, "1 of 5") {
			t.Fatalf("token row after one registration = %q, want 1 of 5 uses", got)
		}
		b.press("Licenses")
		// Sorted by license name: DNA Advantage, then Network Advantage.
		if got := b.cells("main table tbody tr:nth-child(1)"); len(got) < 6 || !strings.HasPrefix(got[0], "DNA Advantage") || !slices.Equal(got[1:6], []string{"2", "0", "0", "2", "In compliance"}) {
			t.Fatalf("DNA Advantage row = %q, want purchased 2, in use 0, available 2", got)
		}
		if got := b.cells("main table tbody tr:nth-child(2)"); len(got) < 6 || !strings.HasPrefix(got[0], "Network Advantage") || !slices.Equal(got[1:6], []string{"4", "3", "0", "1", "In compliance"}) {
			t.Fatalf("Network Advantage row = %q, want purchased 4, in use 3, available 1", got)
		}
		b.screenshot("licenses")

		// Filter by status, then the roll-up from Campus adds Building A in.
		b.selectOption("Status", "Insufficient")
		b.press("Filter")
		if got := b.text("main"); !strings.Contains(got, "No license type matches the filter.") {
			t.Fatalf("filtered page = %q", got)
		}
		b.open("/sa/acme.example/va/Campus/licenses")
		if got := b.text("main"); !strings.Contains(got, "No licenses in Campus itself.") {
			t.Fatalf("Campus without roll-up = %q", got)
		}
		b.press("Include the Virtual Accounts below it")
		if got := b.text(`main table tbody`); !strings.Contains(got, "Network Advantage") {
			t.Fatalf("Campus rolled up = %q, want Building A's licenses", got)
		}
	})
}

// A VA user sees its own VA in the tree and nothing else it may not open,
// and typing another VA's address shows the 403 page.
func TestVAUserCannotReachAnotherVA(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		b := newBrowser(t, p)
		b.signIn("lab@acme.example", testPassword)
		if loc := b.location(); loc != "/sa/acme.example/va/Lab/dashboard" {
			t.Fatalf("a Lab user starts at %s, want Lab's dashboard", loc)
		}
		if got := b.links(".tree"); !slices.Equal(got, []string{"Lab"}) {
			t.Fatalf("VA tree links of a Lab user = %q, want only Lab", got)
		}
		if got := b.text(".tree"); strings.Contains(got, "Building A") || strings.Contains(got, "DEFAULT") {
			t.Fatalf("VA tree of a Lab user shows %q", got)
		}
		// Conversions are of the whole Smart Account, which a VA role never
		// reaches: the link would answer 403.
		if got := b.links("nav.main"); slices.Contains(got, "Administration") || slices.Contains(got, "Vendor") || slices.Contains(got, "Conversions") {
			t.Fatalf("navigation of a VA user = %q", got)
		}
		b.screenshot("lab-user")
		// Nor is a VA offered to be created where the service would refuse it.
		b.open("/sa/acme.example/admin/vas")
		if b.has("#create-va") {
			t.Fatalf("a Lab user is offered to create a Virtual Account: %q", b.text("main"))
		}

		for _, path := range []string{"/sa/acme.example/va/Building%20A/general", "/sa/acme.example/va/Building%20A/licenses", "/sa/acme.example/va/DEFAULT/licenses?rollup=1"} {
			b.open(path)
			if got := b.text("main h1"); got != "Not allowed" {
				t.Fatalf("%s shows %q to a Lab user, want the 403 page", path, got)
			}
			if got := b.text("main .status"); !strings.HasPrefix(got, "403") {
				t.Fatalf("%s status line = %q", path, got)
			}
		}
		b.open("/sa/other.example/va/DEFAULT/general")
		if got := b.text("main h1"); got != "Not found" {
			t.Fatalf("an unknown Smart Account shows %q, want the 404 page", got)
		}
	})
}

// A form posted without the session's CSRF token is refused and changes
// nothing; an invalid value is shown beside its field, keeping the input.
func TestFormsNeedCSRFAndShowErrorsBesideFields(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)

		b.open("/sa/acme.example/va/Lab/general")
		b.fill("Maximum uses", "3")
		b.press("Create token")
		if got := b.fieldError("Description"); !strings.Contains(got, "required") {
			t.Fatalf("error beside an empty description = %q", got)
		}
		if got := b.fieldValue("Maximum uses"); got != "3" {
			t.Fatalf("maximum uses after the error = %q, want it kept", got)
		}
		b.fill("Description", "Lab gear")
		b.fill("Expires after (days)", "400")
		b.press("Create token")
		if got := b.fieldError("Expires after (days)"); !strings.Contains(got, "between 1 and 365") {
			t.Fatalf("error beside the expiry = %q", got)
		}
		if got := b.fieldValue("Description"); got != "Lab gear" {
			t.Fatalf("description after the error = %q, want it kept", got)
		}
		b.fill("Expires after (days)", "30")
		b.fill("Maximum uses", "0")
		b.press("Create token")
		if got := b.fieldError("Maximum uses"); !strings.Contains(got, "between 1 and 1000000") {
			t.Fatalf("error beside maximum uses = %q", got)
		}
		b.screenshot("validation")

		// A page of this portal with its CSRF field taken out, as a form
		// on another site would be.
		b.fill("Expires after (days)", "30")
		b.fill("Maximum uses", "")
		b.eval(`document.querySelectorAll('input[name="csrf_token"]').forEach(e => e.remove())`)
		b.press("Create token")
		if got := b.text("main h1"); got != "Not allowed" {
			t.Fatalf("a form without CSRF token shows %q, want the 403 page", got)
		}
		if toks, _, err := p.mgr.ListTokens(p.op, sa.Domain, "Lab", smartlic.Page{}); err != nil || len(toks) != 0 {
			t.Fatalf("tokens after the refused form: %v, %v; want none", toks, err)
		}

		// A wrong token is refused as well.
		b.open("/sa/acme.example/va/Lab/general")
		b.fill("Description", "Lab gear")
		b.eval(`document.querySelectorAll('input[name="csrf_token"]').forEach(e => e.value = "forged")`)
		b.press("Create token")
		if got := b.text("main h1"); got != "Not allowed" {
			t.Fatalf("a form with a forged CSRF token shows %q, want the 403 page", got)
		}
	})
}

// The navigation follows the roles: an SA user has no Administration,
// an SA administrator has it, only the operator has Vendor; the operator
// signs in with its e-mail and API key.
func TestNavigationByRole(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		for _, c := range []struct {
			email, password string
			want, not       []string
		}{
			{"user@acme.example", testPassword, []string{"Dashboard", "Inventory", "Alerts", "Reports"}, []string{"Administration", "Vendor"}},
			{"admin@acme.example", testPassword, []string{"Inventory", "Administration"}, []string{"Vendor"}},
			{"ops@vendor.example", p.opKey, []string{"Inventory", "Administration", "Vendor"}, nil},
		} {
			b := newBrowser(t, p)
			b.signIn(c.email, c.password)
			nav := b.links("nav.main")
			for _, w := range c.want {
				if !slices.Contains(nav, w) {
					t.Errorf("%s: navigation %q lacks %s", c.email, nav, w)
				}
			}
			for _, n := range c.not {
				if slices.Contains(nav, n) {
					t.Errorf("%s: navigation %q shows %s", c.email, nav, n)
				}
			}
		}
	})
}
