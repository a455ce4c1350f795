package manager_test

import (
	"context"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestHasUsers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		// Anonymous, as the sign-in page asks.
		if has, err := f.mgr.HasUsers(context.Background()); err != nil || has {
			t.Fatalf("HasUsers on an empty database = %v, %v; want false", has, err)
		}
		must[smartlic.User](t)(f.mgr.CreateUser(f.ctx, smartlic.UserInput{Email: "jane@acme.example", Name: "Jane", Password: "correct horse battery"}))
		if has, err := f.mgr.HasUsers(context.Background()); err != nil || !has {
			t.Fatalf("HasUsers with one user = %v, %v; want true", has, err)
		}
	})
}
