package smartlic

import (
	"context"
	"time"
)

// UserIdentity binds a user to an account at an OpenID Connect provider:
// the provider's issuer URL and the subject (its stable id of the person).
// A user is found by this pair before its e-mail: an address that changes
// at the provider, or that the provider gives to someone else later, does
// not move the sign-in to another local user.
type UserIdentity struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Issuer     string    `json:"issuer"`
	Subject    string    `json:"subject"`
	Email      string    `json:"email"` // what the provider asserted at the last sign-in
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

// OIDCClaims is what a verified ID token says of the person signing in.
type OIDCClaims struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Limits of what a provider may assert; longer values are refused.
const (
	MaxOIDCIssuerLength  = 500
	MaxOIDCSubjectLength = 255 // OpenID Connect Core §2: at most 255 ASCII characters
)

// IdentityService is single sign-on with OpenID Connect.
type IdentityService interface {
	// SignInWithOIDC opens a session for the person an ID token names. The
	// caller has verified the token (signature, issuer, audience, expiry,
	// nonce): only the portal's callback calls this. The user bound to
	// the issuer and subject signs in; without one, the user with the
	// verified e-mail is bound on this first sign-in, or a user without a
	// password is created. A user bound to another subject of the same
	// issuer, or disabled, is refused.
	SignInWithOIDC(ctx context.Context, c OIDCClaims) (Login, error)
	// ListIdentities lists the calling user's bindings.
	ListIdentities(ctx context.Context) ([]UserIdentity, error)
	// UnlinkIdentity removes one of the calling user's bindings; the next
	// sign-in with that provider binds again by e-mail.
	UnlinkIdentity(ctx context.Context, id string) (UserIdentity, error)
}

// IdentityTx is the storage of identity bindings.
type IdentityTx interface {
	// InsertUserIdentity fails with a conflict when the issuer and subject
	// are bound already, or the user has a binding at that issuer.
	InsertUserIdentity(ctx context.Context, i UserIdentity) error
	GetUserIdentity(ctx context.Context, issuer, subject string) (UserIdentity, error)
	// UserIdentities lists a user's bindings (a few; not paged).
	UserIdentities(ctx context.Context, userID string) ([]UserIdentity, error)
	// TouchUserIdentity records a sign-in: its time and the e-mail asserted.
	TouchUserIdentity(ctx context.Context, id, email string, at time.Time) error
	DeleteUserIdentity(ctx context.Context, id string) error
}
