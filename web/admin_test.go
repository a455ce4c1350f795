package web_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// account makes a user without any role, as a person who signed up
// elsewhere, and returns a context acting as it.
func (p *portal) account(email string) context.Context {
	p.t.Helper()
	u := must[smartlic.User](p.t)(p.mgr.CreateUser(p.op, smartlic.UserInput{Email: email, Name: email, Password: testPassword}))
	return smartlic.WithActor(context.Background(), smartlic.Actor{Email: u.Email, UserID: u.ID, Role: "user", Kind: smartlic.ActorUserKey})
}

// rowWith is the cells of the first row of the table in css whose text
// contains every one of parts; nil when there is none.
func (b *browser) rowWith(css string, parts ...string) []string {
	b.t.Helper()
	for i := 1; ; i++ {
		row := b.cells(fmt.Sprintf("%s tbody tr:nth-child(%d)", css, i))
		if len(row) == 0 {
			return nil
		}
		if all := strings.Join(row, " | "); !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(all, p) }) {
			return row
		}
	}
}

// pressLabelled clicks the button or link whose accessible name (its
// aria-label) is label, as a screen reader user picks "Revoke VA user of
// … on Lab" among many "Revoke" buttons, and waits for the page it loads.
func (b *browser) pressLabelled(label string) {
	b.t.Helper()
	sel := chromedp.Search(`//*[self::button or self::a][@aria-label=` + xpathString(label) + `]`)
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(sel))); err != nil {
		b.t.Fatalf("press %q on %s: %v", label, b.location(), err)
	}
}

// An SA administrator grants "VA user" on Lab to a colleague and sees it
// listed with the VA's name; a mistake is shown beside its field, keeping
// what was typed; revoking removes the row.
func TestAdminGrantsAndRevokesRoles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		// A member of the account already (others are invited).
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Building A")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)

		if !slices.Contains(b.links("nav.main"), "Administration") {
			t.Fatal("no Administration in the navigation")
		}
		b.open("/sa/acme.example/admin/access")
		b.press("Users")
		if loc := b.location(); loc != "/sa/acme.example/admin/users" {
			t.Fatalf("Users tab opens %s", loc)
		}
		if row := b.rowWith("table.roles", "admin@acme.example"); row == nil || row[1] != "SA administrator" || row[2] != "Smart Account" {
			t.Fatalf("the administrator's own row = %q", row)
		}

		// A VA role without its Virtual Account.
		b.fill("E-mail", "lab@acme.example")
		b.selectOption("Role", "VA user")
		b.press("Grant role")
		if got := b.fieldError("Virtual Account"); !strings.Contains(got, "required") {
			t.Fatalf("error beside the Virtual Account = %q", got)
		}
		if got := b.fieldValue("E-mail"); got != "lab@acme.example" {
			t.Fatalf("e-mail after the error = %q, want it kept", got)
		}
		if got := b.fieldValue("Role"); got != smartlic.RoleVAUser {
			t.Fatalf("role after the error = %q, want it kept", got)
		}
		// Someone without a smartlic account.
		b.fill("E-mail", "nobody@acme.example")
		b.selectOption("Virtual Account", "Lab")
		b.press("Grant role")
		if got := b.fieldError("E-mail"); !strings.Contains(got, "nobody@acme.example") {
			t.Fatalf("error beside an unknown e-mail = %q", got)
		}
		b.screenshot("grant-error")

		b.fill("E-mail", "lab@acme.example")
		b.press("Grant role")
		if got := b.text(".flash"); got != "lab@acme.example is now VA user on Lab." {
			t.Fatalf("flash after granting = %q", got)
		}
		row := b.rowWith("table.roles", "lab@acme.example", "Lab")
		if row == nil || row[1] != "VA user" || row[2] != "Lab" {
			t.Fatalf("the new row = %q, want VA user on Lab", row)
		}
		b.screenshot("granted")

		b.pressLabelled("Revoke VA user of lab@acme.example on Lab")
		if got := b.text(".flash"); got != "The role was revoked." {
			t.Fatalf("flash after revoking = %q", got)
		}
		if row := b.rowWith("table.roles", "lab@acme.example", "Lab"); row != nil {
			t.Fatalf("the revoked role is still listed: %q", row)
		}
		if roles, _, _ := p.mgr.ListRoles(p.op, sa.Domain, "Lab", smartlic.Page{}); len(roles) != 0 {
			t.Fatalf("roles on Lab after revoking: %v", roles)
		}
	})
}

// A VA administrator sees and manages its own subtree only: the roles of
// Campus and Building A, not Lab's, and granting on Lab is refused beside
// the form. An SA user typing the address gets the 403 page.
func TestAdminUsersByRole(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("campus@acme.example", smartlic.RoleVAAdmin, sa.Domain, "Campus")
		p.user("bldg@acme.example", smartlic.RoleVAUser, sa.Domain, "Building A")
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		p.user("new@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")

		b := newBrowser(t, p)
		b.signIn("campus@acme.example", testPassword)
		b.open("/sa/acme.example/admin/users")
		if got := b.text("main"); !strings.Contains(got, "Showing the roles in the Virtual Accounts you administer.") {
			t.Fatalf("a VA administrator's page does not say it is scoped: %q", got)
		}
		if row := b.rowWith("table.roles", "bldg@acme.example"); row == nil || row[2] != "Building A" {
			t.Fatalf("Building A's user row = %q", row)
		}
		if b.rowWith("table.roles", "lab@acme.example") != nil || b.rowWith("table.roles", "user@acme.example") != nil {
			t.Fatal("a Campus administrator sees roles outside Campus")
		}
		if got := b.links("nav.tabs"); slices.Contains(got, "Webhooks") || slices.Contains(got, "OAuth clients") {
			t.Fatalf("a VA administrator's tabs = %q, want no account-wide pages", got)
		}
		b.screenshot("va-admin")

		b.fill("E-mail", "new@acme.example")
		b.selectOption("Role", "VA user")
		b.selectOption("Virtual Account", "— Building A") // indented below Campus
		b.press("Grant role")
		if row := b.rowWith("table.roles", "new@acme.example"); row == nil || row[2] != "Building A" {
			t.Fatalf("after granting on Building A: %q", row)
		}
		// Lab is not in the choices; a forged choice is refused by the service.
		b.fill("E-mail", "new@acme.example")
		b.selectOption("Role", "VA administrator")
		b.eval(`document.getElementById("f-va").add(new Option("Lab", "Lab", true, true))`)
		b.press("Grant role")
		if got := b.text(".form-error"); !strings.Contains(got, "do not allow") {
			t.Fatalf("granting on Lab as a Campus administrator: %q", got)
		}

		u := newBrowser(t, p)
		u.signIn("user@acme.example", testPassword)
		for _, path := range []string{"/sa/acme.example/admin/users", "/sa/acme.example/admin/access", "/sa/acme.example/admin/webhooks", "/sa/acme.example/admin/oauth-clients", "/sa/acme.example/admin/notifications"} {
			u.open(path)
			if got := u.text("main h1"); got != "Not allowed" {
				t.Fatalf("an SA user at %s sees %q, want the 403 page", path, got)
			}
		}
		u.screenshot("sa-user-403")
	})
}

// Someone asks to join; the administrator approves one request with
// "VA user" on Lab and denies another.
func TestAdminAccessRequests(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		must[smartlic.AccessRequest](t)(p.mgr.RequestAccess(p.account("ann@acme.example"), sa.Domain, "I run the lab switches"))
		must[smartlic.AccessRequest](t)(p.mgr.RequestAccess(p.account("mallory@other.example"), sa.Domain, ""))

		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.open("/sa/acme.example/admin/access")
		if row := b.rowWith("table.access", "ann@acme.example"); row == nil || row[1] != "I run the lab switches" || !strings.Contains(row[3], "Pending") {
			t.Fatalf("Ann's request = %q", row)
		}
		// A VA role needs its Virtual Account: said beside the form, Ann's choice kept.
		b.selectOption("Role for ann@acme.example", "VA user")
		b.pressLabelled("Approve ann@acme.example")
		if got := b.fieldError("Virtual Account for ann@acme.example"); !strings.Contains(got, "required") {
			t.Fatalf("error beside Ann's Virtual Account = %q", got)
		}
		if got := b.fieldValue("Role for ann@acme.example"); got != smartlic.RoleVAUser {
			t.Fatalf("Ann's role after the error = %q", got)
		}
		b.selectOption("Virtual Account for ann@acme.example", "Lab")
		b.pressLabelled("Approve ann@acme.example")
		if got := b.text(".flash"); got != "Approved: ann@acme.example is now VA user." {
			t.Fatalf("flash = %q", got)
		}
		if row := b.rowWith("table.access", "ann@acme.example"); row == nil || !strings.Contains(row[3], "Approved") || !strings.Contains(row[4], "admin@acme.example") {
			t.Fatalf("Ann's request after approval = %q", row)
		}
		b.pressLabelled("Deny mallory@other.example")
		if row := b.rowWith("table.access", "mallory@other.example"); row == nil || !strings.Contains(row[3], "Denied") {
			t.Fatalf("Mallory's request after denial = %q", row)
		}
		b.screenshot("decided")
		b.open("/sa/acme.example/admin/users")
		if row := b.rowWith("table.roles", "ann@acme.example"); row == nil || row[1] != "VA user" || row[2] != "Lab" {
			t.Fatalf("Ann's role = %q", row)
		}
		if b.rowWith("table.roles", "mallory@other.example") != nil {
			t.Fatal("a denied request granted a role")
		}
	})
}

// A personal API key's secret shows once, works, and is not shown after
// a reload; revoking it stops it.
func TestAccountAPIKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		b := newBrowser(t, p)
		b.signIn("lab@acme.example", testPassword)
		b.press("API keys")
		if loc := b.location(); loc != "/account/api-keys" {
			t.Fatalf("the header's API keys link opens %s", loc)
		}
		b.fill("Name", "Ansible")
		b.fill("Expires after (days)", "400")
		b.press("Create key")
		if got := b.fieldError("Expires after (days)"); !strings.Contains(got, "between 1 and 365") {
			t.Fatalf("error beside the expiry = %q", got)
		}
		if got := b.fieldValue("Name"); got != "Ansible" {
			t.Fatalf("name after the error = %q", got)
		}
		b.fill("Expires after (days)", "30")
		b.press("Create key")
		secret := b.value("new-secret-value")
		if !strings.HasPrefix(secret, "slu_") {
			t.Fatalf("key secret on the page = %q", secret)
		}
		if row := b.rowWith("table.keys", "Ansible"); row == nil || !strings.Contains(row[4], "Active") {
			t.Fatalf("key row = %q", row)
		}
		b.screenshot("key-created")
		if status := whoami(t, p, secret); status != http.StatusOK {
			t.Fatalf("the key from the page answers %d", status)
		}

		b.open("/account/api-keys")
		if b.has("#new-secret-value") || strings.Contains(b.text("main"), secret) {
			t.Fatal("the key's secret is shown again after a reload")
		}
		b.pressLabelled("Revoke API key Ansible")
		if row := b.rowWith("table.keys", "Ansible"); row == nil || !strings.Contains(row[4], "Revoked") {
			t.Fatalf("key row after revoking = %q", row)
		}
		if status := whoami(t, p, secret); status != http.StatusUnauthorized {
			t.Fatalf("a revoked key answers %d, want 401", status)
		}
	})
}

// whoami calls the API with a bearer key and returns the status.
func whoami(t *testing.T, p *portal, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.url+"/api/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// An OAuth client's secret shows once; when its creator loses the role,
// another administrator sees it suspended, and can revoke it.
func TestAdminOAuthClients(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		p.user("boss@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.open("/sa/acme.example/admin/oauth-clients")
		b.press("Create client")
		if got := b.fieldError("Name"); !strings.Contains(got, "required") {
			t.Fatalf("error beside an empty name = %q", got)
		}
		b.fill("Name", "Inventory sync")
		b.selectOption("Acts as", "SA administrator")
		b.selectOption("Scopes", "read and write: view and change")
		b.press("Create client")
		if secret := b.value("new-secret-value"); !strings.HasPrefix(secret, "slcs_") {
			t.Fatalf("client secret on the page = %q", secret)
		}
		if row := b.rowWith("table.clients", "Inventory sync"); row == nil || row[2] != "SA administrator" || row[3] != "read, write" || !strings.Contains(row[6], "Active") {
			t.Fatalf("client row = %q", row)
		}
		b.screenshot("client-created")
		b.open("/sa/acme.example/admin/oauth-clients")
		if b.has("#new-secret-value") {
			t.Fatal("the client secret is shown again after a reload")
		}

		// The creator loses its role.
		roles := must[[]smartlic.RoleAssignment](t)(func() ([]smartlic.RoleAssignment, error) {
			rs, _, err := p.mgr.ListRoles(p.op, sa.Domain, "", smartlic.Page{})
			return rs, err
		}())
		i := slices.IndexFunc(roles, func(r smartlic.RoleAssignment) bool { return r.UserEmail == "admin@acme.example" })
		if err := p.mgr.RevokeRole(p.op, sa.Domain, roles[i].ID); err != nil {
			t.Fatal(err)
		}
		boss := newBrowser(t, p)
		boss.signIn("boss@acme.example", testPassword)
		boss.open("/sa/acme.example/admin/oauth-clients")
		if row := boss.rowWith("table.clients", "Inventory sync"); row == nil || !strings.Contains(row[6], "Suspended") {
			t.Fatalf("client row after its creator lost the role = %q, want Suspended", row)
		}
		boss.screenshot("client-suspended")
		boss.pressLabelled("Revoke client Inventory sync")
		if row := boss.rowWith("table.clients", "Inventory sync"); row == nil || !strings.Contains(row[6], "Revoked") {
			t.Fatalf("client row after revoking = %q", row)
		}
	})
}

// A webhook to an internal address is refused beside the URL, keeping
// what was typed; a public one shows its secret once and lists its
// deliveries, page by page.
func TestAdminWebhooks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.open("/sa/acme.example/admin/webhooks")
		b.fill("URL", "http://127.0.0.1/")
		b.fill("Description", "NOC chat")
		b.check("Licenses expiring within 30 days")
		b.press("Add webhook")
		if got := b.fieldError("URL"); !strings.Contains(got, "not a public address") {
			t.Fatalf("error beside an internal URL = %q", got)
		}
		if got := b.fieldValue("URL"); got != "http://127.0.0.1/" {
			t.Fatalf("URL after the error = %q, want it kept", got)
		}
		if got := b.fieldValue("Description"); got != "NOC chat" {
			t.Fatalf("description after the error = %q", got)
		}
		if !b.has("#f-type-license-expiring_30:checked") {
			t.Fatal("the ticked alert type was lost")
		}
		b.screenshot("internal-url")

		b.fill("URL", "https://hooks.acme.example/smartlic")
		b.press("Add webhook")
		if secret := b.value("new-secret-value"); !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("webhook secret on the page = %q", secret)
		}
		if row := b.rowWith("table.webhooks", "https://hooks.acme.example/smartlic"); row == nil || row[1] != "NOC chat" || row[2] != "Licenses expiring within 30 days" {
			t.Fatalf("webhook row = %q", row)
		}
		b.screenshot("webhook-created")

		// 51 subscriptions ending within 30 days raise 51 alerts.
		ends := epoch.Add(20 * 24 * time.Hour)
		for i := range 51 {
			tag := fmt.Sprintf("sub-%02d", i)
			must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(p.op, smartlic.LicenseType{Tag: tag, Name: "Subscription " + tag, Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced}))
			must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Lab", smartlic.DepositInput{OrderNumber: "SO-" + tag, License: tag, Quantity: 1, EndsAt: &ends}))
		}
		if _, err := p.mgr.ScanAlerts(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.pressLabelled("Delivery log of https://hooks.acme.example/smartlic")
		if got := b.text("table.deliveries tbody tr"); !strings.Contains(got, "alert.raised") || !strings.Contains(got, "Pending") {
			t.Fatalf("first delivery = %q", got)
		}
		first := b.text("table.deliveries tbody")
		b.press("Next page »")
		second := b.text("table.deliveries tbody")
		if n := strings.Count(second, "alert.raised"); n != 1 {
			t.Fatalf("second page has %d deliveries, want the 51st alone", n)
		}
		if strings.Count(first, "alert.raised") != 50 {
			t.Fatalf("first page has %d deliveries, want 50", strings.Count(first, "alert.raised"))
		}
		b.screenshot("deliveries")

		b.open("/sa/acme.example/admin/webhooks")
		b.pressLabelled("Delete webhook https://hooks.acme.example/smartlic")
		if got := b.text("main"); !strings.Contains(got, "No webhooks yet.") {
			t.Fatalf("after deleting: %q", got)
		}
	})
}

// The administrator sets its own alert e-mails (daily, insufficient
// licenses, Lab only), edits them, and stops them; a bad address is
// shown beside the e-mail.
func TestAdminNotifications(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.open("/sa/acme.example/admin/notifications")
		if got := b.fieldValue("E-mail"); got != "admin@acme.example" {
			t.Fatalf("the form starts with %q, want the signed-in user's address", got)
		}
		b.selectOption("How often", "Weekly summary")
		b.check("Licenses insufficient")
		b.check("Lab")
		b.fill("E-mail", "not an address")
		b.press("Save notifications")
		if got := b.fieldError("E-mail"); got == "" {
			t.Fatal("no error beside a bad e-mail")
		}
		if got := b.fieldValue("How often"); got != "weekly" {
			t.Fatalf("frequency after the error = %q", got)
		}
		b.fill("E-mail", "admin@acme.example")
		b.press("Save notifications")
		if row := b.rowWith("table.prefs", "admin@acme.example"); row == nil || row[1] != "Weekly" || row[2] != "Licenses insufficient" || row[3] != "Lab" {
			t.Fatalf("preference row = %q", row)
		}
		b.screenshot("notifications")

		b.pressLabelled("Edit notifications to admin@acme.example")
		if !b.has("#f-type-license-insufficient:checked") || b.fieldValue("How often") != "weekly" {
			t.Fatal("Edit does not fill the form with the saved preference")
		}
		b.pressLabelled("Stop notifications to admin@acme.example")
		if got := b.text("main"); !strings.Contains(got, "Nobody receives alert e-mails yet.") {
			t.Fatalf("after stopping: %q", got)
		}
	})
}

// An administrator invites a new hire as "VA user" on Lab and sees the
// link once; the new hire opens it, chooses a password (twice) and is
// signed in with the role; the link does not work twice. Someone who
// already has an account signs in and accepts as itself; a pending
// invitation can be revoked.
func TestAdminInvitations(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		p.account("old@acme.example")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.open("/sa/acme.example/admin/users")

		b.fill("Invite e-mail", "newhire@acme.example")
		b.selectOption("Invited role", "VA user")
		b.press("Invite")
		if got := b.fieldError("Invited to Virtual Account"); !strings.Contains(got, "required") {
			t.Fatalf("error beside the invitation's VA = %q", got)
		}
		if got := b.fieldValue("Invite e-mail"); got != "newhire@acme.example" {
			t.Fatalf("e-mail after the error = %q, want it kept", got)
		}
		b.selectOption("Invited to Virtual Account", "Lab")
		b.press("Invite")
		link := b.value("new-secret-value")
		if !strings.HasPrefix(link, p.url+"/invite?code=sli_") {
			t.Fatalf("invitation link on the page = %q", link)
		}
		if row := b.rowWith("table.invitations", "newhire@acme.example"); row == nil || row[1] != "VA user" || row[2] != "Lab" || !strings.Contains(row[5], "Pending") {
			t.Fatalf("invitation row = %q", row)
		}
		b.screenshot("invited")
		b.open("/sa/acme.example/admin/users")
		if b.has("#new-secret-value") || strings.Contains(b.text("main"), "sli_") {
			t.Fatal("the invitation code is shown again after a reload")
		}

		// The new hire, in its own browser.
		n := newBrowser(t, p)
		n.open(strings.TrimPrefix(link, p.url))
		n.fill("Password", "a long new password")
		n.fill("Password again", "another password!!")
		n.press("Accept and sign in")
		if got := n.fieldError("Password again"); !strings.Contains(got, "differ") {
			t.Fatalf("error beside a mistyped password = %q", got)
		}
		n.screenshot("accept-mismatch")
		n.fill("Password", "a long new password")
		n.fill("Password again", "a long new password")
		n.press("Accept and sign in")
		if got := n.text(".flash"); got != "Welcome: you are now VA user here." {
			t.Fatalf("after accepting: %q on %s", got, n.location())
		}
		if loc := n.location(); !strings.HasPrefix(loc, "/sa/acme.example/va/Lab/") {
			t.Fatalf("the new hire lands on %s, want a page of Lab", loc)
		}
		if got := n.text("header .who"); got != "newhire@acme.example" {
			t.Fatalf("signed in as %q", got)
		}
		// Used once.
		n2 := newBrowser(t, p)
		n2.open(strings.TrimPrefix(link, p.url))
		n2.fill("Password", "a long new password")
		n2.fill("Password again", "a long new password")
		n2.press("Accept and sign in")
		if got := n2.fieldError("Invitation code"); !strings.Contains(got, "invalid or expired") {
			t.Fatalf("a used code answers %q", got)
		}

		b.open("/sa/acme.example/admin/users")
		if row := b.rowWith("table.invitations", "newhire@acme.example"); row == nil || !strings.Contains(row[5], "Accepted") {
			t.Fatalf("invitation row after accepting = %q", row)
		}
		if row := b.rowWith("table.roles", "newhire@acme.example"); row == nil || row[1] != "VA user" || row[2] != "Lab" {
			t.Fatalf("role of the new hire = %q", row)
		}

		// Someone who already has an account signs in and accepts.
		b.fill("Invite e-mail", "old@acme.example")
		b.selectOption("Invited role", "SA user")
		b.press("Invite")
		oldLink := strings.TrimPrefix(b.value("new-secret-value"), p.url)
		o := newBrowser(t, p)
		o.open(oldLink)
		o.fill("Password", "not my password at all")
		o.fill("Password again", "not my password at all")
		o.press("Accept and sign in")
		if got := o.fieldError("Password"); !strings.Contains(got, "already has an account") {
			t.Fatalf("an existing user's error = %q", got)
		}
		o.press("Sign in")
		o.fill("E-mail", "old@acme.example")
		o.fill("Password", testPassword)
		o.press("Sign in")
		if loc := o.location(); !strings.HasPrefix(loc, "/invite?code=sli_") {
			t.Fatalf("after signing in the browser is at %s, want back on the invitation", loc)
		}
		o.screenshot("accept-signed-in")
		o.press("Accept invitation")
		if got := o.text(".flash"); got != "Welcome: you are now SA user here." {
			t.Fatalf("after accepting signed in: %q", got)
		}

		// A pending invitation revoked.
		b.open("/sa/acme.example/admin/users")
		b.fill("Invite e-mail", "temp@acme.example")
		b.selectOption("Invited role", "SA user")
		b.press("Invite")
		b.open("/sa/acme.example/admin/users")
		b.pressLabelled("Revoke the invitation of temp@acme.example")
		if row := b.rowWith("table.invitations", "temp@acme.example"); row == nil || !strings.Contains(row[5], "Revoked") {
			t.Fatalf("invitation row after revoking = %q", row)
		}
	})
}
