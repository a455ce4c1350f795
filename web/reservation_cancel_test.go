package web_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// The cancel form of a reservation is shown to those who may cancel it —
// administrators of its VA or of the account — and to no one else, who
// would only be refused.
func TestReservationCancelFormOnlyForAdministrators(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		req := rescode.Request{UDI: smartlic.UDI{PID: "C9300-24T", SN: "FOC0CANC1"}, Key: key.Public().(ed25519.PublicKey)}.Encode()
		res := must[smartlic.Reservation](t)(p.mgr.CreateReservation(p.op, sa.Domain, smartlic.ReservationInput{
			VirtualAccount: "Building A", RequestCode: req, Licenses: []smartlic.LicenseRequest{{Tag: "network-advantage", Quantity: 1}}}))
		path := "/sa/" + sa.Domain + "/reservations/" + res.ID
		for _, tc := range []struct {
			email string
			form  bool
		}{{"user@acme.example", false}, {"admin@acme.example", true}} {
			c := newClient(t, p)
			c.signIn(tc.email, testPassword)
			resp, page := c.do("GET", path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: GET %s: %s", tc.email, path, resp.Status)
			}
			if got := strings.Contains(page, path+"/cancel"); got != tc.form {
				t.Errorf("%s sees the cancel form: %v, want %v", tc.email, got, tc.form)
			}
		}
	})
}
