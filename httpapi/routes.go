package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

// Inputs. huma reads parameters from exported fields only, and an
// embedded struct of an unexported type is an unexported field, so each
// input spells its parameters out.

type licenseTypePath struct {
	LicenseType string `path:"license_type" doc:"License type id or tag"`
}

type productPath struct {
	Product string `path:"product" doc:"Product id or PID"`
}

type productBody[B any] struct {
	Product string `path:"product" doc:"Product id or PID"`
	Body    B
}

type saPath struct {
	SA string `path:"sa" doc:"Smart Account id or domain"`
}

type saBody[B any] struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	Body B
}

type saPage struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

type vaPath struct {
	SA string `path:"sa" doc:"Smart Account id or domain"`
	VA string `path:"va" doc:"Virtual Account id or name"`
}

type vaBody[B any] struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	VA   string `path:"va" doc:"Virtual Account id or name"`
	Body B
}

type vaPage struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	VA    string `path:"va" doc:"Virtual Account id or name"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

type poolsQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	VA     string `path:"va" doc:"Virtual Account id or name"`
	Rollup bool   `query:"rollup" doc:"Add up the Virtual Account and all its descendants"`
	Status string `query:"status" enum:"insufficient,expired,expiring,in_compliance,empty" doc:"Only rows with this status"`
	Q      string `query:"q" maxLength:"100" doc:"Only rows whose license tag or name contains this, ignoring case"`
	Sort   string `query:"sort" enum:"tag,status,available" default:"tag" doc:"Order: tag (A to Z), status (most severe first), available (fewest first, the largest overage leading); then by tag"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Rows per page"`
	After  string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page (of the same sort)"`
}

type tokenPath struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	VA    string `path:"va" doc:"Virtual Account id or name"`
	Token string `path:"token" doc:"Registration token id"`
}

type accountTokenPath struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	Token string `path:"token" doc:"Registration token id"`
}

type accountInstancePath struct {
	SA       string `path:"sa" doc:"Smart Account id or domain"`
	Instance string `path:"instance" doc:"Instance id or UDI (PID:SN)"`
}

type instancePath struct {
	SA       string `path:"sa" doc:"Smart Account id or domain"`
	VA       string `path:"va" doc:"Virtual Account id or name"`
	Instance string `path:"instance" doc:"Instance id or UDI (PID:SN)"`
}

type pageQuery struct {
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

// accountsQuery is the list of Smart Accounts' filter and page.
type accountsQuery struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After  string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
	Status string `query:"status" enum:"requested,active,denied" doc:"Only the accounts in this status"`
}

func (q accountsQuery) page() smartlic.Page { return smartlic.Page{Limit: q.Limit, After: q.After} }

func (q pageQuery) page() smartlic.Page { return smartlic.Page{Limit: q.Limit, After: q.After} }
func (q saPage) page() smartlic.Page    { return smartlic.Page{Limit: q.Limit, After: q.After} }
func (q vaPage) page() smartlic.Page    { return smartlic.Page{Limit: q.Limit, After: q.After} }

// Outputs.

type body[T any] struct{ Body T }

func one[T any](v T, err error) (*body[T], error) {
	if err != nil {
		return nil, err
	}
	return &body[T]{Body: v}, nil
}

func page[T any](items []T, next string, err error) (*body[wire.Page[T]], error) {
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []T{} // an empty page is [], not null
	}
	return &body[wire.Page[T]]{Body: wire.Page[T]{Items: items, Next: next}}, nil
}

func all[T any](items []T, err error) (*body[wire.Items[T]], error) {
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []T{}
	}
	return &body[wire.Items[T]]{Body: wire.Items[T]{Items: items}}, nil
}

func none(err error) (*struct{}, error) {
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

const (
	get   = http.MethodGet
	post  = http.MethodPost
	patch = http.MethodPatch
	del   = http.MethodDelete
)

func (s *Server) registerRoutes() {
	svc := s.svc

	handle(s, route{method: get, path: "/healthz", id: "health", summary: "Liveness check", tag: "health", public: true},
		func(ctx context.Context, _ *struct{}) (*body[wire.Health], error) {
			return &body[wire.Health]{Body: wire.Health{Status: "ok"}}, nil
		})

	// Catalogue.
	const lts, lt = "/api/v1/catalog/license-types", "/api/v1/catalog/license-types/{license_type}"
	handle(s, route{method: get, path: lts, id: "list-license-types", summary: "List license types", tag: "catalog"},
		func(ctx context.Context, in *pageQuery) (*body[wire.Page[smartlic.LicenseType]], error) {
			return page(svc.ListLicenseTypes(ctx, in.page()))
		})
	handle(s, route{method: post, path: lts, id: "create-license-type", summary: "Create a license type", tag: "catalog", status: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body wire.LicenseTypeRequest }) (*body[smartlic.LicenseType], error) {
			return one(svc.CreateLicenseType(ctx, in.Body.LicenseType()))
		})
	handle(s, route{method: get, path: lt, id: "get-license-type", summary: "Get a license type", tag: "catalog"},
		func(ctx context.Context, in *licenseTypePath) (*body[smartlic.LicenseType], error) {
			return one(svc.GetLicenseType(ctx, in.LicenseType))
		})
	handle(s, route{method: del, path: lt, id: "delete-license-type", summary: "Delete an unused license type", tag: "catalog", status: http.StatusNoContent},
		func(ctx context.Context, in *licenseTypePath) (*struct{}, error) {
			return none(svc.DeleteLicenseType(ctx, in.LicenseType))
		})

	const products, product = "/api/v1/catalog/products", "/api/v1/catalog/products/{product}"
	handle(s, route{method: get, path: products, id: "list-products", summary: "List products", tag: "catalog"},
		func(ctx context.Context, in *pageQuery) (*body[wire.Page[smartlic.Product]], error) {
			return page(svc.ListProducts(ctx, in.page()))
		})
	handle(s, route{method: post, path: products, id: "create-product", summary: "Create a product", tag: "catalog", status: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body wire.ProductRequest }) (*body[smartlic.Product], error) {
			return one(svc.CreateProduct(ctx, in.Body.Product()))
		})
	handle(s, route{method: get, path: product, id: "get-product", summary: "Get a product", tag: "catalog"},
		func(ctx context.Context, in *productPath) (*body[smartlic.Product], error) {
			return one(svc.GetProduct(ctx, in.Product))
		})
	handle(s, route{method: patch, path: product, id: "update-product", summary: "Update a product", tag: "catalog"},
		func(ctx context.Context, in *productBody[wire.ProductUpdate]) (*body[smartlic.Product], error) {
			return one(svc.UpdateProduct(ctx, in.Product, in.Body.Update()))
		})
	handle(s, route{method: del, path: product, id: "delete-product", summary: "Delete a product no instance uses", tag: "catalog", status: http.StatusNoContent},
		func(ctx context.Context, in *productPath) (*struct{}, error) {
			return none(svc.DeleteProduct(ctx, in.Product))
		})

	// Smart Accounts.
	const sas, sa = "/api/v1/accounts", "/api/v1/accounts/{sa}"
	handle(s, route{method: get, path: sas, id: "list-smart-accounts", summary: "List the Smart Accounts the caller can see", tag: "accounts"},
		func(ctx context.Context, in *accountsQuery) (*body[wire.Page[smartlic.SmartAccount]], error) {
			return page(svc.ListSmartAccounts(ctx, smartlic.SmartAccountFilter{Status: smartlic.SmartAccountStatus(in.Status)}, in.page()))
		})
	handle(s, route{method: post, path: sas, id: "create-smart-account", summary: "Create a Smart Account (with its DEFAULT Virtual Account)", tag: "accounts", status: http.StatusCreated},
		func(ctx context.Context, in *struct{ Body wire.SmartAccountRequest }) (*body[smartlic.SmartAccount], error) {
			return one(svc.CreateSmartAccount(ctx, in.Body.SmartAccount()))
		})
	handle(s, route{method: get, path: sa, id: "get-smart-account", summary: "Get a Smart Account", tag: "accounts"},
		func(ctx context.Context, in *saPath) (*body[smartlic.SmartAccount], error) {
			return one(svc.GetSmartAccount(ctx, in.SA))
		})
	handle(s, route{method: patch, path: sa, id: "update-smart-account", summary: "Update a Smart Account", tag: "accounts"},
		func(ctx context.Context, in *saBody[wire.SmartAccountUpdate]) (*body[smartlic.SmartAccount], error) {
			return one(svc.UpdateSmartAccount(ctx, in.SA, in.Body.Update()))
		})
	handle(s, route{method: post, path: sa + "/approve", id: "approve-smart-account", summary: "Approve a requested Smart Account", tag: "accounts"},
		func(ctx context.Context, in *saPath) (*body[smartlic.SmartAccount], error) {
			return one(svc.ApproveSmartAccount(ctx, in.SA))
		})
	handle(s, route{method: post, path: sa + "/deny", id: "deny-smart-account", summary: "Deny a requested Smart Account, with a reason recorded in its event log", tag: "accounts"},
		func(ctx context.Context, in *saBody[wire.DenyRequest]) (*body[smartlic.SmartAccount], error) {
			return one(svc.DenySmartAccount(ctx, in.SA, in.Body.Reason))
		})
	handle(s, route{method: get, path: sa + "/licenses", id: "list-account-licenses", summary: "License pools of the whole Smart Account, one row per license type, a page at a time", tag: "licenses"},
		func(ctx context.Context, in *accountPoolsQuery) (*body[smartlic.PoolPage], error) {
			return poolPage(svc.QueryPools(ctx, in.SA, "", false, in.query()))
		})

	// Virtual Accounts.
	const vas, va = sa + "/virtual-accounts", sa + "/virtual-accounts/{va}"
	handle(s, route{method: get, path: vas, id: "list-virtual-accounts", summary: "List Virtual Accounts", tag: "accounts"},
		func(ctx context.Context, in *saPage) (*body[wire.Page[smartlic.VirtualAccount]], error) {
			return page(svc.ListVirtualAccounts(ctx, in.SA, in.page()))
		})
	handle(s, route{method: post, path: vas, id: "create-virtual-account", summary: "Create a Virtual Account", tag: "accounts", status: http.StatusCreated, errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *saBody[wire.VirtualAccountRequest]) (*body[smartlic.VirtualAccount], error) {
			return one(svc.CreateVirtualAccount(ctx, in.SA, in.Body.Input()))
		})
	handle(s, route{method: get, path: va, id: "get-virtual-account", summary: "Get a Virtual Account", tag: "accounts"},
		func(ctx context.Context, in *vaPath) (*body[smartlic.VirtualAccount], error) {
			return one(svc.GetVirtualAccount(ctx, in.SA, in.VA))
		})
	handle(s, route{method: patch, path: va, id: "update-virtual-account", summary: "Rename and/or move a Virtual Account", tag: "accounts", errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *vaBody[wire.VirtualAccountUpdate]) (*body[smartlic.VirtualAccount], error) {
			return one(svc.UpdateVirtualAccount(ctx, in.SA, in.VA, in.Body.Update()))
		})
	handle(s, route{method: del, path: va, id: "delete-virtual-account", summary: "Delete an empty Virtual Account", tag: "accounts", status: http.StatusNoContent},
		func(ctx context.Context, in *vaPath) (*struct{}, error) {
			return none(svc.DeleteVirtualAccount(ctx, in.SA, in.VA))
		})

	// Deposits and pools.
	handle(s, route{method: get, path: va + "/deposits", id: "list-deposits", summary: "List a Virtual Account's deposits", tag: "licenses"},
		func(ctx context.Context, in *vaPage) (*body[wire.Page[smartlic.Deposit]], error) {
			return page(svc.ListDeposits(ctx, in.SA, in.VA, in.page()))
		})
	handle(s, route{method: post, path: va + "/deposits", id: "create-deposit", summary: "Deposit licenses into a Virtual Account", tag: "licenses", status: http.StatusCreated},
		func(ctx context.Context, in *vaBody[wire.DepositRequest]) (*body[smartlic.Deposit], error) {
			return one(svc.CreateDeposit(ctx, in.SA, in.VA, in.Body.Input()))
		})
	handle(s, route{method: get, path: va + "/licenses", id: "list-licenses", summary: "License pools of a Virtual Account, a page at a time", tag: "licenses"},
		func(ctx context.Context, in *poolsQuery) (*body[smartlic.PoolPage], error) {
			return poolPage(svc.QueryPools(ctx, in.SA, in.VA, in.Rollup, in.query()))
		})

	// Registration tokens.
	const tokens = va + "/tokens"
	handle(s, route{method: get, path: tokens, id: "list-tokens", summary: "List registration tokens", tag: "tokens"},
		func(ctx context.Context, in *vaPage) (*body[wire.Page[smartlic.Token]], error) {
			return page(svc.ListTokens(ctx, in.SA, in.VA, in.page()))
		})
	handle(s, route{method: post, path: tokens, id: "create-token", summary: "Create a registration token (its secret is in this answer only)", tag: "tokens", status: http.StatusCreated},
		func(ctx context.Context, in *vaBody[wire.TokenRequest]) (*body[smartlic.Token], error) {
			return one(svc.CreateToken(ctx, in.SA, in.VA, in.Body.Input()))
		})
	handle(s, route{method: get, path: tokens + "/{token}", id: "get-token", summary: "Get a registration token", tag: "tokens"},
		func(ctx context.Context, in *tokenPath) (*body[smartlic.Token], error) {
			return one(svc.GetToken(ctx, in.SA, in.VA, in.Token))
		})
	handle(s, route{method: post, path: tokens + "/{token}/revoke", id: "revoke-token", summary: "Revoke a registration token", tag: "tokens"},
		func(ctx context.Context, in *tokenPath) (*body[smartlic.Token], error) {
			return one(svc.RevokeToken(ctx, in.SA, in.VA, in.Token))
		})

	// A token's id is unique, so it is also found without its VA.
	handle(s, route{method: get, path: "/api/v1/accounts/{sa}/tokens/{token}", id: "get-account-token", summary: "Get a registration token of any Virtual Account of the Smart Account", tag: "tokens"},
		func(ctx context.Context, in *accountTokenPath) (*body[smartlic.Token], error) {
			return one(svc.GetToken(ctx, in.SA, "", in.Token))
		})
	handle(s, route{method: post, path: "/api/v1/accounts/{sa}/tokens/{token}/revoke", id: "revoke-account-token", summary: "Revoke a registration token of any Virtual Account of the Smart Account", tag: "tokens"},
		func(ctx context.Context, in *accountTokenPath) (*body[smartlic.Token], error) {
			return one(svc.RevokeToken(ctx, in.SA, "", in.Token))
		})

	// Product instances.
	const instances = va + "/instances"
	handle(s, route{method: get, path: instances, id: "list-instances", summary: "List registered product instances", tag: "instances"},
		func(ctx context.Context, in *vaPage) (*body[wire.Page[smartlic.Instance]], error) {
			return page(svc.ListInstances(ctx, in.SA, in.VA, in.page()))
		})
	handle(s, route{method: get, path: instances + "/{instance}", id: "get-instance", summary: "Get a product instance", tag: "instances"},
		func(ctx context.Context, in *instancePath) (*body[smartlic.Instance], error) {
			return one(svc.GetInstance(ctx, in.SA, in.VA, in.Instance))
		})
	handle(s, route{method: del, path: instances + "/{instance}", id: "remove-instance", summary: "Remove a product instance and return its licenses to the pool", tag: "instances", status: http.StatusNoContent},
		func(ctx context.Context, in *instancePath) (*struct{}, error) {
			return none(svc.RemoveInstance(ctx, in.SA, in.VA, in.Instance))
		})

	// An instance's id and UDI are unique, so it is also found without its VA.
	handle(s, route{method: get, path: "/api/v1/accounts/{sa}/instances/{instance}", id: "get-account-instance", summary: "Get a product instance of any Virtual Account of the Smart Account", tag: "instances"},
		func(ctx context.Context, in *accountInstancePath) (*body[smartlic.Instance], error) {
			return one(svc.GetInstance(ctx, in.SA, "", in.Instance))
		})
	handle(s, route{method: del, path: "/api/v1/accounts/{sa}/instances/{instance}", id: "remove-account-instance", summary: "Remove a product instance of any Virtual Account of the Smart Account", tag: "instances", status: http.StatusNoContent},
		func(ctx context.Context, in *accountInstancePath) (*struct{}, error) {
			return none(svc.RemoveInstance(ctx, in.SA, "", in.Instance))
		})

	// Device protocol: no API key; each request is an envelope signed by
	// the instance (or, to register, by its new key and a token).
	handle(s, route{method: get, path: "/device/v1/keys", id: "device-keys", summary: "The manager's signature verification keys", tag: "device", public: true},
		func(ctx context.Context, _ *struct{}) (*body[smartlic.PublicKeySet], error) {
			return one(svc.PublicKeys(ctx))
		})
	s.deviceRoute("register", "device-register", "Register an instance with a token; answers a signed ID certificate", nil, svc.Register)
	s.deviceRoute("authorize", "device-authorize", "Ask for authorization of usage; answers a signed authorization", nil, svc.Authorize)
	s.deviceRoute("renew", "device-renew", "Renew the ID certificate", nil, svc.RenewID)
	s.deviceRoute("deregister", "device-deregister", "Deregister the instance and release its licenses", nil, svc.Deregister)

	s.registerEventRoutes()
	s.registerUserRoutes()
	s.registerTransferRoutes()
	s.registerReportRoutes()
	s.registerHistoryRoutes()
	s.registerAlertRoutes()
	s.registerLicenseViewRoutes()
	s.registerConversionRoutes()
	s.registerSearchRoutes()
	s.registerDeviceAuthRoutes()
	s.registerPolicyRoutes()
	s.registerSLACRoutes()
	s.registerIdentityRoutes()
	s.registerUsageRoutes()
	s.registerReservationRoutes()
}
