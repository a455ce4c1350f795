package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/smartlic/smartlic"
)

// TestConversionRoutes drives classic SKUs, a PAK and its conversion over
// HTTP: statuses, the 409 of a second conversion, and a SKU with '=' and
// '/' in the path.
func TestConversionRoutes(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/license-types",
		body: `{"tag":"network-essentials","name":"Network Essentials","term":"perpetual"}`}), http.StatusCreated)
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/classic-skus",
		body: `{"sku":"L-ASR1001/10G=","license":"network-essentials","ratio":3}`}), http.StatusCreated)
	a := e.do(request{method: "GET", path: "/api/v1/catalog/classic-skus/L-ASR1001%2F10G="})
	wantStatus(t, a, http.StatusOK)
	var sku smartlic.ClassicSKU
	a.decode(t, &sku)
	if sku.SKU != "L-ASR1001/10G=" || sku.Ratio != 3 {
		t.Fatalf("SKU = %+v", sku)
	}
	wantError(t, e.do(request{method: "POST", path: "/api/v1/catalog/classic-skus", body: `{"sku":"L-X","license":"nope"}`}),
		http.StatusBadRequest, smartlic.EInvalid, "license")

	e.account("acme.example")
	wantError(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/paks",
		body: `{"number":"PAK-1","order_number":"SO-1","lines":[{"sku":"L-NOPE","quantity":2}]}`}), http.StatusBadRequest, smartlic.EInvalid, "lines.sku")
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/paks",
		body: `{"number":"PAK-1","order_number":"SO-1","lines":[{"sku":"L-ASR1001/10G=","quantity":2,"fulfilled":[{"udi":{"pid":"ASR1001","sn":"FXS1"},"count":1}]}]}`}),
		http.StatusCreated)
	a = e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/paks/PAK-1/convert", body: `{"va":"DEFAULT"}`})
	wantStatus(t, a, http.StatusOK)
	var res smartlic.ConversionResult
	a.decode(t, &res)
	if len(res.Deposits) != 1 || res.Deposits[0].Quantity != 6 || res.PAK.Lines[0].Converted != 2 {
		t.Fatalf("conversion = %+v", res)
	}
	wantError(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/paks/PAK-1/convert", body: `{"va":"DEFAULT"}`}),
		http.StatusConflict, smartlic.EAlreadyConverted, "pak")
	wantError(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/paks/PAK-1/convert", body: `{"va":"DEFAULT","lines":[{"line":1,"quantity":1}]}`}),
		http.StatusConflict, smartlic.EAlreadyConverted, "lines.quantity")
	wantStatus(t, e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/paks/PAK-1/conversions"}), http.StatusOK)
	wantError(t, e.do(request{method: "POST", path: "/device/v1/convert", body: `{"type":"smartlic.convert-request/v1","kid":"nobody","payload":"e30=","sig":"AAAA"}`}),
		http.StatusBadRequest, smartlic.ESignature, "sig")
}
