package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A user lists and unlinks its own single sign-on bindings through the
// API; another user's binding is not found.
func TestIdentities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		key := func(email, sub string) string {
			l, err := e.mgr.SignInWithOIDC(context.Background(), smartlic.OIDCClaims{Issuer: "https://idp.example.com", Subject: sub, Email: email, EmailVerified: true})
			if err != nil {
				t.Fatal(err)
			}
			ctx := smartlic.WithActor(context.Background(), smartlic.Actor{Email: l.User.Email, Role: "user", UserID: l.User.ID, Kind: smartlic.ActorSession})
			k, err := e.mgr.CreateAPIKey(ctx, smartlic.APIKeyInput{Name: "test"})
			if err != nil {
				t.Fatal(err)
			}
			return k.Secret
		}
		kim, lee := key("kim@acme.example", "sub-kim"), key("lee@acme.example", "sub-lee")

		a := doRequest(t, e.url, kim, request{method: "GET", path: "/api/v1/me/identities"})
		wantStatus(t, a, http.StatusOK)
		var list struct{ Items []smartlic.UserIdentity }
		a.decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Issuer != "https://idp.example.com" || list.Items[0].Subject != "sub-kim" || list.Items[0].Email != "kim@acme.example" {
			t.Fatalf("kim's identities: %+v", list.Items)
		}
		id := list.Items[0].ID
		wantError(t, doRequest(t, e.url, lee, request{method: "DELETE", path: "/api/v1/me/identities/" + id}), http.StatusNotFound, smartlic.ENotFound, "")
		wantError(t, doRequest(t, e.url, e.key, request{method: "DELETE", path: "/api/v1/me/identities/" + id}), http.StatusForbidden, smartlic.EForbidden, "")
		wantStatus(t, doRequest(t, e.url, kim, request{method: "DELETE", path: "/api/v1/me/identities/" + id}), http.StatusNoContent)
		wantError(t, doRequest(t, e.url, kim, request{method: "DELETE", path: "/api/v1/me/identities/" + id}), http.StatusNotFound, smartlic.ENotFound, "")
		a = doRequest(t, e.url, kim, request{method: "GET", path: "/api/v1/me/identities"})
		a.decode(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("after unlinking: %+v", list.Items)
		}
	})
}
