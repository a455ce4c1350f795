package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestVANamesIgnoreCase: "lab" beside "Lab" is refused, and "lab" in a
// path is "Lab", so a pool is never looked up in the wrong, empty VA.
func TestVANamesIgnoreCase(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example.com")
		vas := "/api/v1/accounts/acme.example.com/virtual-accounts"
		wantStatus(t, e.do(request{method: "POST", path: vas, body: `{"name":"Lab"}`}), http.StatusCreated)
		for _, name := range []string{"lab", "LAB", "default"} {
			a := e.do(request{method: "POST", path: vas, body: `{"name":"` + name + `"}`})
			wantError(t, a, http.StatusConflict, smartlic.EConflict, "name")
		}
		wantStatus(t, e.do(request{method: "POST", path: vas, body: `{"name":"Engineering"}`}), http.StatusCreated)
		a := e.do(request{method: "PATCH", path: vas + "/Engineering", body: `{"name":"lAB"}`})
		wantError(t, a, http.StatusConflict, smartlic.EConflict, "name")

		var page wire.Page[smartlic.VirtualAccount]
		e.do(request{method: "GET", path: vas}).decode(t, &page)
		if len(page.Items) != 3 {
			t.Fatalf("Virtual Accounts = %+v, want DEFAULT, Lab and Engineering", page.Items)
		}
		var lab smartlic.VirtualAccount
		e.do(request{method: "GET", path: vas + "/lab"}).decode(t, &lab)
		if lab.Name != "Lab" {
			t.Fatalf("GET …/virtual-accounts/lab = %+v, want Lab", lab)
		}
	})
}
