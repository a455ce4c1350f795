package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/smartlic/smartlic"
)

const eventCols = `id, chain, seq, at, sa_id, va_id, type, subject, message, actor_id, actor_email, actor_role,
	request_id, before_json, after_json, prev_hash, hash`

// LockEventChain creates the chain's head row on first use and locks it,
// so two appenders can never read the same head.
func (t *tx) LockEventChain(ctx context.Context, chain string) (smartlic.ChainHead, error) {
	h := smartlic.ChainHead{Chain: chain}
	err := t.queryRowHeld(ctx, stLockEventChain, []any{chain}, &h.Seq, &h.Hash)
	if err != nil {
		return h, smartlic.Internal(err, "locking the event log")
	}
	return h, nil
}

// ChainSeqs reads the heads' seqs in one query.
func (t *tx) ChainSeqs(ctx context.Context, chains ...string) ([]int64, error) {
	out := make([]int64, len(chains))
	if len(chains) == 0 {
		return out, nil
	}
	rows, err := t.queryBuilt(ctx, `SELECT chain, seq FROM event_chains WHERE chain IN (`+inList(len(chains))+`)`, anys(chains)...)
	if err != nil {
		return nil, smartlic.Internal(err, "reading the event log heads")
	}
	defer rows.Close()
	for rows.Next() {
		var chain string
		var seq int64
		if err := rows.Scan(&chain, &seq); err != nil {
			return nil, smartlic.Internal(err, "reading the event log heads")
		}
		for i, c := range chains {
			if c == chain {
				out[i] = seq
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, smartlic.Internal(err, "reading the event log heads")
	}
	return out, nil
}

// AppendEvent stores a sealed event and moves the head to it. The head
// only moves forward by one, so an append that raced past the lock (a bug)
// fails instead of forking the chain.
func (t *tx) AppendEvent(ctx context.Context, e smartlic.Event) error {
	_, err := t.exec(ctx, stAppendEvent,
		e.ID, e.Chain, e.Seq, micros(e.At), nullString(e.SmartAccountID), nullString(e.VirtualAccountID), e.Type, e.Subject, e.Message,
		e.ActorID, e.ActorEmail, e.ActorRole, e.RequestID, nullJSON(e.Before), nullJSON(e.After), e.PrevHash, e.Hash)
	if err != nil {
		return smartlic.Internal(err, "appending to the event log")
	}
	res, err := t.exec(ctx, stMoveEventHead, e.Seq, e.Hash, e.Chain, e.Seq-1)
	if err != nil {
		return smartlic.Internal(err, "moving the event log head")
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return smartlic.Internal(errors.New("event chain head moved concurrently"), "appending to the event log")
	}
	return nil
}

// AppendEvents stores sealed consecutive events of one chain, in chunks of
// up to maxRowsPerInsert rows (inChunks), and moves the head once, to the
// last. A batch of registrations and an ingestion of usage reports both
// append this way.
func (t *tx) AppendEvents(ctx context.Context, events []smartlic.Event) error {
	if len(events) == 0 {
		return nil
	}
	first, last := events[0], events[len(events)-1]
	for i, e := range events {
		if e.Chain != first.Chain || e.Seq != first.Seq+int64(i) {
			return smartlic.Internal(errors.New("events are not consecutive entries of one chain"), "appending to the event log")
		}
	}
	err := inChunks(len(events), func(lo, hi int) error {
		args := make([]any, 0, 17*(hi-lo))
		for _, e := range events[lo:hi] {
			args = append(args, e.ID, e.Chain, e.Seq, micros(e.At), nullString(e.SmartAccountID), nullString(e.VirtualAccountID), e.Type, e.Subject, e.Message,
				e.ActorID, e.ActorEmail, e.ActorRole, e.RequestID, nullJSON(e.Before), nullJSON(e.After), e.PrevHash, e.Hash)
		}
		return t.execHeld(ctx, `INSERT INTO events (`+eventCols+`) VALUES `+valueRows(hi-lo, 17), args, func(_ int64, err error) error {
			if err != nil {
				return smartlic.Internal(err, "appending to the event log")
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return t.execHeldStmt(ctx, stMoveEventHead, []any{last.Seq, last.Hash, first.Chain, first.Seq - 1}, func(n int64, err error) error {
		if err != nil {
			return smartlic.Internal(err, "moving the event log head")
		}
		if n != 1 {
			return smartlic.Internal(errors.New("event chain head moved concurrently"), "appending to the event log")
		}
		return nil
	})
}

func (t *tx) ListEvents(ctx context.Context, chain string, f smartlic.EventFilter, p smartlic.Page) ([]smartlic.Event, error) {
	after := int64(0)
	if p.After != "" {
		n, err := strconv.ParseInt(p.After, 10, 64)
		if err != nil || n < 0 {
			return nil, smartlic.Invalid("after", "is not a cursor this server issued")
		}
		after = n
	}
	q := strings.Builder{}
	q.WriteString(`SELECT ` + eventCols + ` FROM events WHERE chain = ? AND seq > ?`)
	args := []any{chain, after}
	if f.VirtualAccountID != "" {
		q.WriteString(` AND va_id = ?`)
		args = append(args, f.VirtualAccountID)
	}
	if f.Actor != "" {
		q.WriteString(` AND (actor_email = ? OR actor_id = ?)`)
		args = append(args, f.Actor, f.Actor)
	}
	if f.Subject != "" {
		q.WriteString(` AND subject = ?`)
		args = append(args, f.Subject)
	}
	if f.Type != "" {
		if strings.HasSuffix(f.Type, ".") {
			// A prefix: "token." matches token.created, token.revoked.
			q.WriteString(` AND substr(type, 1, ?) = ?`)
			args = append(args, len(f.Type), f.Type)
		} else {
			q.WriteString(` AND type = ?`)
			args = append(args, f.Type)
		}
	}
	if !f.From.IsZero() {
		q.WriteString(` AND at >= ?`)
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		q.WriteString(` AND at < ?`)
		args = append(args, micros(f.To))
	}
	q.WriteString(` ORDER BY seq LIMIT ?`)
	args = append(args, limit(p))
	rows, err := t.queryBuilt(ctx, q.String(), args...)
	return collect(rows, err, scanEvent, "listing events")
}

func (t *tx) ChainEvents(ctx context.Context, chain string, after int64, n int) ([]smartlic.Event, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+eventCols+` FROM events WHERE chain = ? AND seq > ? ORDER BY seq LIMIT ?`, chain, after, n)
	return collect(rows, err, scanEvent, "reading the event log")
}

// EventChains lists the chains that should exist. A chain is known by its
// head row, by its entries, or by its owner, so that deleting the head or
// every row of a chain cannot hide it from verification: every Smart
// Account has its account.created entry, and the vendor chain holds the
// entries of the catalogue and of operator keys.
func (t *tx) EventChains(ctx context.Context, chain string) ([]smartlic.ChainState, error) {
	arms := []string{
		`SELECT chain FROM event_chains`,
		`SELECT DISTINCT chain FROM events`,
		`SELECT id AS chain FROM smart_accounts`,
		`SELECT '` + smartlic.VendorChain + `' AS chain WHERE (EXISTS (SELECT 1 FROM api_keys) OR EXISTS (SELECT 1 FROM license_types) OR EXISTS (SELECT 1 FROM products))`,
	}
	var args []any
	if chain != "" {
		for i, col := range []string{" WHERE chain = ?", " WHERE chain = ?", " WHERE id = ?", " AND CAST(? AS TEXT) = '" + smartlic.VendorChain + "'"} {
			arms[i] += col
			args = append(args, chain)
		}
	}
	q := `SELECT c.chain, h.seq, h.hash, sa.domain FROM (` + strings.Join(arms, " UNION ") + `) c
		LEFT JOIN event_chains h ON h.chain = c.chain
		LEFT JOIN smart_accounts sa ON sa.id = c.chain
		ORDER BY c.chain`
	rows, err := t.queryBuilt(ctx, q, args...)
	return collect(rows, err, func(r scanner) (smartlic.ChainState, error) {
		var s smartlic.ChainState
		var seq sql.NullInt64
		var hash, domain sql.NullString
		err := r.Scan(&s.Chain, &seq, &hash, &domain)
		if seq.Valid {
			s.Head = &smartlic.ChainHead{Chain: s.Chain, Seq: seq.Int64, Hash: hash.String}
		}
		s.Account = domain.String
		return s, err
	}, "listing event chains")
}

func scanEvent(r scanner) (smartlic.Event, error) {
	var e smartlic.Event
	var at int64
	var sa, va, before, after sql.NullString
	err := r.Scan(&e.ID, &e.Chain, &e.Seq, &at, &sa, &va, &e.Type, &e.Subject, &e.Message, &e.ActorID, &e.ActorEmail,
		&e.ActorRole, &e.RequestID, &before, &after, &e.PrevHash, &e.Hash)
	e.At, e.SmartAccountID, e.VirtualAccountID = fromMicros(at), sa.String, va.String
	if before.Valid {
		e.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		e.After = json.RawMessage(after.String)
	}
	return e, err
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
