package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestVARolesSeeOnlyWhatAnswers: what the portal links or offers to a VA
// role answers it. Conversions are of the whole account; a VA user may
// create no VA, and a VA administrator only under its own VAs.
func TestVARolesSeeOnlyWhatAnswers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		p.user("labadmin@acme.example", smartlic.RoleVAAdmin, sa.Domain, "Lab")
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")

		for _, who := range []string{"lab@acme.example", "labadmin@acme.example"} {
			c := newClient(t, p)
			c.signIn(who, testPassword)
			_, page := c.do("GET", "/sa/acme.example/va/Lab/general", nil)
			if strings.Contains(page, `href="/sa/acme.example/conversions"`) {
				t.Errorf("%s is linked to Conversions", who)
			}
			if resp, _ := c.do("GET", "/sa/acme.example/conversions", nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: conversions answer %s; the hidden link is hidden for a reason", who, resp.Status)
			}
		}

		lab := newClient(t, p)
		csrf := lab.signIn("lab@acme.example", testPassword)
		if _, page := lab.do("GET", "/sa/acme.example/admin/vas", nil); strings.Contains(page, "Create a Virtual Account") {
			t.Errorf("a VA user is offered to create a Virtual Account")
		}
		if resp, _ := lab.do("POST", "/sa/acme.example/admin/vas", url.Values{"csrf_token": {csrf}, "name": {"Mine"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a VA user creating a VA: %s", resp.Status)
		}

		la := newClient(t, p)
		la.signIn("labadmin@acme.example", testPassword)
		_, page := la.do("GET", "/sa/acme.example/admin/vas", nil)
		if !strings.Contains(page, "Create a Virtual Account") || strings.Contains(page, "Top level") {
			t.Errorf("a Lab administrator's create form: want it, under its VAs only:\n%s", page)
		}

		admin := newClient(t, p)
		admin.signIn("admin@acme.example", testPassword)
		_, page = admin.do("GET", "/sa/acme.example/admin/vas", nil)
		if !strings.Contains(page, "Create a Virtual Account") || !strings.Contains(page, "Top level") {
			t.Errorf("an account administrator's create form lacks the top level")
		}
		if _, page = admin.do("GET", "/sa/acme.example/va/Lab/general", nil); !strings.Contains(page, `href="/sa/acme.example/conversions"`) {
			t.Errorf("an account administrator is not linked to Conversions")
		}
	})
}
