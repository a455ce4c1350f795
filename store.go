package smartlic

import (
	"context"
	"strconv"
	"time"
)

// Page asks for one page of a list. Lists are ordered by id, and ids are
// time-ordered, so After is both a cursor and "created after".
type Page struct {
	Limit int    // 1..MaxPageLimit; 0 means DefaultPageLimit
	After string // id of the last item of the previous page
}

const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Normalize applies the default limit and checks the bounds, for a list
// ordered by id: After must be an id as this server issues them. A cursor
// of another shape would still compare with the ids (a page that starts
// anywhere, often at the beginning), so it is refused instead.
func (p Page) Normalize() (Page, error) {
	return p.normalize(ValidCursorID)
}

// NormalizeSeq is Normalize for a list ordered by sequence number (the
// event log): After must be a non-negative decimal number.
func (p Page) NormalizeSeq() (Page, error) {
	return p.normalize(func(s string) bool {
		n, err := strconv.ParseInt(s, 10, 64)
		return err == nil && n >= 0 && strconv.FormatInt(n, 10) == s
	})
}

func (p Page) normalize(valid func(string) bool) (Page, error) {
	if p.Limit == 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit < 1 || p.Limit > MaxPageLimit {
		return p, Invalid("limit", "must be between 1 and %d (got %d)", MaxPageLimit, p.Limit)
	}
	if p.After != "" && !valid(p.After) {
		return p, Invalid("after", "is not a cursor this server issued: pass the next value of the previous page")
	}
	return p, nil
}

// ValidCursorID reports whether s has the shape of the ids this server
// issues: a UUID in its canonical lower-case form. Ids are compared as
// strings, so an upper-case or braced spelling of the same UUID would
// compare differently and is refused too.
func ValidCursorID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// APIKey is an operator's key to the REST API. Only its hash is stored.
type APIKey struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Role       string     `json:"role"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// RoleOperator is the vendor operator: catalogue, orders, Smart Account approval.
const RoleOperator = "operator"

// SigningKey is one of the manager's Ed25519 keys. Keys carry ids so they
// can rotate; the newest active key signs. A rotated-out key keeps
// verifying until RetiresAt and is refused from then on.
type SigningKey struct {
	ID         string     `json:"kid"`
	Algorithm  string     `json:"alg"`
	PublicKey  []byte     `json:"public_key"`
	PrivateKey []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	RetiresAt  *time.Time `json:"retires_at,omitempty"`
}

// ActiveAt reports whether the key may still verify at now.
func (k SigningKey) ActiveAt(now time.Time) bool {
	return k.RetiresAt == nil || now.Before(*k.RetiresAt)
}

// Store persists the domain. Every change happens inside Write, which runs
// fn in one transaction: it commits when fn returns nil and rolls back
// otherwise, so a rejected request changes nothing. Write transactions are
// serialised per row touched (PostgreSQL) or globally (SQLite).
type Store interface {
	Read(ctx context.Context, fn func(Tx) error) error
	Write(ctx context.Context, fn func(Tx) error) error
	// WriteIn is Write for a write that appends to the event chain named
	// (a Smart Account's id, or "" when not known): PostgreSQL commits the
	// writes of one chain together, each still all or nothing on its own.
	WriteIn(ctx context.Context, chain string, fn func(Tx) error) error
	// Register is the registration's own write path (see Registrar), which
	// PostgreSQL batches per event chain.
	Registrar
	Close() error
}

// Tx is the set of storage primitives available inside a transaction.
// Methods return *Error with ENotFound for a missing row and EConflict for
// a unique violation (Field names the column's input).
type Tx interface {
	EventTx
	UserTx
	TransferTx
	ReportTx
	AlertTx
	ConversionTx
	DeviceRequestTx
	SearchTx
	DeviceAuthTx
	PolicyTx
	SLACTx
	IdentityTx
	UsageTx
	ReservationTx

	// Pipeline runs fn and may hold the writes fn makes that return
	// nothing but an error (usage lines, marks, reporting times, pool
	// moves, event appends) to send them together, in order, before the
	// next statement that is not held and when fn returns: on PostgreSQL
	// in one round trip. A held write's error is Pipeline's answer, not
	// its call's; what commits is what fn would have written without it.
	Pipeline(ctx context.Context, fn func() error) error

	// Signing keys.
	InsertSigningKey(ctx context.Context, k SigningKey) error
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKeys sets the retirement of every key but keep to at,
	// unless a key already retires earlier; it returns how many changed.
	RetireSigningKeys(ctx context.Context, keep string, at time.Time) (int, error)

	// API keys.
	InsertAPIKey(ctx context.Context, k APIKey) error
	GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// Catalogue. Get* accept an id or the natural key (tag, PID).
	InsertLicenseType(ctx context.Context, lt LicenseType) error
	GetLicenseType(ctx context.Context, idOrTag string) (LicenseType, error)
	ListLicenseTypes(ctx context.Context, p Page) ([]LicenseType, error)
	DeleteLicenseType(ctx context.Context, id string) error
	InsertProduct(ctx context.Context, p Product) error
	GetProduct(ctx context.Context, idOrPID string) (Product, error)
	ListProducts(ctx context.Context, p Page) ([]Product, error)
	UpdateProduct(ctx context.Context, p Product) error
	DeleteProduct(ctx context.Context, id string) error
	// LicenseTypeInUse reports whether any product, deposit or usage refers to it.
	LicenseTypeInUse(ctx context.Context, id string) (bool, error)
	// ProductInUse reports whether any instance refers to it.
	ProductInUse(ctx context.Context, id string) (bool, error)

	// Smart Accounts. GetSmartAccount accepts an id or the domain.
	InsertSmartAccount(ctx context.Context, sa SmartAccount) error
	GetSmartAccount(ctx context.Context, idOrDomain string) (SmartAccount, error)
	// ListSmartAccounts lists in id order; a non-empty status keeps only those.
	ListSmartAccounts(ctx context.Context, status SmartAccountStatus, p Page) ([]SmartAccount, error)
	UpdateSmartAccount(ctx context.Context, sa SmartAccount) error
	// LockSmartAccount serialises tree changes within one Smart Account
	// (SELECT … FOR UPDATE on PostgreSQL; SQLite writers are already serial).
	LockSmartAccount(ctx context.Context, id string) error

	// Virtual Accounts. GetVirtualAccount accepts an id or the name within the SA.
	InsertVirtualAccount(ctx context.Context, va VirtualAccount) error
	GetVirtualAccount(ctx context.Context, saID, idOrName string) (VirtualAccount, error)
	GetVirtualAccountByID(ctx context.Context, id string) (VirtualAccount, error)
	ListVirtualAccounts(ctx context.Context, saID string, p Page) ([]VirtualAccount, error)
	// AllVirtualAccounts returns the whole tree of a Smart Account (bounded
	// by the product's limits, so not paged).
	AllVirtualAccounts(ctx context.Context, saID string) ([]VirtualAccount, error)
	UpdateVirtualAccount(ctx context.Context, va VirtualAccount) error
	DeleteVirtualAccount(ctx context.Context, id string) error
	// VirtualAccountContents counts what keeps a VA from being deleted:
	// children, deposits, instances and tokens still usable at now.
	VirtualAccountContents(ctx context.Context, id string, now time.Time) (VAContents, error)

	// Deposits.
	InsertDeposit(ctx context.Context, d Deposit) error
	ListDeposits(ctx context.Context, vaID string, p Page) ([]Deposit, error)
	// DepositsOf returns every deposit of the given VAs (for pool views).
	DepositsOf(ctx context.Context, vaIDs []string) ([]Deposit, error)

	// Pools: maintained in-use counters.
	// AddInUse moves a pool's in-use counter by delta and records the
	// count after the change in the pool's history, dated at.
	AddInUse(ctx context.Context, vaID, licenseTypeID string, delta int64, at time.Time) error
	// AddInUseAll is AddInUse of many pools, each named once, in a few
	// statements whatever their number.
	AddInUseAll(ctx context.Context, moves []PoolMove) error
	PoolCountersOf(ctx context.Context, vaIDs []string) ([]PoolCounter, error)
	// PoolStateOf returns the deposits and counters of one VA's pools of
	// the given license types only: what a change to those pools is
	// checked against, at a cost that does not grow with the VA's other
	// license types.
	PoolStateOf(ctx context.Context, vaID string, typeIDs []string) ([]Deposit, []PoolCounter, error)
	// LicenseTypesOf returns the license types with a counter or a deposit
	// in any of the given VAs, in a number of queries that does not grow
	// with the license types.
	LicenseTypesOf(ctx context.Context, vaIDs []string) ([]LicenseType, error)

	// Tokens.
	InsertToken(ctx context.Context, t Token) error
	GetToken(ctx context.Context, id string) (Token, error)
	GetTokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context, vaID string, p Page) ([]Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// ConsumeToken adds one use to the token with this hash if it is not
	// revoked, not expired at now and not used up, in one statement. ok is
	// false when no row qualified; the caller then reads the token to say why.
	ConsumeToken(ctx context.Context, hash string, now time.Time) (t Token, ok bool, err error)

	// Instances.
	InsertInstance(ctx context.Context, i Instance) error
	GetInstance(ctx context.Context, id string) (Instance, error)
	// GetInstances reads many instances by id, in id order, leaving out
	// those not found; with lock, their rows are locked as LockInstance
	// locks one.
	GetInstances(ctx context.Context, ids []string, lock bool) ([]Instance, error)
	GetInstanceByUDI(ctx context.Context, udi UDI) (Instance, error)
	ListInstances(ctx context.Context, vaID string, p Page) ([]Instance, error)
	// UpdateInstance writes everything but the usage lines.
	UpdateInstance(ctx context.Context, i Instance) error
	// UpdateReporting writes only what reporting under Using Policy
	// changes: hostname, public key, trust and reporting times.
	UpdateReporting(ctx context.Context, i Instance) error
	// SetUsage replaces the usage lines of an instance.
	SetUsage(ctx context.Context, instanceID string, usage []Usage) error
	DeleteInstance(ctx context.Context, id string) error
}

// VAContents is what a Virtual Account holds.
type VAContents struct {
	Children  int64 `json:"children"`
	Deposits  int64 `json:"deposits"`
	Tokens    int64 `json:"active_tokens"`
	Instances int64 `json:"instances"`
}

// Empty reports whether the VA holds nothing.
func (c VAContents) Empty() bool {
	return c.Children == 0 && c.Deposits == 0 && c.Tokens == 0 && c.Instances == 0
}
