package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// theSLAC issues, once, a SLAC to a device of Engineering and returns its id.
func (m *matrix) theSLAC() string {
	m.t.Helper()
	if m.slac != "" {
		return m.slac
	}
	mgr, op := m.e.mgr, m.op
	ok[smartlic.LicenseType](m.t)(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "hseck9", Name: "HSEC", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled}))
	ok[smartlic.Product](m.t)(mgr.CreateProduct(op, smartlic.Product{PID: "ISR4451", Name: "ISR", LicenseTypes: []string{"hseck9"}}))
	ok[smartlic.Deposit](m.t)(mgr.CreateDeposit(op, "acme.example", "Engineering", smartlic.DepositInput{OrderNumber: "O-S", License: "hseck9", Quantity: 5}))
	ok[smartlic.ExportControl](m.t)(mgr.SetExportControl(op, "acme.example", true))
	tok := ok[smartlic.Token](m.t)(mgr.CreateToken(op, "acme.example", "Engineering", smartlic.TokenInput{Description: "export", ExpiresInDays: 1, AllowExportControlled: true}))
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		m.t.Fatal(err)
	}
	udi := smartlic.UDI{PID: "ISR4451", SN: "SLAC1"}
	reg, _ := sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(pub), priv, smartlic.RegisterRequest{
		Token: tok.Secret, UDI: udi, Hostname: "r1", PublicKey: pub, SentAt: m.e.clock.Now()})
	certEnv := ok[smartlic.Envelope](m.t)(mgr.Register(context.Background(), reg))
	var cert smartlic.IDCert
	if err := smartlic.DecodePayload(certEnv, &cert); err != nil {
		m.t.Fatal(err)
	}
	req, _ := sign.Seal(smartlic.TypeSLACRequest, cert.InstanceID, priv, smartlic.SLACRequest{
		InstanceID: cert.InstanceID, UDI: udi, SentAt: m.e.clock.Now(), Nonce: "matrix", LicenseTag: "hseck9", ReturnHash: smartlic.ReturnHash(make([]byte, 32))})
	slacEnv := ok[smartlic.Envelope](m.t)(mgr.RequestSLAC(context.Background(), req))
	var doc smartlic.SLACDoc
	if err := smartlic.DecodePayload(slacEnv, &doc); err != nil {
		m.t.Fatal(err)
	}
	m.slac = doc.ID
	return m.slac
}

// TestSLACRoutes: the refusals of export control answer in the one error
// shape with their status, and a SLAC is not visible from another account.
func TestSLACRoutes(t *testing.T) {
	m := newMatrix(t)
	id := m.theSLAC()
	a := m.e.do(request{method: "GET", path: "/api/v1/accounts/other.example/slacs/" + id})
	wantStatus(t, a, http.StatusNotFound)
	a = m.e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/slacs?status=lost"})
	wantStatus(t, a, http.StatusBadRequest)
	a = m.e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/slacs?udi=nonsense"})
	wantStatus(t, a, http.StatusBadRequest)
	if e := a.errorBody(t); e.Code != smartlic.EInvalid || e.Field != "udi" {
		t.Fatalf("bad udi: %+v", e)
	}
	a = m.e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/slacs?udi=ISR4451:SLAC1&status=active"})
	wantStatus(t, a, http.StatusOK)
	a = m.e.do(request{method: "PATCH", path: "/api/v1/accounts/acme.example/export-control", body: `{"allowed":"yes"}`})
	wantStatus(t, a, http.StatusBadRequest)
}

// A user with roles on two Virtual Accounts, one of them with a sub-VA,
// lists the SLACs of both and of the sub-VA, not those of a third VA;
// ?va= still narrows the list to one of them, and to a VA it has no role
// in is refused.
func TestSLACListOfSeveralVAs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newMatrixOn(t, open)
		m.theSLAC() // Engineering's, online; the catalogue and export control
		ok[smartlic.VirtualAccount](t)(m.e.mgr.CreateVirtualAccount(m.op, "acme.example", smartlic.VirtualAccountInput{Name: "Support"}))
		udis := map[string]string{"Engineering": "ISR4451:SLAC1"}
		for _, va := range []string{"Lab", "Sales", "Support"} {
			code, _ := m.freshSLACRequest()
			ok[smartlic.Deposit](t)(m.e.mgr.CreateDeposit(m.op, "acme.example", va, smartlic.DepositInput{OrderNumber: "O-" + va, License: "hseck9", Quantity: 1}))
			s := ok[smartlic.SLAC](t)(m.e.mgr.IssueSLAC(m.op, "acme.example", smartlic.SLACIssueInput{RequestCode: code, VirtualAccount: va}))
			udis[va] = s.UDI.String()
		}
		key := m.userKey("two@acme.example", "acme.example",
			smartlic.RoleInput{Role: smartlic.RoleVAUser, VA: "Engineering"}, smartlic.RoleInput{Role: smartlic.RoleVAUser, VA: "Sales"})
		list := func(query string) []string {
			t.Helper()
			a := doRequest(t, m.e.url, key, request{method: "GET", path: "/api/v1/accounts/acme.example/slacs" + query})
			wantStatus(t, a, http.StatusOK)
			var got struct{ Items []smartlic.SLAC }
			a.decode(t, &got)
			var out []string
			for _, s := range got.Items {
				out = append(out, s.VirtualAccount+" "+s.UDI.String())
			}
			slices.Sort(out)
			return out
		}
		want := []string{"Engineering " + udis["Engineering"], "Lab " + udis["Lab"], "Sales " + udis["Sales"]}
		if got := list(""); !slices.Equal(got, want) {
			t.Fatalf("SLACs of a user of Engineering and Sales:\n got  %q\n want %q", got, want)
		}
		if got := list("?va=Sales"); !slices.Equal(got, want[2:]) {
			t.Fatalf("?va=Sales: %q", got)
		}
		a := doRequest(t, m.e.url, key, request{method: "GET", path: "/api/v1/accounts/acme.example/slacs?va=Support"})
		wantError(t, a, http.StatusForbidden, smartlic.EForbidden, "")
		// An account role still sees them all.
		a = doRequest(t, m.e.url, m.keys[rSAUser], request{method: "GET", path: "/api/v1/accounts/acme.example/slacs"})
		wantStatus(t, a, http.StatusOK)
		var all struct{ Items []smartlic.SLAC }
		if a.decode(t, &all); len(all.Items) != 4 {
			t.Fatalf("an SA user's list: %+v", all.Items)
		}
	})
}
