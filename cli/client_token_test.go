package cli

import (
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestTokenByIDInAnyVA: a token's id is unique, so get and revoke find it
// in whichever VA holds it; --va narrows the search, as before.
func TestTokenByIDInAnyVA(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newHarnessOn(t, open)
		h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve")
		h.ok("account", "create", "--name", "Beta", "--domain", "beta.com", "--approve")
		h.env["SMARTLIC_ACCOUNT"] = "acme.com"
		h.ok("va", "create", "Lab")
		var tok smartlic.Token
		h.json(&tok, "token", "create", "--va", "Lab", "--description", "lab switches")

		wantRow(t, h.ok("token", "get", tok.ID), "lab switches", "active")
		err := h.fails(smartlic.ENotFound, anyField, "token", "get", tok.ID, "--va", "DEFAULT")
		if !strings.Contains(err.Error(), "DEFAULT") {
			t.Errorf("not found with --va %q does not name the VA", err)
		}
		// Another Smart Account does not see it.
		h.fails(smartlic.ENotFound, anyField, "token", "revoke", tok.ID, "--account", "beta.com")

		wantRow(t, h.ok("token", "revoke", tok.ID), "lab switches", "revoked")
		wantRow(t, h.ok("token", "list", "--va", "Lab"), "lab switches", "revoked")
		h.fails(smartlic.ENotFound, anyField, "token", "revoke", "no-such-token")
	})
}
