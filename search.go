package smartlic

import (
	"context"
	"strings"
	"unicode/utf8"
)

// Search limits: a query shorter than MinSearchLen would match most of an
// estate, and each kind of result is cut at the limit asked for (at most
// MaxSearchLimit) rather than paged, except a search of one kind.
const (
	MinSearchLen       = 2
	MaxSearchLen       = 100
	DefaultSearchLimit = 20
	MaxSearchLimit     = 200
)

// Kinds of search results.
const (
	SearchInstances = "instances"
	SearchTokens    = "tokens"
	SearchDeposits  = "deposits"
)

// SearchQuery finds what people know of their estate: a UDI (PID:SN), a
// serial number, a host name or a PID find product instances; a
// description finds registration tokens; an order number finds deposits.
// Matching is a case-insensitive substring.
type SearchQuery struct {
	Q string `json:"q"`
	// SA narrows the search to one Smart Account (id or domain); empty
	// searches every account the caller can see.
	SA string `json:"sa,omitempty"`
	// VA narrows it to one Virtual Account of SA, and with Rollup to the
	// VA and every VA below it. With VA set, Q may be empty: the search is
	// then the VA's listing.
	VA     string `json:"va,omitempty"`
	Rollup bool   `json:"rollup,omitempty"`
	// License narrows instances to those using this license type (tag or
	// id); Q may then be empty. Tokens and deposits are not searched.
	License string `json:"license,omitempty"`
	// Kind is one of SearchInstances, SearchTokens, SearchDeposits, or
	// empty for all three. Only a search of one kind pages (After, Next).
	Kind  string `json:"kind,omitempty"`
	Limit int    `json:"limit,omitempty"`
	After string `json:"after,omitempty"`
}

// Normalize trims Q and checks the query's shape.
func (q SearchQuery) Normalize() (SearchQuery, error) {
	q.Q = strings.TrimSpace(q.Q)
	switch n := utf8.RuneCountInString(q.Q); {
	case n == 0 && q.VA == "" && q.License == "":
		return q, Invalid("q", "is required")
	case n > 0 && n < MinSearchLen:
		return q, Invalid("q", "must be at least %d characters", MinSearchLen)
	case n > MaxSearchLen:
		return q, Invalid("q", "must be at most %d characters", MaxSearchLen)
	}
	if q.VA != "" && q.SA == "" {
		return q, Invalid("sa", "is required with va")
	}
	if q.Rollup && q.VA == "" {
		return q, Invalid("rollup", "needs va")
	}
	switch q.Kind {
	case "", SearchInstances, SearchTokens, SearchDeposits:
	default:
		return q, Invalid("kind", "must be %s, %s or %s (got %q)", SearchInstances, SearchTokens, SearchDeposits, q.Kind)
	}
	if q.License != "" {
		if q.Kind != "" && q.Kind != SearchInstances {
			return q, Invalid("kind", "must be %s with license", SearchInstances)
		}
		q.Kind = SearchInstances
	}
	if q.After != "" && q.Kind == "" {
		return q, Invalid("after", "needs kind: only a search of one kind pages")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultSearchLimit
	case q.Limit < 0 || q.Limit > MaxSearchLimit:
		return q, Invalid("limit", "must be 1 to %d (got %d)", MaxSearchLimit, q.Limit)
	}
	return q, nil
}

// Where is the Smart and Virtual Account a search result lives in, named
// for people and for links.
type Where struct {
	SmartAccountID   string `json:"smart_account_id"`
	SmartAccount     string `json:"smart_account"` // domain
	VirtualAccountID string `json:"virtual_account_id"`
	VirtualAccount   string `json:"virtual_account"` // name
}

// InstanceHit is a product instance a search found.
type InstanceHit struct {
	Where
	Instance Instance `json:"instance"`
}

// TokenHit is a registration token a search found (never its secret).
type TokenHit struct {
	Where
	Token Token `json:"token"`
}

// DepositHit is a deposit a search found.
type DepositHit struct {
	Where
	Deposit Deposit `json:"deposit"`
}

// SearchResults are the matches of each kind, in id order. More is set on
// a kind cut at the limit; Next is the cursor of the following page of a
// search of one kind.
type SearchResults struct {
	Instances     []InstanceHit `json:"instances"`
	Tokens        []TokenHit    `json:"tokens"`
	Deposits      []DepositHit  `json:"deposits"`
	MoreInstances bool          `json:"more_instances,omitempty"`
	MoreTokens    bool          `json:"more_tokens,omitempty"`
	MoreDeposits  bool          `json:"more_deposits,omitempty"`
	Next          string        `json:"next,omitempty"`
}

// SearchService finds instances, tokens and deposits across the Smart
// Accounts the caller can see, only in the Virtual Accounts whose
// licensing the caller may view.
type SearchService interface {
	Search(ctx context.Context, q SearchQuery) (SearchResults, error)
}

// SearchScope is where a store search looks: the Virtual Accounts VAIDs,
// or every account when All is set (the vendor operator).
type SearchScope struct {
	VAIDs []string
	All   bool
	// LicenseTypeID, when set, keeps the instances using it.
	LicenseTypeID string
}

// SearchTx is the storage of search. Text is lower case and matches a
// substring; each method returns up to limit rows with id > after, in id
// order, only within scope (an index on va_id narrows it).
type SearchTx interface {
	SearchInstances(ctx context.Context, scope SearchScope, text, after string, limit int) ([]Instance, error)
	SearchTokens(ctx context.Context, scope SearchScope, text, after string, limit int) ([]Token, error)
	SearchDeposits(ctx context.Context, scope SearchScope, text, after string, limit int) ([]Deposit, error)
}
