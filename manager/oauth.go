package manager

import (
	"context"
	"crypto/subtle"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// saClientRoles are the roles an SA's OAuth client may carry: integrations
// act for the whole account.
var saClientRoles = []string{smartlic.RoleSAUser, smartlic.RoleSAAdmin, smartlic.RoleSAApprover}

// CreateOAuthClient registers a client-credentials client. A Smart
// Account's clients are managed by those who manage its users, and carry
// an SA role; the vendor's (sa "") by the operator. The secret is in this
// answer only.
func (m *Manager) CreateOAuthClient(ctx context.Context, saKey string, in smartlic.OAuthClientInput) (c smartlic.OAuthClient, err error) {
	if err := smartlic.ValidateName("name", in.Name, 200); err != nil {
		return c, err
	}
	if len(in.Scopes) == 0 {
		in.Scopes = []string{smartlic.ScopeRead}
	}
	for _, s := range in.Scopes {
		if s != smartlic.ScopeRead && s != smartlic.ScopeWrite {
			return c, smartlic.Invalid("scopes", "must be %q and/or %q (got %q)", smartlic.ScopeRead, smartlic.ScopeWrite, s)
		}
	}
	slices.Sort(in.Scopes)
	in.Scopes = slices.Compact(in.Scopes)
	secret, err := newSecret(oauthSecretPrefix)
	if err != nil {
		return c, err
	}
	cid, err := newSecret(oauthClientPrefix)
	if err != nil {
		return c, err
	}
	a, _ := smartlic.ActorFrom(ctx)
	c = smartlic.OAuthClient{ID: newID(), ClientID: cid[:len(oauthClientPrefix)+22], Name: in.Name, Role: in.Role, Scopes: in.Scopes,
		SecretHash: hashSecret(secret), CreatedBy: a.Email, CreatorUserID: a.UserID, CreatedAt: m.clock.Now()}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if a.Kind == smartlic.ActorOAuthClient {
			// A client made by a client acts for the same user.
			parent, err := tx.GetOAuthClient(ctx, a.Client)
			if err != nil {
				return err
			}
			c.CreatorUserID = parent.CreatorUserID
		}
		if saKey == "" {
			if c.Role == "" {
				c.Role = smartlic.RoleOperator
			}
			if c.Role != smartlic.RoleOperator {
				return smartlic.Invalid("role", "a vendor client acts as %q (got %q)", smartlic.RoleOperator, c.Role)
			}
			if err := m.authorize(ctx, tx, PermOperatorManage, nil, nil); err != nil {
				return err
			}
		} else {
			sa, err := getSA(ctx, tx, saKey)
			if err != nil {
				return err
			}
			if c.Role == "" {
				c.Role = smartlic.RoleSAUser
			}
			if !slices.Contains(saClientRoles, c.Role) {
				return smartlic.Invalid("role", "a Smart Account's client acts as one of %s (got %q)", strings.Join(saClientRoles, ", "), c.Role)
			}
			if err := m.authorize(ctx, tx, PermUsersManage, &sa, nil); err != nil {
				return err
			}
			c.SmartAccountID = sa.ID
		}
		if err := tx.InsertOAuthClient(ctx, c); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "oauth_client.created", SmartAccountID: c.SmartAccountID, Subject: c.ID,
			Message: "OAuth client " + c.Name + " created", After: eventData(c)})
	})
	c.Secret = secret
	return c, err
}

// oauthOwner resolves and authorizes the owner of OAuth clients.
func (m *Manager) oauthOwner(ctx context.Context, tx smartlic.Tx, saKey string, perm Permission) (string, error) {
	if saKey == "" {
		return "", m.authorize(ctx, tx, PermOperatorManage, nil, nil)
	}
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return "", err
	}
	return sa.ID, m.authorize(ctx, tx, perm, &sa, nil)
}

// ListOAuthClients lists the clients of a Smart Account, or the vendor's.
func (m *Manager) ListOAuthClients(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.OAuthClient, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.OAuthClient
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		saID, err := m.oauthOwner(ctx, tx, saKey, PermUsersView)
		if err != nil {
			return err
		}
		if out, err = tx.ListOAuthClients(ctx, saID, p); err != nil {
			return err
		}
		for i := range out {
			if out[i].SuspendedBecause, err = m.suspension(ctx, tx, out[i]); err != nil {
				return err
			}
			out[i].Suspended = out[i].SuspendedBecause != ""
		}
		return nil
	})
	out, next := cutPage(p, out, func(c smartlic.OAuthClient) string { return c.ID })
	return out, next, err
}

// RevokeOAuthClient revokes a client; its tokens stop working at once.
func (m *Manager) RevokeOAuthClient(ctx context.Context, saKey, id string) (c smartlic.OAuthClient, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		saID, err := m.oauthOwner(ctx, tx, saKey, PermUsersManage)
		if err != nil {
			return err
		}
		c, err = tx.GetOAuthClient(ctx, id)
		if (err == nil && c.SmartAccountID != saID) || smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.NotFound("OAuth client %q not found", id)
		}
		if err != nil || c.RevokedAt != nil {
			return err
		}
		before := c
		if err := tx.RevokeOAuthClient(ctx, c.ID, m.clock.Now()); err != nil {
			return err
		}
		if c, err = tx.GetOAuthClient(ctx, c.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "oauth_client.revoked", SmartAccountID: c.SmartAccountID, Subject: c.ID,
			Message: "OAuth client " + c.Name + " revoked", Before: eventData(before), After: eventData(c)})
	})
	return c, err
}

// errClient is the one answer to bad client credentials (RFC 6749's
// invalid_client), whichever part was wrong.
func errClient() error {
	return smartlic.Errorf(smartlic.EUnauthorized, "client_secret", "unknown client or wrong secret")
}

// IssueToken is the client-credentials grant: it checks the client's
// secret and returns a bearer token with the asked scopes (all the
// client's when scope is empty), valid for OAuthTokenTTL.
func (m *Manager) IssueToken(ctx context.Context, clientID, secret, scope string) (smartlic.TokenGrant, error) {
	if clientID == "" || len(clientID) > maxCredentialBytes || !strings.HasPrefix(secret, oauthSecretPrefix) || len(secret) > maxCredentialBytes {
		return smartlic.TokenGrant{}, errClient()
	}
	var (
		c         smartlic.OAuthClient
		suspended string
	)
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		if c, err = tx.GetOAuthClient(ctx, clientID); err != nil {
			return err
		}
		suspended, err = m.suspension(ctx, tx, c)
		return err
	})
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.TokenGrant{}, errClient()
	}
	if err != nil {
		return smartlic.TokenGrant{}, err
	}
	if c.ClientID != clientID || subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.SecretHash)) != 1 || c.RevokedAt != nil {
		return smartlic.TokenGrant{}, errClient()
	}
	if suspended != "" {
		// The right secret of a suspended client: the same answer as a
		// wrong one, since the caller may be whoever kept the secret.
		return smartlic.TokenGrant{}, errClient()
	}
	scopes := c.Scopes
	if asked := strings.Fields(scope); len(asked) > 0 {
		for _, s := range asked {
			if !slices.Contains(c.Scopes, s) {
				return smartlic.TokenGrant{}, smartlic.Invalid("scope", "the client may not ask for %q (it has: %s)", s, strings.Join(c.Scopes, " "))
			}
		}
		slices.Sort(asked)
		scopes = slices.Compact(asked)
	}
	tokSecret, err := newSecret(oauthTokenPrefix)
	if err != nil {
		return smartlic.TokenGrant{}, err
	}
	now := m.clock.Now()
	tok := smartlic.OAuthToken{ID: newID(), ClientID: c.ID, Hash: hashSecret(tokSecret), Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(OAuthTokenTTL)}
	if err := m.st.Write(ctx, func(tx smartlic.Tx) error { return tx.InsertOAuthToken(ctx, tok) }); err != nil {
		return smartlic.TokenGrant{}, err
	}
	return smartlic.TokenGrant{AccessToken: tokSecret, TokenType: "Bearer", ExpiresIn: int64(OAuthTokenTTL / time.Second), Scope: strings.Join(scopes, " ")}, nil
}

// authenticateOAuthToken resolves an OAuth bearer token.
func (m *Manager) authenticateOAuthToken(ctx context.Context, token string) (smartlic.Actor, error) {
	var (
		tok       smartlic.OAuthToken
		c         smartlic.OAuthClient
		suspended string
	)
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		if tok, err = tx.GetOAuthTokenByHash(ctx, hashSecret(token)); err != nil {
			return err
		}
		if c, err = tx.GetOAuthClient(ctx, tok.ClientID); err != nil {
			return err
		}
		suspended, err = m.suspension(ctx, tx, c)
		return err
	})
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.Actor{}, errCredentials("unknown OAuth access token")
	}
	if err != nil {
		return smartlic.Actor{}, err
	}
	switch {
	case !m.clock.Now().Before(tok.ExpiresAt):
		return smartlic.Actor{}, errCredentials("OAuth access token expired")
	case c.RevokedAt != nil:
		return smartlic.Actor{}, errCredentials("OAuth client revoked")
	case suspended != "":
		return smartlic.Actor{}, errCredentials("OAuth client suspended: " + suspended)
	}
	return smartlic.Actor{KeyID: tok.ID, Email: c.ClientID, Role: c.Role, Kind: smartlic.ActorOAuthClient, Client: c.ID, Scopes: tok.Scopes}, nil
}

// suspension says why the client may not act now, "" when it may. A
// client acts for the user who made it: once that user is disabled or no
// longer holds the power that made the client (managing the account's
// users), the client stops until the power comes back. Clients the
// operator made act for the vendor and are never suspended this way.
func (m *Manager) suspension(ctx context.Context, tx smartlic.Tx, c smartlic.OAuthClient) (string, error) {
	if c.CreatorUserID == "" || c.SmartAccountID == "" {
		return "", nil
	}
	creator, err := tx.GetUser(ctx, c.CreatorUserID)
	if err != nil {
		return "", err
	}
	if creator.Disabled {
		return "its creator " + creator.Email + " is disabled", nil
	}
	sa, err := tx.GetSmartAccount(ctx, c.SmartAccountID)
	if err != nil {
		return "", err
	}
	ok, err := m.allowed(ctx, tx, creatorActor(creator), PermUsersManage, &sa, nil)
	if err != nil || ok {
		return "", err
	}
	return "its creator " + creator.Email + " no longer administers " + sa.Domain, nil
}

// creatorActor is the user a client acts for, as an actor whose roles
// authorize can weigh.
func creatorActor(u smartlic.User) smartlic.Actor {
	return smartlic.Actor{Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorUserKey}
}

// creatorAllows reports whether the user an OAuth client acts for may do
// perm there too: a client's power is its role and scopes intersected with
// its creator's current roles, checked on every request, not only when the
// token was issued.
func (m *Manager) creatorAllows(ctx context.Context, tx smartlic.Tx, a smartlic.Actor, perm Permission, sa *smartlic.SmartAccount, va *smartlic.VirtualAccount) (bool, error) {
	c, err := tx.GetOAuthClient(ctx, a.Client)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return false, nil
	}
	if err != nil || c.CreatorUserID == "" {
		return err == nil, err
	}
	creator, err := tx.GetUser(ctx, c.CreatorUserID)
	if err != nil || creator.Disabled {
		return false, err
	}
	return m.allowed(ctx, tx, creatorActor(creator), perm, sa, va)
}
