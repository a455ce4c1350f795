package manager_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestOperatorSession checks that the operator's sign-in gives a session
// like a user's — not its key — with the same limits: the wrong e-mail is
// refused, signing out needs the CSRF token and ends it, and it ends after
// inactivity.
func TestOperatorSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		k, key := operatorKey(t, f)

		for _, bad := range []struct{ email, key string }{
			{"other@vendor.example", key},
			{"ops@vendor.example", key + "x"},
			{"ops@vendor.example", "slk_unknown"},
		} {
			_, err := f.mgr.Login(context.Background(), bad.email, bad.key)
			wantCode(t, err, smartlic.EUnauthorized)
		}

		l := must[smartlic.Login](t)(f.mgr.Login(context.Background(), "OPS@vendor.example", key))
		if l.Secret == key || strings.HasPrefix(l.Secret, "slk_") || l.CSRFToken == "" {
			t.Fatalf("operator login answered %q: the key itself or no CSRF token", l.Secret)
		}
		a, s, err := f.mgr.AuthenticateSession(context.Background(), l.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if a.Role != smartlic.RoleOperator || a.Email != "ops@vendor.example" || a.Kind != smartlic.ActorSession || s.OperatorKeyID != k.ID {
			t.Fatalf("operator session actor = %+v, session key %q", a, s.OperatorKeyID)
		}
		// The session is the operator: it may do what the key may.
		opCtx := smartlic.WithActor(context.Background(), a)
		must[smartlic.SmartAccount](t)(f.mgr.CreateSmartAccount(opCtx, smartlic.SmartAccount{Name: "Beta", Domain: "beta.example", Status: smartlic.SAActive}))

		wantCode(t, f.mgr.Logout(context.Background(), l.Secret, "wrong"), smartlic.EForbidden)
		if _, _, err := f.mgr.AuthenticateSession(context.Background(), l.Secret); err != nil {
			t.Fatalf("a refused sign-out ended the session: %v", err)
		}
		if err := f.mgr.Logout(context.Background(), l.Secret, l.CSRFToken); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.mgr.AuthenticateSession(context.Background(), l.Secret)
		wantCode(t, err, smartlic.EUnauthorized)
		// The key still works for the API: signing out ends the session only.
		if _, err := f.mgr.Authenticate(context.Background(), key); err != nil {
			t.Fatalf("the key after signing out: %v", err)
		}

		idle := must[smartlic.Login](t)(f.mgr.Login(context.Background(), "ops@vendor.example", key))
		f.clock.Advance(manager.SessionIdle)
		_, _, err = f.mgr.AuthenticateSession(context.Background(), idle.Secret)
		wantCode(t, err, smartlic.EUnauthorized)
	})
}

// TestForgetSessions checks that the job's sweep deletes the sessions that
// are over, users' and the operator's, and keeps the live ones.
func TestForgetSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		_, key := operatorKey(t, f)
		f.user("jane@example.com", "") // signs in once: a third idle session
		old := []smartlic.Login{
			must[smartlic.Login](t)(f.mgr.Login(context.Background(), "jane@example.com", testPassword)),
			must[smartlic.Login](t)(f.mgr.Login(context.Background(), "ops@vendor.example", key)),
		}
		f.clock.Advance(manager.SessionIdle / 2)
		live := []smartlic.Login{
			must[smartlic.Login](t)(f.mgr.Login(context.Background(), "jane@example.com", testPassword)),
			must[smartlic.Login](t)(f.mgr.Login(context.Background(), "ops@vendor.example", key)),
		}
		f.clock.Advance(manager.SessionIdle / 2)
		n, err := f.mgr.ForgetSessions(context.Background())
		if err != nil || n != 3 {
			t.Fatalf("ForgetSessions = %d, %v; want the 3 idle sessions", n, err)
		}
		for _, l := range live {
			if _, _, err := f.mgr.AuthenticateSession(context.Background(), l.Secret); err != nil {
				t.Errorf("a live session was forgotten: %v", err)
			}
		}
		if n, err := f.mgr.ForgetSessions(context.Background()); err != nil || n != 0 {
			t.Fatalf("second sweep = %d, %v; want nothing left to forget", n, err)
		}
		for _, l := range old {
			if _, _, err := f.mgr.AuthenticateSession(context.Background(), l.Secret); smartlic.ErrorCode(err) != smartlic.EUnauthorized {
				t.Errorf("a forgotten session still signs in: %v", err)
			}
		}
	})
}

// TestForgetSessionsForgetsDeviceCodes: the sweep deletes device sign-in
// codes past their expiry, used or not, even when no new sign-in starts
// (which used to be the only time they went), and keeps live ones.
func TestForgetSessionsForgetsDeviceCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		jane := f.user("jane@example.com", "")
		old := must[smartlic.DeviceCode](t)(f.mgr.StartDeviceAuthorization(context.Background(), "laptop"))
		if _, err := f.mgr.DecideDeviceAuthorization(jane, old.UserCode, true); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(manager.DeviceAuthTTL / 2)
		live := must[smartlic.DeviceCode](t)(f.mgr.StartDeviceAuthorization(context.Background(), "desktop"))
		f.clock.Advance(manager.DeviceAuthTTL/2 + time.Second)
		// Expired but kept, a code answers that it expired; forgotten, that
		// it is unknown.
		if _, err := f.mgr.PollDeviceAuthorization(context.Background(), old.DeviceCode); smartlic.ErrorCode(err) != smartlic.EExpiredToken {
			t.Fatalf("the expired code before the sweep: %v", err)
		}
		if n, err := f.mgr.ForgetSessions(context.Background()); err != nil || n != 1 {
			t.Fatalf("ForgetSessions = %d, %v; want the one expired code (jane's session is not idle yet)", n, err)
		}
		if _, err := f.mgr.PollDeviceAuthorization(context.Background(), old.DeviceCode); smartlic.ErrorCode(err) != smartlic.EInvalid {
			t.Errorf("the expired code is still known after the sweep: %v", err)
		}
		if _, err := f.mgr.GetDeviceAuthorization(jane, live.UserCode); err != nil {
			t.Errorf("a live code was forgotten: %v", err)
		}
	})
}

func operatorKey(t *testing.T, f *fixture) (smartlic.APIKey, string) {
	t.Helper()
	k, key, err := f.mgr.CreateOperator(f.ctx, "ops@vendor.example")
	if err != nil {
		t.Fatal(err)
	}
	return k, key
}
