package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestTokenDescriptionRequired: a registration token is a live secret; the
// API, like the CLI, refuses one nobody could recognise later in a list.
func TestTokenDescriptionRequired(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example.com")
		tokens := "/api/v1/accounts/acme.example.com/virtual-accounts/DEFAULT/tokens"
		for _, body := range []string{
			`{"expires_in_days":30}`,
			`{"description":"","expires_in_days":30}`,
			`{"description":"   ","expires_in_days":30}`,
		} {
			a := e.do(request{method: "POST", path: tokens, body: body})
			wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "description")
		}
		var list wire.Page[smartlic.Token]
		e.do(request{method: "GET", path: tokens}).decode(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("refused tokens were stored: %+v", list.Items)
		}
		wantStatus(t, e.do(request{method: "POST", path: tokens, body: `{"description":"lab switches","expires_in_days":30}`}), http.StatusCreated)
	})
}

// TestTokenExpiresInMinutes: a token may live minutes, so a test or a
// demonstration sees it expire without waiting a day.
func TestTokenExpiresInMinutes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example.com")
		tokens := "/api/v1/accounts/acme.example.com/virtual-accounts/DEFAULT/tokens"
		a := e.do(request{method: "POST", path: tokens, body: `{"description":"demo","expires_in_minutes":10}`})
		wantStatus(t, a, http.StatusCreated)
		var tok smartlic.Token
		a.decode(t, &tok)
		if want := e.clock.Now().Add(10 * time.Minute); !tok.ExpiresAt.Equal(want) {
			t.Fatalf("expires_at = %s, want %s", tok.ExpiresAt, want)
		}
		for _, tc := range []struct{ body, field string }{
			{`{"description":"d","expires_in_minutes":10,"expires_in_days":1}`, "expires_in_minutes"},
			{`{"description":"d","expires_in_minutes":525601}`, "expires_in_minutes"},
			{`{"description":"d"}`, "expires_in_days"},
		} {
			wantError(t, e.do(request{method: "POST", path: tokens, body: tc.body}), http.StatusBadRequest, smartlic.EInvalid, tc.field)
		}
		e.clock.Advance(11 * time.Minute)
		var got smartlic.Token
		e.do(request{method: "GET", path: "/api/v1/accounts/acme.example.com/tokens/" + tok.ID}).decode(t, &got)
		if got.State(e.clock.Now()) != smartlic.TokenExpired {
			t.Fatalf("token after 11 minutes = %+v, want expired", got)
		}
	})
}
