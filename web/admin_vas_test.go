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

// Administration › Virtual Accounts: create, rename, move and delete,
// each refusal of the service shown beside its field.
func TestAdminVirtualAccounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		b := newBrowser(t, p)
		b.signIn("admin@acme.example", testPassword)
		b.press("Administration")
		if got := b.text("main h1"); got != "Virtual Accounts" {
			t.Fatalf("Administration opens %q", got)
		}
		if got := b.text("main table tbody"); !strings.Contains(got, "Building A") || !strings.Contains(got, "Lab") {
			t.Fatalf("VA rows = %q", got)
		}

		b.press("Create Virtual Account")
		if got := b.fieldError("Name"); got == "" {
			t.Fatal("a VA without a name: no error beside Name")
		}
		b.fill("Name", "lab")
		b.fill("Description", "a second lab")
		b.press("Create Virtual Account")
		if got := b.fieldError("Name"); got == "" || b.fieldValue("Description") != "a second lab" {
			t.Fatalf("a name taken in another case: error %q, description kept %q", got, b.fieldValue("Description"))
		}
		b.fill("Name", "Lab Rack")
		b.selectOption("Parent", "Lab")
		b.press("Create Virtual Account")
		if got := b.text(".flash"); got != "Virtual Account “Lab Rack” created." {
			t.Fatalf("flash = %q", got)
		}
		b.screenshot("admin-vas")

		// Lab cannot go under its own child.
		b.press("Lab")
		b.selectOption("New parent", "Lab Rack")
		b.press("Move")
		if got := b.fieldError("New parent"); !strings.Contains(got, "descendants") {
			t.Fatalf("cycle error beside New parent = %q", got)
		}
		b.selectOption("New parent", "Campus")
		b.press("Move")
		if got := b.text(".flash"); got != "Virtual Account “Lab” moved." {
			t.Fatalf("flash = %q", got)
		}
		if va := must[smartlic.VirtualAccount](t)(p.mgr.GetVirtualAccount(p.op, sa.Domain, "Lab Rack")); va.Depth != 3 {
			t.Fatalf("Lab Rack moved with Lab to depth %d, want 3", va.Depth)
		}
		b.fill("Name", "Engineering Lab")
		b.press("Save")
		if got := b.text("main h1"); got != "Engineering Lab" {
			t.Fatalf("renamed heading = %q", got)
		}

		// Not empty: Building A has licenses.
		b.open("/sa/acme.example/admin/vas/Building%20A")
		b.press("Delete Building A")
		if got := b.text("#delete-error"); !strings.Contains(got, "still holds") {
			t.Fatalf("delete a VA with licenses = %q", got)
		}
		b.open("/sa/acme.example/admin/vas/Lab%20Rack")
		b.press("Delete Lab Rack")
		if got := b.text(".flash"); got != "Virtual Account “Lab Rack” deleted." {
			t.Fatalf("flash = %q", got)
		}

		// An SA user sees the tree but no create form, and a create
		// posted by hand is refused and changes nothing.
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		c := newBrowser(t, p)
		c.signIn("user@acme.example", testPassword)
		c.open("/sa/acme.example/admin/vas")
		if !c.has("main table") || c.has(`form[action="/sa/acme.example/admin/vas"]`) {
			t.Fatalf("an SA user's Virtual Accounts page: tree %v, create form %v; want the tree only", c.has("main table"), c.has(`form[action="/sa/acme.example/admin/vas"]`))
		}
		h := newClient(t, p)
		csrf := h.signIn("user@acme.example", testPassword)
		resp, _ := h.do("POST", "/sa/acme.example/admin/vas", url.Values{"csrf_token": {csrf}, "name": {"Shadow"}, "description": {"x"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("an SA user posting a new VA: %s, want 403", resp.Status)
		}
		if _, err := p.mgr.GetVirtualAccount(p.op, sa.Domain, "Shadow"); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("an SA user created a VA: %v", err)
		}
	})
}
