package store

import (
	"context"
	"time"

	"github.com/smartlic/smartlic"
)

// Identity bindings of single sign-on. Looked up once per sign-in by the
// unique (issuer, subject) index; off the hot paths, so built per call.

const userIdentityCols = `id, user_id, issuer, subject, email, created_at, last_used_at`

func (t *tx) InsertUserIdentity(ctx context.Context, i smartlic.UserIdentity) error {
	_, err := t.execBuilt(ctx, `INSERT INTO user_identities (`+userIdentityCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.UserID, i.Issuer, i.Subject, i.Email, micros(i.CreatedAt), micros(i.LastUsedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an identity binding", noun: "identity binding", field: "subject", id: i.ID, refs: "a user"})
	}
	return nil
}

func (t *tx) GetUserIdentity(ctx context.Context, issuer, subject string) (smartlic.UserIdentity, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+userIdentityCols+` FROM user_identities WHERE issuer = ? AND subject = ?`, issuer, subject),
		scanUserIdentity, "reading an identity binding", func() error { return smartlic.NotFound("no user is bound to this identity") })
}

func (t *tx) UserIdentities(ctx context.Context, userID string) ([]smartlic.UserIdentity, error) {
	// A user has at most one binding per issuer, and issuers are the few
	// the server was configured with: the LIMIT is a guard, not a page.
	rows, err := t.queryBuilt(ctx, `SELECT `+userIdentityCols+` FROM user_identities WHERE user_id = ? ORDER BY id LIMIT 100`, userID)
	return collect(rows, err, scanUserIdentity, "listing identity bindings")
}

func (t *tx) TouchUserIdentity(ctx context.Context, id, email string, at time.Time) error {
	res, err := t.execBuilt(ctx, `UPDATE user_identities SET email = ?, last_used_at = ? WHERE id = ?`, email, micros(at), id)
	return t.oneRow(res, err, about{what: "updating an identity binding", noun: "identity binding", id: id})
}

func (t *tx) DeleteUserIdentity(ctx context.Context, id string) error {
	res, err := t.execBuilt(ctx, `DELETE FROM user_identities WHERE id = ?`, id)
	return t.oneRow(res, err, about{what: "deleting an identity binding", noun: "identity binding", id: id})
}

func scanUserIdentity(r scanner) (smartlic.UserIdentity, error) {
	var (
		i             smartlic.UserIdentity
		created, used int64
	)
	err := r.Scan(&i.ID, &i.UserID, &i.Issuer, &i.Subject, &i.Email, &created, &used)
	i.CreatedAt, i.LastUsedAt = fromMicros(created), fromMicros(used)
	return i, err
}
