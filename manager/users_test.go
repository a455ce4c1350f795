package manager_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

const testPassword = "correct horse battery"

// user creates a user, grants the roles ("sa_user", or "va_admin:Engineering")
// in sa, signs in and returns a context acting as the user.
func (f *fixture) user(email, sa string, roles ...string) context.Context {
	f.t.Helper()
	must[smartlic.User](f.t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: email, Name: email, Password: testPassword}))
	for _, r := range roles {
		role, va, _ := strings.Cut(r, ":")
		must[smartlic.RoleAssignment](f.t)(f.mgr.GrantRole(f.ctx, sa, smartlic.RoleInput{User: email, Role: role, VA: va}))
	}
	return f.signIn(email)
}

func (f *fixture) signIn(email string) context.Context {
	f.t.Helper()
	l := must[smartlic.Login](f.t)(f.mgr.Login(context.Background(), email, testPassword))
	a, _, err := f.mgr.AuthenticateSession(context.Background(), l.Secret)
	if err != nil {
		f.t.Fatal(err)
	}
	return smartlic.WithActor(context.Background(), a)
}

func (f *fixture) roleCount(sa string) int {
	f.t.Helper()
	rs, _, err := f.mgr.ListRoles(f.ctx, sa, "", smartlic.Page{})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(rs)
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		must[smartlic.User](t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "Jane@Example.COM", Name: "Jane", Password: testPassword}))
		// E-mail addresses are stored lower-cased and sign-in ignores case.
		l := must[smartlic.Login](t)(f.mgr.Login(context.Background(), "jane@example.com", testPassword))
		if l.User.Email != "jane@example.com" || l.CSRFToken == "" || !strings.HasPrefix(l.Secret, "sls_") {
			t.Fatalf("login = %+v", l)
		}
		_, err := f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "JANE@example.com", Name: "Again", Password: testPassword})
		wantCode(t, err, smartlic.EConflict)
		_, err = f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "short@example.com", Name: "Short", Password: "elevenchars"})
		wantCode(t, err, smartlic.EInvalid)

		// A wrong password, an unknown user and an over-long e-mail are the
		// same answer, and each costs exactly one argon2 run, so neither the
		// answer nor its timing tells who has an account. (Counted, not
		// timed: a loaded machine makes any timing say anything.)
		counted := func(email, pw string) error {
			t.Helper()
			before := manager.ArgonRuns(f.mgr)
			_, err := f.mgr.Login(context.Background(), email, pw)
			if runs := manager.ArgonRuns(f.mgr) - before; runs != 1 {
				t.Errorf("Login(%.20q) ran argon2 %d times, want 1", email, runs)
			}
			return err
		}
		errWrong := counted("jane@example.com", "not the password")
		errUnknown := counted("nobody@example.com", "not the password")
		errLong := counted(strings.Repeat("a", 250)+"@example.com", "not the password")
		for _, err := range []error{errWrong, errUnknown, errLong} {
			wantCode(t, err, smartlic.EUnauthorized)
			if err.Error() != errWrong.Error() {
				t.Errorf("failed sign-ins differ: %q and %q", err, errWrong)
			}
		}

		// A disabled user cannot sign in, and the answer is the same again.
		must[smartlic.User](t)(f.mgr.DisableUser(f.ctx, "jane@example.com"))
		err = counted("jane@example.com", testPassword)
		if err == nil || err.Error() != errWrong.Error() {
			t.Errorf("disabled user login: %v, want %v", err, errWrong)
		}
		// And the session opened before is over.
		_, _, err = f.mgr.AuthenticateSession(context.Background(), l.Secret)
		wantCode(t, err, smartlic.EUnauthorized)
	})
}

func TestSessionExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		must[smartlic.User](t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "jane@example.com", Name: "Jane", Password: testPassword}))
		login := func() string {
			return must[smartlic.Login](t)(f.mgr.Login(context.Background(), "jane@example.com", testPassword)).Secret
		}
		auth := func(secret string) error {
			_, _, err := f.mgr.AuthenticateSession(context.Background(), secret)
			return err
		}

		// Use keeps a session alive; idleness ends it.
		s := login()
		for range 3 {
			f.clock.Advance(manager.SessionIdle - time.Minute)
			if err := auth(s); err != nil {
				t.Fatalf("active session refused: %v", err)
			}
		}
		f.clock.Advance(manager.SessionIdle)
		wantCode(t, auth(s), smartlic.EUnauthorized)

		// Even a busy session ends at its absolute limit.
		s = login()
		for elapsed := time.Duration(0); elapsed < manager.SessionMaxAge-manager.SessionIdle; elapsed += 20 * time.Minute {
			f.clock.Advance(20 * time.Minute)
			if err := auth(s); err != nil {
				t.Fatalf("after %v: %v", elapsed, err)
			}
		}
		f.clock.Advance(manager.SessionIdle)
		wantCode(t, auth(s), smartlic.EUnauthorized)

		// Logout ends a session at once, given its CSRF token.
		l := must[smartlic.Login](t)(f.mgr.Login(context.Background(), "jane@example.com", testPassword))
		s = l.Secret
		wantCode(t, f.mgr.Logout(context.Background(), s, ""), smartlic.EForbidden)
		wantCode(t, f.mgr.Logout(context.Background(), s, l.CSRFToken+"x"), smartlic.EForbidden)
		if err := auth(s); err != nil {
			t.Fatalf("a refused logout ended the session: %v", err)
		}
		if err := f.mgr.Logout(context.Background(), s, l.CSRFToken); err != nil {
			t.Fatal(err)
		}
		wantCode(t, auth(s), smartlic.EUnauthorized)
		wantCode(t, auth("sls_forged"), smartlic.EUnauthorized)
	})
}

func TestUserAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example")
		jane := f.user("jane@acme.example", sa.Domain, smartlic.RoleSAUser)

		k := must[smartlic.UserAPIKey](t)(f.mgr.CreateAPIKey(jane, smartlic.APIKeyInput{Name: "ci", ExpiresInDays: 30}))
		if !strings.HasPrefix(k.Secret, "slu_") {
			t.Fatalf("secret %q", k.Secret)
		}
		a := must[smartlic.Actor](t)(f.mgr.Authenticate(context.Background(), k.Secret))
		if a.Email != "jane@acme.example" || a.Kind != smartlic.ActorUserKey || a.Role == smartlic.RoleOperator {
			t.Fatalf("actor = %+v", a)
		}
		// The key acts with the user's roles, no more.
		keyCtx := smartlic.WithActor(context.Background(), a)
		must[[]smartlic.Pool](t)(f.mgr.ListAccountPools(keyCtx, sa.Domain))
		_, err := f.mgr.CreateVirtualAccount(keyCtx, sa.Domain, smartlic.VirtualAccountInput{Name: "Mine"})
		wantCode(t, err, smartlic.EForbidden)

		listed, _, err := f.mgr.ListAPIKeys(jane, smartlic.Page{})
		if err != nil || len(listed) != 1 || listed[0].Secret != "" || listed[0].LastUsedAt == nil {
			t.Fatalf("ListAPIKeys = %+v, %v (want one, no secret, last used set)", listed, err)
		}

		// Keys expire ...
		f.clock.Advance(31 * smartlic.Day)
		_, err = f.mgr.Authenticate(context.Background(), k.Secret)
		wantCode(t, err, smartlic.EUnauthorized)
		// ... and are revoked, by their owner only.
		k2 := must[smartlic.UserAPIKey](t)(f.mgr.CreateAPIKey(jane, smartlic.APIKeyInput{Name: "no expiry"}))
		bob := f.user("bob@acme.example", sa.Domain, smartlic.RoleSAUser)
		_, err = f.mgr.RevokeAPIKey(bob, k2.ID)
		wantCode(t, err, smartlic.ENotFound)
		must[smartlic.Actor](t)(f.mgr.Authenticate(context.Background(), k2.Secret))
		must[smartlic.UserAPIKey](t)(f.mgr.RevokeAPIKey(jane, k2.ID))
		_, err = f.mgr.Authenticate(context.Background(), k2.Secret)
		wantCode(t, err, smartlic.EUnauthorized)

		// An operator key is no user: it has no personal keys.
		_, err = f.mgr.CreateAPIKey(f.ctx, smartlic.APIKeyInput{Name: "x"})
		wantCode(t, err, smartlic.EForbidden)
	})
}

func TestOAuthClients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		other := f.account("other.example")
		admin := f.user("admin@acme.example", sa.Domain, smartlic.RoleSAAdmin)

		c := must[smartlic.OAuthClient](t)(f.mgr.CreateOAuthClient(admin, sa.Domain, smartlic.OAuthClientInput{Name: "erp", Scopes: []string{"read", "write"}}))
		if c.Role != smartlic.RoleSAUser || !strings.HasPrefix(c.Secret, "slcs_") {
			t.Fatalf("client = %+v", c)
		}
		// An SA administrator cannot make a vendor client, nor one for another account.
		_, err := f.mgr.CreateOAuthClient(admin, "", smartlic.OAuthClientInput{Name: "sneaky"})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.CreateOAuthClient(admin, other.Domain, smartlic.OAuthClientInput{Name: "sneaky"})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.CreateOAuthClient(admin, sa.Domain, smartlic.OAuthClientInput{Name: "sneaky", Role: smartlic.RoleOperator})
		wantCode(t, err, smartlic.EInvalid)

		_, err = f.mgr.IssueToken(context.Background(), c.ClientID, c.Secret+"x", "")
		wantCode(t, err, smartlic.EUnauthorized)
		_, err = f.mgr.IssueToken(context.Background(), "slc_unknown", c.Secret, "")
		wantCode(t, err, smartlic.EUnauthorized)

		token := func(scope string) context.Context {
			g := must[smartlic.TokenGrant](t)(f.mgr.IssueToken(context.Background(), c.ClientID, c.Secret, scope))
			if g.TokenType != "Bearer" || g.ExpiresIn != int64(manager.OAuthTokenTTL/time.Second) || !strings.HasPrefix(g.AccessToken, "slo_") {
				t.Fatalf("grant = %+v", g)
			}
			a := must[smartlic.Actor](t)(f.mgr.Authenticate(context.Background(), g.AccessToken))
			ctx := smartlic.WithActor(context.Background(), a)
			ctx = context.WithValue(ctx, tokenKey{}, g.AccessToken)
			return ctx
		}
		rw, ro := token(""), token("read")
		in := smartlic.TokenInput{Description: "x", ExpiresInDays: 1}
		must[smartlic.Token](t)(f.mgr.CreateToken(rw, sa.Domain, smartlic.DefaultVAName, in))
		_, err = f.mgr.CreateToken(ro, sa.Domain, smartlic.DefaultVAName, in)
		wantCode(t, err, smartlic.EForbidden)
		must[[]smartlic.Pool](t)(f.mgr.ListAccountPools(ro, sa.Domain))
		_, err = f.mgr.ListAccountPools(rw, other.Domain)
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.IssueToken(context.Background(), c.ClientID, c.Secret, "admin")
		wantCode(t, err, smartlic.EInvalid)

		// Tokens expire.
		f.clock.Advance(manager.OAuthTokenTTL)
		_, err = f.mgr.Authenticate(context.Background(), rw.Value(tokenKey{}).(string))
		wantCode(t, err, smartlic.EUnauthorized)

		// Revoking the client ends its tokens and its grants.
		rw = token("")
		must[smartlic.OAuthClient](t)(f.mgr.RevokeOAuthClient(admin, sa.Domain, c.ID))
		_, err = f.mgr.Authenticate(context.Background(), rw.Value(tokenKey{}).(string))
		wantCode(t, err, smartlic.EUnauthorized)
		_, err = f.mgr.IssueToken(context.Background(), c.ClientID, c.Secret, "")
		wantCode(t, err, smartlic.EUnauthorized)
	})
}

type tokenKey struct{}

// TestPrivilegeEscalation tries what a role must not do and checks that
// nothing changed.
func TestPrivilegeEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example")
		other := f.account("other.example")
		for _, va := range []smartlic.VirtualAccountInput{{Name: "Engineering"}, {Name: "Lab", Parent: "Engineering"}, {Name: "Sales"}} {
			must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, va))
		}
		vaAdmin := f.user("va-admin@acme.example", sa.Domain, "va_admin:Engineering")
		saUser := f.user("sa-user@acme.example", sa.Domain, smartlic.RoleSAUser)
		approver := f.user("approver@acme.example", sa.Domain, smartlic.RoleSAApprover)
		must[smartlic.User](t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "target@acme.example", Name: "T", Password: testPassword}))
		must[smartlic.RoleAssignment](t)(f.mgr.GrantRole(f.ctx, sa.Domain, smartlic.RoleInput{User: "target@acme.example", Role: smartlic.RoleVAUser, VA: smartlic.DefaultVAName}))
		before, otherBefore := f.roleCount(sa.Domain), f.roleCount(other.Domain)

		for _, c := range []struct {
			name string
			ctx  context.Context
			sa   string
			in   smartlic.RoleInput
		}{
			{"VA admin grants an SA role", vaAdmin, sa.Domain, smartlic.RoleInput{User: "target@acme.example", Role: smartlic.RoleSAAdmin}},
			{"VA admin grants itself an SA role", vaAdmin, sa.Domain, smartlic.RoleInput{User: "va-admin@acme.example", Role: smartlic.RoleSAUser}},
			{"VA admin grants a role on a sibling VA", vaAdmin, sa.Domain, smartlic.RoleInput{User: "target@acme.example", Role: smartlic.RoleVAUser, VA: "Sales"}},
			{"VA admin grants a role in another SA", vaAdmin, other.Domain, smartlic.RoleInput{User: "target@acme.example", Role: smartlic.RoleVAUser, VA: smartlic.DefaultVAName}},
			{"SA user grants a role", saUser, sa.Domain, smartlic.RoleInput{User: "target@acme.example", Role: smartlic.RoleVAUser, VA: "Sales"}},
			{"SA user makes itself admin", saUser, sa.Domain, smartlic.RoleInput{User: "sa-user@acme.example", Role: smartlic.RoleSAAdmin}},
			{"approver grants a role", approver, sa.Domain, smartlic.RoleInput{User: "target@acme.example", Role: smartlic.RoleSAApprover}},
		} {
			_, err := f.mgr.GrantRole(c.ctx, c.sa, c.in)
			if smartlic.ErrorCode(err) != smartlic.EForbidden {
				t.Errorf("%s: %v, want forbidden", c.name, err)
			}
		}
		// Editing another Smart Account, or this one's properties as a VA admin.
		name := "Taken over"
		for _, ctx := range []context.Context{vaAdmin, saUser} {
			_, err := f.mgr.UpdateSmartAccount(ctx, sa.Domain, smartlic.SmartAccountUpdate{Name: &name})
			wantCode(t, err, smartlic.EForbidden)
		}
		_, err := f.mgr.UpdateSmartAccount(approver, other.Domain, smartlic.SmartAccountUpdate{Name: &name})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.CreateVirtualAccount(vaAdmin, other.Domain, smartlic.VirtualAccountInput{Name: "Mine"})
		wantCode(t, err, smartlic.EForbidden)
		// A VA admin cannot move its VA out from under its own role.
		top := ""
		_, err = f.mgr.UpdateVirtualAccount(vaAdmin, sa.Domain, "Lab", smartlic.VirtualAccountUpdate{Parent: &top})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.UpdateVirtualAccount(vaAdmin, sa.Domain, "Lab", smartlic.VirtualAccountUpdate{Parent: ptr("Sales")})
		wantCode(t, err, smartlic.EForbidden)

		if got := f.roleCount(sa.Domain); got != before {
			t.Errorf("roles in %s: %d, want %d", sa.Domain, got, before)
		}
		if got := f.roleCount(other.Domain); got != otherBefore {
			t.Errorf("roles in %s: %d, want %d", other.Domain, got, otherBefore)
		}
		for _, d := range []string{sa.Domain, other.Domain} {
			if got := must[smartlic.SmartAccount](t)(f.mgr.GetSmartAccount(f.ctx, d)); got.Name == name {
				t.Errorf("%s was renamed", d)
			}
		}
		lab := must[smartlic.VirtualAccount](t)(f.mgr.GetVirtualAccount(f.ctx, sa.Domain, "Lab"))
		if lab.Depth != 2 {
			t.Errorf("Lab moved: %+v", lab)
		}

		// What the VA admin may do: invite people with VA roles at or below
		// its VA, and grant those roles to people in the account.
		_, err = f.mgr.CreateUser(vaAdmin, smartlic.UserInput{Email: "intern@acme.example", Name: "Intern", Password: testPassword})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.InviteUser(vaAdmin, sa.Domain, smartlic.InvitationInput{Email: "intern@acme.example", Role: smartlic.RoleVAUser, VA: "Sales"})
		wantCode(t, err, smartlic.EForbidden)
		inv := must[smartlic.Invitation](t)(f.mgr.InviteUser(vaAdmin, sa.Domain, smartlic.InvitationInput{Email: "intern@acme.example", Role: smartlic.RoleVAUser, VA: "Engineering"}))
		must[smartlic.RoleAssignment](t)(f.mgr.AcceptInvitation(context.Background(), smartlic.AcceptInvitationInput{Code: inv.Code, Password: testPassword}))
		r := must[smartlic.RoleAssignment](t)(f.mgr.GrantRole(vaAdmin, sa.Domain, smartlic.RoleInput{User: "intern@acme.example", Role: smartlic.RoleVAUser, VA: "Lab"}))
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(vaAdmin, sa.Domain, smartlic.VirtualAccountInput{Name: "Lab 2", Parent: "Engineering"}))
		if err := f.mgr.RevokeRole(vaAdmin, sa.Domain, r.ID); err != nil {
			t.Fatal(err)
		}
		// An SA user creates no users and no VAs.
		_, err = f.mgr.CreateUser(saUser, smartlic.UserInput{Email: "x@acme.example", Name: "X", Password: testPassword})
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.CreateVirtualAccount(saUser, sa.Domain, smartlic.VirtualAccountInput{Name: "X"})
		wantCode(t, err, smartlic.EForbidden)
	})
}

func TestAccessRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Engineering"}))
		admin := f.user("admin@acme.example", sa.Domain, smartlic.RoleSAAdmin)
		vaAdmin := f.user("va-admin@acme.example", sa.Domain, "va_admin:Engineering")
		jane := f.user("jane@acme.example", sa.Domain)

		// Jane sees nothing of the account yet.
		_, err := f.mgr.ListAccountPools(jane, sa.Domain)
		wantCode(t, err, smartlic.EForbidden)
		r := must[smartlic.AccessRequest](t)(f.mgr.RequestAccess(jane, sa.Domain, "I run the lab"))
		if r.Status != smartlic.AccessPending {
			t.Fatalf("request = %+v", r)
		}
		// The VA admin may answer with a VA role on its VA, not an SA role.
		_, err = f.mgr.ApproveAccessRequest(vaAdmin, sa.Domain, r.ID, smartlic.RoleInput{Role: smartlic.RoleSAUser})
		wantCode(t, err, smartlic.EForbidden)
		if got, _, err := f.mgr.ListAccessRequests(admin, sa.Domain, smartlic.Page{}); err != nil || len(got) != 1 || got[0].Status != smartlic.AccessPending {
			t.Fatalf("after a refused approval: %+v, %v", got, err)
		}
		done := must[smartlic.AccessRequest](t)(f.mgr.ApproveAccessRequest(vaAdmin, sa.Domain, r.ID, smartlic.RoleInput{Role: smartlic.RoleVAUser, VA: "Engineering"}))
		if done.Status != smartlic.AccessApproved || done.DecidedBy != "va-admin@acme.example" {
			t.Fatalf("approved = %+v", done)
		}
		must[[]smartlic.Pool](t)(f.mgr.ListPools(jane, sa.Domain, "Engineering", false))
		_, err = f.mgr.ApproveAccessRequest(admin, sa.Domain, r.ID, smartlic.RoleInput{Role: smartlic.RoleSAAdmin})
		wantCode(t, err, smartlic.EConflict)

		r2 := must[smartlic.AccessRequest](t)(f.mgr.RequestAccess(jane, sa.Domain, "more please"))
		_, err = f.mgr.DenyAccessRequest(jane, sa.Domain, r2.ID)
		wantCode(t, err, smartlic.EForbidden)
		if got := must[smartlic.AccessRequest](t)(f.mgr.DenyAccessRequest(admin, sa.Domain, r2.ID)); got.Status != smartlic.AccessDenied {
			t.Fatalf("denied = %+v", got)
		}

		// Every change is in the event log, and no secret is.
		k := must[smartlic.UserAPIKey](t)(f.mgr.CreateAPIKey(jane, smartlic.APIKeyInput{Name: "k"}))
		evs, _, err := f.mgr.ListEvents(f.ctx, sa.Domain, smartlic.EventFilter{}, smartlic.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		for _, want := range []string{"role.granted", "access.requested", "access.approved", "access.denied"} {
			if !slices.Contains(types, want) {
				t.Errorf("event log of %s lacks %s: %v", sa.Domain, want, types)
			}
		}
		vendor, _, err := f.mgr.ListEvents(f.ctx, smartlic.VendorChain, smartlic.EventFilter{}, smartlic.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var created bool
		for _, e := range append(evs, vendor...) {
			created = created || e.Type == "apikey.created"
			for _, secret := range []string{k.Secret, testPassword, "argon2id", k.Secret[4:20]} {
				if strings.Contains(string(e.Before)+string(e.After)+e.Message, secret) {
					t.Errorf("event %s carries a secret: %s %s", e.Type, e.Before, e.After)
				}
			}
		}
		if !created {
			t.Errorf("no apikey.created event in the vendor chain")
		}
	})
}

func TestPasswordHashes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		u := must[smartlic.User](t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "a@example.com", Name: "A", Password: testPassword}))
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("hash %q is not a PHC argon2id string", u.PasswordHash)
		}
		u2 := must[smartlic.User](t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "b@example.com", Name: "B", Password: testPassword}))
		if u.PasswordHash == u2.PasswordHash {
			t.Error("two users with one password share a hash: no salt")
		}
	})
}

// TestRolesDocumented holds docs/users.md's role table to the role model.
func TestRolesDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/users.md")
	if err != nil {
		t.Fatal(err)
	}
	roles := []string{smartlic.RoleSAApprover, smartlic.RoleSAAdmin, smartlic.RoleSAUser, smartlic.RoleVAAdmin, smartlic.RoleVAUser}
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 9 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		perm := manager.Permission(strings.Trim(strings.TrimSpace(cells[1]), "`"))
		seen++
		for i, role := range roles {
			documented := strings.TrimSpace(cells[3+i]) != ""
			if documented != manager.RoleAllows(role, perm) {
				t.Errorf("docs/users.md says %s holds %s: %v; the code says %v", role, perm, documented, !documented)
			}
		}
	}
	if seen < 10 {
		t.Errorf("found %d permission rows in docs/users.md, want 10", seen)
	}
}
