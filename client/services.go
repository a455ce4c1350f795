package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

const (
	licenseTypes = "api/v1/catalog/license-types"
	products     = "api/v1/catalog/products"
	accounts     = "api/v1/accounts"
	vas          = "virtual-accounts"
)

func sa(v string) segment { return segment{"sa", v} }
func va(v string) segment { return segment{"va", v} }

// Catalogue.

func (c *Client) CreateLicenseType(ctx context.Context, lt smartlic.LicenseType) (smartlic.LicenseType, error) {
	return send[smartlic.LicenseType](ctx, c, http.MethodPost, wire.FromLicenseType(lt), licenseTypes)
}

func (c *Client) GetLicenseType(ctx context.Context, idOrTag string) (smartlic.LicenseType, error) {
	return get[smartlic.LicenseType](ctx, c, licenseTypes, segment{"license_type", idOrTag})
}

func (c *Client) ListLicenseTypes(ctx context.Context, p smartlic.Page) ([]smartlic.LicenseType, string, error) {
	return list[smartlic.LicenseType](ctx, c, p, licenseTypes)
}

func (c *Client) DeleteLicenseType(ctx context.Context, idOrTag string) error {
	return c.remove(ctx, licenseTypes, segment{"license_type", idOrTag})
}

func (c *Client) CreateProduct(ctx context.Context, p smartlic.Product) (smartlic.Product, error) {
	return send[smartlic.Product](ctx, c, http.MethodPost, wire.FromProduct(p), products)
}

func (c *Client) GetProduct(ctx context.Context, idOrPID string) (smartlic.Product, error) {
	return get[smartlic.Product](ctx, c, products, segment{"product", idOrPID})
}

func (c *Client) ListProducts(ctx context.Context, p smartlic.Page) ([]smartlic.Product, string, error) {
	return list[smartlic.Product](ctx, c, p, products)
}

func (c *Client) UpdateProduct(ctx context.Context, idOrPID string, u smartlic.ProductUpdate) (smartlic.Product, error) {
	return send[smartlic.Product](ctx, c, http.MethodPatch, wire.FromProductUpdate(u), products, segment{"product", idOrPID})
}

func (c *Client) DeleteProduct(ctx context.Context, idOrPID string) error {
	return c.remove(ctx, products, segment{"product", idOrPID})
}

// Smart and Virtual Accounts.

// CreateSmartAccount asks for a Smart Account; with sa.Status set to
// smartlic.SAActive it is created approved (the server checks the caller
// may approve).
func (c *Client) CreateSmartAccount(ctx context.Context, in smartlic.SmartAccount) (smartlic.SmartAccount, error) {
	return send[smartlic.SmartAccount](ctx, c, http.MethodPost, wire.FromSmartAccount(in), accounts)
}

func (c *Client) GetSmartAccount(ctx context.Context, key string) (smartlic.SmartAccount, error) {
	return get[smartlic.SmartAccount](ctx, c, accounts, sa(key))
}

func (c *Client) ListSmartAccounts(ctx context.Context, f smartlic.SmartAccountFilter, p smartlic.Page) ([]smartlic.SmartAccount, string, error) {
	var v wire.Page[smartlic.SmartAccount]
	q := pageQuery(p)
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, accounts)
	return v.Items, v.Next, err
}

func (c *Client) UpdateSmartAccount(ctx context.Context, key string, u smartlic.SmartAccountUpdate) (smartlic.SmartAccount, error) {
	return send[smartlic.SmartAccount](ctx, c, http.MethodPatch, wire.FromSmartAccountUpdate(u), accounts, sa(key))
}

func (c *Client) ApproveSmartAccount(ctx context.Context, key string) (smartlic.SmartAccount, error) {
	return send[smartlic.SmartAccount](ctx, c, http.MethodPost, nil, accounts, sa(key), "approve")
}

func (c *Client) DenySmartAccount(ctx context.Context, key, reason string) (smartlic.SmartAccount, error) {
	return send[smartlic.SmartAccount](ctx, c, http.MethodPost, wire.DenyRequest{Reason: reason}, accounts, sa(key), "deny")
}

func (c *Client) CreateVirtualAccount(ctx context.Context, saKey string, in smartlic.VirtualAccountInput) (smartlic.VirtualAccount, error) {
	return send[smartlic.VirtualAccount](ctx, c, http.MethodPost, wire.FromVirtualAccountInput(in), accounts, sa(saKey), vas)
}

func (c *Client) GetVirtualAccount(ctx context.Context, saKey, vaKey string) (smartlic.VirtualAccount, error) {
	return get[smartlic.VirtualAccount](ctx, c, accounts, sa(saKey), vas, va(vaKey))
}

func (c *Client) ListVirtualAccounts(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.VirtualAccount, string, error) {
	return list[smartlic.VirtualAccount](ctx, c, p, accounts, sa(saKey), vas)
}

func (c *Client) UpdateVirtualAccount(ctx context.Context, saKey, vaKey string, u smartlic.VirtualAccountUpdate) (smartlic.VirtualAccount, error) {
	return send[smartlic.VirtualAccount](ctx, c, http.MethodPatch, wire.FromVirtualAccountUpdate(u), accounts, sa(saKey), vas, va(vaKey))
}

func (c *Client) DeleteVirtualAccount(ctx context.Context, saKey, vaKey string) error {
	return c.remove(ctx, accounts, sa(saKey), vas, va(vaKey))
}

// Deposits and pools.

func (c *Client) CreateDeposit(ctx context.Context, saKey, vaKey string, in smartlic.DepositInput) (smartlic.Deposit, error) {
	return send[smartlic.Deposit](ctx, c, http.MethodPost, wire.FromDepositInput(in), accounts, sa(saKey), vas, va(vaKey), "deposits")
}

func (c *Client) ListDeposits(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Deposit, string, error) {
	return list[smartlic.Deposit](ctx, c, p, accounts, sa(saKey), vas, va(vaKey), "deposits")
}

// ListPools reads every row of a VA's license view, a page of
// MaxPageLimit at a time; QueryPools reads one page.
func (c *Client) ListPools(ctx context.Context, saKey, vaKey string, rollup bool) ([]smartlic.Pool, error) {
	return c.allPools(ctx, saKey, vaKey, rollup)
}

// ListAccountPools reads every row of the Smart Account's license view.
func (c *Client) ListAccountPools(ctx context.Context, saKey string) ([]smartlic.Pool, error) {
	return c.allPools(ctx, saKey, "", false)
}

func (c *Client) allPools(ctx context.Context, saKey, vaKey string, rollup bool) ([]smartlic.Pool, error) {
	out := []smartlic.Pool{}
	q := smartlic.PoolQuery{Limit: smartlic.MaxPageLimit}
	for {
		p, err := c.QueryPools(ctx, saKey, vaKey, rollup, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		q.After = p.Next
	}
}

// QueryPools reads one page of a license view: the Smart Account's when
// vaKey is empty, else the VA's (rolled up with rollup).
func (c *Client) QueryPools(ctx context.Context, saKey, vaKey string, rollup bool, q smartlic.PoolQuery) (smartlic.PoolPage, error) {
	var v smartlic.PoolPage
	vals := url.Values{}
	set := func(k, v string) {
		if v != "" {
			vals.Set(k, v)
		}
	}
	set("status", string(q.Status))
	set("q", q.Search)
	set("sort", string(q.Sort))
	set("after", q.After)
	if q.Limit != 0 {
		vals.Set("limit", strconv.Itoa(q.Limit))
	}
	parts := []any{accounts, sa(saKey)}
	if vaKey != "" {
		parts = append(parts, vas, va(vaKey))
		vals.Set("rollup", strconv.FormatBool(rollup))
	}
	parts = append(parts, "licenses")
	err := c.call(ctx, http.MethodGet, request{query: vals, out: &v}, parts...)
	return v, err
}

// SummarizePools counts the rows of a license view by status.
func (c *Client) SummarizePools(ctx context.Context, saKey, vaKey string, rollup bool) (smartlic.PoolSummary, error) {
	var v smartlic.PoolSummary
	parts := []any{accounts, sa(saKey)}
	vals := url.Values{}
	if vaKey != "" {
		parts = append(parts, vas, va(vaKey))
		vals.Set("rollup", strconv.FormatBool(rollup))
	}
	parts = append(parts, "licenses", "summary")
	err := c.call(ctx, http.MethodGet, request{query: vals, out: &v}, parts...)
	return v, err
}

// Registration tokens.

func (c *Client) CreateToken(ctx context.Context, saKey, vaKey string, in smartlic.TokenInput) (smartlic.Token, error) {
	return send[smartlic.Token](ctx, c, http.MethodPost, wire.FromTokenInput(in), accounts, sa(saKey), vas, va(vaKey), "tokens")
}

// GetToken reads a registration token of the VA vaKey; with an empty
// vaKey, of whichever VA of the Smart Account holds it.
func (c *Client) GetToken(ctx context.Context, saKey, vaKey, id string) (smartlic.Token, error) {
	if vaKey == "" {
		return get[smartlic.Token](ctx, c, accounts, sa(saKey), "tokens", segment{"token", id})
	}
	return get[smartlic.Token](ctx, c, accounts, sa(saKey), vas, va(vaKey), "tokens", segment{"token", id})
}

func (c *Client) ListTokens(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Token, string, error) {
	return list[smartlic.Token](ctx, c, p, accounts, sa(saKey), vas, va(vaKey), "tokens")
}

// RevokeToken revokes a registration token of the VA vaKey; with an empty
// vaKey, of whichever VA of the Smart Account holds it.
func (c *Client) RevokeToken(ctx context.Context, saKey, vaKey, id string) (smartlic.Token, error) {
	if vaKey == "" {
		return send[smartlic.Token](ctx, c, http.MethodPost, nil, accounts, sa(saKey), "tokens", segment{"token", id}, "revoke")
	}
	return send[smartlic.Token](ctx, c, http.MethodPost, nil, accounts, sa(saKey), vas, va(vaKey), "tokens", segment{"token", id}, "revoke")
}

// Product instances.

func (c *Client) ListInstances(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Instance, string, error) {
	return list[smartlic.Instance](ctx, c, p, accounts, sa(saKey), vas, va(vaKey), "instances")
}

// GetInstance gets a product instance (by id or PID:SN) of the VA vaKey;
// with an empty vaKey, of whichever VA of the Smart Account holds it.
func (c *Client) GetInstance(ctx context.Context, saKey, vaKey, instance string) (smartlic.Instance, error) {
	if vaKey == "" {
		return get[smartlic.Instance](ctx, c, accounts, sa(saKey), "instances", segment{"instance", instance})
	}
	return get[smartlic.Instance](ctx, c, accounts, sa(saKey), vas, va(vaKey), "instances", segment{"instance", instance})
}

// RemoveInstance removes a product instance of the VA vaKey; with an
// empty vaKey, of whichever VA of the Smart Account holds it.
func (c *Client) RemoveInstance(ctx context.Context, saKey, vaKey, instance string) error {
	if vaKey == "" {
		return c.remove(ctx, accounts, sa(saKey), "instances", segment{"instance", instance})
	}
	return c.remove(ctx, accounts, sa(saKey), vas, va(vaKey), "instances", segment{"instance", instance})
}

// Device protocol. These send no API key.

func (c *Client) device(ctx context.Context, verb string, req smartlic.Envelope) (smartlic.Envelope, error) {
	var env smartlic.Envelope
	err := c.do(ctx, request{method: http.MethodPost, path: "/device/v1/" + verb, in: req, out: &env, public: true})
	return env, err
}

func (c *Client) Register(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "register", req)
}

func (c *Client) Authorize(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "authorize", req)
}

func (c *Client) RenewID(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "renew", req)
}

func (c *Client) Deregister(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "deregister", req)
}

func (c *Client) PublicKeys(ctx context.Context) (smartlic.PublicKeySet, error) {
	var ks smartlic.PublicKeySet
	err := c.do(ctx, request{method: http.MethodGet, path: "/device/v1/keys", out: &ks, public: true})
	return ks, err
}
