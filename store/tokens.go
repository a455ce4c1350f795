package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smartlic/smartlic"
)

func (t *tx) InsertToken(ctx context.Context, tok smartlic.Token) error {
	_, err := t.exec(ctx, stInsertToken, tok.ID, tok.VirtualAccountID, tok.Description, tok.Hash, micros(tok.ExpiresAt),
		tok.MaxUses, tok.Uses, tok.AllowExportControlled, nullMicros(tok.RevokedAt), micros(tok.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a token", noun: "token", field: "hash", id: tok.ID, refs: "a Virtual Account"})
	}
	return nil
}

func (t *tx) GetToken(ctx context.Context, id string) (smartlic.Token, error) {
	return one(t.queryRow(ctx, stGetToken, id), scanToken, "reading a token", func() error {
		return smartlic.NotFound("token %q not found", id)
	})
}

func (t *tx) GetTokenByHash(ctx context.Context, hash string) (smartlic.Token, error) {
	return one(t.queryRow(ctx, stGetTokenByHash, hash), scanToken, "reading a token", func() error {
		return smartlic.NotFound("token not found") // the hash stays out of messages
	})
}

func (t *tx) ListTokens(ctx context.Context, vaID string, p smartlic.Page) ([]smartlic.Token, error) {
	rows, err := t.query(ctx, stListTokens, vaID, p.After, limit(p))
	return collect(rows, err, scanToken, "listing tokens")
}

// RevokeToken records the revocation; revoking again keeps the first time.
func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	t.changes |= scopeChange
	ok, err := t.execOne(ctx, stRevokeToken, micros(at), id)
	if err != nil {
		return smartlic.Internal(err, "revoking a token")
	}
	if !ok {
		return smartlic.NotFound("token %q not found", id)
	}
	return nil
}

func (t *tx) ConsumeToken(ctx context.Context, hash string, now time.Time) (smartlic.Token, bool, error) {
	tok, err := scanToken(t.queryRow(ctx, stConsumeToken, hash, micros(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return smartlic.Token{}, false, nil
	}
	if err != nil {
		return smartlic.Token{}, false, smartlic.Internal(err, "using a token")
	}
	return tok, true, nil
}

func scanToken(r scanner) (smartlic.Token, error) {
	var tok smartlic.Token
	var expires, created int64
	var maxUses, revoked sql.NullInt64
	err := r.Scan(&tok.ID, &tok.VirtualAccountID, &tok.Description, &tok.Hash, &expires, &maxUses, &tok.Uses,
		&tok.AllowExportControlled, &revoked, &created)
	tok.ExpiresAt, tok.RevokedAt, tok.CreatedAt = fromMicros(expires), fromNullMicros(revoked), fromMicros(created)
	if maxUses.Valid {
		tok.MaxUses = &maxUses.Int64
	}
	return tok, err
}
