package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
)

// stub answers GetSmartAccount with an error whose code is the requested
// "domain", so one server can produce every error code through a real
// route. Every other service method is the nil embedded interface: calling
// one panics, which is how the panic test gets its panic.
type stub struct {
	httpapi.Services
}

const stubKey = "slk_stub"

func (stub) Authenticate(_ context.Context, key string) (smartlic.Actor, error) {
	if key != stubKey {
		return smartlic.Actor{}, smartlic.Errorf(smartlic.EUnauthorized, "", "invalid API key")
	}
	return smartlic.Actor{KeyID: "k1", Email: "ops@example.com", Role: smartlic.RoleOperator}, nil
}

func (stub) GetSmartAccount(_ context.Context, code string) (smartlic.SmartAccount, error) {
	switch code {
	case "foreign":
		return smartlic.SmartAccount{}, errors.New("dial tcp 10.0.0.5:5432: password authentication failed for secret-db-password")
	case "wrapped-internal":
		return smartlic.SmartAccount{}, smartlic.Internal(errors.New("SELECT * FROM secret_table: disk I/O error"), "reading a Smart Account")
	}
	return smartlic.SmartAccount{}, smartlic.Errorf(code, "some_field", "message for %s", code)
}

func newStubServer(t *testing.T) (string, *logSink) {
	t.Helper()
	logs := &logSink{}
	srv := httptest.NewServer(httpapi.New(stub{}, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))}))
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

// TestErrorCodeStatus holds every error code to its status, through a real
// route, and checks the one shape: code, message and field as the service
// said them, nothing else.
func TestErrorCodeStatus(t *testing.T) {
	url, _ := newStubServer(t)
	for code, status := range map[string]int{
		smartlic.EInvalid:        400,
		smartlic.ESignature:      400,
		smartlic.EUnauthorized:   401,
		smartlic.EForbidden:      403,
		smartlic.ETokenUnknown:   403,
		smartlic.ETokenExpired:   403,
		smartlic.ETokenRevoked:   403,
		smartlic.ETokenExhausted: 403,
		smartlic.ELimitedUse:     403,
		smartlic.EExportControl:  403,
		smartlic.ENotRegistered:  403,
		smartlic.ENotFound:       404,
		smartlic.EConflict:       409,
		smartlic.ENotEmpty:       409,
		smartlic.ETooLarge:       413,
		smartlic.EUnsupportedMT:  415,
		smartlic.EDepthExceeded:  422,
		smartlic.ECycle:          422,
	} {
		t.Run(code, func(t *testing.T) {
			if got := httpapi.StatusOf(code); got != status {
				t.Errorf("StatusOf(%q) = %d, want %d", code, got, status)
			}
			a := doRequest(t, url, stubKey, request{method: "GET", path: "/api/v1/accounts/" + code})
			e := wantError(t, a, status, code, "some_field")
			if e.Message != "message for "+code {
				t.Errorf("message = %q, want the service's", e.Message)
			}
		})
	}
}

// TestInternalErrorsSayNothing checks that a 500 names no cause, while the
// log has the cause under the request id the client saw.
func TestInternalErrorsSayNothing(t *testing.T) {
	url, logs := newStubServer(t)
	for _, tc := range []struct{ key, secret, message string }{
		{"foreign", "secret-db-password", "internal error"},
		{"wrapped-internal", "secret_table", "internal error while reading a Smart Account"},
		{smartlic.EInternal, "", "message for internal"}, // smartlic.Internal-style message kept
		{smartlic.ESchemaTooNew, "", "internal error"},
		{"some_code_nobody_mapped", "", "internal error"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			a := doRequest(t, url, stubKey, request{method: "GET", path: "/api/v1/accounts/" + tc.key})
			e := wantError(t, a, 500, smartlic.EInternal, "")
			if e.Message != tc.message {
				t.Errorf("message = %q, want %q", e.Message, tc.message)
			}
			if tc.secret != "" && strings.Contains(string(a.body), tc.secret) {
				t.Errorf("answer %s reveals the cause", a.body)
			}
			id := a.header.Get("X-Request-Id")
			line := logs.wait(t, `"msg":"internal error"`, id)
			if tc.secret != "" && !strings.Contains(line["err"].(string), tc.secret) {
				t.Errorf("log line %v lacks the cause", line)
			}
		})
	}
}

// TestPanic answers a panicking handler with a 500 in the error shape and
// logs the panic.
func TestPanic(t *testing.T) {
	url, logs := newStubServer(t)
	// stub does not implement ListSmartAccounts: the nil interface panics.
	a := doRequest(t, url, stubKey, request{method: "GET", path: "/api/v1/accounts"})
	wantError(t, a, 500, smartlic.EInternal, "")
	logs.wait(t, `"msg":"panic"`, a.header.Get("X-Request-Id"))
	line := logs.wait(t, `"msg":"request"`, a.header.Get("X-Request-Id"))
	if line["status"] != float64(500) {
		t.Errorf("request log line %v, want status 500", line)
	}
}

// TestRouterErrors checks that the router's own answers (no such path, no
// such method) have the error shape too.
func TestRouterErrors(t *testing.T) {
	url, _ := newStubServer(t)
	for _, tc := range []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"unknown path", "GET", "/nope", 404, smartlic.ENotFound},
		{"unknown api path", "GET", "/api/v1/nope", 404, smartlic.ENotFound},
		{"too deep", "GET", "/api/v1/accounts/a/b/c/d/e/f", 404, smartlic.ENotFound},
		{"wrong method", "PUT", "/api/v1/accounts", 405, httpapi.CodeMethodNotAllowed},
		{"wrong method on item", "POST", "/api/v1/catalog/license-types/x", 405, httpapi.CodeMethodNotAllowed},
		{"wrong method on health", "DELETE", "/healthz", 405, httpapi.CodeMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := doRequest(t, url, stubKey, request{method: tc.method, path: tc.path})
			wantError(t, a, tc.status, tc.code, "")
			if tc.status == 405 && a.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

// TestHumaValidationErrors checks huma's own rejections arrive as
// "invalid" with the field, like the domain's.
func TestHumaValidationErrors(t *testing.T) {
	url, _ := newStubServer(t)
	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"unknown body field", "/api/v1/catalog/license-types", `{"tag":"a","name":"A","term":"perpetual","bogus":1}`, "bogus"},
		{"missing field", "/api/v1/catalog/license-types", `{"tag":"a","term":"perpetual"}`, "name"},
		{"enum", "/api/v1/catalog/license-types", `{"tag":"a","name":"A","term":"forever"}`, "term"},
		{"wrong type", "/api/v1/accounts", `{"name":"A","domain":"a.example.com","limited_use":"yes"}`, "limited_use"},
		{"server-set field", "/api/v1/accounts", `{"name":"A","domain":"a.example.com","id":"x"}`, "id"},
		{"server-set status", "/api/v1/accounts", `{"name":"A","domain":"a.example.com","status":"active"}`, "status"},
		{"bounds", "/api/v1/accounts/a.example.com/virtual-accounts/DEFAULT/deposits", `{"order_number":"o1","license":"x","quantity":0}`, "quantity"},
		{"token days", "/api/v1/accounts/a.example.com/virtual-accounts/DEFAULT/tokens", `{"description":"d","expires_in_days":366}`, "expires_in_days"},
		{"not json", "/api/v1/accounts", `{"name":`, "body"},
		{"empty body", "/api/v1/accounts", ``, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := doRequest(t, url, stubKey, request{method: "POST", path: tc.path, body: tc.body, contentType: "application/json"})
			wantError(t, a, 400, smartlic.EInvalid, tc.field)
		})
	}
	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"limt=10", "limt"},
		{"after=" + strings.Repeat("x", 101), "after"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			a := doRequest(t, url, stubKey, request{method: "GET", path: "/api/v1/accounts?" + tc.query})
			wantError(t, a, 400, smartlic.EInvalid, tc.field)
		})
	}
}

// A limit in a validation message is written as a person types it, not
// as huma prints a float64 ("<= 1e+09").
func TestValidationLimitsInDigits(t *testing.T) {
	url, _ := newStubServer(t)
	a := doRequest(t, url, stubKey, request{method: "POST", path: "/api/v1/accounts/a.example.com/virtual-accounts/DEFAULT/deposits",
		body: `{"order_number":"o1","license":"x","quantity":2000000000}`, contentType: "application/json"})
	e := wantError(t, a, 400, smartlic.EInvalid, "quantity")
	if !strings.Contains(e.Message, "1000000000") || strings.Contains(e.Message, "e+") {
		t.Errorf("message = %q, want the limit 1000000000 in digits", e.Message)
	}
}
