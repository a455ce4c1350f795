package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunIdentities runs the conformance tests of single sign-on bindings;
// open returns a new, empty store for each subtest.
func RunIdentities(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"UserIdentities", testUserIdentities},
		{"ConcurrentIdentityBinding", testConcurrentIdentityBinding},
	})
}

func (f *fixture) identity(u smartlic.User, issuer, subject string) (smartlic.UserIdentity, error) {
	i := smartlic.UserIdentity{ID: newID(f.t), UserID: u.ID, Issuer: issuer, Subject: subject, Email: u.Email, CreatedAt: f.now, LastUsedAt: f.now}
	return i, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertUserIdentity(ctx, i) })
}

func (f *fixture) getIdentity(issuer, subject string) (smartlic.UserIdentity, error) {
	var i smartlic.UserIdentity
	err := f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		i, err = tx.GetUserIdentity(ctx, issuer, subject)
		return err
	})
	return i, err
}

func testUserIdentities(t *testing.T, f *fixture) {
	const idp, other = "https://idp.example.com", "https://other.example.com"
	ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
	i, err := f.identity(ada, idp, "sub-ada")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.getIdentity(idp, "sub-ada")
	if err != nil || got != i {
		t.Fatalf("got %+v, %v; want %+v", got, err, i)
	}
	// Issuer and subject compare exactly: another case, another issuer or
	// a prefix is another identity.
	for _, k := range [][2]string{{idp, "SUB-ADA"}, {idp, "sub-ad"}, {other, "sub-ada"}, {idp + "/", "sub-ada"}} {
		if _, err := f.getIdentity(k[0], k[1]); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("%v: %v, want not found", k, err)
		}
	}
	// One user per (issuer, subject); one subject per user and issuer.
	if _, err := f.identity(bob, idp, "sub-ada"); smartlic.ErrorCode(err) != smartlic.EConflict {
		t.Fatalf("second user on one subject: %v", err)
	}
	if _, err := f.identity(ada, idp, "sub-ada-2"); smartlic.ErrorCode(err) != smartlic.EConflict {
		t.Fatalf("second subject of one user at one issuer: %v", err)
	}
	// Another issuer is another binding of the same user.
	j, err := f.identity(ada, other, "sub-ada")
	if err != nil {
		t.Fatal(err)
	}
	// A user that does not exist cannot be bound.
	if _, err := f.identity(smartlic.User{ID: newID(t), Email: "ghost@example.com"}, idp, "ghost"); smartlic.ErrorCode(err) != smartlic.ENotFound {
		t.Fatalf("unknown user: %v", err)
	}

	later := f.now.Add(time.Hour)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.TouchUserIdentity(ctx, i.ID, "ada@new.example.com", later)
	})
	var list []smartlic.UserIdentity
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		list, err = tx.UserIdentities(ctx, ada.ID)
		return err
	})
	if len(list) != 2 || list[0].ID != i.ID || list[1] != j || list[0].Email != "ada@new.example.com" ||
		!list[0].LastUsedAt.Equal(later) || !list[0].CreatedAt.Equal(f.now) {
		t.Fatalf("identities of ada: %+v", list)
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		list, err = tx.UserIdentities(ctx, bob.ID)
		return err
	})
	if len(list) != 0 {
		t.Fatalf("identities of bob: %+v", list)
	}

	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteUserIdentity(ctx, i.ID) })
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteUserIdentity(ctx, i.ID) }), smartlic.ENotFound)
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.TouchUserIdentity(ctx, i.ID, "x@example.com", later)
	}), smartlic.ENotFound)
	if _, err := f.getIdentity(idp, "sub-ada"); smartlic.ErrorCode(err) != smartlic.ENotFound {
		t.Fatalf("after delete: %v", err)
	}
	// Unbound, the subject may be bound again, to another user too.
	if _, err := f.identity(bob, idp, "sub-ada"); err != nil {
		t.Fatal(err)
	}
}

// testConcurrentIdentityBinding: of first sign-ins racing to bind one
// subject, exactly one binding is stored.
func testConcurrentIdentityBinding(t *testing.T, f *fixture) {
	users := make([]smartlic.User, 6)
	for n := range users {
		users[n] = f.user(string(rune('a'+n)) + "@example.com")
	}
	done := make(chan error, len(users))
	for _, u := range users {
		go func() {
			_, err := f.identity(u, "https://idp.example.com", "contested")
			done <- err
		}()
	}
	won := 0
	for range users {
		switch err := <-done; smartlic.ErrorCode(err) {
		case "":
			won++
		case smartlic.EConflict:
		default:
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d bindings stored, want 1", won)
	}
}
