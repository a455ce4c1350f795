package web_test

import (
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A router with a SLAC from Building A is lost. On the SLAC's page a
// Smart Account user sees no Cancel form (and the Lab's administrator not
// the page); the
// administrator of Campus (Building A's parent) does: an empty reason is
// refused beside the field, a reason cancels it, the license is back in
// the pool, the page shows the reason and no form any more. A post without
// the session's CSRF token, or by a user who may not, changes nothing.
func TestSLACCancelPortal(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(p.op, smartlic.LicenseType{Tag: "hseck9", Name: "HSEC", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled}))
		must[smartlic.Product](t)(p.mgr.CreateProduct(p.op, smartlic.Product{PID: "ISR4451", Name: "ISR 4451", LicenseTypes: []string{"hseck9"}}))
		must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "SO-2", License: "hseck9", Quantity: 2}))
		must[smartlic.ExportControl](t)(p.mgr.SetExportControl(p.op, sa.Domain, true))
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		p.user("lab@acme.example", smartlic.RoleVAAdmin, sa.Domain, "Lab")
		p.user("campus@acme.example", smartlic.RoleVAAdmin, sa.Domain, "Campus")

		secret, nonce := make([]byte, smartlic.SLACSecretBytes), make([]byte, rescode.SLACNonceBytes)
		_, _ = rand.Read(secret)
		_, _ = rand.Read(nonce)
		h := sha256.Sum256(secret)
		req := rescode.SLACRequest{UDI: smartlic.UDI{PID: "ISR4451", SN: "FOCLOST"}, LicenseTag: "hseck9", Nonce: nonce, ReturnHash: h[:]}
		s := must[smartlic.SLAC](t)(p.mgr.IssueSLAC(p.op, sa.Domain, smartlic.SLACIssueInput{RequestCode: req.Encode(), VirtualAccount: "Building A"}))
		page := "/sa/acme.example/slacs/" + s.ID
		const form = `form[action$="/cancel"]`
		if pl := p.hseck9Pool(sa.Domain); pl.InUse != 1 {
			t.Fatalf("pool with the SLAC: %+v", pl)
		}

		// The Smart Account user sees the SLAC but no form; the Lab's
		// administrator may not even see a SLAC of Building A.
		for who, want := range map[string]string{"user@acme.example": "Active", "lab@acme.example": "Not allowed"} {
			b := newBrowser(t, p)
			b.signIn(who, testPassword)
			b.open(page)
			if got := b.text("main"); !strings.Contains(got, want) {
				t.Fatalf("%s sees the SLAC's page as %q, want %q in it", who, got, want)
			}
			if b.has(form) {
				t.Fatalf("%s sees the Cancel form", who)
			}
		}
		// Posting anyway: without the CSRF token, or as a user who may
		// not, is refused and changes nothing.
		c := newClient(t, p)
		tok := c.signIn("user@acme.example", testPassword)
		if resp, _ := c.do("POST", page+"/cancel", url.Values{"reason": {"lost"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cancel without the CSRF token: %s", resp.Status)
		}
		if resp, _ := c.do("POST", page+"/cancel", url.Values{"csrf_token": {tok}, "reason": {"lost"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cancel by a Smart Account user: %s", resp.Status)
		}
		if got := must[smartlic.SLAC](t)(p.mgr.GetSLAC(p.op, sa.Domain, s.ID)); got.Status != smartlic.SLACActive {
			t.Fatalf("after the refused posts: %+v", got)
		}

		b := newBrowser(t, p)
		b.signIn("campus@acme.example", testPassword)
		b.open(page)
		if !b.has(form) {
			t.Fatal("the Campus administrator sees no Cancel form")
		}
		b.press("Cancel SLAC")
		if got := b.fieldError("Reason (for the event log)"); !strings.Contains(got, "say why") {
			t.Fatalf("error beside an empty reason = %q", got)
		}
		if pl := p.hseck9Pool(sa.Domain); pl.InUse != 1 {
			t.Fatalf("pool after a refused cancel: %+v", pl)
		}
		b.fill("Reason (for the event log)", "router lost in transit")
		b.press("Cancel SLAC")
		if got := b.text(".flash"); !strings.Contains(got, "cancelled: its license is back in Building A") {
			t.Fatalf("flash after cancelling = %q", got)
		}
		if got := b.text("main"); !strings.Contains(got, "Cancelled") || !strings.Contains(got, "router lost in transit") {
			t.Fatalf("the cancelled SLAC's facts = %q", got)
		}
		if b.has(form) || b.has("#slac-authorization-code") {
			t.Fatal("a cancelled SLAC still offers the Cancel form or its authorization code")
		}
		if pl := p.hseck9Pool(sa.Domain); pl.InUse != 0 || pl.Available != 2 {
			t.Fatalf("pool after the cancel: %+v", pl)
		}
		// The account's list shows it cancelled (a user with an SA role
		// sees every VA's SLACs).
		u := newBrowser(t, p)
		u.signIn("user@acme.example", testPassword)
		u.open("/sa/acme.example/slacs?status=cancelled")
		if row := rowWith(u, "ISR4451:FOCLOST"); len(row) < 4 || row[3] != "Cancelled" {
			t.Fatalf("SLAC row after the cancel = %q", row)
		}
	})
}
