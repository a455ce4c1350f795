package smartlic

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The seed's five customer roles. SA roles hold for the whole Smart
// Account; VA roles are granted on one Virtual Account and hold for it and
// every VA below it. RoleOperator (the vendor) is not granted this way: it
// belongs to operator keys and vendor OAuth clients.
const (
	RoleSAApprover = "sa_approver" // edit SA properties, view users and events, accept agreements
	RoleSAAdmin    = "sa_admin"    // everything in the SA, users and VAs included
	RoleSAUser     = "sa_user"     // licensing in every VA
	RoleVAAdmin    = "va_admin"    // everything in the VA subtree, its users included
	RoleVAUser     = "va_user"     // licensing in the VA subtree
)

// Roles lists the grantable roles in order of the seed.
var Roles = []string{RoleSAApprover, RoleSAAdmin, RoleSAUser, RoleVAAdmin, RoleVAUser}

// IsVARole reports whether role is granted on a Virtual Account.
func IsVARole(role string) bool { return role == RoleVAAdmin || role == RoleVAUser }

// ValidRole reports whether role is one of the five grantable roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }

// Actor kinds: how the caller proved who it is.
const (
	ActorOperatorKey = "operator_key"
	ActorUserKey     = "user_key"
	ActorSession     = "session"
	ActorOAuthClient = "oauth_client"
)

// MinPasswordLength is the shortest password accepted. Length beats
// composition rules; anything up to MaxPasswordLength is allowed.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// User is a person who signs in to the portal or uses a personal API key.
// The password hash never leaves the server.
type User struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"` // unique, lower-cased
	Name         string     `json:"name"`
	PasswordHash string     `json:"-"`
	Disabled     bool       `json:"disabled"`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
}

// UserInput creates a user with a password: the operator's way. Everyone
// else invites (InvitationInput), and the invitee sets its own password.
type UserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// NormalizeEmail lower-cases an e-mail address and checks its shape.
func NormalizeEmail(field, email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" || len(e) > 254 || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", Invalid(field, "must be a plain e-mail address such as jane@example.com (got %q)", email)
	}
	return e, nil
}

// ValidatePassword applies the password rules.
func ValidatePassword(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return Invalid(field, "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > MaxPasswordLength {
		return Invalid(field, "must be at most %d bytes", MaxPasswordLength)
	}
	return nil
}

// RoleAssignment gives a user a role in a Smart Account; VA roles name the
// Virtual Account.
type RoleAssignment struct {
	ID               string    `json:"id"`
	UserID           string    `json:"user_id"`
	UserEmail        string    `json:"user_email"`
	Role             string    `json:"role"`
	SmartAccountID   string    `json:"smart_account_id"`
	VirtualAccountID string    `json:"virtual_account_id,omitempty"`
	VirtualAccount   string    `json:"virtual_account,omitempty"` // the VA's name, for people
	CreatedAt        time.Time `json:"created_at"`
}

// RoleInput grants a role. User is an id or e-mail; VA (id or name) is
// required for VA roles and refused for SA roles.
type RoleInput struct {
	User string `json:"user"`
	Role string `json:"role"`
	VA   string `json:"va,omitempty"`
}

// AccessRequest states.
const (
	AccessPending  = "pending"
	AccessApproved = "approved"
	AccessDenied   = "denied"
)

// AccessRequest is a user asking for access to a Smart Account.
// Administrators approve it (granting a role) or deny it.
type AccessRequest struct {
	ID             string     `json:"id"`
	UserID         string     `json:"user_id"`
	UserEmail      string     `json:"user_email"`
	SmartAccountID string     `json:"smart_account_id"`
	Message        string     `json:"message"`
	Status         string     `json:"status"`
	DecidedBy      string     `json:"decided_by,omitempty"` // e-mail of who decided
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// InvitationTTL is how long an invitation code can be used.
const InvitationTTL = 7 * Day

// Invitation states, derived from the times in an Invitation.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
)

// Invitation offers an e-mail address a role in a Smart Account. Whoever
// holds its code accepts it once, before ExpiresAt: a new person sets its
// own password then; an existing user proves it is that user. Only the
// code's hash is stored; Code is set once, in the answer that creates it.
type Invitation struct {
	ID               string     `json:"id"`
	Email            string     `json:"email"`
	SmartAccountID   string     `json:"smart_account_id"`
	Role             string     `json:"role"`
	VirtualAccountID string     `json:"virtual_account_id,omitempty"`
	VirtualAccount   string     `json:"virtual_account,omitempty"` // the VA's name, for people
	InvitedBy        string     `json:"invited_by"`                // e-mail of the inviter
	InviterUserID    string     `json:"-"`                         // the user whose authority it carries; "" for the operator
	CodeHash         string     `json:"-"`
	Code             string     `json:"code,omitempty"`
	State            string     `json:"state"` // set when read
	CreatedAt        time.Time  `json:"created_at"`
	ExpiresAt        time.Time  `json:"expires_at"`
	AcceptedAt       *time.Time `json:"accepted_at,omitempty"`
	AcceptedBy       string     `json:"accepted_by,omitempty"` // user id
	RevokedAt        *time.Time `json:"revoked_at,omitempty"`
}

// StateAt says whether the invitation is pending, accepted, revoked or
// expired at now.
func (i Invitation) StateAt(now time.Time) string {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// InvitationInput invites an e-mail address into a Smart Account with a
// role; VA (id or name) is required for VA roles and refused for SA roles.
type InvitationInput struct {
	Email string `json:"email"`
	Role  string `json:"role"`
	VA    string `json:"va,omitempty"`
}

// AcceptInvitationInput accepts an invitation. For an address with no
// user yet, Password (and Name) make the new user. For an existing user,
// Password is its current password, unless the caller is signed in as
// that user; it is never changed by an invitation.
type AcceptInvitationInput struct {
	Code     string `json:"code"`
	Name     string `json:"name,omitempty"`
	Password string `json:"password,omitempty"`
}

// UserAPIKey is a personal API key: it acts as its user, with the user's
// roles. Only its hash is stored; Secret is set once, in the answer that
// creates it.
type UserAPIKey struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Hash       string     `json:"-"`
	Secret     string     `json:"secret,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// APIKeyInput creates a personal API key. ExpiresInDays 0 means no expiry.
type APIKeyInput struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days,omitempty"`
}

// OAuth scopes. A token holds the client's role within its scopes: "read"
// allows only viewing, "write" also changes.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// OAuthClient is a machine integration using the OAuth 2.0
// client-credentials grant. It belongs to a Smart Account (with one of the
// SA-wide roles) or to the vendor (SmartAccountID empty, role operator).
type OAuthClient struct {
	ID             string   `json:"id"`        // internal id
	ClientID       string   `json:"client_id"` // what the client sends
	Name           string   `json:"name"`
	SmartAccountID string   `json:"smart_account_id,omitempty"`
	Role           string   `json:"role"`
	Scopes         []string `json:"scopes"`
	SecretHash     string   `json:"-"`
	Secret         string   `json:"client_secret,omitempty"` // once, at creation
	CreatedBy      string   `json:"created_by"`
	// CreatorUserID is the user the client acts for; empty for clients the
	// operator made, which act for the vendor. The client can do only what
	// its role, its scopes and its creator's current roles all allow.
	CreatorUserID string     `json:"creator_user_id,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	// Suspended says, in listings, that the creator is disabled or no
	// longer administers the account: the client gets no tokens and its
	// tokens are refused until that changes. SuspendedBecause says which.
	Suspended        bool   `json:"suspended,omitempty"`
	SuspendedBecause string `json:"suspended_because,omitempty"`
}

// OAuthClientInput creates an OAuth client.
type OAuthClientInput struct {
	Name   string   `json:"name"`
	Role   string   `json:"role,omitempty"`   // SA clients: sa_admin, sa_user or sa_approver (default sa_user)
	Scopes []string `json:"scopes,omitempty"` // default read
}

// OAuthToken is a bearer token issued to an OAuth client. Only its hash
// is stored.
type OAuthToken struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"` // OAuthClient.ID
	Hash      string    `json:"-"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TokenGrant is the answer of the token endpoint (RFC 6749 §5.1).
type TokenGrant struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// Session is a signed-in portal user. The session id travels in a cookie
// and is stored hashed; the CSRF token must accompany every unsafe request.
type Session struct {
	ID     string `json:"-"` // internal id
	Hash   string `json:"-"`
	UserID string `json:"user_id"`
	// OperatorKeyID is set instead of UserID on the vendor operator's
	// session: the operator key it signed in with.
	OperatorKeyID string    `json:"-"`
	CSRFToken     string    `json:"csrf_token"`
	CreatedAt     time.Time `json:"created_at"`
	LastSeenAt    time.Time `json:"last_seen_at"`
	ExpiresAt     time.Time `json:"expires_at"` // absolute limit
}

// Login is the answer to a successful sign-in. Secret is the cookie value.
type Login struct {
	Secret    string    `json:"-"`
	CSRFToken string    `json:"csrf_token"`
	User      User      `json:"user"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Identity is what the server knows about the caller.
type Identity struct {
	Actor Actor            `json:"actor"`
	User  *User            `json:"user,omitempty"`
	Roles []RoleAssignment `json:"roles"`
}

// UserService manages users, roles, access requests and credentials.
type UserService interface {
	CreateUser(ctx context.Context, in UserInput) (User, error)
	GetUser(ctx context.Context, idOrEmail string) (User, error)
	ListUsers(ctx context.Context, p Page) ([]User, string, error)
	DisableUser(ctx context.Context, idOrEmail string) (User, error)
	WhoAmI(ctx context.Context) (Identity, error)

	// Roles within a Smart Account; va narrows the listing to one VA's grants.
	ListRoles(ctx context.Context, sa, va string, p Page) ([]RoleAssignment, string, error)
	GrantRole(ctx context.Context, sa string, in RoleInput) (RoleAssignment, error)
	RevokeRole(ctx context.Context, sa, id string) error

	// Invitations: an administrator invites an e-mail address into its
	// Smart Account with a role it may grant; the invitee accepts with the
	// code. Accepting needs no credentials: the code is one.
	InviteUser(ctx context.Context, sa string, in InvitationInput) (Invitation, error)
	ListInvitations(ctx context.Context, sa string, p Page) ([]Invitation, string, error)
	RevokeInvitation(ctx context.Context, sa, id string) (Invitation, error)
	AcceptInvitation(ctx context.Context, in AcceptInvitationInput) (RoleAssignment, error)

	RequestAccess(ctx context.Context, sa, message string) (AccessRequest, error)
	ListAccessRequests(ctx context.Context, sa string, p Page) ([]AccessRequest, string, error)
	// ApproveAccessRequest grants the role in (its User is ignored).
	ApproveAccessRequest(ctx context.Context, sa, id string, in RoleInput) (AccessRequest, error)
	DenyAccessRequest(ctx context.Context, sa, id string) (AccessRequest, error)

	// Personal API keys of the calling user.
	CreateAPIKey(ctx context.Context, in APIKeyInput) (UserAPIKey, error)
	ListAPIKeys(ctx context.Context, p Page) ([]UserAPIKey, string, error)
	RevokeAPIKey(ctx context.Context, id string) (UserAPIKey, error)

	// OAuth clients of a Smart Account, or of the vendor when sa is "".
	CreateOAuthClient(ctx context.Context, sa string, in OAuthClientInput) (OAuthClient, error)
	ListOAuthClients(ctx context.Context, sa string, p Page) ([]OAuthClient, string, error)
	RevokeOAuthClient(ctx context.Context, sa, id string) (OAuthClient, error)
	// IssueToken is the client-credentials grant; scope is space-separated,
	// empty for all the client's scopes.
	IssueToken(ctx context.Context, clientID, secret, scope string) (TokenGrant, error)

	Login(ctx context.Context, email, password string) (Login, error)
	// Logout ends a session; csrfToken must be the session's, since
	// whoever can make the browser send the cookie could otherwise sign
	// its user out. Ending a session that is already over is not an error.
	Logout(ctx context.Context, sessionSecret, csrfToken string) error
	// AuthenticateSession resolves a session cookie; it fails once the
	// session is idle too long, past its absolute expiry, or logged out.
	AuthenticateSession(ctx context.Context, sessionSecret string) (Actor, Session, error)
}

// UserTx is the storage of users, roles and credentials.
type UserTx interface {
	InsertUser(ctx context.Context, u User) error
	// GetUser accepts an id or a (lower-cased) e-mail.
	GetUser(ctx context.Context, idOrEmail string) (User, error)
	ListUsers(ctx context.Context, p Page) ([]User, error)
	UpdateUser(ctx context.Context, u User) error

	InsertRole(ctx context.Context, r RoleAssignment) error
	GetRole(ctx context.Context, id string) (RoleAssignment, error)
	DeleteRole(ctx context.Context, id string) error
	// RolesOfUser lists every role of a user (bounded; not paged).
	RolesOfUser(ctx context.Context, userID string) ([]RoleAssignment, error)
	// ListRoles lists a Smart Account's roles, of one VA when vaID is set.
	ListRoles(ctx context.Context, saID, vaID string, p Page) ([]RoleAssignment, error)
	// UserSmartAccounts lists the ids of the Smart Accounts a user has a role in.
	UserSmartAccounts(ctx context.Context, userID string) ([]string, error)

	InsertInvitation(ctx context.Context, inv Invitation) error
	GetInvitation(ctx context.Context, id string) (Invitation, error)
	GetInvitationByHash(ctx context.Context, hash string) (Invitation, error)
	ListInvitations(ctx context.Context, saID string, p Page) ([]Invitation, error)
	// ClaimInvitation marks the invitation accepted by userID, only if it is
	// still pending at at (conflict otherwise): one statement, so that two
	// uses of one code cannot both succeed.
	ClaimInvitation(ctx context.Context, id, userID string, at time.Time) error
	// RevokeInvitation revokes a pending invitation (conflict otherwise).
	RevokeInvitation(ctx context.Context, id string, at time.Time) error

	InsertAccessRequest(ctx context.Context, r AccessRequest) error
	GetAccessRequest(ctx context.Context, id string) (AccessRequest, error)
	ListAccessRequests(ctx context.Context, saID string, p Page) ([]AccessRequest, error)
	UpdateAccessRequest(ctx context.Context, r AccessRequest) error

	InsertUserAPIKey(ctx context.Context, k UserAPIKey) error
	GetUserAPIKey(ctx context.Context, id string) (UserAPIKey, error)
	GetUserAPIKeyByHash(ctx context.Context, hash string) (UserAPIKey, error)
	ListUserAPIKeys(ctx context.Context, userID string, p Page) ([]UserAPIKey, error)
	TouchUserAPIKey(ctx context.Context, id string, at time.Time) error
	RevokeUserAPIKey(ctx context.Context, id string, at time.Time) error

	InsertOAuthClient(ctx context.Context, c OAuthClient) error
	// GetOAuthClient accepts the internal id or the public client id.
	GetOAuthClient(ctx context.Context, id string) (OAuthClient, error)
	// ListOAuthClients lists a Smart Account's clients, the vendor's when saID is "".
	ListOAuthClients(ctx context.Context, saID string, p Page) ([]OAuthClient, error)
	RevokeOAuthClient(ctx context.Context, id string, at time.Time) error
	InsertOAuthToken(ctx context.Context, tok OAuthToken) error
	GetOAuthTokenByHash(ctx context.Context, hash string) (OAuthToken, error)

	InsertSession(ctx context.Context, s Session) error
	GetSessionByHash(ctx context.Context, hash string) (Session, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error

	// The operator's portal sessions: Session with OperatorKeyID set.
	InsertOperatorSession(ctx context.Context, s Session) error
	// GetOperatorSessionByHash answers the session with the operator key
	// it was opened with.
	GetOperatorSessionByHash(ctx context.Context, hash string) (Session, APIKey, error)
	TouchOperatorSession(ctx context.Context, id string, at time.Time) error
	DeleteOperatorSession(ctx context.Context, id string) error
	// ForgetSessions deletes up to limit sessions of each kind that expired
	// at or before expiredAt or were last seen at or before idleSince.
	ForgetSessions(ctx context.Context, expiredAt, idleSince time.Time, limit int) (int64, error)
}
