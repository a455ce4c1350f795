package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/smartlic/smartlic"
)

// DialectName is "sqlite" or "postgres".
func DialectName(db *DB) string { return db.d.name }

// Pools returns the write and read connection pools.
func Pools(db *DB) (write, read *sql.DB) { return db.write, db.read }

// QueryPlan is the plan the database chose for one fixed statement.
type QueryPlan struct {
	SQL   string
	Lines []string
}

// QueryPlans explains every fixed statement. On PostgreSQL sequential
// scans are disabled first, so a "Seq Scan" in a plan means no index can
// serve the statement at all, however small the tables are.
func QueryPlans(ctx context.Context, db *DB) ([]QueryPlan, error) {
	if db.d.numbered {
		return postgresPlans(ctx, db)
	}
	var plans []QueryPlan
	for _, q := range db.text {
		args := make([]any, strings.Count(q, "?"))
		rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			return nil, fmt.Errorf("explaining %s: %w", q, err)
		}
		plan := QueryPlan{SQL: q}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				rows.Close()
				return nil, err
			}
			plan.Lines = append(plan.Lines, detail)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

func postgresPlans(ctx context.Context, db *DB) ([]QueryPlan, error) {
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var plans []QueryPlan
	err = conn.Raw(func(driverConn any) error {
		c := driverConn.(*stdlib.Conn).Conn()
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		for _, q := range db.text {
			// NULL arguments would let the planner fold "id = $1" to false
			// and plan no scan at all; typed dummies keep the real shape.
			sd, err := tx.Prepare(ctx, "", "EXPLAIN "+q)
			if err != nil {
				return fmt.Errorf("explaining %s: %w", q, err)
			}
			args := make([]any, len(sd.ParamOIDs))
			for i, oid := range sd.ParamOIDs {
				switch oid {
				case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
					args[i] = 1
				case pgtype.BoolOID:
					args[i] = true
				case pgtype.ByteaOID:
					args[i] = []byte("x")
				default:
					args[i] = "x"
				}
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+q, args...)
			if err != nil {
				return fmt.Errorf("explaining %s: %w", q, err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("explaining %s: %w", q, err)
			}
			plans = append(plans, QueryPlan{SQL: q, Lines: lines})
		}
		return nil
	})
	return plans, err
}

// MigrateTo migrates the database at dsn up to version only, as an older
// smartlic would have left it, runs statements on it, and closes it.
func MigrateTo(ctx context.Context, dsn string, version int64, statements ...string) error {
	open := openSQLite
	if isPostgresDSN(dsn) {
		open = openPostgres
	}
	db, err := open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(db.d.goose, db.write, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	if _, err = p.UpTo(ctx, version); err != nil {
		return err
	}
	for _, s := range statements {
		if _, err := db.write.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// WithConnectRetried returns ctx carrying fn, which the PostgreSQL store
// opened with it calls on each connection refusal it retries.
func WithConnectRetried(ctx context.Context, fn func(error)) context.Context {
	return context.WithValue(ctx, connectRetriedKey{}, fn)
}

// WriteOutcome is what a queued write was told.
type WriteOutcome struct {
	Err      error
	Panicked bool
	PanicVal any
}

// ChainBatch runs fns as one batch of db's chain committer (PostgreSQL),
// as if they had all queued on one chain before it started, and returns
// what each caller was told.
func ChainBatch(db *DB, ctxs []context.Context, fns []func(smartlic.Tx) error) []WriteOutcome {
	reqs := make([]*writeReq, len(fns))
	for i, fn := range fns {
		reqs[i] = &writeReq{ctx: ctxs[i], fn: fn, out: make(chan writeResult, 1)}
	}
	db.chains.run("test", reqs)
	out := make([]WriteOutcome, len(reqs))
	for i, r := range reqs {
		res := <-r.out
		out[i] = WriteOutcome{Err: res.err, Panicked: res.panicked, PanicVal: res.panicVal}
	}
	return out
}

// ExecIn runs a statement written with ? placeholders in a store
// transaction.
func ExecIn(t smartlic.Tx, q string, args ...any) error {
	_, err := t.(*tx).execBuilt(context.Background(), q, args...)
	return err
}

// KeyedRows is tx.keyedRows with the store's own placeholders.
func KeyedRows(db *DB, table, alias, col string, n int) string {
	return db.d.rebind((&tx{db: db}).keyedRows(table, alias, col, n))
}

// Rebind gives q the store's own placeholders.
func Rebind(db *DB, q string) string { return db.d.rebind(q) }
