package smartlic

import (
	"regexp"
	"strings"
	"time"
)

// MaxVADepth is how deep Virtual Accounts may nest: a top-level VA has depth
// 1, its child depth 2, and so on.
const MaxVADepth = 10

// DefaultVAName is the Virtual Account every Smart Account is created with.
const DefaultVAName = "DEFAULT"

// SmartAccountStatus is where a Smart Account is in its life.
type SmartAccountStatus string

const (
	SARequested SmartAccountStatus = "requested" // awaiting approval
	SAActive    SmartAccountStatus = "active"
	// SADenied is a request the vendor refused. The account is kept, not
	// deleted, so that its event log (which records the refusal and its
	// reason) stays verifiable and its domain cannot be requested again
	// behind the vendor's back; the vendor may still approve it later.
	SADenied SmartAccountStatus = "denied"
)

// ParseSmartAccountStatus checks a status given as a filter; empty is no filter.
func ParseSmartAccountStatus(field, s string) (SmartAccountStatus, error) {
	switch st := SmartAccountStatus(s); st {
	case "", SARequested, SAActive, SADenied:
		return st, nil
	}
	return "", Invalid(field, "must be %q, %q or %q", SARequested, SAActive, SADenied)
}

// SmartAccountFilter narrows a list of Smart Accounts.
type SmartAccountFilter struct {
	Status SmartAccountStatus // empty: every status
}

// MaxDenyReason bounds the reason a vendor gives for refusing a request.
const MaxDenyReason = 500

// SmartAccount is a customer organisation, identified by its domain.
type SmartAccount struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Domain     string             `json:"domain"`
	LimitedUse bool               `json:"limited_use"`
	Status     SmartAccountStatus `json:"status"`
	CreatedAt  time.Time          `json:"created_at"`
}

// VirtualAccount is a node in a Smart Account's tree; licenses are pooled per VA.
type VirtualAccount struct {
	ID             string    `json:"id"`
	SmartAccountID string    `json:"smart_account_id"`
	ParentID       string    `json:"parent_id,omitempty"` // empty for a top-level VA
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	Depth          int       `json:"depth"` // 1 for top-level
	CreatedAt      time.Time `json:"created_at"`
}

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// NormalizeDomain lower-cases a domain and checks its shape.
func NormalizeDomain(field, d string) (string, error) {
	d = strings.ToLower(strings.TrimSpace(d))
	if len(d) > 253 || !domainRE.MatchString(d) {
		return "", Invalid(field, "must be a DNS domain such as example.com (got %q)", d)
	}
	return d, nil
}

// Validate checks a Smart Account before it is stored.
func (sa SmartAccount) Validate() error {
	if err := ValidateName("name", sa.Name, 200); err != nil {
		return err
	}
	if _, err := NormalizeDomain("domain", sa.Domain); err != nil {
		return err
	}
	switch sa.Status {
	case SARequested, SAActive, SADenied:
	default:
		return Invalid("status", "must be %q, %q or %q", SARequested, SAActive, SADenied)
	}
	return nil
}

// VANameKey is what Virtual Account names are compared by: names that
// differ only in the case of ASCII letters ("Lab", "lab", "LAB") are the
// same name, so one of them cannot hide another in a lookup by name. Other
// letters compare exactly, as both databases' lower() on a binary
// collation fold only A-Z; the unique index on lower(name) is the
// guarantee, this is the same rule in Go.
func VANameKey(name string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, name)
}

// ValidateVAName checks a Virtual Account name. Names are unique within a
// Smart Account and may address a VA in URLs, so '/' is not allowed.
func ValidateVAName(field, name string) error {
	if err := ValidateName(field, name, 100); err != nil {
		return err
	}
	if strings.ContainsAny(name, "/?#%") {
		return Invalid(field, "must not contain '/', '?', '#' or '%%'")
	}
	if name == "." || name == ".." {
		// URL paths would resolve them away before routing.
		return Invalid(field, "must not be %q", name)
	}
	return nil
}
