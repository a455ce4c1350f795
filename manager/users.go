package manager

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

var _ smartlic.UserService = (*Manager)(nil)

// Credential prefixes, so that a leaked secret says what it is.
const (
	userKeyPrefix      = "slu_"  // personal API key
	oauthTokenPrefix   = "slo_"  // OAuth bearer token
	oauthClientPrefix  = "slc_"  // OAuth client id (public)
	oauthSecretPrefix  = "slcs_" // OAuth client secret
	sessionPrefix      = "sls_"  // portal session cookie
	operatorSessPrefix = "slz_"  // the operator's portal session cookie
	maxCredentialBytes = 200
)

// Lifetimes of credentials.
const (
	OAuthTokenTTL     = time.Hour
	SessionIdle       = 30 * time.Minute // a session unused this long is over
	SessionMaxAge     = 12 * time.Hour   // and every session ends after this
	MaxAPIKeyDays     = 365
	sessionTouchEvery = time.Minute // last-seen granularity: reads should not all write
)

// errLogin is the one answer to a failed sign-in: it does not say whether
// the e-mail, the password or the account's state was wrong.
func errLogin() error {
	return smartlic.Errorf(smartlic.EUnauthorized, "", "wrong e-mail or password")
}

// actorUser returns the calling user's id, refusing callers that are not
// users (operator keys, OAuth clients).
func actorUser(ctx context.Context) (smartlic.Actor, error) {
	a, ok := smartlic.ActorFrom(ctx)
	if !ok {
		return a, smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	if a.UserID == "" {
		return a, smartlic.Errorf(smartlic.EForbidden, "", "only a user can do this; sign in or use a personal API key")
	}
	return a, nil
}

// CreateUser adds a user with a password. Only the operator (the vendor)
// may: anyone else who set a password for an address could sign in as its
// owner once another account grants that address a role. Administrators
// invite instead (InviteUser), and the invitee chooses its password.
func (m *Manager) CreateUser(ctx context.Context, in smartlic.UserInput) (smartlic.User, error) {
	if !isOperator(ctx) {
		// Refused before looking at the input, so that nobody else learns
		// anything about the address from the answer.
		if _, ok := smartlic.ActorFrom(ctx); !ok {
			return smartlic.User{}, smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
		}
		return smartlic.User{}, smartlic.Errorf(smartlic.EForbidden, "",
			"only the operator creates users with a password; invite people into your Smart Account instead (POST /api/v1/accounts/{sa}/invitations)")
	}
	email, err := smartlic.NormalizeEmail("email", in.Email)
	if err != nil {
		return smartlic.User{}, err
	}
	if err := smartlic.ValidateName("name", in.Name, 200); err != nil {
		return smartlic.User{}, err
	}
	if err := smartlic.ValidatePassword("password", in.Password); err != nil {
		return smartlic.User{}, err
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return smartlic.User{}, err
	}
	u := smartlic.User{ID: newID(), Email: email, Name: in.Name, PasswordHash: hash, CreatedAt: m.clock.Now()}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermOperatorManage, nil, nil); err != nil {
			return err
		}
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "user.created", Subject: u.ID, Message: "user " + u.Email + " created", After: eventData(u)})
	})
	return u, err
}

// GetUser shows a user to the operator, to the user, and to whoever may
// view the users of a Smart Account the user has a role in. Callers who may
// view no account's users are refused before the lookup, so they cannot
// probe who has an account.
func (m *Manager) GetUser(ctx context.Context, key string) (u smartlic.User, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		a, ok := smartlic.ActorFrom(ctx)
		if !ok {
			return smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
		}
		self := a.UserID != "" && (strings.EqualFold(key, a.Email) || key == a.UserID)
		if !self && !isOperator(ctx) {
			if err := m.viewsUsersSomewhere(ctx, tx, a); err != nil {
				return err
			}
		}
		if u, err = getUser(ctx, tx, key); self || isOperator(ctx) {
			return err
		}
		// A user who does not exist and one in accounts the caller may not
		// see answer alike: otherwise the answer tells who has an account.
		hidden := smartlic.Errorf(smartlic.EForbidden, "", "no user %q in a Smart Account whose users you may view", key)
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return hidden
		}
		if err != nil {
			return err
		}
		sas, err := tx.UserSmartAccounts(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, id := range sas {
			sa, err := tx.GetSmartAccount(ctx, id)
			if err != nil {
				return err
			}
			if m.allowedAnywhere(ctx, tx, PermUsersView, sa) == nil {
				return nil
			}
		}
		return hidden
	})
	return u, err
}

// viewsUsersSomewhere refuses callers who may view the users of no account.
func (m *Manager) viewsUsersSomewhere(ctx context.Context, tx smartlic.Tx, a smartlic.Actor) error {
	if a.UserID != "" {
		roles, err := tx.RolesOfUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		for _, r := range roles {
			if RoleAllows(r.Role, PermUsersView) {
				return nil
			}
		}
	}
	if a.Kind == smartlic.ActorOAuthClient && RoleAllows(a.Role, PermUsersView) && scopeAllows(a.Scopes, PermUsersView) {
		return nil
	}
	return smartlic.Errorf(smartlic.EForbidden, "", "your roles do not allow viewing users")
}

func getUser(ctx context.Context, tx smartlic.Tx, key string) (smartlic.User, error) {
	if strings.TrimSpace(key) == "" {
		return smartlic.User{}, smartlic.Invalid("user", "a user id or e-mail is required")
	}
	u, err := tx.GetUser(ctx, strings.ToLower(strings.TrimSpace(key)))
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return u, smartlic.Errorf(smartlic.ENotFound, "user", "user %q not found", key)
	}
	return u, err
}

// ListUsers lists every user: the vendor operator's view.
func (m *Manager) ListUsers(ctx context.Context, p smartlic.Page) ([]smartlic.User, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.User
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermOperatorManage, nil, nil); err != nil {
			return err
		}
		out, err = tx.ListUsers(ctx, p)
		return err
	})
	out, next := cutPage(p, out, func(u smartlic.User) string { return u.ID })
	return out, next, err
}

// DisableUser stops a user from signing in or using keys. Users span Smart
// Accounts, so only the vendor operator may.
func (m *Manager) DisableUser(ctx context.Context, key string) (u smartlic.User, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermOperatorManage, nil, nil); err != nil {
			return err
		}
		if u, err = getUser(ctx, tx, key); err != nil {
			return err
		}
		if u.Disabled {
			return nil
		}
		before := u
		now := m.clock.Now()
		u.Disabled, u.DisabledAt = true, &now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "user.disabled", Subject: u.ID, Message: "user " + u.Email + " disabled", Before: eventData(before), After: eventData(u)})
	})
	return u, err
}

// WhoAmI describes the caller and its roles.
func (m *Manager) WhoAmI(ctx context.Context) (smartlic.Identity, error) {
	a, ok := smartlic.ActorFrom(ctx)
	if !ok {
		return smartlic.Identity{}, smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	id := smartlic.Identity{Actor: a, Roles: []smartlic.RoleAssignment{}}
	if a.UserID == "" {
		return id, nil
	}
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		u, err := tx.GetUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		id.User = &u
		id.Roles, err = tx.RolesOfUser(ctx, u.ID)
		return err
	})
	return id, err
}

// ListRoles lists the role assignments of a Smart Account, or of one VA.
func (m *Manager) ListRoles(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.RoleAssignment, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.RoleAssignment
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		vaID := ""
		if vaKey != "" {
			va, err := getVAIn(ctx, tx, sa, vaKey, "va")
			if err != nil {
				return err
			}
			if err := m.authorize(ctx, tx, PermUsersView, &sa, &va); err != nil {
				return err
			}
			vaID = va.ID
		} else if err := m.authorize(ctx, tx, PermUsersView, &sa, nil); err != nil {
			return err
		}
		out, err = tx.ListRoles(ctx, sa.ID, vaID, p)
		return err
	})
	out, next := cutPage(p, out, func(r smartlic.RoleAssignment) string { return r.ID })
	return out, next, err
}

// GrantRole gives a user a role. The caller must hold the power to manage
// users where the role applies: the whole Smart Account for SA roles, the
// VA (or one above it) for VA roles. So a VA administrator can grant VA
// roles below its VA and nothing else.
func (m *Manager) GrantRole(ctx context.Context, saKey string, in smartlic.RoleInput) (r smartlic.RoleAssignment, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		u, err := m.member(ctx, tx, sa, in.User)
		if err != nil {
			return err
		}
		r, err = m.grant(ctx, tx, sa, u, in)
		return err
	})
	return r, err
}

// member resolves the user a role is granted to. Apart from the operator,
// a grant only adds roles to people already in the Smart Account: bringing
// someone in is an invitation, which they accept with a code that went to
// them. Otherwise whoever made a user for an address in another account
// (and chose its password) would receive what this account grants it. A
// user outside the account answers as one that does not exist.
func (m *Manager) member(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, key string) (smartlic.User, error) {
	if isOperator(ctx) {
		return getUser(ctx, tx, key)
	}
	if err := m.allowedAnywhere(ctx, tx, PermUsersManage, sa); err != nil {
		return smartlic.User{}, err
	}
	u, err := getUser(ctx, tx, key)
	if err != nil && smartlic.ErrorCode(err) != smartlic.ENotFound {
		return u, err
	}
	if err == nil {
		sas, err := tx.UserSmartAccounts(ctx, u.ID)
		if err != nil {
			return u, err
		}
		if slices.Contains(sas, sa.ID) {
			return u, nil
		}
	}
	return u, smartlic.Errorf(smartlic.ENotFound, "user", "%q is not a member of Smart Account %s; invite them instead (POST /api/v1/accounts/%s/invitations)", key, sa.Domain, sa.Domain)
}

// grant checks and stores one role assignment inside tx.
func (m *Manager) grant(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, u smartlic.User, in smartlic.RoleInput) (smartlic.RoleAssignment, error) {
	r := smartlic.RoleAssignment{ID: newID(), UserID: u.ID, UserEmail: u.Email, Role: in.Role, SmartAccountID: sa.ID, CreatedAt: m.clock.Now()}
	if !smartlic.ValidRole(in.Role) {
		return r, smartlic.Invalid("role", "must be one of %s (got %q)", strings.Join(smartlic.Roles, ", "), in.Role)
	}
	var va *smartlic.VirtualAccount
	if smartlic.IsVARole(in.Role) {
		v, err := getVAIn(ctx, tx, sa, in.VA, "va")
		if err != nil {
			return r, err
		}
		va, r.VirtualAccountID, r.VirtualAccount = &v, v.ID, v.Name
	} else if in.VA != "" {
		return r, smartlic.Invalid("va", "%s is a Smart Account role; it takes no Virtual Account", in.Role)
	}
	if err := m.authorize(ctx, tx, PermUsersManage, &sa, va); err != nil {
		return r, err
	}
	if u.Disabled {
		return r, smartlic.Errorf(smartlic.EConflict, "user", "user %s is disabled", u.Email)
	}
	if err := tx.InsertRole(ctx, r); err != nil {
		if smartlic.ErrorCode(err) == smartlic.EConflict {
			return r, smartlic.Errorf(smartlic.EConflict, "role", "%s already holds %s there", u.Email, in.Role)
		}
		return r, err
	}
	return r, m.record(ctx, tx, smartlic.Event{Type: "role.granted", SmartAccountID: sa.ID, VirtualAccountID: r.VirtualAccountID,
		Subject: r.ID, Message: u.Email + " granted " + r.Role, After: eventData(r)})
}

// RevokeRole removes a role assignment; the caller needs the same power
// that granting it needed.
func (m *Manager) RevokeRole(ctx context.Context, saKey, id string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		r, err := tx.GetRole(ctx, id)
		if err != nil || r.SmartAccountID != sa.ID {
			if err == nil || smartlic.ErrorCode(err) == smartlic.ENotFound {
				return smartlic.NotFound("role assignment %q not found in Smart Account %s", id, sa.Domain)
			}
			return err
		}
		var va *smartlic.VirtualAccount
		if r.VirtualAccountID != "" {
			v, err := tx.GetVirtualAccountByID(ctx, r.VirtualAccountID)
			if err != nil {
				return err
			}
			va = &v
		}
		if err := m.authorize(ctx, tx, PermUsersManage, &sa, va); err != nil {
			return err
		}
		if err := tx.DeleteRole(ctx, r.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "role.revoked", SmartAccountID: sa.ID, VirtualAccountID: r.VirtualAccountID,
			Subject: r.ID, Message: r.UserEmail + " no longer holds " + r.Role, Before: eventData(r)})
	})
}

// RequestAccess records a user's wish to join a Smart Account.
func (m *Manager) RequestAccess(ctx context.Context, saKey, message string) (r smartlic.AccessRequest, err error) {
	a, err := actorUser(ctx)
	if err != nil {
		return r, err
	}
	if len(message) > 2000 {
		return r, smartlic.Invalid("message", "must be at most 2000 characters")
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		r = smartlic.AccessRequest{ID: newID(), UserID: u.ID, UserEmail: u.Email, SmartAccountID: sa.ID, Message: message,
			Status: smartlic.AccessPending, CreatedAt: m.clock.Now()}
		if err := tx.InsertAccessRequest(ctx, r); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "access.requested", SmartAccountID: sa.ID, Subject: r.ID,
			Message: u.Email + " asked for access", After: eventData(r)})
	})
	return r, err
}

// ListAccessRequests lists a Smart Account's access requests to those who
// may see its users (a VA administrator included).
func (m *Manager) ListAccessRequests(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.AccessRequest, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.AccessRequest
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := m.allowedAnywhere(ctx, tx, PermUsersView, sa); err != nil {
			return err
		}
		out, err = tx.ListAccessRequests(ctx, sa.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(r smartlic.AccessRequest) string { return r.ID })
	return out, next, err
}

func (m *Manager) pendingRequest(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, id string) (smartlic.AccessRequest, error) {
	r, err := tx.GetAccessRequest(ctx, id)
	if (err == nil && r.SmartAccountID != sa.ID) || smartlic.ErrorCode(err) == smartlic.ENotFound {
		return r, smartlic.NotFound("access request %q not found in Smart Account %s", id, sa.Domain)
	}
	if err != nil {
		return r, err
	}
	if r.Status != smartlic.AccessPending {
		return r, smartlic.Errorf(smartlic.EConflict, "", "access request %s was already %s", r.ID, r.Status)
	}
	return r, nil
}

// ApproveAccessRequest grants the requested user the role in in; the
// caller needs the power to grant that role.
func (m *Manager) ApproveAccessRequest(ctx context.Context, saKey, id string, in smartlic.RoleInput) (r smartlic.AccessRequest, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if r, err = m.pendingRequest(ctx, tx, sa, id); err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, r.UserID)
		if err != nil {
			return err
		}
		in.User = u.ID
		if _, err := m.grant(ctx, tx, sa, u, in); err != nil {
			return err
		}
		return m.decide(ctx, tx, &r, smartlic.AccessApproved)
	})
	return r, err
}

// DenyAccessRequest closes a request without granting anything.
func (m *Manager) DenyAccessRequest(ctx context.Context, saKey, id string) (r smartlic.AccessRequest, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := m.allowedAnywhere(ctx, tx, PermUsersManage, sa); err != nil {
			return err
		}
		if r, err = m.pendingRequest(ctx, tx, sa, id); err != nil {
			return err
		}
		return m.decide(ctx, tx, &r, smartlic.AccessDenied)
	})
	return r, err
}

func (m *Manager) decide(ctx context.Context, tx smartlic.Tx, r *smartlic.AccessRequest, status string) error {
	before := *r
	a, _ := smartlic.ActorFrom(ctx)
	now := m.clock.Now()
	r.Status, r.DecidedBy, r.DecidedAt = status, a.Email, &now
	if err := tx.UpdateAccessRequest(ctx, *r); err != nil {
		return err
	}
	return m.record(ctx, tx, smartlic.Event{Type: "access." + status, SmartAccountID: r.SmartAccountID, Subject: r.ID,
		Message: "access request of " + r.UserEmail + " " + status, Before: eventData(before), After: eventData(*r)})
}

// CreateAPIKey makes a personal API key for the calling user. The secret
// is in this answer only.
func (m *Manager) CreateAPIKey(ctx context.Context, in smartlic.APIKeyInput) (k smartlic.UserAPIKey, err error) {
	a, err := actorUser(ctx)
	if err != nil {
		return k, err
	}
	if err := smartlic.ValidateName("name", in.Name, 200); err != nil {
		return k, err
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > MaxAPIKeyDays {
		return k, smartlic.Invalid("expires_in_days", "must be between 1 and %d, or 0 for no expiry (got %d)", MaxAPIKeyDays, in.ExpiresInDays)
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		k, err = m.insertAPIKey(ctx, tx, a.UserID, a.Email, in)
		return err
	})
	return k, err
}

// insertAPIKey makes a personal API key of user inside tx; its secret is
// in k.Secret.
func (m *Manager) insertAPIKey(ctx context.Context, tx smartlic.Tx, userID, email string, in smartlic.APIKeyInput) (k smartlic.UserAPIKey, err error) {
	secret, err := newSecret(userKeyPrefix)
	if err != nil {
		return k, err
	}
	now := m.clock.Now()
	k = smartlic.UserAPIKey{ID: newID(), UserID: userID, Name: in.Name, Hash: hashSecret(secret), CreatedAt: now}
	if in.ExpiresInDays > 0 {
		exp := now.Add(time.Duration(in.ExpiresInDays) * smartlic.Day)
		k.ExpiresAt = &exp
	}
	if err := tx.InsertUserAPIKey(ctx, k); err != nil {
		return k, err
	}
	err = m.record(ctx, tx, smartlic.Event{Type: "apikey.created", Subject: k.ID, Message: "API key " + k.Name + " created for " + email, After: eventData(k)})
	k.Secret = secret
	return k, err
}

// ListAPIKeys lists the calling user's keys.
func (m *Manager) ListAPIKeys(ctx context.Context, p smartlic.Page) ([]smartlic.UserAPIKey, string, error) {
	a, err := actorUser(ctx)
	if err != nil {
		return nil, "", err
	}
	p, err = fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.UserAPIKey
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		out, err = tx.ListUserAPIKeys(ctx, a.UserID, p)
		return err
	})
	out, next := cutPage(p, out, func(k smartlic.UserAPIKey) string { return k.ID })
	return out, next, err
}

// RevokeAPIKey revokes one of the calling user's keys (the operator may
// revoke anyone's).
func (m *Manager) RevokeAPIKey(ctx context.Context, id string) (k smartlic.UserAPIKey, err error) {
	a, _ := smartlic.ActorFrom(ctx)
	if !isOperator(ctx) {
		if a, err = actorUser(ctx); err != nil {
			return k, err
		}
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		k, err = tx.GetUserAPIKey(ctx, id)
		if (err == nil && k.UserID != a.UserID && !isOperator(ctx)) || smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.NotFound("API key %q not found", id)
		}
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil
		}
		if err := tx.RevokeUserAPIKey(ctx, k.ID, m.clock.Now()); err != nil {
			return err
		}
		before := k
		if k, err = tx.GetUserAPIKey(ctx, k.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "apikey.revoked", Subject: k.ID, Message: "API key " + k.Name + " revoked", Before: eventData(before), After: eventData(k)})
	})
	return k, err
}

// Login checks an e-mail and password and opens a session. Every failure
// gives the same error after the same argon2 work.
func (m *Manager) Login(ctx context.Context, email, password string) (smartlic.Login, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || len(password) > smartlic.MaxPasswordLength {
		m.checkPassword(dummyHash(), password)
		return smartlic.Login{}, errLogin()
	}
	if strings.HasPrefix(password, apiKeyPrefix) {
		return m.operatorLogin(ctx, email, password)
	}
	var u smartlic.User
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		u, err = tx.GetUser(ctx, email)
		return err
	})
	if err != nil && smartlic.ErrorCode(err) != smartlic.ENotFound {
		return smartlic.Login{}, err
	}
	if err != nil || u.Email != email {
		m.checkPassword(dummyHash(), password)
		return smartlic.Login{}, errLogin()
	}
	// A user made by single sign-on has no password: the same argon2 work,
	// and the same answer as a wrong one.
	hash := u.PasswordHash
	if hash == "" {
		hash = dummyHash()
	}
	if !m.checkPassword(hash, password) || u.PasswordHash == "" || u.Disabled {
		return smartlic.Login{}, errLogin()
	}
	var l smartlic.Login
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		var err error
		l, err = m.openSession(ctx, tx, u, u.Email+" signed in")
		return err
	})
	return l, err
}

// openSession stores a new session of u and records the sign-in; the
// portal's sign-in and single sign-on open the same kind of session.
func (m *Manager) openSession(ctx context.Context, tx smartlic.Tx, u smartlic.User, message string) (smartlic.Login, error) {
	secret, s, err := newSession(sessionPrefix, m.clock.Now())
	if err != nil {
		return smartlic.Login{}, err
	}
	s.UserID = u.ID
	ctx = smartlic.WithActor(ctx, smartlic.Actor{KeyID: s.ID, Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorSession})
	if err := tx.InsertSession(ctx, s); err != nil {
		return smartlic.Login{}, err
	}
	if err := m.record(ctx, tx, smartlic.Event{Type: "user.login", Subject: u.ID, Message: message}); err != nil {
		return smartlic.Login{}, err
	}
	return smartlic.Login{Secret: secret, CSRFToken: s.CSRFToken, User: u, ExpiresAt: s.ExpiresAt}, nil
}

// newSession makes the secret of a portal session, user's or operator's,
// and the session stored for it: only the secret's hash, a CSRF token,
// and the absolute limit from now.
func newSession(prefix string, now time.Time) (string, smartlic.Session, error) {
	secret, err := newSecret(prefix)
	if err != nil {
		return "", smartlic.Session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", smartlic.Session{}, err
	}
	return secret, smartlic.Session{ID: newID(), Hash: hashSecret(secret), CSRFToken: csrf, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxAge)}, nil
}

// sessionEnded says why a session is over at now, or "" while it lasts.
func sessionEnded(s smartlic.Session, now time.Time) string {
	switch {
	case !now.Before(s.ExpiresAt):
		return "session expired"
	case now.Sub(s.LastSeenAt) >= SessionIdle:
		return "session expired after inactivity"
	}
	return ""
}

// touchSession moves a session's last use to now, at most every
// sessionTouchEvery, so that an active session does not write on every
// request.
func (m *Manager) touchSession(ctx context.Context, s *smartlic.Session, now time.Time, touch func(smartlic.Tx) error) error {
	if now.Sub(s.LastSeenAt) < sessionTouchEvery {
		return nil
	}
	if err := m.st.Write(ctx, touch); err != nil {
		return err
	}
	s.LastSeenAt = now
	return nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", smartlic.Internal(err, "generating a token")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Logout ends a session when csrf is its CSRF token. Ending one that is
// already over is not an error.
func (m *Manager) Logout(ctx context.Context, secret, csrf string) error {
	if len(secret) > maxCredentialBytes {
		return nil
	}
	operator := strings.HasPrefix(secret, operatorSessPrefix)
	if !operator && !strings.HasPrefix(secret, sessionPrefix) {
		return nil
	}
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		var (
			s   smartlic.Session
			err error
		)
		if operator {
			s, _, err = tx.GetOperatorSessionByHash(ctx, hashSecret(secret))
		} else {
			s, err = tx.GetSessionByHash(ctx, hashSecret(secret))
		}
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if csrf == "" || subtle.ConstantTimeCompare([]byte(csrf), []byte(s.CSRFToken)) != 1 {
			return smartlic.Errorf(smartlic.EForbidden, "csrf_token", "signing out needs the session's CSRF token")
		}
		if operator {
			return tx.DeleteOperatorSession(ctx, s.ID)
		}
		return tx.DeleteSession(ctx, s.ID)
	})
}

// AuthenticateSession resolves a session cookie to its user, or to the
// operator for an operator's session.
func (m *Manager) AuthenticateSession(ctx context.Context, secret string) (smartlic.Actor, smartlic.Session, error) {
	bad := func(why string) (smartlic.Actor, smartlic.Session, error) {
		return smartlic.Actor{}, smartlic.Session{}, errCredentials(why)
	}
	if len(secret) > maxCredentialBytes {
		return bad("invalid session")
	}
	if strings.HasPrefix(secret, operatorSessPrefix) {
		return m.authenticateOperatorSession(ctx, secret)
	}
	if !strings.HasPrefix(secret, sessionPrefix) {
		return bad("invalid session")
	}
	var (
		s smartlic.Session
		u smartlic.User
	)
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		if s, err = tx.GetSessionByHash(ctx, hashSecret(secret)); err != nil {
			return err
		}
		u, err = tx.GetUser(ctx, s.UserID)
		return err
	})
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return bad("invalid session")
	}
	if err != nil {
		return smartlic.Actor{}, s, err
	}
	now := m.clock.Now()
	if why := sessionEnded(s, now); why != "" {
		return bad(why)
	}
	if u.Disabled {
		return bad("user disabled")
	}
	if err := m.touchSession(ctx, &s, now, func(tx smartlic.Tx) error { return tx.TouchSession(ctx, s.ID, now) }); err != nil {
		return smartlic.Actor{}, s, err
	}
	return smartlic.Actor{KeyID: s.ID, Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorSession}, s, nil
}

// authenticateUserKey resolves a personal API key.
func (m *Manager) authenticateUserKey(ctx context.Context, key string) (smartlic.Actor, error) {
	var (
		k smartlic.UserAPIKey
		u smartlic.User
	)
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		if k, err = tx.GetUserAPIKeyByHash(ctx, hashSecret(key)); err != nil {
			return err
		}
		u, err = tx.GetUser(ctx, k.UserID)
		return err
	})
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.Actor{}, errCredentials("unknown personal API key")
	}
	if err != nil {
		return smartlic.Actor{}, err
	}
	now := m.clock.Now()
	switch {
	case k.RevokedAt != nil:
		return smartlic.Actor{}, errCredentials("personal API key revoked")
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return smartlic.Actor{}, errCredentials("personal API key expired")
	case u.Disabled:
		return smartlic.Actor{}, errCredentials("user disabled")
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= lastUsedGranularity {
		if err := m.st.Write(ctx, func(tx smartlic.Tx) error { return tx.TouchUserAPIKey(ctx, k.ID, now) }); err != nil {
			return smartlic.Actor{}, err
		}
	}
	return smartlic.Actor{KeyID: k.ID, Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorUserKey}, nil
}

// visibleSmartAccounts is ListSmartAccounts for a caller who is not the
// operator: the accounts it holds a role in (an OAuth client: its own),
// one page of them in id order.
func (m *Manager) visibleSmartAccounts(ctx context.Context, tx smartlic.Tx, f smartlic.SmartAccountFilter, p smartlic.Page) ([]smartlic.SmartAccount, error) {
	a, ok := smartlic.ActorFrom(ctx)
	if !ok {
		return nil, smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	var ids []string
	switch {
	case a.Kind == smartlic.ActorOAuthClient:
		c, err := tx.GetOAuthClient(ctx, a.Client)
		if err != nil {
			return nil, err
		}
		if c.SmartAccountID != "" {
			ids = []string{c.SmartAccountID}
		}
	case a.UserID != "":
		var err error
		if ids, err = tx.UserSmartAccounts(ctx, a.UserID); err != nil {
			return nil, err
		}
	}
	slices.Sort(ids)
	out := []smartlic.SmartAccount{}
	for _, id := range ids {
		if id <= p.After {
			continue
		}
		if len(out) == p.Limit {
			break
		}
		sa, err := tx.GetSmartAccount(ctx, id)
		if err != nil {
			return nil, err
		}
		if f.Status != "" && sa.Status != f.Status {
			continue
		}
		out = append(out, sa)
	}
	return out, nil
}

// grantCreator makes the user who asked for a Smart Account its
// administrator, so that once the vendor approves it someone can run it.
func (m *Manager) grantCreator(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount) error {
	a, ok := smartlic.ActorFrom(ctx)
	if !ok || a.UserID == "" {
		return nil
	}
	r := smartlic.RoleAssignment{ID: newID(), UserID: a.UserID, UserEmail: a.Email, Role: smartlic.RoleSAAdmin, SmartAccountID: sa.ID, CreatedAt: m.clock.Now()}
	if err := tx.InsertRole(ctx, r); err != nil {
		return err
	}
	return m.record(ctx, tx, smartlic.Event{Type: "role.granted", SmartAccountID: sa.ID, Subject: r.ID,
		Message: a.Email + " granted " + r.Role + " as the account's requester", After: eventData(r)})
}
