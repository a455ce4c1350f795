package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	apiclient "github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/internal/oidctest"
	"github.com/smartlic/smartlic/sso"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A person of a company with its own identity provider signs in with it
// in a real browser: first to confirm `smartlic login --web` (the CLI's
// device sign-in needs no password either), then, once an administrator
// granted a role, to the account; a refused sign-in says why on the page.
func TestSSOBrowser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newSSOPortal(t, open, sso.Config{Name: "Acme SSO"}, oidctest.Options{})
		sa := p.acme()
		p.idp.SignInAs(oidctest.Verified("00u1-kim", "kim@acme.example"))

		cli := apiclient.New(p.url, "")
		dc, err := cli.StartDeviceAuthorization(t.Context(), "cli on kim's laptop")
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, p.portal)
		b.open(dc.VerificationURIComplete)
		if loc := b.location(); !strings.HasPrefix(loc, "/login?next=") {
			t.Fatalf("signed out, the device page went to %s", loc)
		}
		b.screenshot("sso-sign-in")
		b.press("Sign in with Acme SSO")
		if got := b.text("main"); !strings.Contains(got, "cli on kim's laptop") || !strings.Contains(got, dc.UserCode) {
			t.Fatalf("after signing in with SSO, the device page shows:\n%s", got)
		}
		b.press("Confirm")
		p.clock.Advance(5 * time.Second)
		k, err := cli.PollDeviceAuthorization(t.Context(), dc.DeviceCode)
		if err != nil {
			t.Fatal(err)
		}
		id, err := apiclient.New(p.url, k.Secret).WhoAmI(t.Context())
		if err != nil || id.Actor.Email != "kim@acme.example" || len(id.Roles) != 0 {
			t.Fatalf("the CLI's key acts as %+v (roles %v), %v", id.Actor, id.Roles, err)
		}

		// No role yet: the portal says so.
		b.open("/")
		if got := b.text("main"); !strings.Contains(got, "You have no role in any Smart Account yet") {
			t.Fatalf("home of a new SSO user:\n%s", got)
		}
		// An administrator grants one; signing out and in again with the
		// provider lands in the account.
		must[smartlic.RoleAssignment](t)(p.mgr.GrantRole(p.op, sa.Domain, smartlic.RoleInput{User: "kim@acme.example", Role: smartlic.RoleVAUser, VA: "Lab"}))
		b.press("Sign out")
		b.press("Sign in with Acme SSO")
		if loc := b.location(); !strings.HasPrefix(loc, "/sa/acme.example") {
			t.Fatalf("after the grant, signing in went to %s", loc)
		}

		// A disabled user is refused, on the sign-in page, saying why.
		must[smartlic.User](t)(p.mgr.DisableUser(p.op, "kim@acme.example"))
		b2 := newBrowser(t, p.portal)
		b2.open("/login")
		b2.press("Sign in with Acme SSO")
		if got := b2.text("#sso-error"); !strings.Contains(got, "is disabled") {
			t.Fatalf("disabled user's sign-in says %q", got)
		}
		b2.screenshot("sso-refused")
	})
}
