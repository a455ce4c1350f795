package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// Users, roles, access requests and credentials. These statements are off
// the hot paths except the credential lookups, which are one indexed row
// each, so they are built per call rather than added to the fixed set.

const (
	userCols          = `id, email, name, password_hash, disabled_at, created_at`
	roleCols          = `r.id, r.user_id, u.email, r.role, r.smart_account_id, r.va_id, v.name, r.created_at`
	roleFrom          = ` FROM role_assignments r JOIN users u ON u.id = r.user_id LEFT JOIN virtual_accounts v ON v.id = r.va_id`
	accessRequestCols = `a.id, a.user_id, u.email, a.smart_account_id, a.message, a.status, a.decided_by, a.decided_at, a.created_at`
	accessRequestFrom = ` FROM access_requests a JOIN users u ON u.id = a.user_id`
	userAPIKeyCols    = `id, user_id, name, hash, created_at, expires_at, last_used_at, revoked_at`
	oauthClientCols   = `id, client_id, name, smart_account_id, role, scopes, secret_hash, created_by, created_at, revoked_at, creator_user_id`
	oauthTokenCols    = `id, client_id, hash, scopes, created_at, expires_at`
	sessionCols       = `id, hash, user_id, csrf_token, created_at, last_seen_at, expires_at`
)

func (t *tx) InsertUser(ctx context.Context, u smartlic.User) error {
	_, err := t.execBuilt(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, nullMicros(u.DisabledAt), micros(u.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a user", noun: "user", field: "email", value: u.Email, id: u.ID})
	}
	return nil
}

func (t *tx) GetUser(ctx context.Context, idOrEmail string) (smartlic.User, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+userCols+` FROM users WHERE id = ? OR email = ?`, idOrEmail, idOrEmail),
		scanUser, "reading a user", func() error { return smartlic.NotFound("user %q not found", idOrEmail) })
}

func (t *tx) ListUsers(ctx context.Context, p smartlic.Page) ([]smartlic.User, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+userCols+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, p.After, limit(p))
	return collect(rows, err, scanUser, "listing users")
}

func (t *tx) UpdateUser(ctx context.Context, u smartlic.User) error {
	res, err := t.execBuilt(ctx, `UPDATE users SET email = ?, name = ?, password_hash = ?, disabled_at = ? WHERE id = ?`,
		u.Email, u.Name, u.PasswordHash, nullMicros(u.DisabledAt), u.ID)
	return t.oneRow(res, err, about{what: "updating a user", noun: "user", field: "email", value: u.Email, id: u.ID})
}

func scanUser(r scanner) (smartlic.User, error) {
	var u smartlic.User
	var disabled sql.NullInt64
	var created int64
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &disabled, &created)
	u.DisabledAt, u.CreatedAt = fromNullMicros(disabled), fromMicros(created)
	u.Disabled = u.DisabledAt != nil
	return u, err
}

// oneRow turns the result of an UPDATE or DELETE of one row by id into the
// store's answer: not found when no row matched.
func (t *tx) oneRow(res sql.Result, err error, a about) error {
	if err != nil {
		return t.writeErr(err, a)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return smartlic.Internal(err, a.what)
	}
	if n == 0 {
		return smartlic.NotFound("%s %q not found", a.noun, a.id)
	}
	return nil
}

func (t *tx) InsertRole(ctx context.Context, r smartlic.RoleAssignment) error {
	_, err := t.execBuilt(ctx, `INSERT INTO role_assignments (id, user_id, role, smart_account_id, va_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.UserID, r.Role, r.SmartAccountID, nullString(r.VirtualAccountID), micros(r.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "granting a role", noun: "role assignment", field: "role", value: r.Role, id: r.ID, refs: "a user, Smart Account or Virtual Account"})
	}
	return nil
}

func (t *tx) GetRole(ctx context.Context, id string) (smartlic.RoleAssignment, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+roleCols+roleFrom+` WHERE r.id = ?`, id), scanRole, "reading a role",
		func() error { return smartlic.NotFound("role assignment %q not found", id) })
}

func (t *tx) DeleteRole(ctx context.Context, id string) error {
	res, err := t.execBuilt(ctx, `DELETE FROM role_assignments WHERE id = ?`, id)
	return t.oneRow(res, err, about{what: "revoking a role", noun: "role assignment", id: id})
}

func (t *tx) RolesOfUser(ctx context.Context, userID string) ([]smartlic.RoleAssignment, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+roleCols+roleFrom+` WHERE r.user_id = ? ORDER BY r.id LIMIT 10000`, userID)
	return collect(rows, err, scanRole, "reading a user's roles")
}

func (t *tx) ListRoles(ctx context.Context, saID, vaID string, p smartlic.Page) ([]smartlic.RoleAssignment, error) {
	q, args := `SELECT `+roleCols+roleFrom+` WHERE r.smart_account_id = ? AND r.id > ?`, []any{saID, p.After}
	if vaID != "" {
		q += ` AND r.va_id = ?`
		args = append(args, vaID)
	}
	rows, err := t.queryBuilt(ctx, q+` ORDER BY r.id LIMIT ?`, append(args, limit(p))...)
	return collect(rows, err, scanRole, "listing roles")
}

func (t *tx) UserSmartAccounts(ctx context.Context, userID string) ([]string, error) {
	rows, err := t.queryBuilt(ctx, `SELECT DISTINCT smart_account_id FROM role_assignments WHERE user_id = ? ORDER BY smart_account_id LIMIT 10000`, userID)
	return collect(rows, err, func(r scanner) (string, error) {
		var s string
		err := r.Scan(&s)
		return s, err
	}, "reading a user's Smart Accounts")
}

func scanRole(r scanner) (smartlic.RoleAssignment, error) {
	var a smartlic.RoleAssignment
	var va, vaName sql.NullString
	var created int64
	err := r.Scan(&a.ID, &a.UserID, &a.UserEmail, &a.Role, &a.SmartAccountID, &va, &vaName, &created)
	a.VirtualAccountID, a.VirtualAccount, a.CreatedAt = va.String, vaName.String, fromMicros(created)
	return a, err
}

func (t *tx) InsertAccessRequest(ctx context.Context, r smartlic.AccessRequest) error {
	_, err := t.execBuilt(ctx, `INSERT INTO access_requests (id, user_id, smart_account_id, message, status, decided_by, decided_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.UserID, r.SmartAccountID, r.Message, r.Status, r.DecidedBy, nullMicros(r.DecidedAt), micros(r.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an access request", noun: "access request", id: r.ID, refs: "a user or Smart Account"})
	}
	return nil
}

func (t *tx) GetAccessRequest(ctx context.Context, id string) (smartlic.AccessRequest, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+accessRequestCols+accessRequestFrom+` WHERE a.id = ?`, id), scanAccessRequest,
		"reading an access request", func() error { return smartlic.NotFound("access request %q not found", id) })
}

func (t *tx) ListAccessRequests(ctx context.Context, saID string, p smartlic.Page) ([]smartlic.AccessRequest, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+accessRequestCols+accessRequestFrom+` WHERE a.smart_account_id = ? AND a.id > ? ORDER BY a.id LIMIT ?`,
		saID, p.After, limit(p))
	return collect(rows, err, scanAccessRequest, "listing access requests")
}

func (t *tx) UpdateAccessRequest(ctx context.Context, r smartlic.AccessRequest) error {
	res, err := t.execBuilt(ctx, `UPDATE access_requests SET message = ?, status = ?, decided_by = ?, decided_at = ? WHERE id = ?`,
		r.Message, r.Status, r.DecidedBy, nullMicros(r.DecidedAt), r.ID)
	return t.oneRow(res, err, about{what: "updating an access request", noun: "access request", id: r.ID})
}

func scanAccessRequest(r scanner) (smartlic.AccessRequest, error) {
	var a smartlic.AccessRequest
	var decided sql.NullInt64
	var created int64
	err := r.Scan(&a.ID, &a.UserID, &a.UserEmail, &a.SmartAccountID, &a.Message, &a.Status, &a.DecidedBy, &decided, &created)
	a.DecidedAt, a.CreatedAt = fromNullMicros(decided), fromMicros(created)
	return a, err
}

func (t *tx) InsertUserAPIKey(ctx context.Context, k smartlic.UserAPIKey) error {
	_, err := t.execBuilt(ctx, `INSERT INTO user_api_keys (`+userAPIKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.Name, k.Hash, micros(k.CreatedAt), nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt), nullMicros(k.RevokedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an API key", noun: "API key", field: "hash", id: k.ID, refs: "a user"})
	}
	return nil
}

func (t *tx) GetUserAPIKey(ctx context.Context, id string) (smartlic.UserAPIKey, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+userAPIKeyCols+` FROM user_api_keys WHERE id = ?`, id), scanUserAPIKey,
		"reading an API key", func() error { return smartlic.NotFound("API key %q not found", id) })
}

func (t *tx) GetUserAPIKeyByHash(ctx context.Context, hash string) (smartlic.UserAPIKey, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+userAPIKeyCols+` FROM user_api_keys WHERE hash = ?`, hash), scanUserAPIKey,
		"reading an API key", func() error { return smartlic.NotFound("API key not found") })
}

func (t *tx) ListUserAPIKeys(ctx context.Context, userID string, p smartlic.Page) ([]smartlic.UserAPIKey, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+userAPIKeyCols+` FROM user_api_keys WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`, userID, p.After, limit(p))
	return collect(rows, err, scanUserAPIKey, "listing API keys")
}

func (t *tx) TouchUserAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE user_api_keys SET last_used_at = ? WHERE id = ?`, micros(at), id)
	return t.oneRow(res, err, about{what: "recording an API key's use", noun: "API key", id: id})
}

// RevokeUserAPIKey records the revocation; revoking again keeps the first time.
func (t *tx) RevokeUserAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE user_api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(at), id)
	return t.oneRow(res, err, about{what: "revoking an API key", noun: "API key", id: id})
}

func scanUserAPIKey(r scanner) (smartlic.UserAPIKey, error) {
	var k smartlic.UserAPIKey
	var created int64
	var expires, used, revoked sql.NullInt64
	err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Hash, &created, &expires, &used, &revoked)
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt = fromMicros(created), fromNullMicros(expires), fromNullMicros(used), fromNullMicros(revoked)
	return k, err
}

func (t *tx) InsertOAuthClient(ctx context.Context, c smartlic.OAuthClient) error {
	_, err := t.execBuilt(ctx, `INSERT INTO oauth_clients (`+oauthClientCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.ClientID, c.Name, nullString(c.SmartAccountID), c.Role, strings.Join(c.Scopes, " "), c.SecretHash, c.CreatedBy,
		micros(c.CreatedAt), nullMicros(c.RevokedAt), nullString(c.CreatorUserID))
	if err != nil {
		return t.writeErr(err, about{what: "storing an OAuth client", noun: "OAuth client", field: "client_id", id: c.ID, refs: "a Smart Account or user"})
	}
	return nil
}

func (t *tx) GetOAuthClient(ctx context.Context, id string) (smartlic.OAuthClient, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+oauthClientCols+` FROM oauth_clients WHERE id = ? OR client_id = ?`, id, id), scanOAuthClient,
		"reading an OAuth client", func() error { return smartlic.NotFound("OAuth client %q not found", id) })
}

func (t *tx) ListOAuthClients(ctx context.Context, saID string, p smartlic.Page) ([]smartlic.OAuthClient, error) {
	q := `SELECT ` + oauthClientCols + ` FROM oauth_clients WHERE smart_account_id = ? AND id > ? ORDER BY id LIMIT ?`
	args := []any{saID, p.After, limit(p)}
	if saID == "" {
		q = `SELECT ` + oauthClientCols + ` FROM oauth_clients WHERE smart_account_id IS NULL AND id > ? ORDER BY id LIMIT ?`
		args = args[1:]
	}
	rows, err := t.queryBuilt(ctx, q, args...)
	return collect(rows, err, scanOAuthClient, "listing OAuth clients")
}

func (t *tx) RevokeOAuthClient(ctx context.Context, id string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE oauth_clients SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(at), id)
	return t.oneRow(res, err, about{what: "revoking an OAuth client", noun: "OAuth client", id: id})
}

func scanOAuthClient(r scanner) (smartlic.OAuthClient, error) {
	var c smartlic.OAuthClient
	var sa, creator sql.NullString
	var scopes string
	var created int64
	var revoked sql.NullInt64
	err := r.Scan(&c.ID, &c.ClientID, &c.Name, &sa, &c.Role, &scopes, &c.SecretHash, &c.CreatedBy, &created, &revoked, &creator)
	c.SmartAccountID, c.Scopes, c.CreatedAt, c.RevokedAt = sa.String, strings.Fields(scopes), fromMicros(created), fromNullMicros(revoked)
	c.CreatorUserID = creator.String
	return c, err
}

func (t *tx) InsertOAuthToken(ctx context.Context, tok smartlic.OAuthToken) error {
	_, err := t.execBuilt(ctx, `INSERT INTO oauth_tokens (`+oauthTokenCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.ClientID, tok.Hash, strings.Join(tok.Scopes, " "), micros(tok.CreatedAt), micros(tok.ExpiresAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an OAuth token", noun: "OAuth token", field: "hash", id: tok.ID, refs: "an OAuth client"})
	}
	return nil
}

func (t *tx) GetOAuthTokenByHash(ctx context.Context, hash string) (smartlic.OAuthToken, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+oauthTokenCols+` FROM oauth_tokens WHERE hash = ?`, hash), func(r scanner) (smartlic.OAuthToken, error) {
		var tok smartlic.OAuthToken
		var scopes string
		var created, expires int64
		err := r.Scan(&tok.ID, &tok.ClientID, &tok.Hash, &scopes, &created, &expires)
		tok.Scopes, tok.CreatedAt, tok.ExpiresAt = strings.Fields(scopes), fromMicros(created), fromMicros(expires)
		return tok, err
	}, "reading an OAuth token", func() error { return smartlic.NotFound("OAuth token not found") })
}

func (t *tx) InsertSession(ctx context.Context, s smartlic.Session) error {
	_, err := t.execBuilt(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Hash, s.UserID, s.CSRFToken, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a session", noun: "session", field: "hash", id: s.ID, refs: "a user"})
	}
	return nil
}

func (t *tx) GetSessionByHash(ctx context.Context, hash string) (smartlic.Session, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+sessionCols+` FROM sessions WHERE hash = ?`, hash), func(r scanner) (smartlic.Session, error) {
		var s smartlic.Session
		var created, seen, expires int64
		err := r.Scan(&s.ID, &s.Hash, &s.UserID, &s.CSRFToken, &created, &seen, &expires)
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
		return s, err
	}, "reading a session", func() error { return smartlic.NotFound("session not found") })
}

func (t *tx) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, micros(at), id)
	return t.oneRow(res, err, about{what: "recording a session's use", noun: "session", id: id})
}

func (t *tx) DeleteSession(ctx context.Context, id string) error {
	res, err := t.execBuilt(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return t.oneRow(res, err, about{what: "ending a session", noun: "session", id: id})
}

const operatorSessionCols = `id, hash, api_key_id, csrf_token, created_at, last_seen_at, expires_at`

func (t *tx) InsertOperatorSession(ctx context.Context, s smartlic.Session) error {
	_, err := t.execBuilt(ctx, `INSERT INTO operator_sessions (`+operatorSessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Hash, s.OperatorKeyID, s.CSRFToken, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an operator session", noun: "session", field: "hash", id: s.ID, refs: "an operator key"})
	}
	return nil
}

func (t *tx) GetOperatorSessionByHash(ctx context.Context, hash string) (smartlic.Session, smartlic.APIKey, error) {
	var k smartlic.APIKey
	s, err := one(t.queryRowBuilt(ctx, `SELECT s.id, s.hash, s.api_key_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
		k.id, k.email, k.role, k.hash, k.created_at, k.last_used_at
		FROM operator_sessions s JOIN api_keys k ON k.id = s.api_key_id WHERE s.hash = ?`, hash), func(r scanner) (smartlic.Session, error) {
		var s smartlic.Session
		var created, seen, expires, keyCreated int64
		var used sql.NullInt64
		err := r.Scan(&s.ID, &s.Hash, &s.OperatorKeyID, &s.CSRFToken, &created, &seen, &expires,
			&k.ID, &k.Email, &k.Role, &k.Hash, &keyCreated, &used)
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
		k.CreatedAt, k.LastUsedAt = fromMicros(keyCreated), fromNullMicros(used)
		return s, err
	}, "reading an operator session", func() error { return smartlic.NotFound("session not found") })
	return s, k, err
}

func (t *tx) TouchOperatorSession(ctx context.Context, id string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE operator_sessions SET last_seen_at = ? WHERE id = ?`, micros(at), id)
	return t.oneRow(res, err, about{what: "recording a session's use", noun: "session", id: id})
}

func (t *tx) DeleteOperatorSession(ctx context.Context, id string) error {
	res, err := t.execBuilt(ctx, `DELETE FROM operator_sessions WHERE id = ?`, id)
	return t.oneRow(res, err, about{what: "ending a session", noun: "session", id: id})
}

func (t *tx) ForgetSessions(ctx context.Context, expiredAt, idleSince time.Time, limit int) (int64, error) {
	var total int64
	for _, table := range []string{"sessions", "operator_sessions"} {
		res, err := t.execBuilt(ctx, `DELETE FROM `+table+` WHERE id IN
			(SELECT id FROM `+table+` WHERE expires_at <= ? OR last_seen_at <= ? LIMIT ?)`, micros(expiredAt), micros(idleSince), limit)
		if err != nil {
			return total, smartlic.Internal(err, "forgetting ended sessions")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, smartlic.Internal(err, "forgetting ended sessions")
		}
		total += n
	}
	return total, nil
}
