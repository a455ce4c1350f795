package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
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
