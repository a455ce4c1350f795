package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smartlic/smartlic"
)

// Register writes one checked registration (see smartlic.Registrar): it
// joins the batch of its event chain (see registrar).
func (db *DB) Register(ctx context.Context, r smartlic.Registration, now time.Time) (prior []byte, err error) {
	if db.regs != nil {
		prior, err = db.regs.register(ctx, r, now)
	} else {
		prior, err = db.registerAlone(ctx, r, now)
	}
	switch smartlic.ErrorCode(err) {
	case smartlic.ETokenUnknown, smartlic.ETokenExpired, smartlic.ETokenRevoked, smartlic.ETokenExhausted:
		// The scope this registration was built on is out of date: the
		// next one reads the token again, and the caller says why.
		db.scopes.drop(r.TokenHash)
	}
	return prior, err
}

// registerAlone writes one registration in a transaction of its own, when
// a batch cannot be written as one.
func (db *DB) registerAlone(ctx context.Context, r smartlic.Registration, now time.Time) ([]byte, error) {
	var prior []byte
	err := db.Write(ctx, func(t smartlic.Tx) error {
		var err error
		prior, err = registerTx(ctx, t, r, now)
		return err
	})
	return prior, err
}

// registerTx is one registration's writes inside t, hot rows last: the
// claim and the instance touch only rows of their own, the token's row and
// the chain head are shared by every registration of the account.
func registerTx(ctx context.Context, t smartlic.Tx, r smartlic.Registration, now time.Time) ([]byte, error) {
	prior, ok, err := t.ClaimDeviceRequest(ctx, r.Request)
	if err != nil {
		return nil, err
	}
	if !ok {
		if prior.Answer == nil {
			return nil, smartlic.Errorf(smartlic.EConflict, "", "this request is being answered; retry")
		}
		return prior.Answer, nil
	}
	if err := t.InsertInstance(ctx, r.Instance); err != nil {
		return nil, err
	}
	if _, ok, err := t.ConsumeToken(ctx, r.TokenHash, now); err != nil {
		return nil, err
	} else if !ok {
		return nil, tokenRefusal(ctx, t, r.TokenHash, now)
	}
	head, err := t.LockEventChain(ctx, r.Instance.SmartAccountID)
	if err != nil {
		return nil, err
	}
	e := r.Event
	e.Seal(head)
	return nil, t.AppendEvent(ctx, e)
}

// tokenRefusal says why the token with this hash gave no use.
func tokenRefusal(ctx context.Context, t smartlic.Tx, hash string, now time.Time) error {
	tok, err := t.GetTokenByHash(ctx, hash)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return errTokenUnknown()
	}
	if err != nil {
		return err
	}
	if err := tok.UsableErr(now); err != nil {
		return err
	}
	// Usable now, yet the claim found it unusable: only possible if a
	// clock went backwards. Refuse rather than guess.
	return smartlic.Errorf(smartlic.EConflict, "token", "registration token changed during the request; retry")
}

func errTokenUnknown() error {
	return smartlic.Errorf(smartlic.ETokenUnknown, "token", "registration token not recognised")
}

// RegistrationScope reads outside any transaction: on SQLite from a WAL
// reader, never the writer. A scope that lets a registration go ahead is
// kept for a moment and served again (see scopeCache); one that does not
// is read each time, so that the caller says why.
func (db *DB) RegistrationScope(ctx context.Context, tokenHash, pid string) (smartlic.RegistrationScope, error) {
	key := scopeKey{tokenHash: tokenHash, pid: pid}
	if s, ok := db.scopes.get(key); ok {
		return s, nil
	}
	gen, at := db.scopes.gen.Load(), time.Now()
	s, err := db.readRegistrationScope(ctx, tokenHash, pid)
	if err == nil && s.Token.UsableErr(at) == nil && s.SmartAccount.Status == smartlic.SAActive && s.ProductID != "" {
		db.scopes.put(key, s, gen, at)
	}
	return s, err
}

// readRegistrationScope is RegistrationScope's query.
func (db *DB) readRegistrationScope(ctx context.Context, tokenHash, pid string) (smartlic.RegistrationScope, error) {
	var row *sql.Row
	if db.rstmts != nil {
		row = db.rstmts[stRegistrationScope].QueryRowContext(ctx, pid, pid, tokenHash)
	} else {
		row = db.read.QueryRowContext(ctx, db.text[stRegistrationScope], pid, pid, tokenHash)
	}
	var (
		s                    smartlic.RegistrationScope
		tok                  = &s.Token
		va                   = &s.VirtualAccount
		sa                   = &s.SmartAccount
		expires, created     int64
		maxUses, revoked     sql.NullInt64
		parent, product      sql.NullString
		vaCreated, saCreated int64
	)
	err := row.Scan(&tok.ID, &tok.VirtualAccountID, &tok.Description, &tok.Hash, &expires, &maxUses, &tok.Uses,
		&tok.AllowExportControlled, &revoked, &created,
		&va.ID, &va.SmartAccountID, &parent, &va.Name, &va.Description, &va.Depth, &vaCreated,
		&sa.ID, &sa.Name, &sa.Domain, &sa.LimitedUse, &sa.Status, &saCreated,
		&product)
	if errors.Is(err, sql.ErrNoRows) {
		return s, smartlic.NotFound("token not found") // the hash stays out of messages
	}
	if err != nil {
		return s, smartlic.Internal(err, "reading a registration's token and accounts")
	}
	tok.ExpiresAt, tok.RevokedAt, tok.CreatedAt = fromMicros(expires), fromNullMicros(revoked), fromMicros(created)
	if maxUses.Valid {
		tok.MaxUses = &maxUses.Int64
	}
	va.ParentID, va.CreatedAt = parent.String, fromMicros(vaCreated)
	sa.CreatedAt = fromMicros(saCreated)
	s.ProductID = product.String
	return s, nil
}
