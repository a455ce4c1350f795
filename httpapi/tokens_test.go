package httpapi_test

import (
	"net/http"
	"testing"

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
