package smartlic

import (
	"strings"
	"time"
)

// Term says whether a license runs forever or for a subscription window.
type Term string

const (
	TermPerpetual    Term = "perpetual"
	TermSubscription Term = "subscription"
)

// Enforcement says what happens when a license type is over-consumed or
// used without special authorization.
type Enforcement string

const (
	// Unenforced licenses may be over-consumed; the overage is shown and
	// reconciled later (true-up), never blocked.
	Unenforced Enforcement = "unenforced"
	// Enforced licenses are refused to an instance once the pool is empty.
	Enforced Enforcement = "enforced"
	// ExportControlled licenses need a token that allows export-controlled
	// functionality; they are otherwise enforced.
	ExportControlled Enforcement = "export_controlled"
)

// LicenseType is an entitlement the vendor sells, identified on the wire by
// its tag (e.g. "network-advantage").
type LicenseType struct {
	ID          string      `json:"id"`
	Tag         string      `json:"tag"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Term        Term        `json:"term"`
	Enforcement Enforcement `json:"enforcement"`
	CreatedAt   time.Time   `json:"created_at"`
}

// Product is something the vendor ships that consumes licenses. Its PID is
// the first half of every instance's UDI (PID:SN).
type Product struct {
	ID           string    `json:"id"`
	PID          string    `json:"pid"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	LicenseTypes []string  `json:"license_types"` // tags this product may consume
	CreatedAt    time.Time `json:"created_at"`
}

// Allows reports whether the product may consume the license type tag.
func (p Product) Allows(tag string) bool {
	for _, t := range p.LicenseTypes {
		if t == tag {
			return true
		}
	}
	return false
}

// The protocol's identifiers are ASCII words checked with a loop, not a
// regular expression: a usage report carries a dozen of them, and their
// regular expressions were a tenth of its ingestion.

// shaped reports whether s has 1 to max bytes, the first in first and the
// others in rest.
func shaped(s string, max int, first, rest func(byte) bool) bool {
	if len(s) == 0 || len(s) > max || !first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !rest(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || isDigit(c) }
func isAlnum(c byte) bool      { return 'A' <= c && c <= 'Z' || isLowerAlnum(c) }

// isTag is [a-z0-9][a-z0-9._-]{0,63}.
func isTag(s string) bool {
	return shaped(s, 64, isLowerAlnum, func(c byte) bool { return isLowerAlnum(c) || c == '.' || c == '_' || c == '-' })
}

// isPID is [A-Za-z0-9][A-Za-z0-9._/+-]{0,39}.
func isPID(s string) bool {
	return shaped(s, 40, isAlnum, func(c byte) bool {
		return isAlnum(c) || c == '.' || c == '_' || c == '/' || c == '+' || c == '-'
	})
}

// isSN is [A-Za-z0-9][A-Za-z0-9._-]{0,39}.
func isSN(s string) bool {
	return shaped(s, 40, isAlnum, func(c byte) bool { return isAlnum(c) || c == '.' || c == '_' || c == '-' })
}

// isReportID is [A-Za-z0-9_-]{1,64}.
func isReportID(s string) bool {
	word := func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }
	return shaped(s, 64, word, word)
}

// ValidateTag checks an entitlement tag: lower case, digits, '.', '_' or
// '-', at most 64 characters.
func ValidateTag(field, tag string) error {
	if !isTag(tag) {
		return Invalid(field, "must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit (got %q)", tag)
	}
	return nil
}

// ValidatePID checks a product ID as it appears in a UDI.
func ValidatePID(field, pid string) error {
	if !isPID(pid) {
		return Invalid(field, "must be 1-40 characters of A-Z, a-z, 0-9, '.', '_', '/', '+' or '-' (got %q)", pid)
	}
	return nil
}

// ValidateName checks a human name: present, trimmed, at most max runes,
// and nothing invisible (see ValidateIdentifier).
func ValidateName(field, name string, max int) error {
	if err := ValidateText(field, name); err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return Invalid(field, "is required")
	}
	if strings.TrimSpace(name) != name {
		return Invalid(field, "must not start or end with spaces")
	}
	if n := len([]rune(name)); n > max {
		return Invalid(field, "must be at most %d characters (got %d)", max, n)
	}
	return checkVisible(field, name)
}

// Validate checks a license type before it is stored.
func (lt LicenseType) Validate() error {
	if err := ValidateTag("tag", lt.Tag); err != nil {
		return err
	}
	if err := ValidateName("name", lt.Name, 200); err != nil {
		return err
	}
	if len(lt.Description) > 2000 {
		return Invalid("description", "must be at most 2000 characters")
	}
	switch lt.Term {
	case TermPerpetual, TermSubscription:
	default:
		return Invalid("term", "must be %q or %q (got %q)", TermPerpetual, TermSubscription, lt.Term)
	}
	switch lt.Enforcement {
	case Unenforced, Enforced, ExportControlled:
	default:
		return Invalid("enforcement", "must be %q, %q or %q (got %q)", Unenforced, Enforced, ExportControlled, lt.Enforcement)
	}
	return nil
}

// Validate checks a product before it is stored; the license type tags are
// checked for existence by the manager.
func (p Product) Validate() error {
	if err := ValidatePID("pid", p.PID); err != nil {
		return err
	}
	if err := ValidateName("name", p.Name, 200); err != nil {
		return err
	}
	if len(p.Description) > 2000 {
		return Invalid("description", "must be at most 2000 characters")
	}
	seen := map[string]bool{}
	for _, t := range p.LicenseTypes {
		if err := ValidateTag("license_types", t); err != nil {
			return err
		}
		if seen[t] {
			return Invalid("license_types", "lists %q twice", t)
		}
		seen[t] = true
	}
	return nil
}
