package httpapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestNoCrossTenantUserTakeover is finding 1 of issue 8: the administrator
// of one Smart Account must not be able to set the credentials of a user
// another account will later grant roles to, nor learn who has an account.
func TestNoCrossTenantUserTakeover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		e.account("other.example")
		key := func(email, sa, role string) string {
			ctx := e.member(email, sa, smartlic.RoleInput{Role: role})
			return "Bearer " + ok[smartlic.UserAPIKey](t)(e.mgr.CreateAPIKey(ctx, smartlic.APIKeyInput{Name: "k"})).Secret
		}
		mallory := key("mallory@other.example", "other.example", smartlic.RoleSAAdmin)
		alice := key("alice@acme.example", "acme.example", smartlic.RoleSAAdmin)
		const malloryPW, newPW = "mallory's own password", "a password chosen later"

		// Mallory cannot make acme's future hire with a password she chose,
		// and the answer does not say whether an address is taken.
		create := func(email string) answer {
			return e.do(request{method: "POST", path: "/api/v1/users", auth: mallory,
				body: fmt.Sprintf(`{"email":%q,"name":"New","password":%q}`, email, malloryPW)})
		}
		fresh := wantError(t, create("newhire@acme.example"), http.StatusForbidden, smartlic.EForbidden, "")
		taken := wantError(t, create("alice@acme.example"), http.StatusForbidden, smartlic.EForbidden, "")
		if !reflect.DeepEqual(fresh, taken) {
			t.Errorf("creating a new and a taken address answer differently: %+v / %+v", fresh, taken)
		}
		wantError(t, e.login(victimAddr, "newhire@acme.example", malloryPW), http.StatusUnauthorized, smartlic.EUnauthorized, "")

		// She may invite into her own account only, and the answer for a
		// taken address is the same as for a new one.
		invite := func(auth, sa, email, role string) answer {
			return e.do(request{method: "POST", path: "/api/v1/accounts/" + sa + "/invitations", auth: auth,
				body: fmt.Sprintf(`{"email":%q,"role":%q}`, email, role)})
		}
		wantError(t, invite(mallory, "acme.example", "newhire@acme.example", smartlic.RoleSAUser), http.StatusForbidden, smartlic.EForbidden, "")
		var newInv, takenInv smartlic.Invitation
		a := invite(mallory, "other.example", "newhire@acme.example", smartlic.RoleSAUser)
		wantStatus(t, a, http.StatusCreated)
		a.decode(t, &newInv)
		b := invite(mallory, "other.example", "alice@acme.example", smartlic.RoleSAUser)
		wantStatus(t, b, http.StatusCreated)
		b.decode(t, &takenInv)
		if newInv.State != takenInv.State || newInv.Code == "" || takenInv.Code == "" || len(a.body) != len(b.body)+len("newhire")-len("alice") {
			t.Errorf("inviting a new and a taken address answer differently:\n%s\n%s", a.body, b.body)
		}

		accept := func(code, password string) answer {
			return e.do(request{method: "POST", path: "/api/v1/invitations/accept", auth: "-",
				body: fmt.Sprintf(`{"code":%q,"password":%q}`, code, password)})
		}
		// Holding the code of an existing user's invitation does not let
		// her set its password.
		wantError(t, accept(takenInv.Code, malloryPW), http.StatusUnauthorized, smartlic.EUnauthorized, "password")
		wantStatus(t, e.login(victimAddr, "alice@acme.example", matrixPassword), http.StatusOK)
		wantError(t, e.login(victimAddr, "alice@acme.example", malloryPW), http.StatusUnauthorized, smartlic.EUnauthorized, "")

		// She can accept her own invitation for the new address herself (she
		// saw its code), which makes that user hers, in her account only.
		wantStatus(t, accept(newInv.Code, malloryPW), http.StatusOK)
		wantError(t, accept(newInv.Code, malloryPW), http.StatusUnauthorized, smartlic.EUnauthorized, "code")

		// acme cannot hand that user a role by a plain grant: bringing
		// someone in is an invitation, whose code Mallory never sees. The
		// answer is the one for an address that has no user at all.
		grant := func(email string) answer {
			return e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/roles", auth: alice,
				body: fmt.Sprintf(`{"user":%q,"role":"sa_user"}`, email)})
		}
		squatted := wantError(t, grant("newhire@acme.example"), http.StatusNotFound, smartlic.ENotFound, "user")
		unknown := wantError(t, grant("ghost@acme.example"), http.StatusNotFound, smartlic.ENotFound, "user")
		if len(squatted.Message)-len("newhire") != len(unknown.Message)-len("ghost") {
			t.Errorf("a grant to a user outside the account and to no user answer differently: %q / %q", squatted.Message, unknown.Message)
		}
		wantStatus(t, invite(alice, "acme.example", "newhire@acme.example", smartlic.RoleSAUser), http.StatusCreated)
		// Mallory, signed in as the squatted user, still sees nothing of acme.
		l := e.login(attackerAddr, "newhire@acme.example", malloryPW)
		wantStatus(t, l, http.StatusOK)
		squatter := "Bearer " + ok[smartlic.UserAPIKey](t)(e.mgr.CreateAPIKey(e.sessionOf(l), smartlic.APIKeyInput{Name: "k"})).Secret
		wantError(t, e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/licenses", auth: squatter}), http.StatusForbidden, smartlic.EForbidden, "")
		// Nor can she read who exists: an unknown and a hidden user answer alike.
		hidden := wantError(t, e.do(request{method: "GET", path: "/api/v1/users/alice@acme.example", auth: mallory}), http.StatusForbidden, smartlic.EForbidden, "")
		none := wantError(t, e.do(request{method: "GET", path: "/api/v1/users/ghost@acme.example", auth: mallory}), http.StatusForbidden, smartlic.EForbidden, "")
		if len(hidden.Message)-len("alice") != len(none.Message)-len("ghost") {
			t.Errorf("reading a hidden and an unknown user answer differently: %q / %q", hidden.Message, none.Message)
		}
	})
}

// TestInvitationLifecycle: an invitee sets its own password; an existing
// user keeps its password and gets the role; codes are single-use, expire
// and can be revoked; the account's administrators list invitations and
// the event log records the acceptance.
func TestInvitationLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		e.account("other.example")
		ok[smartlic.VirtualAccount](t)(e.mgr.CreateVirtualAccount(e.operator(), "acme.example", smartlic.VirtualAccountInput{Name: "Lab"}))
		adminCtx := e.member("alice@acme.example", "acme.example", smartlic.RoleInput{Role: smartlic.RoleSAAdmin})
		alice := "Bearer " + ok[smartlic.UserAPIKey](t)(e.mgr.CreateAPIKey(adminCtx, smartlic.APIKeyInput{Name: "k"})).Secret
		e.member("bob@other.example", "other.example", smartlic.RoleInput{Role: smartlic.RoleSAUser})

		invite := func(email, role, va string) smartlic.Invitation {
			a := e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/invitations", auth: alice,
				body: fmt.Sprintf(`{"email":%q,"role":%q,"va":%q}`, email, role, va)})
			wantStatus(t, a, http.StatusCreated)
			if a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", a.header.Get("Cache-Control"))
			}
			var inv smartlic.Invitation
			a.decode(t, &inv)
			return inv
		}
		accept := func(code, name, password string) answer {
			return e.do(request{method: "POST", path: "/api/v1/invitations/accept", auth: "-",
				body: fmt.Sprintf(`{"code":%q,"name":%q,"password":%q}`, code, name, password)})
		}

		// A new person sets its password, and has the role.
		carol := invite("carol@acme.example", smartlic.RoleVAUser, "Lab")
		wantError(t, accept(carol.Code, "Carol", "short"), http.StatusBadRequest, smartlic.EInvalid, "password")
		a := accept(carol.Code, "Carol", "carol's own password")
		wantStatus(t, a, http.StatusOK)
		var r smartlic.RoleAssignment
		a.decode(t, &r)
		if r.UserEmail != "carol@acme.example" || r.Role != smartlic.RoleVAUser || r.VirtualAccountID == "" {
			t.Errorf("role = %+v", r)
		}
		wantStatus(t, e.login(victimAddr, "carol@acme.example", "carol's own password"), http.StatusOK)
		wantError(t, accept(carol.Code, "Carol", "carol's own password"), http.StatusUnauthorized, smartlic.EUnauthorized, "code")

		// An existing user accepts with its current password, which stays.
		bob := invite("bob@other.example", smartlic.RoleSAUser, "")
		wantStatus(t, accept(bob.Code, "", matrixPassword), http.StatusOK)
		wantStatus(t, e.login(victimAddr, "bob@other.example", matrixPassword), http.StatusOK)

		// Revoked and expired codes are refused like unknown ones.
		revoked := invite("dave@acme.example", smartlic.RoleSAUser, "")
		wantStatus(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/invitations/" + revoked.ID + "/revoke", auth: alice}), http.StatusOK)
		wantError(t, accept(revoked.Code, "Dave", "dave's own password"), http.StatusUnauthorized, smartlic.EUnauthorized, "code")
		expired := invite("erin@acme.example", smartlic.RoleSAUser, "")
		e.clock.Advance(smartlic.InvitationTTL)
		wantError(t, accept(expired.Code, "Erin", "erin's own password"), http.StatusUnauthorized, smartlic.EUnauthorized, "code")
		wantError(t, e.login(victimAddr, "dave@acme.example", "dave's own password"), http.StatusUnauthorized, smartlic.EUnauthorized, "")

		// The administrators see every invitation and its state, never a code.
		a = e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/invitations", auth: alice})
		wantStatus(t, a, http.StatusOK)
		var list struct{ Items []smartlic.Invitation }
		a.decode(t, &list)
		states := map[string]string{}
		for _, inv := range list.Items {
			states[inv.Email] = inv.State
			if inv.Code != "" {
				t.Errorf("listing shows a code: %+v", inv)
			}
		}
		want := map[string]string{"carol@acme.example": "accepted", "bob@other.example": "accepted", "dave@acme.example": "revoked", "erin@acme.example": "expired"}
		if fmt.Sprint(states) != fmt.Sprint(want) {
			t.Errorf("states = %v, want %v", states, want)
		}
		evs, _, err := e.mgr.ListEvents(e.operator(), "acme.example", smartlic.EventFilter{Type: "invitation.accepted"}, smartlic.Page{Limit: 10})
		if err != nil || len(evs) != 2 {
			t.Errorf("invitation.accepted events = %d (%v), want 2", len(evs), err)
		}
	})
}
