package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/smartlic/smartlic"
)

// Pipeline runs fn, holding the writes fn makes whose outcome its caller
// does not read back (execHeld: usage lines, marks, reporting times, pool
// moves, event appends) and sending them together, in order, on
// PostgreSQL in one round trip: before the next statement that is not
// held (the event chain's lock goes with them as their batch's last, see
// queryRowHeld), and when fn returns. Each statement of a write is a
// round trip, and on a machine whose cores are busy checking signatures
// each round trip waits for PostgreSQL's process to be scheduled: an
// ingestion's write spent most of its time so. The statements and their
// order are those fn would run without Pipeline, so what commits is the
// same; an error of a held statement is Pipeline's answer (and fails the
// transaction). On SQLite, where a statement is a function call,
// Pipeline just runs fn.
func (t *tx) Pipeline(ctx context.Context, fn func() error) error {
	if t.conn == nil || t.piping {
		return fn()
	}
	t.piping, t.pipeErr = true, nil
	defer func() { t.piping, t.held, t.pipeErr = false, nil, nil }()
	err := fn()
	if t.pipeErr != nil {
		return t.pipeErr
	}
	if err != nil {
		return err // the held statements are dropped with the transaction
	}
	return t.sendHeld(ctx)
}

// execHeld runs a write written with '?' placeholders whose outcome only
// done reads, or holds it for Pipeline. done gets the rows it affected
// and its error, and returns the statement's answer.
func (t *tx) execHeld(ctx context.Context, q string, args []any, done func(n int64, err error) error) error {
	return t.execHeldText(ctx, t.db.d.rebind(q), args, done)
}

// execHeldStmt is execHeld for a fixed statement.
func (t *tx) execHeldStmt(ctx context.Context, s stmt, args []any, done func(n int64, err error) error) error {
	if t.piping {
		return t.execHeldText(ctx, t.db.text[s], args, done)
	}
	res, err := t.exec(ctx, s, args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	return done(n, err)
}

// execHeldText is execHeld for a text already in the dialect's
// placeholders.
func (t *tx) execHeldText(ctx context.Context, q string, args []any, done func(n int64, err error) error) error {
	if t.piping {
		t.db.statements.Add(1)
		t.held = append(t.held, heldStmt{q: q, args: args, done: done})
		return nil
	}
	ctx = t.c(ctx)
	t.db.statements.Add(1)
	res, err := t.sql.ExecContext(ctx, q, args...)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	return done(n, err)
}

// queryRowHeld runs a fixed one-row query and scans it into dest; with statements held, it is sent as the last of
// their batch, so that the writes and the lock it takes after them cost
// one round trip. It returns sql.ErrNoRows for no row.
func (t *tx) queryRowHeld(ctx context.Context, s stmt, args []any, dest ...any) error {
	if !t.piping || len(t.held) == 0 {
		return t.queryRow(ctx, s, args...).Scan(dest...)
	}
	q := t.db.text[s]
	t.db.statements.Add(1)
	var scanErr error
	err := t.send(ctx, func(b *pgx.Batch) {
		b.Queue(q, args...)
	}, func(br pgx.BatchResults) {
		scanErr = br.QueryRow().Scan(dest...)
		if errors.Is(scanErr, pgx.ErrNoRows) {
			scanErr = sql.ErrNoRows
		}
	})
	if err != nil {
		return err
	}
	return scanErr
}

// sendHeld sends the held statements, if any, in one batch.
func (t *tx) sendHeld(ctx context.Context) error {
	if len(t.held) == 0 {
		return nil
	}
	return t.send(ctx, nil, nil)
}

// send sends the held statements, then what more queues, in one pgx
// batch on the transaction's connection, and answers each held statement
// through its done; more's results are read by after. The first error
// is kept as Pipeline's answer: PostgreSQL fails every later statement
// of the transaction anyway.
func (t *tx) send(ctx context.Context, more func(*pgx.Batch), after func(pgx.BatchResults)) error {
	held := t.held
	t.held = nil
	ctx = t.c(ctx)
	err := t.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return smartlic.Internal(errors.New("not a pgx connection"), "sending a batch of statements")
		}
		b := &pgx.Batch{}
		for _, h := range held {
			b.Queue(h.q, h.args...)
		}
		if more != nil {
			more(b)
		}
		br := c.Conn().SendBatch(ctx, b)
		var first error
		for _, h := range held {
			tag, err := br.Exec()
			if err := h.done(tag.RowsAffected(), err); err != nil && first == nil {
				first = err
			}
		}
		if after != nil && first == nil {
			after(br)
		}
		if err := br.Close(); err != nil && first == nil {
			first = smartlic.Internal(err, "sending a batch of statements")
		}
		return first
	})
	if err != nil && t.pipeErr == nil {
		t.pipeErr = err
	}
	return err
}

// readQuery is a query written with '?' placeholders whose rows scan
// reads one by one; what names it in an error.
type readQuery struct {
	q    string
	args []any
	scan func(scanner) error
	what string
}

// readAll runs the queries in order. In Pipeline they go in one batch
// after the writes held before them: one round trip where each was one.
func (t *tx) readAll(ctx context.Context, qs ...readQuery) error {
	if len(qs) == 0 {
		return nil
	}
	if !t.piping {
		for _, q := range qs {
			rows, err := t.queryBuilt(ctx, q.q, q.args...)
			if err == nil {
				err = eachRow(rows, q.scan)
			}
			if err != nil {
				return smartlic.Internal(err, q.what)
			}
		}
		return nil
	}
	t.db.statements.Add(int64(len(qs)))
	var readErr error
	err := t.send(ctx, func(b *pgx.Batch) {
		for _, q := range qs {
			b.Queue(t.db.d.rebind(q.q), q.args...)
		}
	}, func(br pgx.BatchResults) {
		for _, q := range qs {
			rows, err := br.Query()
			if err == nil {
				for rows.Next() && err == nil {
					err = q.scan(rows)
				}
				rows.Close()
				if err == nil {
					err = rows.Err()
				}
			}
			if err != nil {
				readErr = smartlic.Internal(err, q.what)
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return readErr
}

// eachRow scans every row of rows and closes them.
func eachRow(rows *sql.Rows, scan func(scanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
