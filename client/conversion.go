package client

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.ConversionService = (*Client)(nil)

const (
	classicSKUs = "api/v1/catalog/classic-skus"
	paks        = "paks"
)

func pak(v string) segment { return segment{"pak", v} }

// Classic SKUs.

func (c *Client) CreateClassicSKU(ctx context.Context, in smartlic.ClassicSKUInput) (smartlic.ClassicSKU, error) {
	return send[smartlic.ClassicSKU](ctx, c, http.MethodPost, wire.FromClassicSKUInput(in), classicSKUs)
}

func (c *Client) GetClassicSKU(ctx context.Context, key string) (smartlic.ClassicSKU, error) {
	return get[smartlic.ClassicSKU](ctx, c, classicSKUs, segment{"classic_sku", key})
}

func (c *Client) ListClassicSKUs(ctx context.Context, p smartlic.Page) ([]smartlic.ClassicSKU, string, error) {
	return list[smartlic.ClassicSKU](ctx, c, p, classicSKUs)
}

func (c *Client) DeleteClassicSKU(ctx context.Context, key string) error {
	return c.remove(ctx, classicSKUs, segment{"classic_sku", key})
}

// PAKs and their conversion.

func (c *Client) DepositPAK(ctx context.Context, saKey string, in smartlic.PAKInput) (smartlic.PAK, error) {
	return send[smartlic.PAK](ctx, c, http.MethodPost, wire.FromPAKInput(in), accounts, sa(saKey), paks)
}

func (c *Client) GetPAK(ctx context.Context, saKey, pakKey string) (smartlic.PAK, error) {
	return get[smartlic.PAK](ctx, c, accounts, sa(saKey), paks, pak(pakKey))
}

func (c *Client) ListPAKs(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.PAK, string, error) {
	return list[smartlic.PAK](ctx, c, p, accounts, sa(saKey), paks)
}

func (c *Client) ConvertPAK(ctx context.Context, saKey, pakKey string, in smartlic.ConvertInput) (smartlic.ConversionResult, error) {
	return send[smartlic.ConversionResult](ctx, c, http.MethodPost, wire.FromConvertInput(in), accounts, sa(saKey), paks, pak(pakKey), "convert")
}

func (c *Client) ListConversions(ctx context.Context, saKey, pakKey string) ([]smartlic.Conversion, error) {
	v, err := get[wire.Items[smartlic.Conversion]](ctx, c, accounts, sa(saKey), paks, pak(pakKey), "conversions")
	return v.Items, err
}

// ConvertClassic sends a signed convert request; it needs no API key.
func (c *Client) ConvertClassic(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "convert", req)
}
