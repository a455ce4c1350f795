package manager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

const idp = "https://idp.example.com"

func claims(sub, email string) smartlic.OIDCClaims {
	return smartlic.OIDCClaims{Issuer: idp, Subject: sub, Email: email, EmailVerified: true, Name: "Ada Lovelace"}
}

func TestSignInWithOIDC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example").Domain

		// A first sign-in creates the user, without a password and without
		// a role, and binds the subject.
		l := must[smartlic.Login](t)(f.mgr.SignInWithOIDC(context.Background(), claims("sub-ada", "Ada@Acme.example")))
		if l.User.Email != "ada@acme.example" || l.User.Name != "Ada Lovelace" || !strings.HasPrefix(l.Secret, "sls_") || l.CSRFToken == "" {
			t.Fatalf("login = %+v", l)
		}
		actor, _, err := f.mgr.AuthenticateSession(context.Background(), l.Secret)
		if err != nil || actor.UserID != l.User.ID || actor.Kind != smartlic.ActorSession {
			t.Fatalf("session: %+v, %v", actor, err)
		}
		ada := smartlic.WithActor(context.Background(), actor)
		who := must[smartlic.Identity](t)(f.mgr.WhoAmI(ada))
		if len(who.Roles) != 0 {
			t.Fatalf("new SSO user has roles: %+v", who.Roles)
		}
		// No password: a password sign-in is refused like a wrong one, after
		// the same argon2 work.
		before := manager.ArgonRuns(f.mgr)
		_, err = f.mgr.Login(context.Background(), "ada@acme.example", "")
		wantCode(t, err, smartlic.EUnauthorized)
		if manager.ArgonRuns(f.mgr)-before != 1 {
			t.Fatal("password sign-in of a user without password skipped argon2")
		}

		// Later sign-ins find the binding, whatever e-mail the provider
		// asserts by then; the binding records the new one.
		l2 := must[smartlic.Login](t)(f.mgr.SignInWithOIDC(context.Background(), claims("sub-ada", "ada.lovelace@acme.example")))
		if l2.User.ID != l.User.ID {
			t.Fatalf("second sign-in is user %s, want %s", l2.User.ID, l.User.ID)
		}
		ids := must[[]smartlic.UserIdentity](t)(f.mgr.ListIdentities(ada))
		if len(ids) != 1 || ids[0].Issuer != idp || ids[0].Subject != "sub-ada" || ids[0].Email != "ada.lovelace@acme.example" {
			t.Fatalf("identities: %+v", ids)
		}

		// An existing user with a password is matched by e-mail (any case)
		// and bound on its first sign-in; its password still works.
		ctxBob := f.user("bob@acme.example", sa, "sa_user")
		lb := must[smartlic.Login](t)(f.mgr.SignInWithOIDC(context.Background(), claims("sub-bob", "BOB@acme.example")))
		bob := must[smartlic.Identity](t)(f.mgr.WhoAmI(ctxBob))
		if lb.User.ID != bob.User.ID {
			t.Fatalf("bob's SSO sign-in is user %s, want %s", lb.User.ID, bob.User.ID)
		}
		must[smartlic.Login](t)(f.mgr.Login(context.Background(), "bob@acme.example", testPassword))

		// Another subject asserting bob's e-mail (an address reassigned at
		// the provider) does not take bob's user over.
		_, err = f.mgr.SignInWithOIDC(context.Background(), claims("sub-mallory", "bob@acme.example"))
		wantCode(t, err, smartlic.EForbidden)
		if !strings.Contains(smartlic.ErrorMessage(err), "already linked") {
			t.Fatalf("subject mismatch: %v", err)
		}
		// Nor does ada's subject become bob by claiming his address: it is
		// still ada.
		l3 := must[smartlic.Login](t)(f.mgr.SignInWithOIDC(context.Background(), claims("sub-ada", "bob@acme.example")))
		if l3.User.ID != l.User.ID {
			t.Fatalf("ada's subject signed in as %s", l3.User.Email)
		}

		// Unverified or missing e-mail, and unusable claims, are refused
		// before anything is stored.
		bad := []smartlic.OIDCClaims{
			{Issuer: idp, Subject: "sub-eve", Email: "eve@acme.example", EmailVerified: false},
			{Issuer: idp, Subject: "sub-eve", EmailVerified: true},
			{Issuer: idp, Subject: "sub-eve", Email: "not an address", EmailVerified: true},
			{Issuer: "", Subject: "sub-eve", Email: "eve@acme.example", EmailVerified: true},
			{Issuer: idp, Subject: "", Email: "eve@acme.example", EmailVerified: true},
			{Issuer: idp, Subject: strings.Repeat("x", 256), Email: "eve@acme.example", EmailVerified: true},
			{Issuer: idp, Subject: "sub\u202eeve", Email: "eve@acme.example", EmailVerified: true},
		}
		for _, c := range bad {
			_, err := f.mgr.SignInWithOIDC(context.Background(), c)
			wantCode(t, err, smartlic.EForbidden)
		}
		_, err = f.mgr.GetUser(f.ctx, "eve@acme.example")
		wantCode(t, err, smartlic.ENotFound)

		// A disabled user is refused, bound or not.
		must[smartlic.User](t)(f.mgr.DisableUser(f.ctx, "ada@acme.example"))
		_, err = f.mgr.SignInWithOIDC(context.Background(), claims("sub-ada", "ada@acme.example"))
		wantCode(t, err, smartlic.EForbidden)
		must[smartlic.User](t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "carol@acme.example", Name: "Carol", Password: testPassword}))
		must[smartlic.User](t)(f.mgr.DisableUser(f.ctx, "carol@acme.example"))
		_, err = f.mgr.SignInWithOIDC(context.Background(), claims("sub-carol", "carol@acme.example"))
		wantCode(t, err, smartlic.EForbidden)

		// The bindings are each user's own: bob cannot see or unlink ada's.
		ctxBob2 := smartlic.WithActor(context.Background(), must[smartlic.Identity](t)(f.mgr.WhoAmI(ctxBob)).Actor)
		bobIDs := must[[]smartlic.UserIdentity](t)(f.mgr.ListIdentities(ctxBob2))
		if len(bobIDs) != 1 || bobIDs[0].Subject != "sub-bob" {
			t.Fatalf("bob's identities: %+v", bobIDs)
		}
		_, err = f.mgr.UnlinkIdentity(ctxBob2, ids[0].ID)
		wantCode(t, err, smartlic.ENotFound)
		_, err = f.mgr.ListIdentities(f.ctx) // the operator is no user
		wantCode(t, err, smartlic.EForbidden)

		// Unlinked, bob's next sign-in binds again by e-mail, to the
		// subject that asks first.
		must[smartlic.UserIdentity](t)(f.mgr.UnlinkIdentity(ctxBob2, bobIDs[0].ID))
		if got := must[[]smartlic.UserIdentity](t)(f.mgr.ListIdentities(ctxBob2)); len(got) != 0 {
			t.Fatalf("after unlink: %+v", got)
		}
		lb2 := must[smartlic.Login](t)(f.mgr.SignInWithOIDC(context.Background(), claims("sub-bob-2", "bob@acme.example")))
		if lb2.User.ID != bob.User.ID {
			t.Fatalf("rebinding: %s", lb2.User.Email)
		}

		// Every step is in the event log.
		evs, _, err := f.mgr.ListEvents(f.ctx, smartlic.VendorChain, smartlic.EventFilter{}, smartlic.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, e := range evs {
			seen[e.Type]++
		}
		if seen["identity.linked"] != 3 || seen["identity.unlinked"] != 1 || seen["user.created"] < 1 {
			t.Fatalf("events: %v", seen)
		}
	})
}
