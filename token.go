package smartlic

import "time"

// Token expiry bounds, in days, or in minutes when the expiry is given in
// minutes (for tests and demonstrations).
const (
	MinTokenDays    = 1
	MaxTokenDays    = 365
	MaxTokenMinutes = MaxTokenDays * 24 * 60
)

// Token is a registration token: the right to register product instances
// into one Virtual Account. It is not a license. Its secret is shown once
// and stored only as a hash.
type Token struct {
	ID                    string     `json:"id"`
	VirtualAccountID      string     `json:"virtual_account_id"`
	Description           string     `json:"description"`
	ExpiresAt             time.Time  `json:"expires_at"`
	MaxUses               *int64     `json:"max_uses,omitempty"` // nil: unlimited
	Uses                  int64      `json:"uses"`
	AllowExportControlled bool       `json:"allow_export_controlled"`
	RevokedAt             *time.Time `json:"revoked_at,omitempty"`
	CreatedAt             time.Time  `json:"created_at"`
	Hash                  string     `json:"-"`
	// Secret is set only in the answer to the creation request.
	Secret string `json:"secret,omitempty"`
}

// TokenState is what a token can be used for now.
type TokenState string

const (
	TokenActive    TokenState = "active"
	TokenExpired   TokenState = "expired"
	TokenRevoked   TokenState = "revoked"
	TokenExhausted TokenState = "exhausted"
)

// State returns the token's state at now.
func (t Token) State(now time.Time) TokenState {
	switch {
	case t.RevokedAt != nil:
		return TokenRevoked
	case !now.Before(t.ExpiresAt):
		return TokenExpired
	case t.MaxUses != nil && t.Uses >= *t.MaxUses:
		return TokenExhausted
	}
	return TokenActive
}

// UsableErr explains why the token cannot register an instance at now, or
// returns nil.
func (t Token) UsableErr(now time.Time) error {
	switch t.State(now) {
	case TokenRevoked:
		return Errorf(ETokenRevoked, "token", "registration token was revoked")
	case TokenExpired:
		return Errorf(ETokenExpired, "token", "registration token expired at %s", t.ExpiresAt.Format(time.RFC3339))
	case TokenExhausted:
		return Errorf(ETokenExhausted, "token", "registration token has been used its maximum %d times", *t.MaxUses)
	}
	return nil
}
