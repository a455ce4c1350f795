package smartlic

import (
	"context"
	"time"
)

// The services below are what the REST API exposes. The manager implements
// them over a Store; the HTTP client implements them over the network, so
// the CLI and tests drive either the same way. Smart Accounts are addressed
// by id or domain, Virtual Accounts by id or name within their SA, catalogue
// entries by id or natural key (tag, PID). List methods return the cursor of
// the next page, "" on the last.

// CatalogService manages the vendor catalogue.
type CatalogService interface {
	CreateLicenseType(ctx context.Context, lt LicenseType) (LicenseType, error)
	GetLicenseType(ctx context.Context, idOrTag string) (LicenseType, error)
	ListLicenseTypes(ctx context.Context, p Page) ([]LicenseType, string, error)
	DeleteLicenseType(ctx context.Context, idOrTag string) error
	CreateProduct(ctx context.Context, p Product) (Product, error)
	GetProduct(ctx context.Context, idOrPID string) (Product, error)
	ListProducts(ctx context.Context, p Page) ([]Product, string, error)
	UpdateProduct(ctx context.Context, idOrPID string, u ProductUpdate) (Product, error)
	DeleteProduct(ctx context.Context, idOrPID string) error
}

// ProductUpdate changes the fields that are set.
type ProductUpdate struct {
	Name         *string   `json:"name,omitempty"`
	Description  *string   `json:"description,omitempty"`
	LicenseTypes *[]string `json:"license_types,omitempty"`
}

// AccountService manages Smart and Virtual Accounts.
type AccountService interface {
	// CreateSmartAccount creates an SA in status requested (or active when
	// sa.Status says so and the caller may approve) with its DEFAULT VA.
	CreateSmartAccount(ctx context.Context, sa SmartAccount) (SmartAccount, error)
	GetSmartAccount(ctx context.Context, sa string) (SmartAccount, error)
	ListSmartAccounts(ctx context.Context, f SmartAccountFilter, p Page) ([]SmartAccount, string, error)
	UpdateSmartAccount(ctx context.Context, sa string, u SmartAccountUpdate) (SmartAccount, error)
	// ApproveSmartAccount activates a requested (or an earlier denied) SA.
	ApproveSmartAccount(ctx context.Context, sa string) (SmartAccount, error)
	// DenySmartAccount refuses a requested SA, recording the reason in its
	// event log.
	DenySmartAccount(ctx context.Context, sa, reason string) (SmartAccount, error)

	CreateVirtualAccount(ctx context.Context, sa string, in VirtualAccountInput) (VirtualAccount, error)
	GetVirtualAccount(ctx context.Context, sa, va string) (VirtualAccount, error)
	ListVirtualAccounts(ctx context.Context, sa string, p Page) ([]VirtualAccount, string, error)
	// UpdateVirtualAccount renames and/or moves a VA; moving refuses cycles
	// and keeps every descendant within MaxVADepth.
	UpdateVirtualAccount(ctx context.Context, sa, va string, u VirtualAccountUpdate) (VirtualAccount, error)
	// DeleteVirtualAccount deletes an empty VA (no children, deposits,
	// instances or active tokens). DEFAULT cannot be deleted.
	DeleteVirtualAccount(ctx context.Context, sa, va string) error
}

// SmartAccountUpdate changes the fields that are set.
type SmartAccountUpdate struct {
	Name       *string `json:"name,omitempty"`
	LimitedUse *bool   `json:"limited_use,omitempty"`
}

// VirtualAccountInput creates a VA; Parent (id or name) is empty for a
// top-level VA.
type VirtualAccountInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Parent      string `json:"parent,omitempty"`
}

// VirtualAccountUpdate changes the fields that are set. Parent set to ""
// moves the VA to the top level.
type VirtualAccountUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Parent      *string `json:"parent,omitempty"`
}

// LicenseService manages deposits and shows pools.
type LicenseService interface {
	CreateDeposit(ctx context.Context, sa, va string, in DepositInput) (Deposit, error)
	ListDeposits(ctx context.Context, sa, va string, p Page) ([]Deposit, string, error)
	// ListPools shows the VA's pools; with rollup, the VA and all its
	// descendants added up.
	ListPools(ctx context.Context, sa, va string, rollup bool) ([]Pool, error)
	// ListAccountPools shows the whole Smart Account, one row per license type.
	ListAccountPools(ctx context.Context, sa string) ([]Pool, error)
	// QueryPools shows one page of a license view: the whole Smart Account
	// when va is empty, else the VA's (rolled up with rollup), filtered,
	// ordered and paged by q.
	QueryPools(ctx context.Context, sa, va string, rollup bool, q PoolQuery) (PoolPage, error)
	// SummarizePools counts the rows of the same view by status.
	SummarizePools(ctx context.Context, sa, va string, rollup bool) (PoolSummary, error)
}

// DepositInput is licenses entering a VA. StartsAt defaults to now;
// EndsAt is required for subscription license types and refused for
// perpetual ones.
type DepositInput struct {
	OrderNumber string     `json:"order_number"`
	License     string     `json:"license"` // license type tag or id
	Quantity    int64      `json:"quantity"`
	StartsAt    *time.Time `json:"starts_at,omitempty"`
	EndsAt      *time.Time `json:"ends_at,omitempty"`
}

// TokenService manages registration tokens.
type TokenService interface {
	CreateToken(ctx context.Context, sa, va string, in TokenInput) (Token, error)
	GetToken(ctx context.Context, sa, va, id string) (Token, error)
	ListTokens(ctx context.Context, sa, va string, p Page) ([]Token, string, error)
	RevokeToken(ctx context.Context, sa, va, id string) (Token, error)
}

// TokenInput creates a token.
type TokenInput struct {
	Description   string `json:"description"`
	ExpiresInDays int    `json:"expires_in_days"` // 1..365
	// ExpiresInMinutes, instead of ExpiresInDays, gives a short life for
	// tests and demonstrations (1..525600, at most the 365 days).
	ExpiresInMinutes      int    `json:"expires_in_minutes,omitempty"`
	MaxUses               *int64 `json:"max_uses,omitempty"`
	AllowExportControlled bool   `json:"allow_export_controlled"`
}

// InstanceService shows and removes product instances.
type InstanceService interface {
	ListInstances(ctx context.Context, sa, va string, p Page) ([]Instance, string, error)
	// GetInstance finds an instance by id or UDI.
	GetInstance(ctx context.Context, sa, va, instance string) (Instance, error)
	// RemoveInstance deletes the instance and returns its usage to the pool.
	RemoveInstance(ctx context.Context, sa, va, instance string) error
}

// DeviceService is the manager's side of the classic registration
// protocol. Every request is a signed envelope; so is every answer.
type DeviceService interface {
	Register(ctx context.Context, req Envelope) (Envelope, error)
	Authorize(ctx context.Context, req Envelope) (Envelope, error)
	RenewID(ctx context.Context, req Envelope) (Envelope, error)
	Deregister(ctx context.Context, req Envelope) (Envelope, error)
	PublicKeys(ctx context.Context) (PublicKeySet, error)
}

// AuthService turns credentials into an Actor.
type AuthService interface {
	Authenticate(ctx context.Context, apiKey string) (Actor, error)
	// CreateOperator makes an operator API key and returns its secret once.
	CreateOperator(ctx context.Context, email string) (APIKey, string, error)
}

// Actor is who is making a request.
type Actor struct {
	KeyID  string   `json:"key_id"` // the key, token or session that authenticated
	Email  string   `json:"email"`
	Role   string   `json:"role"`              // RoleOperator for the vendor; "user" or a client's role otherwise
	UserID string   `json:"user_id,omitempty"` // set for user keys and sessions
	Kind   string   `json:"kind,omitempty"`    // ActorOperatorKey, ActorUserKey, ActorSession, ActorOAuthClient
	Client string   `json:"client,omitempty"`  // OAuthClient.ID for OAuth tokens
	Scopes []string `json:"scopes,omitempty"`  // OAuth token scopes
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves, so
// the event log can tie a change to the request that made it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id in ctx, "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
