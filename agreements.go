package smartlic

import (
	"context"
	"time"
)

// Agreement is an Enterprise Agreement: a suite of license types deposited
// into one Virtual Account for a term. Consumption above the purchased
// count is allowed during the term and measured: the true-forward report
// shows, per license type, the peak in use above what was purchased, which
// the customer pays for at the next anniversary.
type Agreement struct {
	ID               string          `json:"id"`
	SmartAccountID   string          `json:"smart_account_id"`
	VirtualAccountID string          `json:"virtual_account_id"`
	Number           string          `json:"number"` // the agreement's number, unique in the Smart Account
	StartsAt         time.Time       `json:"starts_at"`
	EndsAt           time.Time       `json:"ends_at"`
	Lines            []AgreementLine `json:"lines"`
	CreatedAt        time.Time       `json:"created_at"`
	// AcceptedAt and AcceptedBy record the customer accepting the
	// agreement's terms (a user with agreement.accept: SA approver or
	// administrator); nil until then. An agreement is accepted once.
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	AcceptedBy string     `json:"accepted_by,omitempty"`
}

// AgreementLine is one license type of the suite.
type AgreementLine struct {
	LicenseTypeID string `json:"license_type_id,omitempty"`
	LicenseTag    string `json:"license"`
	Quantity      int64  `json:"quantity"`
}

// AgreementInput creates an agreement. StartsAt defaults to now.
type AgreementInput struct {
	Number   string          `json:"number"`
	StartsAt *time.Time      `json:"starts_at,omitempty"`
	EndsAt   time.Time       `json:"ends_at"`
	Lines    []AgreementLine `json:"lines"`
}

// MaxAgreementLines bounds the suite of one agreement.
const MaxAgreementLines = 100

// Validate checks an agreement's own fields.
func (a Agreement) Validate() error {
	if err := ValidateName("number", a.Number, 64); err != nil {
		return err
	}
	if !a.EndsAt.After(a.StartsAt) {
		return Invalid("ends_at", "must be after starts_at")
	}
	if a.EndsAt.Sub(a.StartsAt) > 10*365*Day {
		return Invalid("ends_at", "an agreement's term is at most 10 years")
	}
	if len(a.Lines) == 0 {
		return Invalid("lines", "an agreement needs at least one license type")
	}
	if len(a.Lines) > MaxAgreementLines {
		return Invalid("lines", "at most %d license types (got %d)", MaxAgreementLines, len(a.Lines))
	}
	for _, l := range a.Lines {
		if l.Quantity <= 0 || l.Quantity > 1_000_000_000 {
			return Invalid("lines.quantity", "must be between 1 and 1000000000 (got %d for %q)", l.Quantity, l.LicenseTag)
		}
	}
	return nil
}

// TrueForward is the true-forward report of an agreement: per license type
// of the suite, the peak consumption above the purchased count during the
// term (up to now, while it runs).
type TrueForward struct {
	Agreement Agreement    `json:"agreement"`
	From      time.Time    `json:"from"`
	To        time.Time    `json:"to"`
	Lines     []TrueUpLine `json:"lines"`
}

// AgreementService manages Enterprise Agreements.
type AgreementService interface {
	// CreateAgreement deposits the suite into the VA for the term.
	CreateAgreement(ctx context.Context, sa, va string, in AgreementInput) (Agreement, error)
	ListAgreements(ctx context.Context, sa, va string, p Page) ([]Agreement, string, error)
	// TrueForward measures consumption above the purchased count over the
	// agreement's term so far.
	TrueForward(ctx context.Context, sa, agreementID string) (TrueForward, error)
	// AcceptAgreement records that the caller accepts the agreement's
	// terms for the Smart Account; EConflict when it was accepted before.
	AcceptAgreement(ctx context.Context, sa, agreementID string) (Agreement, error)
}

// AgreementTx is the storage agreements need.
type AgreementTx interface {
	// InsertAgreement stores the agreement, its lines and one deposit per
	// line (deposits[i] for Lines[i]).
	InsertAgreement(ctx context.Context, a Agreement, deposits []Deposit) error
	GetAgreement(ctx context.Context, id string) (Agreement, error)
	ListAgreements(ctx context.Context, vaID string, p Page) ([]Agreement, error)
	// AcceptAgreement sets the acceptance of an agreement not accepted
	// yet, in one statement; ok is false when it was accepted already.
	AcceptAgreement(ctx context.Context, id, by string, at time.Time) (ok bool, err error)
}
