package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
)

// The route list's and the role matrix's rows for reservations, kept
// beside the capability.
func init() {
	expectedRoutes = append(expectedRoutes,
		"POST /api/v1/accounts/{sa}/reservations",
		"GET /api/v1/accounts/{sa}/reservations",
		"GET /api/v1/accounts/{sa}/reservations/{reservation}",
		"PATCH /api/v1/accounts/{sa}/reservations/{reservation}",
		"POST /api/v1/accounts/{sa}/reservations/{reservation}/cancel",
		"POST /api/v1/accounts/{sa}/reservation-returns",
		"POST /api/v1/accounts/{sa}/reservation-confirmations",
		"GET /api/v1/accounts/{sa}/reservation-settings",
		"PUT /api/v1/accounts/{sa}/reservation-settings",
		"GET /api/v1/catalog/products/{product}/reservation-settings",
		"PUT /api/v1/catalog/products/{product}/reservation-settings",
	)
	const base = "/api/v1/accounts/acme.example/reservations"
	for id, c := range map[string]matrixCase{
		"create-reservation": {allow: licensing, req: func(m *matrix, _ string) request {
			code, _ := m.freshRequest()
			return m.send("POST", base, fmt.Sprintf(`{"virtual_account":"Engineering","request_code":%q,"licenses":[{"tag":"network-advantage","quantity":1}]}`, code))
		}},
		"list-reservations": {allow: licensing, req: fixed("GET", base+"?udi=C9300-24T", "")},
		"get-reservation": {allow: licensing, req: func(m *matrix, _ string) request {
			id, _ := m.freshReservation()
			return request{method: "GET", path: base + "/" + id}
		}},
		"update-reservation": {allow: licensing, req: func(m *matrix, _ string) request {
			id, _ := m.freshReservation()
			return m.send("PATCH", base+"/"+id, `{"licenses":[{"tag":"network-advantage","quantity":2}]}`)
		}},
		"cancel-reservation": {allow: vaManagers, req: func(m *matrix, _ string) request {
			id, _ := m.freshReservation()
			return m.send("POST", base+"/"+id+"/cancel", `{"reason":"lost in transit"}`)
		}},
		"return-reservation": {allow: licensing, req: func(m *matrix, _ string) request {
			_, key := m.freshReservation()
			return m.send("POST", "/api/v1/accounts/acme.example/reservation-returns", fmt.Sprintf(`{"code":%q}`, proof(m, rescode.TypeReturn, key, 1)))
		}},
		"confirm-reservation": {allow: licensing, req: func(m *matrix, _ string) request {
			_, key := m.freshReservation()
			return m.send("POST", "/api/v1/accounts/acme.example/reservation-confirmations", fmt.Sprintf(`{"code":%q}`, proof(m, rescode.TypeConfirmation, key, 1)))
		}},
		"get-account-reservation-settings": {allow: licensing, req: fixed("GET", "/api/v1/accounts/acme.example/reservation-settings", "")},
		"set-account-reservation-settings": {allow: operatorOnly, req: fixed("PUT", "/api/v1/accounts/acme.example/reservation-settings", `{"permanent":true}`)},
		"get-product-reservation-settings": {allow: operatorOnly, req: fixed("GET", "/api/v1/catalog/products/C9300-24T/reservation-settings", "")},
		"set-product-reservation-settings": {allow: operatorOnly, req: fixed("PUT", "/api/v1/catalog/products/C9300-24T/reservation-settings", `{"permanent":true}`)},
	} {
		roleMatrix[id] = c
	}
}

// freshRequest makes a device's request code for a new UDI.
func (m *matrix) freshRequest() (string, ed25519.PrivateKey) {
	m.t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		m.t.Fatal(err)
	}
	udi := smartlic.UDI{PID: "C9300-24T", SN: fmt.Sprintf("SLR%05d", m.n())}
	return rescode.Request{UDI: udi, Key: priv.Public().(ed25519.PublicKey)}.Encode(), priv
}

// freshReservation reserves one license in Engineering for a new device.
func (m *matrix) freshReservation() (string, ed25519.PrivateKey) {
	m.t.Helper()
	code, priv := m.freshRequest()
	r := ok[smartlic.Reservation](m.t)(m.e.mgr.CreateReservation(m.op, "acme.example", smartlic.ReservationInput{
		VirtualAccount: "Engineering", RequestCode: code, Licenses: []smartlic.LicenseRequest{{Tag: "network-advantage", Quantity: 1}}}))
	return r.ID, priv
}

func proof(m *matrix, typ string, key ed25519.PrivateKey, seq uint64) string {
	m.t.Helper()
	code, err := rescode.SignProof(typ, rescode.Proof{Fingerprint: rescode.Fingerprint(key.Public().(ed25519.PublicKey)), Sequence: seq}, key)
	if err != nil {
		m.t.Fatal(err)
	}
	return code
}
