package httpapi_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// The route list's and the role matrix's rows for offline SLACs.
func init() {
	expectedRoutes = append(expectedRoutes,
		"POST /api/v1/accounts/{sa}/slacs",
		"POST /api/v1/accounts/{sa}/slac-returns",
	)
	roleMatrix["issue-slac"] = matrixCase{allow: licensing, req: func(m *matrix, _ string) request {
		code, _ := m.freshSLACRequest()
		return m.send("POST", "/api/v1/accounts/acme.example/slacs", fmt.Sprintf(`{"request_code":%q,"license":"hseck9","virtual_account":"Engineering"}`, code))
	}}
	roleMatrix["return-slac"] = matrixCase{allow: licensing, req: func(m *matrix, _ string) request {
		return m.send("POST", "/api/v1/accounts/acme.example/slac-returns", fmt.Sprintf(`{"code":%q}`, m.freshSLACReturn()))
	}}
}

// freshSLACRequest makes an offline SLAC request code for a new device
// and deposits the license it will take, so every role's attempt finds one.
func (m *matrix) freshSLACRequest() (string, []byte) {
	m.t.Helper()
	m.theSLAC() // the catalogue, the export-control setting
	ok[smartlic.Deposit](m.t)(m.e.mgr.CreateDeposit(m.op, "acme.example", "Engineering", smartlic.DepositInput{OrderNumber: "O-S", License: "hseck9", Quantity: 1}))
	secret, nonce := make([]byte, smartlic.SLACSecretBytes), make([]byte, rescode.SLACNonceBytes)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(nonce)
	req := rescode.SLACRequest{UDI: smartlic.UDI{PID: "ISR4451", SN: fmt.Sprintf("OFF%05d", m.n())}, LicenseTag: "hseck9", Nonce: nonce}
	h := sha256.Sum256(secret)
	req.ReturnHash = h[:]
	return req.Encode(), secret
}

// freshSLACReturn issues an offline SLAC and returns the device's return code.
func (m *matrix) freshSLACReturn() string {
	m.t.Helper()
	code, secret := m.freshSLACRequest()
	s := ok[smartlic.SLAC](m.t)(m.e.mgr.IssueSLAC(m.op, "acme.example", smartlic.SLACIssueInput{RequestCode: code, VirtualAccount: "Engineering"}))
	return rescode.SLACReturn{UDI: s.UDI, SLACID: s.ID, Secret: secret}.Encode()
}

// TestSLACOfflineRoutes: the offline refusals answer in the one error
// shape, with the field and the status of their code.
func TestSLACOfflineRoutes(t *testing.T) {
	m := newMatrix(t)
	code, _ := m.freshSLACRequest()
	post := func(path, body string, status int, code, field string) {
		t.Helper()
		a := m.e.do(request{method: "POST", path: path, body: body})
		wantStatus(t, a, status)
		if e := a.errorBody(t); e.Code != code || e.Field != field {
			t.Fatalf("%s %s: %+v, want %s on %s", path, body, e, code, field)
		}
	}
	const issue, ret = "/api/v1/accounts/acme.example/slacs", "/api/v1/accounts/acme.example/slac-returns"
	post(issue, fmt.Sprintf(`{"request_code":%q}`, code[:len(code)-2]), http.StatusBadRequest, smartlic.ECodeInvalid, "request_code")
	post(issue, fmt.Sprintf(`{"request_code":%q,"license":"other"}`, code), http.StatusBadRequest, smartlic.EInvalid, "license")
	post(issue, `{"request_code":"SQ1-0"}`, http.StatusBadRequest, smartlic.ECodeInvalid, "request_code")
	post(ret, fmt.Sprintf(`{"code":%q}`, code), http.StatusBadRequest, smartlic.ECodeInvalid, "code")

	a := m.e.do(request{method: "POST", path: issue, body: fmt.Sprintf(`{"request_code":%q,"license":"hseck9","virtual_account":"Engineering"}`, code)})
	wantStatus(t, a, http.StatusOK)
	post(issue, fmt.Sprintf(`{"request_code":%q,"virtual_account":"Engineering"}`, code), http.StatusConflict, smartlic.EReplayed, "request")

	rc := m.freshSLACReturn()
	a = m.e.do(request{method: "POST", path: ret, body: fmt.Sprintf(`{"code":%q}`, rc)})
	wantStatus(t, a, http.StatusOK)
	post(ret, fmt.Sprintf(`{"code":%q}`, rc), http.StatusConflict, smartlic.EReplayed, "slac_id")
	post("/api/v1/accounts/other.example/slac-returns", fmt.Sprintf(`{"code":%q}`, rc), http.StatusForbidden, smartlic.EWrongAccount, "code")

	// Another account's administrator entering acme's codes in acme
	// learns nothing and changes nothing: refused before any lookup.
	open := m.freshSLACReturn()
	for path, body := range map[string]string{
		ret:   fmt.Sprintf(`{"code":%q}`, open),
		issue: fmt.Sprintf(`{"request_code":%q}`, codeOf(m.freshSLACRequest())),
	} {
		a := m.e.do(request{method: "POST", path: path, body: body, auth: "Bearer " + m.keys[rOther]})
		if a.status != http.StatusForbidden && a.status != http.StatusNotFound {
			t.Fatalf("%s by another account's administrator: %d", path, a.status)
		}
		if e := a.errorBody(t); e.Code != smartlic.EForbidden && e.Code != smartlic.ENotFound {
			t.Fatalf("%s by another account's administrator: %+v", path, e)
		}
	}
	if got, _, err := m.e.mgr.ListSLACs(m.op, "acme.example", smartlic.SLACFilter{Status: smartlic.SLACReturned}, smartlic.Page{}); err != nil || len(got) != 1 {
		t.Fatalf("returned SLACs after the outsider's attempts: %d, %v", len(got), err)
	}
}

// codeOf is the request code of freshSLACRequest.
func codeOf(code string, _ []byte) string { return code }

// The route list's and the role matrix's rows for cancelling a SLAC.
func init() {
	expectedRoutes = append(expectedRoutes, "POST /api/v1/accounts/{sa}/slacs/{slac}/cancel")
	roleMatrix["cancel-slac"] = matrixCase{allow: vaManagers, req: func(m *matrix, _ string) request {
		code, _ := m.freshSLACRequest()
		s := ok[smartlic.SLAC](m.t)(m.e.mgr.IssueSLAC(m.op, "acme.example", smartlic.SLACIssueInput{RequestCode: code, VirtualAccount: "Engineering"}))
		return m.send("POST", "/api/v1/accounts/acme.example/slacs/"+s.ID+"/cancel", `{"reason":"device destroyed"}`)
	}}
}

// TestSLACCancelRoute: a cancel answers the cancelled SLAC; a missing
// reason, another account's path and a closed SLAC answer in the one
// error shape and change nothing. On both stores.
func TestSLACCancelRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) { testSLACCancelRoute(t, newMatrixOn(t, open)) })
}

func testSLACCancelRoute(t *testing.T, m *matrix) {
	code, _ := m.freshSLACRequest()
	s := ok[smartlic.SLAC](t)(m.e.mgr.IssueSLAC(m.op, "acme.example", smartlic.SLACIssueInput{RequestCode: code, VirtualAccount: "Engineering"}))
	path := "/api/v1/accounts/acme.example/slacs/" + s.ID + "/cancel"
	post := func(path, body string, status int, code string) {
		t.Helper()
		a := m.e.do(request{method: "POST", path: path, body: body})
		wantStatus(t, a, status)
		if e := a.errorBody(t); e.Code != code {
			t.Fatalf("%s %s: %+v, want %s", path, body, e, code)
		}
	}
	post(path, `{}`, http.StatusBadRequest, smartlic.EInvalid)
	post(path, `{"reason":"   "}`, http.StatusBadRequest, smartlic.EInvalid)
	post(path, `{"reason":"lost","extra":1}`, http.StatusBadRequest, smartlic.EInvalid)
	post("/api/v1/accounts/other.example/slacs/"+s.ID+"/cancel", `{"reason":"lost"}`, http.StatusNotFound, smartlic.ENotFound)
	if got := ok[smartlic.SLAC](t)(m.e.mgr.GetSLAC(m.op, "acme.example", s.ID)); got.Status != smartlic.SLACActive {
		t.Fatalf("after refused cancels: %+v", got)
	}

	a := m.e.do(request{method: "POST", path: path, body: `{"reason":"lost in a fire"}`})
	wantStatus(t, a, http.StatusOK)
	var got smartlic.SLAC
	a.decode(t, &got)
	if got.ID != s.ID || got.Status != smartlic.SLACCancelled || got.CancelReason != "lost in a fire" || got.Returned != smartlic.SLACByAdministrator {
		t.Fatalf("cancelled: %+v", got)
	}
	post(path, `{"reason":"again"}`, http.StatusConflict, smartlic.ESLACClosed)
	a = m.e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/slacs?status=cancelled"})
	wantStatus(t, a, http.StatusOK)
}
