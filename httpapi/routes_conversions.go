package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type classicSKUPath struct {
	SKU string `path:"sku" doc:"Classic SKU or its id"`
}

type pakPath struct {
	SA  string `path:"sa" doc:"Smart Account id or domain"`
	PAK string `path:"pak" doc:"PAK number or id"`
}

type pakBody[B any] struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	PAK  string `path:"pak" doc:"PAK number or id"`
	Body B
}

// registerConversionRoutes adds classic SKUs, PAKs, their conversion and
// device-led conversion.
func (s *Server) registerConversionRoutes() {
	svc := s.svc

	const skus, sku = "/api/v1/catalog/classic-skus", "/api/v1/catalog/classic-skus/{sku}"
	handle(s, route{method: get, path: skus, id: "list-classic-skus", summary: "List classic SKUs and the smart licenses they convert to", tag: "conversion"},
		func(ctx context.Context, in *pageQuery) (*body[wire.Page[smartlic.ClassicSKU]], error) {
			return page(svc.ListClassicSKUs(ctx, in.page()))
		})
	handle(s, route{method: post, path: skus, id: "create-classic-sku", summary: "Add a classic SKU and its smart license equivalent", tag: "conversion", status: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body wire.ClassicSKURequest }) (*body[smartlic.ClassicSKU], error) {
			return one(svc.CreateClassicSKU(ctx, in.Body.Input()))
		})
	handle(s, route{method: get, path: sku, id: "get-classic-sku", summary: "Get a classic SKU", tag: "conversion"},
		func(ctx context.Context, in *classicSKUPath) (*body[smartlic.ClassicSKU], error) {
			return one(svc.GetClassicSKU(ctx, in.SKU))
		})
	handle(s, route{method: del, path: sku, id: "delete-classic-sku", summary: "Delete a classic SKU (its PAKs stay, no longer convertible)", tag: "conversion", status: http.StatusNoContent},
		func(ctx context.Context, in *classicSKUPath) (*struct{}, error) {
			return none(svc.DeleteClassicSKU(ctx, in.SKU))
		})

	const paks, pak = "/api/v1/accounts/{sa}/paks", "/api/v1/accounts/{sa}/paks/{pak}"
	handle(s, route{method: get, path: paks, id: "list-paks", summary: "List a Smart Account's PAKs", tag: "conversion"},
		func(ctx context.Context, in *saPage) (*body[wire.Page[smartlic.PAK]], error) {
			return page(svc.ListPAKs(ctx, in.SA, in.page()))
		})
	handle(s, route{method: post, path: paks, id: "deposit-pak", summary: "Deposit a classic PAK into a Smart Account", tag: "conversion", status: http.StatusCreated},
		func(ctx context.Context, in *saBody[wire.PAKRequest]) (*body[smartlic.PAK], error) {
			return one(svc.DepositPAK(ctx, in.SA, in.Body.Input()))
		})
	handle(s, route{method: get, path: pak, id: "get-pak", summary: "Get a PAK with its lines, fulfillments and converted counts", tag: "conversion"},
		func(ctx context.Context, in *pakPath) (*body[smartlic.PAK], error) {
			return one(svc.GetPAK(ctx, in.SA, in.PAK))
		})
	handle(s, route{method: get, path: pak + "/conversions", id: "list-pak-conversions", summary: "What was converted of a PAK", tag: "conversion"},
		func(ctx context.Context, in *pakPath) (*body[wire.Items[smartlic.Conversion]], error) {
			return all(svc.ListConversions(ctx, in.SA, in.PAK))
		})
	handle(s, route{method: post, path: pak + "/convert", id: "convert-pak", summary: "Convert a PAK, or some of its units, into smart licenses in a Virtual Account (each unit at most once)", tag: "conversion"},
		func(ctx context.Context, in *pakBody[wire.ConvertRequest]) (*body[smartlic.ConversionResult], error) {
			return one(svc.ConvertPAK(ctx, in.SA, in.PAK, in.Body.Input()))
		})

	handle(s, route{method: post, path: "/device/v1/convert", id: "device-convert", summary: "Convert the classic licenses installed on an instance; answers a signed conversion", tag: "device", public: true,
		maxBody: MaxDeviceBodyBytes, errors: []int{http.StatusForbidden}},
		func(ctx context.Context, in *struct{ Body smartlic.Envelope }) (*body[smartlic.Envelope], error) {
			return one(svc.ConvertClassic(ctx, in.Body))
		})
}
