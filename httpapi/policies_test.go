package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestPolicyAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		e := newEnvOn(t, open)
		e.account("acme.example")
		const path = "/api/v1/accounts/acme.example/policies/va/DEFAULT"
		// Absurd, negative and missing values: 422 naming the field; nothing stored.
		absurd := strings.Replace(matrixPolicy, `"report_after_change_days":90,"ack_required":true},"unenforced_subscription"`, `"report_after_change_days":99999,"ack_required":true},"unenforced_subscription"`, 1)
		wantError(t, e.do(request{method: "PUT", path: path, body: absurd}), http.StatusBadRequest, smartlic.EInvalid, "classes.unenforced_perpetual.report_after_change_days")
		negative := strings.Replace(matrixPolicy, `"enforced":{"first_report_days":0`, `"enforced":{"first_report_days":-1`, 1)
		wantError(t, e.do(request{method: "PUT", path: path, body: negative}), http.StatusBadRequest, smartlic.EInvalid, "classes.enforced.first_report_days")
		noClass := `{"name":"X","classes":{"unenforced_perpetual":{"first_report_days":1,"reporting_frequency_days":1,"report_after_change_days":1,"ack_required":true}}}`
		if a := e.do(request{method: "PUT", path: path, body: noClass}); a.status != http.StatusBadRequest {
			t.Fatalf("a missing class: %d %s", a.status, a.body)
		}
		unknown := strings.Replace(matrixPolicy, `"name":"Matrix"`, `"name":"Matrix","scope":"default"`, 1)
		if a := e.do(request{method: "PUT", path: path, body: unknown}); a.status != http.StatusBadRequest {
			t.Fatalf("an unknown field: %d %s", a.status, a.body)
		}
		wantError(t, e.do(request{method: "GET", path: path}), http.StatusNotFound, smartlic.ENotFound, "")

		// Set, read back, see it in force, edit with a stale base version.
		a := e.do(request{method: "PUT", path: path, body: matrixPolicy})
		wantStatus(t, a, http.StatusOK)
		var p smartlic.Policy
		a.decode(t, &p)
		if p.Version != 1 || p.VirtualAccount != "DEFAULT" || p.Rules != smartlic.DefaultPolicy().Rules {
			t.Fatalf("set = %+v", p)
		}
		var in smartlic.PolicyInForce
		a = e.do(request{method: "GET", path: vaPath("DEFAULT") + "/policy"})
		wantStatus(t, a, http.StatusOK)
		a.decode(t, &in)
		if in.Inherited || in.Policy.Name != "Matrix" {
			t.Fatalf("in force = %+v", in)
		}
		wantStatus(t, e.do(request{method: "PUT", path: path, body: strings.Replace(matrixPolicy, `{"name":"Matrix"`, `{"base_version":1,"name":"Matrix 2"`, 1)}), http.StatusOK)
		wantError(t, e.do(request{method: "PUT", path: path, body: strings.Replace(matrixPolicy, `{"name":"Matrix"`, `{"base_version":1,"name":"Matrix 3"`, 1)}),
			http.StatusConflict, smartlic.EConflict, "base_version")
		wantStatus(t, e.do(request{method: "DELETE", path: path}), http.StatusNoContent)
		a = e.do(request{method: "GET", path: path + "/history?limit=2"})
		wantStatus(t, a, http.StatusOK)
		var page struct {
			Items []smartlic.Policy
			Next  string
		}
		a.decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].Version != 3 || !page.Items[0].Deleted || page.Next != "2" {
			t.Fatalf("history = %+v", page)
		}
	})
}
