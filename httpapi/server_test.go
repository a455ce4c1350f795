package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/sign"
)

// TestAuth: every /api/v1 operation needs a bearer key; health, the device
// protocol and the OpenAPI document do not.
func TestAuth(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, auth, challenge string }{
		{"no header", "-", `Bearer realm="smartlic"`},
		{"other scheme", "Basic b3BzOnNlY3JldA==", `Bearer realm="smartlic"`},
		{"scheme only", "Bearer", `Bearer realm="smartlic"`},
		{"empty key", "Bearer ", `Bearer realm="smartlic"`},
		{"two words", "Bearer a b", `Bearer realm="smartlic"`},
		{"wrong key", "Bearer slk_not-a-key-we-issued", `Bearer realm="smartlic", error="invalid_token"`},
		{"not our prefix", "Bearer hunter2", `Bearer realm="smartlic", error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(request{method: "GET", path: "/api/v1/accounts", auth: tc.auth})
			wantError(t, a, http.StatusUnauthorized, smartlic.EUnauthorized, "")
			if got := a.header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
		})
	}
	t.Run("lower-case scheme", func(t *testing.T) {
		wantStatus(t, e.do(request{method: "GET", path: "/api/v1/accounts", auth: "bearer " + e.key}), http.StatusOK)
	})
	t.Run("authentication comes before validation", func(t *testing.T) {
		a := e.do(request{method: "POST", path: "/api/v1/accounts", body: `{"bogus":1}`, auth: "-"})
		wantError(t, a, http.StatusUnauthorized, smartlic.EUnauthorized, "")
	})
	for _, path := range []string{"/healthz", "/device/v1/keys", "/api/v1/openapi.json"} {
		t.Run("public "+path, func(t *testing.T) {
			wantStatus(t, e.do(request{method: "GET", path: path, auth: "-"}), http.StatusOK)
		})
	}
	t.Run("the key is never logged", func(t *testing.T) {
		a := e.do(request{method: "GET", path: "/api/v1/accounts"})
		e.logs.wait(t, `"msg":"request"`, a.header.Get("X-Request-Id"))
		secret := strings.TrimPrefix(e.key, "slk_")
		if logs := e.logs.all(); strings.Contains(logs, secret) || strings.Contains(logs, "hunter2") {
			t.Errorf("logs contain an API key:\n%s", logs)
		}
	})
}

// TestRejectedRequestsChangeNothing: invalid input is refused before the
// service runs, with the field it is about.
func TestRejectedRequestsChangeNothing(t *testing.T) {
	e := newEnv(t)
	sa := e.account("acme.example.com")
	deposits := "/api/v1/accounts/acme.example.com/virtual-accounts/DEFAULT/deposits"
	for _, tc := range []struct {
		name, path, body, contentType string
		status                        int
		code, field                   string
	}{
		{"unknown field", "/api/v1/accounts", `{"name":"Beta","domain":"beta.example.com","bogus":true}`, "", 400, smartlic.EInvalid, "bogus"},
		{"server-set id", "/api/v1/accounts", `{"id":"0000","name":"Beta","domain":"beta.example.com"}`, "", 400, smartlic.EInvalid, "id"},
		{"missing domain", "/api/v1/accounts", `{"name":"Beta"}`, "", 400, smartlic.EInvalid, "domain"},
		{"domain rule (manager)", "/api/v1/accounts", `{"name":"Beta","domain":"not a domain"}`, "", 400, smartlic.EInvalid, "domain"},
		{"wrong content type", "/api/v1/accounts", `{"name":"Beta","domain":"beta.example.com"}`, "text/plain", 415, smartlic.EUnsupportedMT, "Content-Type"},
		{"form content type", "/api/v1/accounts", `name=Beta&domain=beta.example.com`, "application/x-www-form-urlencoded", 415, smartlic.EUnsupportedMT, "Content-Type"},
		{"quantity 0", deposits, `{"order_number":"SO-1","license":"nope","quantity":0}`, "", 400, smartlic.EInvalid, "quantity"},
		{"unknown license (manager)", deposits, `{"order_number":"SO-1","license":"nope","quantity":5}`, "", 400, smartlic.EInvalid, "license"},
		{"unknown nested VA", "/api/v1/accounts/acme.example.com/virtual-accounts", `{"name":"EMEA","parent":"nope"}`, "", 404, smartlic.ENotFound, "parent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(request{method: "POST", path: tc.path, body: tc.body, contentType: tc.contentType})
			wantError(t, a, tc.status, tc.code, tc.field)
		})
	}
	var sas wire.Page[smartlic.SmartAccount]
	e.do(request{method: "GET", path: "/api/v1/accounts"}).decode(t, &sas)
	if len(sas.Items) != 1 || sas.Items[0].ID != sa.ID {
		t.Errorf("Smart Accounts after rejected requests: %+v, want only %s", sas.Items, sa.Domain)
	}
	var deps wire.Page[smartlic.Deposit]
	e.do(request{method: "GET", path: deposits}).decode(t, &deps)
	if len(deps.Items) != 0 {
		t.Errorf("deposits after rejected requests: %+v", deps.Items)
	}
	var vas wire.Page[smartlic.VirtualAccount]
	e.do(request{method: "GET", path: "/api/v1/accounts/acme.example.com/virtual-accounts"}).decode(t, &vas)
	if len(vas.Items) != 1 {
		t.Errorf("Virtual Accounts after rejected requests: %+v, want DEFAULT only", vas.Items)
	}
}

// TestBodyLimits: 1 MiB on the API, 64 KiB on the device protocol; a body
// of exactly the limit is read, one byte more is refused.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	padded := func(json string, size int) string { return json + strings.Repeat(" ", size-len(json)) }
	a := e.do(request{method: "POST", path: "/api/v1/accounts", body: padded(`{"name":"Acme","domain":"acme.example.com"}`, httpapi.MaxBodyBytes)})
	wantStatus(t, a, http.StatusCreated)
	a = e.do(request{method: "POST", path: "/api/v1/accounts", body: padded(`{"name":"Beta","domain":"beta.example.com"}`, httpapi.MaxBodyBytes+1)})
	wantError(t, a, http.StatusRequestEntityTooLarge, smartlic.ETooLarge, "")
	wantError(t, e.do(request{method: "GET", path: "/api/v1/accounts/beta.example.com"}), http.StatusNotFound, smartlic.ENotFound, "sa")

	// The device routes need no key, so their smaller limit is what an
	// anonymous caller can make the server buffer.
	a = e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: padded(`{}`, httpapi.MaxDeviceBodyBytes+1)})
	wantError(t, a, http.StatusRequestEntityTooLarge, smartlic.ETooLarge, "")
	a = e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: padded(`{}`, httpapi.MaxDeviceBodyBytes)})
	wantStatus(t, a, http.StatusBadRequest) // read, then found wanting
	if e := a.errorBody(t); e.Code != smartlic.EInvalid {
		t.Errorf("error = %+v, want invalid", e)
	}

	// Online usage reports may be larger; an anonymous caller's body past
	// 64 KiB is read as it arrives rather than into a buffer of the length
	// it announces, to the same limit.
	a = e.do(request{method: "POST", path: "/device/v1/usage", auth: "-", body: padded(`{}`, smartlic.MaxOnlineUsageBytes+1)})
	wantError(t, a, http.StatusRequestEntityTooLarge, smartlic.ETooLarge, "")
	a = e.do(request{method: "POST", path: "/device/v1/usage", auth: "-", body: padded(`{"type":"smartlic.usage-file/v1"}`, smartlic.MaxOnlineUsageBytes)})
	wantStatus(t, a, http.StatusBadRequest)
	if e := a.errorBody(t); e.Code != smartlic.EInvalid || e.Field == "" {
		t.Errorf("error = %+v, want invalid naming a field (the whole body was read and parsed)", e)
	}
}

func TestRequestIDAndLog(t *testing.T) {
	e := newEnv(t)
	a := e.do(request{method: "GET", path: "/api/v1/accounts/nobody.example.com", header: http.Header{"X-Request-Id": {"req-42.a_b:c"}}})
	wantError(t, a, http.StatusNotFound, smartlic.ENotFound, "sa")
	if got := a.header.Get("X-Request-Id"); got != "req-42.a_b:c" {
		t.Errorf("X-Request-Id = %q, want the caller's", got)
	}
	line := e.logs.wait(t, `"msg":"request"`, "req-42.a_b:c")
	for k, want := range map[string]any{
		"method": "GET", "pattern": "GET /api/v1/accounts/{sa}", "status": float64(404), "request_id": "req-42.a_b:c",
	} {
		if line[k] != want {
			t.Errorf("log %s = %v, want %v (line %v)", k, line[k], want, line)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("log line %v has no duration", line)
	}
	if strings.Contains(e.logs.all(), "nobody.example.com") {
		t.Error("the log has the request path; it should have only the pattern")
	}

	for _, sent := range []string{"", "has spaces", strings.Repeat("x", 129), "semi;colon", "quote\""} {
		a := e.do(request{method: "GET", path: "/healthz", header: http.Header{"X-Request-Id": {sent}}})
		got := a.header.Get("X-Request-Id")
		if got == "" || got == sent {
			t.Errorf("sent X-Request-Id %q, got %q: want a generated one", sent, got)
		}
	}

	// A body is never logged.
	a = e.do(request{method: "POST", path: "/api/v1/accounts", body: `{"name":"Secretive Corp","domain":"secretive.example.com"}`})
	wantStatus(t, a, http.StatusCreated)
	e.logs.wait(t, `"msg":"request"`, a.header.Get("X-Request-Id"))
	if strings.Contains(e.logs.all(), "Secretive") {
		t.Error("the log has a request body")
	}
}

// expectedRoutes is the API's route list. The OpenAPI document and the
// router must both have exactly these.
var expectedRoutes = []string{
	"GET /healthz",
	"GET /api/v1/catalog/license-types",
	"POST /api/v1/catalog/license-types",
	"GET /api/v1/catalog/license-types/{license_type}",
	"DELETE /api/v1/catalog/license-types/{license_type}",
	"GET /api/v1/catalog/products",
	"POST /api/v1/catalog/products",
	"GET /api/v1/catalog/products/{product}",
	"PATCH /api/v1/catalog/products/{product}",
	"DELETE /api/v1/catalog/products/{product}",
	"GET /api/v1/accounts",
	"POST /api/v1/accounts",
	"GET /api/v1/accounts/{sa}",
	"PATCH /api/v1/accounts/{sa}",
	"POST /api/v1/accounts/{sa}/approve",
	"POST /api/v1/accounts/{sa}/deny",
	"GET /api/v1/accounts/{sa}/licenses",
	"GET /api/v1/accounts/{sa}/licenses/{tag}/history",
	"GET /api/v1/accounts/{sa}/licenses/summary",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/licenses/summary",
	"GET /api/v1/accounts/{sa}/virtual-accounts",
	"POST /api/v1/accounts/{sa}/virtual-accounts",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}",
	"PATCH /api/v1/accounts/{sa}/virtual-accounts/{va}",
	"DELETE /api/v1/accounts/{sa}/virtual-accounts/{va}",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/deposits",
	"POST /api/v1/accounts/{sa}/virtual-accounts/{va}/deposits",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/tokens",
	"POST /api/v1/accounts/{sa}/virtual-accounts/{va}/tokens",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/tokens/{token}",
	"POST /api/v1/accounts/{sa}/virtual-accounts/{va}/tokens/{token}/revoke",
	"GET /api/v1/accounts/{sa}/tokens/{token}",
	"POST /api/v1/accounts/{sa}/tokens/{token}/revoke",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/licenses",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/instances",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/instances/{instance}",
	"GET /api/v1/accounts/{sa}/instances/{instance}",
	"DELETE /api/v1/accounts/{sa}/instances/{instance}",
	"DELETE /api/v1/accounts/{sa}/virtual-accounts/{va}/instances/{instance}",
	"GET /device/v1/keys",
	"POST /device/v1/register",
	"POST /device/v1/authorize",
	"POST /device/v1/renew",
	"POST /device/v1/deregister",
	// Alerts, notification preferences and webhooks (client/alerts_test.go covers them).
	"GET /api/v1/accounts/{sa}/alerts",
	"GET /api/v1/accounts/{sa}/notification-preferences",
	"PUT /api/v1/accounts/{sa}/notification-preferences/{email}",
	"DELETE /api/v1/accounts/{sa}/notification-preferences/{email}",
	"GET /api/v1/accounts/{sa}/webhooks",
	"POST /api/v1/accounts/{sa}/webhooks",
	"DELETE /api/v1/accounts/{sa}/webhooks/{webhook}",
	"GET /api/v1/accounts/{sa}/webhooks/{webhook}/deliveries",
	"GET /api/v1/accounts/{sa}/events",
	"GET /api/v1/accounts/{sa}/events/export",
	"GET /api/v1/accounts/{sa}/events/verify",
	"GET /api/v1/events/verify",
	"GET /api/v1/accounts/{sa}/events/head",
	"GET /api/v1/events/head",
	"POST /api/v1/accounts/{sa}/events/verify",
	"POST /api/v1/events/verify",
	"GET /api/v1/search",
	// Export control (slac_test.go).
	"GET /api/v1/accounts/{sa}/export-control",
	"PATCH /api/v1/accounts/{sa}/export-control",
	"GET /api/v1/export-controls",
	"GET /api/v1/accounts/{sa}/slacs",
	"GET /api/v1/accounts/{sa}/slacs/{slac}",
	"POST /device/v1/slac",
	"POST /device/v1/slac-return",
	// Users, roles, credentials (users_test.go covers them).
	"POST /api/v1/users",
	"GET /api/v1/users",
	"GET /api/v1/users/{user}",
	"POST /api/v1/users/{user}/disable",
	"GET /api/v1/me",
	"GET /api/v1/accounts/{sa}/roles",
	"POST /api/v1/accounts/{sa}/roles",
	"DELETE /api/v1/accounts/{sa}/roles/{role}",
	"POST /api/v1/accounts/{sa}/invitations",
	"GET /api/v1/accounts/{sa}/invitations",
	"POST /api/v1/accounts/{sa}/invitations/{invitation}/revoke",
	"POST /api/v1/invitations/accept",
	"POST /api/v1/accounts/{sa}/access-requests",
	"GET /api/v1/accounts/{sa}/access-requests",
	"POST /api/v1/accounts/{sa}/access-requests/{request}/approve",
	"POST /api/v1/accounts/{sa}/access-requests/{request}/deny",
	"POST /api/v1/me/api-keys",
	"GET /api/v1/me/api-keys",
	"POST /api/v1/me/api-keys/{key}/revoke",
	"GET /api/v1/me/identities",
	"DELETE /api/v1/me/identities/{identity}",
	"POST /api/v1/oauth-clients",
	"GET /api/v1/oauth-clients",
	"POST /api/v1/oauth-clients/{client}/revoke",
	"POST /api/v1/accounts/{sa}/oauth-clients",
	"GET /api/v1/accounts/{sa}/oauth-clients",
	"POST /api/v1/accounts/{sa}/oauth-clients/{client}/revoke",
	"POST /api/v1/oauth/token",
	"POST /api/v1/auth/login",
	"POST /api/v1/auth/logout",
	"POST /api/v1/auth/device",
	"POST /api/v1/auth/device/token",
	// Transfers, agreements and reports (transfers_test.go covers them).
	"POST /api/v1/accounts/{sa}/transfers",
	"GET /api/v1/accounts/{sa}/transfers",
	"POST /api/v1/accounts/{sa}/virtual-accounts/{va}/agreements",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/agreements",
	"GET /api/v1/accounts/{sa}/agreements/{agreement}/true-forward",
	"POST /api/v1/accounts/{sa}/agreements/{agreement}/accept",
	"GET /api/v1/accounts/{sa}/reports/usage",
	"GET /api/v1/accounts/{sa}/reports/true-up",
	"GET /api/v1/accounts/{sa}/reports/expiring",
	"GET /api/v1/accounts/{sa}/reports/instances",
	// Classic SKUs, PAKs and conversion (conversion_test.go covers them).
	"GET /api/v1/catalog/classic-skus",
	"POST /api/v1/catalog/classic-skus",
	"GET /api/v1/catalog/classic-skus/{sku}",
	"DELETE /api/v1/catalog/classic-skus/{sku}",
	"GET /api/v1/accounts/{sa}/paks",
	"POST /api/v1/accounts/{sa}/paks",
	"GET /api/v1/accounts/{sa}/paks/{pak}",
	"GET /api/v1/accounts/{sa}/paks/{pak}/conversions",
	"POST /api/v1/accounts/{sa}/paks/{pak}/convert",
	"POST /device/v1/convert",
	"POST /device/v1/trust",
	"POST /device/v1/policy-mode",
	"POST /device/v1/usage",
	"POST /api/v1/accounts/{sa}/usage-files",
	"GET /api/v1/accounts/{sa}/usage-files",
	"GET /api/v1/accounts/{sa}/usage-files/{upload}/ack",
	"POST /api/v1/accounts/{sa}/virtual-accounts/{va}/trust-files",
	// Reporting policies of Using Policy (policies_test.go covers them).
	"GET /api/v1/accounts/{sa}/policies",
	"GET /api/v1/accounts/{sa}/policies/account",
	"PUT /api/v1/accounts/{sa}/policies/account",
	"DELETE /api/v1/accounts/{sa}/policies/account",
	"GET /api/v1/accounts/{sa}/policies/account/history",
	"GET /api/v1/accounts/{sa}/policies/va/{va}",
	"PUT /api/v1/accounts/{sa}/policies/va/{va}",
	"DELETE /api/v1/accounts/{sa}/policies/va/{va}",
	"GET /api/v1/accounts/{sa}/policies/va/{va}/history",
	"GET /api/v1/accounts/{sa}/virtual-accounts/{va}/policy",
	"GET /api/v1/policies/default",
	"PUT /api/v1/policies/default",
	"DELETE /api/v1/policies/default",
	"GET /api/v1/policies/default/history",
}

// publicAuthRoutes are the operations that take no credentials because
// they hand them out (or end them).
var publicAuthRoutes = []string{"/api/v1/oauth/token", "/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/invitations/accept",
	"/api/v1/auth/device", "/api/v1/auth/device/token"}

// notOperations are routed but are not API operations: the document itself
// and its viewer.
var notOperations = []string{
	"GET /api/v1/openapi.json",
	"GET /api/v1/openapi.yaml",
	"GET /api/v1/openapi-3.0.json",
	"GET /api/v1/openapi-3.0.yaml",
}

type openAPIDoc struct {
	OpenAPI    string                                   `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation   `json:"paths"`
	Components struct{ SecuritySchemes map[string]any } `json:"components"`
}

type openAPIOperation struct {
	OperationID string                `json:"operationId"`
	Security    []map[string][]string `json:"security"`
	Responses   map[string]struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
	RequestBody *struct {
		Content map[string]any `json:"content"`
	} `json:"requestBody"`
}

// TestOpenAPIDocument holds the served document, the router's registrations
// and the route list to one another, so that none can drift; then it calls
// every documented operation to check the document's security is what the
// server enforces.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t)
	a := e.do(request{method: "GET", path: "/api/v1/openapi.json", auth: "-"})
	wantStatus(t, a, http.StatusOK)
	var doc openAPIDoc
	if err := json.Unmarshal(a.body, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	served, err := e.srv.OpenAPI()
	if err != nil || !json.Valid(served) {
		t.Fatalf("Server.OpenAPI: %v", err)
	}

	var documented []string
	ops := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for method, op := range item {
			r := strings.ToUpper(method) + " " + path
			documented = append(documented, r)
			ops[r] = op
		}
	}
	routed := slices.DeleteFunc(e.srv.Routes(), func(r string) bool { return slices.Contains(notOperations, r) })
	if len(e.srv.Routes())-len(routed) != len(notOperations) {
		t.Errorf("router lacks some of %v: %v", notOperations, e.srv.Routes())
	}
	want := slices.Sorted(slices.Values(expectedRoutes))
	for name, got := range map[string][]string{"document": documented, "router": routed} {
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s routes differ from the route list:\n only in %s: %v\n missing: %v", name, name, minus(got, want), minus(want, got))
		}
	}

	for r, op := range ops {
		method, path, _ := strings.Cut(r, " ")
		public := path == "/healthz" || strings.HasPrefix(path, "/device/") || slices.Contains(publicAuthRoutes, path)
		if got := len(op.Security) > 0; got == public {
			t.Errorf("%s: security %v, want public=%v", r, op.Security, public)
		}
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", r)
		}
		for status, resp := range op.Responses {
			if status[0] == '2' {
				continue
			}
			if ref := resp.Content["application/json"].Schema.Ref; ref != "#/components/schemas/ErrorResponse" {
				t.Errorf("%s %s answers %q, want the ErrorResponse schema", r, status, ref)
			}
		}
		if op.RequestBody != nil {
			if path == "/api/v1/oauth/token" {
				// RFC 6749 clients send forms; users_test.go covers both forms and JSON.
				if _, ok := op.RequestBody.Content["application/x-www-form-urlencoded"]; !ok {
					t.Errorf("%s request body content types %v, want a form", r, op.RequestBody.Content)
				}
			} else if path == "/api/v1/accounts/{sa}/usage-files" {
				// A usage file is uploaded as the device saved it: the bytes
				// go to the manager unparsed (application/json is accepted).
				if _, ok := op.RequestBody.Content["application/octet-stream"]; !ok {
					t.Errorf("%s request body content types %v, want the file as is", r, op.RequestBody.Content)
				}
			} else if _, ok := op.RequestBody.Content["application/json"]; !ok || len(op.RequestBody.Content) != 1 {
				t.Errorf("%s request body content types %v, want application/json only", r, op.RequestBody.Content)
			}
		}

		// Call it without a key: an operation that needs one answers 401
		// before anything else; a public one is routed (not 404/405).
		concrete := strings.NewReplacer("{license_type}", "x", "{product}", "x", "{sa}", "x", "{va}", "x", "{token}", "x", "{instance}", "x").Replace(path)
		got := e.do(request{method: method, path: concrete, auth: "-"})
		switch {
		case !public && got.status != http.StatusUnauthorized:
			t.Errorf("%s without a key: %d, want 401", r, got.status)
		case public && (got.status == http.StatusNotFound || got.status == http.StatusMethodNotAllowed):
			t.Errorf("%s is documented but not routed: %d %s", r, got.status, got.body)
		}
	}
	if _, ok := doc.Components.SecuritySchemes["apiKey"]; !ok {
		t.Errorf("security schemes %v lack apiKey", doc.Components.SecuritySchemes)
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestDeviceProtocol runs registration over HTTP: the envelope is the only
// credential, and refusals carry the protocol's codes.
func TestDeviceProtocol(t *testing.T) {
	e := newEnv(t)
	e.account("acme.example.com")
	for _, body := range []string{
		`{"tag":"network-advantage","name":"Network Advantage","term":"perpetual"}`,
	} {
		wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/license-types", body: body}), http.StatusCreated)
	}
	// A PID with '/' makes the UDI need escaping in a path.
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/products", body: `{"pid":"ISR4K/X","name":"ISR 4000","license_types":["network-advantage"]}`}), http.StatusCreated)
	var tok smartlic.Token
	a := e.do(request{method: "POST", path: "/api/v1/accounts/acme.example.com/virtual-accounts/DEFAULT/tokens", body: `{"description":"protocol","expires_in_days":30,"max_uses":1}`})
	wantStatus(t, a, http.StatusCreated)
	a.decode(t, &tok)
	if tok.Secret == "" {
		t.Fatal("token created without its secret")
	}

	var keys smartlic.PublicKeySet
	e.do(request{method: "GET", path: "/device/v1/keys", auth: "-"}).decode(t, &keys)
	if len(keys.Keys) == 0 || strings.Contains(string(e.do(request{method: "GET", path: "/device/v1/keys", auth: "-"}).body), "private") {
		t.Fatalf("keys = %+v", keys)
	}

	d := newDevice(t, "ISR4K/X", "FOC1234")
	now := e.clock.Now()
	t.Run("unknown token", func(t *testing.T) {
		a := e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: d.registerRequest(t, "slt_unknown", now)})
		wantError(t, a, http.StatusForbidden, smartlic.ETokenUnknown, "token")
	})
	t.Run("tampered", func(t *testing.T) {
		var env smartlic.Envelope
		json.Unmarshal([]byte(d.registerRequest(t, tok.Secret, now)), &env)
		env.Sig[0] ^= 1
		b, _ := json.Marshal(env)
		a := e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: string(b)})
		wantError(t, a, http.StatusBadRequest, smartlic.ESignature, "sig")
	})
	t.Run("not an envelope", func(t *testing.T) {
		a := e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: `{"type":"smartlic.register-request/v1","kid":"k","payload":"e30=","sig":"AA==","extra":1}`})
		wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "extra")
	})
	t.Run("payload not base64", func(t *testing.T) {
		a := e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: `{"type":"smartlic.register-request/v1","kid":"k","payload":"not base64!","sig":"AA=="}`})
		wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "payload")
	})
	t.Run("missing signature", func(t *testing.T) {
		a := e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: `{"type":"smartlic.register-request/v1","kid":"k","payload":"e30="}`})
		wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "sig")
	})
	t.Run("unknown instance", func(t *testing.T) {
		env, err := sign.Seal(smartlic.TypeAuthRequest, "no-such-instance", d.priv, smartlic.DeviceRequest{InstanceID: "no-such-instance", UDI: d.udi, SentAt: now})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(env)
		a := e.do(request{method: "POST", path: "/device/v1/authorize", auth: "-", body: string(b)})
		wantError(t, a, http.StatusForbidden, smartlic.ENotRegistered, "kid")
	})

	a = e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: d.registerRequest(t, tok.Secret, now)})
	wantStatus(t, a, http.StatusOK)
	var env smartlic.Envelope
	a.decode(t, &env)
	var cert smartlic.IDCert
	if err := sign.Open(env, smartlic.TypeIDCert, sign.NewKeySet(keys.Keys), &cert); err != nil {
		t.Fatalf("ID certificate does not verify with the published keys: %v", err)
	}
	if cert.UDI != d.udi || cert.VirtualAccount != "DEFAULT" {
		t.Errorf("cert = %+v", cert)
	}

	a = e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: newDevice(t, "ISR4K/X", "FOC5678").registerRequest(t, tok.Secret, now)})
	wantError(t, a, http.StatusForbidden, smartlic.ETokenExhausted, "token")

	instance := "/api/v1/accounts/acme.example.com/virtual-accounts/DEFAULT/instances/" + url.PathEscape(d.udi.String())
	var inst smartlic.Instance
	a = e.do(request{method: "GET", path: instance})
	wantStatus(t, a, http.StatusOK)
	a.decode(t, &inst)
	if inst.ID != cert.InstanceID || strings.Contains(string(a.body), "public_key") {
		t.Errorf("instance = %s", a.body)
	}
	wantStatus(t, e.do(request{method: "DELETE", path: instance}), http.StatusNoContent)
	wantError(t, e.do(request{method: "GET", path: instance}), http.StatusNotFound, smartlic.ENotFound, "")
}

// TestDomainErrorsOverHTTP drives the manager into its tree and emptiness
// rules through the API.
func TestDomainErrorsOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.account("acme.example.com")
	vas := "/api/v1/accounts/acme.example.com/virtual-accounts"
	parent := ""
	for i := 1; i <= smartlic.MaxVADepth; i++ {
		name := "L" + string(rune('0'+i%10)) + "-" + strings.Repeat("x", i)
		body, _ := json.Marshal(wire.VirtualAccountRequest{Name: name, Parent: parent})
		wantStatus(t, e.do(request{method: "POST", path: vas, body: string(body)}), http.StatusCreated)
		parent = name
	}
	body, _ := json.Marshal(wire.VirtualAccountRequest{Name: "too deep", Parent: parent})
	wantError(t, e.do(request{method: "POST", path: vas, body: string(body)}), http.StatusUnprocessableEntity, smartlic.EDepthExceeded, "parent")

	top := url.PathEscape("L1-x")
	a := e.do(request{method: "PATCH", path: vas + "/" + top, body: `{"parent":"` + parent + `"}`})
	wantError(t, a, http.StatusUnprocessableEntity, smartlic.ECycle, "parent")

	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/license-types", body: `{"tag":"dna","name":"DNA","term":"perpetual"}`}), http.StatusCreated)
	wantStatus(t, e.do(request{method: "POST", path: vas + "/" + url.PathEscape(parent) + "/deposits", body: `{"order_number":"SO-1","license":"dna","quantity":3}`}), http.StatusCreated)
	a = e.do(request{method: "DELETE", path: vas + "/" + url.PathEscape(parent)})
	wantError(t, a, http.StatusConflict, smartlic.ENotEmpty, "va")

	a = e.do(request{method: "POST", path: "/api/v1/accounts", body: `{"name":"Acme again","domain":"ACME.example.com"}`})
	wantError(t, a, http.StatusConflict, smartlic.EConflict, "domain")

	a = e.do(request{method: "POST", path: "/api/v1/accounts", body: `{"name":"Gmail user","domain":"gmail.com","limited_use":true,"approve":true}`})
	wantStatus(t, a, http.StatusCreated)
	a = e.do(request{method: "POST", path: "/api/v1/accounts/gmail.com/virtual-accounts", body: `{"name":"Second"}`})
	wantError(t, a, http.StatusForbidden, smartlic.ELimitedUse, "")
}

// TestTruncatedBody: a body shorter than its Content-Length (a client that
// stopped sending) is a coded 400 on the routes that read their body
// themselves, the device protocol and the usage file upload, and the
// server goes on answering.
func TestTruncatedBody(t *testing.T) {
	e := newEnv(t)
	e.account("acme.example.com")
	for _, path := range []string{"/device/v1/register", "/device/v1/usage", "/api/v1/accounts/acme.example.com/usage-files"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"type\":", path, e.key)
		conn.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var got struct{ Error wire.ErrorBody }
		err = json.NewDecoder(resp.Body).Decode(&got)
		conn.Close()
		if err != nil || resp.StatusCode != http.StatusBadRequest || got.Error.Code != smartlic.EInvalid || !strings.Contains(got.Error.Message, "could not be read") {
			t.Errorf("%s: %d %+v (%v), want 400 invalid, the body could not be read", path, resp.StatusCode, got.Error, err)
		}
	}
	wantStatus(t, e.do(request{method: "GET", path: "/api/v1/accounts/acme.example.com"}), http.StatusOK)
}
