package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// tx is one transaction: smartlic.Tx over database/sql. It is valid only
// inside the function given to Read or Write.
type tx struct {
	db  *DB
	sql *sql.Tx
	// stmts are the fixed statements prepared on this transaction's pool,
	// nil when the driver caches statements itself.
	stmts *[numStmts]*sql.Stmt
	// detached says the transaction is a group commit's, shared with other
	// writers: a caller's cancelled context must not interrupt a statement,
	// since SQLite answers an interrupted write by rolling back the whole
	// transaction, everyone's work with it.
	detached bool
	// changes says what the transaction changed of what is kept between
	// transactions: registration scopes (scopeCache), the catalogue and
	// policies (CatalogChanges). Its commit invalidates them.
	changes changeKinds
	// conn is the connection a PostgreSQL write runs on, for Pipeline's
	// batches; nil on SQLite and in reads.
	conn *sql.Conn
	// piping says Pipeline holds statements; held are those not sent
	// yet, and pipeErr the first error of one sent.
	piping  bool
	held    []heldStmt
	pipeErr error
}

// heldStmt is a write Pipeline holds: its text (placeholders rebound),
// its arguments, and what to make of its outcome (rows affected).
type heldStmt struct {
	q    string
	args []any
	done func(n int64, err error) error
}

var _ smartlic.Tx = (*tx)(nil)

// c is the context a statement runs under.
func (t *tx) c(ctx context.Context) context.Context {
	if t.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (t *tx) query(ctx context.Context, s stmt, args ...any) (*sql.Rows, error) {
	ctx = t.c(ctx)
	if err := t.sendHeld(ctx); err != nil {
		return nil, err
	}
	t.db.statements.Add(1)
	if t.stmts != nil {
		return t.sql.StmtContext(ctx, t.stmts[s]).QueryContext(ctx, args...)
	}
	return t.sql.QueryContext(ctx, t.db.text[s], args...)
}

func (t *tx) queryRow(ctx context.Context, s stmt, args ...any) *sql.Row {
	ctx = t.c(ctx)
	_ = t.sendHeld(ctx) // an error fails the statement too; Pipeline answers it
	t.db.statements.Add(1)
	if t.stmts != nil {
		return t.sql.StmtContext(ctx, t.stmts[s]).QueryRowContext(ctx, args...)
	}
	return t.sql.QueryRowContext(ctx, t.db.text[s], args...)
}

func (t *tx) exec(ctx context.Context, s stmt, args ...any) (sql.Result, error) {
	ctx = t.c(ctx)
	if err := t.sendHeld(ctx); err != nil {
		return nil, err
	}
	t.db.statements.Add(1)
	if t.stmts != nil {
		return t.sql.StmtContext(ctx, t.stmts[s]).ExecContext(ctx, args...)
	}
	return t.sql.ExecContext(ctx, t.db.text[s], args...)
}

// queryBuilt runs a statement whose shape depends on the input, written
// with '?' placeholders.
func (t *tx) queryBuilt(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.c(ctx)
	if err := t.sendHeld(ctx); err != nil {
		return nil, err
	}
	t.db.statements.Add(1)
	return t.sql.QueryContext(ctx, t.db.d.rebind(q), args...)
}

// queryRowBuilt is queryBuilt for one row. Statements of features off the
// hot paths are written this way, in their own files, rather than added to
// the fixed set.
func (t *tx) queryRowBuilt(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.c(ctx)
	_ = t.sendHeld(ctx) // an error fails the statement too; Pipeline answers it
	t.db.statements.Add(1)
	return t.sql.QueryRowContext(ctx, t.db.d.rebind(q), args...)
}

// execBuilt runs a statement written with '?' placeholders.
func (t *tx) execBuilt(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.c(ctx)
	if err := t.sendHeld(ctx); err != nil {
		return nil, err
	}
	t.db.statements.Add(1)
	return t.sql.ExecContext(ctx, t.db.d.rebind(q), args...)
}

// execOne runs an UPDATE or DELETE of one row and reports whether the row
// was there.
func (t *tx) execOne(ctx context.Context, s stmt, args ...any) (bool, error) {
	res, err := t.exec(ctx, s, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// about names what a write is about, for the error a broken constraint
// becomes.
type about struct {
	what  string // for an internal error: "inserting a license type"
	noun  string // "license type"
	field string // the input guarded by the table's unique constraint
	value string // that input's value, when it may be shown
	id    string
	refs  string // what the row's foreign keys point at
	// compare says how the unique constraint compares values when that is
	// not exactly, so that "lab" refused beside "Lab" is understood.
	compare string
}

// writeErr turns the error of an INSERT or UPDATE into the store's answer.
// failsAs is the outcome of a held write (execHeld) that answers only
// its error, told as writeErr tells it.
func (t *tx) failsAs(a about) func(int64, error) error {
	return func(_ int64, err error) error {
		if err != nil {
			return t.writeErr(err, a)
		}
		return nil
	}
}

func (t *tx) writeErr(err error, a about) error {
	switch t.db.d.violation(err) {
	case uniqueViolation:
		if a.value == "" {
			return smartlic.Errorf(smartlic.EConflict, a.field, "%s already exists", a.noun)
		}
		if a.compare != "" {
			return smartlic.Errorf(smartlic.EConflict, a.field, "%s %q already exists (%s)", a.noun, a.value, a.compare)
		}
		return smartlic.Errorf(smartlic.EConflict, a.field, "%s %q already exists", a.noun, a.value)
	case primaryKeyViolation:
		return smartlic.Errorf(smartlic.EConflict, "id", "%s with id %q already exists", a.noun, a.id)
	case foreignKeyViolation:
		return smartlic.NotFound("%s refers to %s that does not exist", a.noun, a.refs)
	}
	return smartlic.Internal(err, a.what)
}

// inUse reports whether err is a DELETE refused because other rows still
// refer to the row.
func (t *tx) inUse(err error) bool {
	return t.db.d.violation(err) == foreignKeyViolation
}

type scanner interface {
	Scan(dest ...any) error
}

// collect reads every row of a list query.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error), what string) ([]T, error) {
	if err != nil {
		return nil, smartlic.Internal(err, what)
	}
	defer rows.Close()
	out := []T{} // an empty list, not a missing one
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, smartlic.Internal(err, what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, smartlic.Internal(err, what)
	}
	return out, nil
}

// one reads the single row a lookup found, or reports notFound.
func one[T any](row *sql.Row, scan func(scanner) (T, error), what string, notFound func() error) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound()
	}
	if err != nil {
		return v, smartlic.Internal(err, what)
	}
	return v, nil
}

// limit is the page size to ask the database for. The caller normalises
// pages; this only keeps a zero Page from asking for nothing.
func limit(p smartlic.Page) int {
	if p.Limit <= 0 {
		return smartlic.DefaultPageLimit
	}
	return p.Limit
}

// maxInList bounds the placeholders of one IN list, well below SQLite's and
// PostgreSQL's limits on parameters per statement.
const maxInList = 500

// inList returns "?, ?, …" for n values.
func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// keyedRows is the FROM clause, and the whole WHERE clause, of a read of
// the rows of table, named alias, whose column col holds one of n keys
// bound as n parameters: "table alias WHERE alias.col IN (?, …)".
//
// On PostgreSQL the same read is written as one index probe per key. Where
// col is only a prefix of the table's key (an instance's usage lines, its
// marks), the planner prices an IN list by the table's statistics, and a
// table that grew since autovacuum last analysed it (every young table: a
// fleet's first reports fill usage tables from nothing) has none that say
// so: it estimates a few percent of the rows per key and scans the whole
// table on every read, each read slower than the last. Behind a LATERAL
// fenced by OFFSET 0 the planner cannot turn the keys into a hash join, and
// a probe by key is the cheapest plan for any table of more than a page.
func (t *tx) keyedRows(table, alias, col string, n int) string {
	if !t.db.d.probePerKey {
		return table + " " + alias + " WHERE " + alias + "." + col + " IN (" + inList(n) + ")"
	}
	return "(VALUES " + valueRows(n, 1) + ") AS keys (key) CROSS JOIN LATERAL (SELECT * FROM " + table +
		" WHERE " + col + " = keys.key OFFSET 0) " + alias
}

// listInChunks runs a paged list query once per chunk of at most
// maxInList ids and merges the pages. Each query is ordered by key and
// limited to the page's size, so the first pageLimit rows of the merge,
// in key order, are the page over all the ids: a user who sees thousands
// of Virtual Accounts gets their rows, not an error or a silent cut.
func listInChunks[T any](ids []string, pageLimit int, key func(T) string, list func(chunk []string) ([]T, error)) ([]T, error) {
	var out []T
	for chunk := range slices.Chunk(ids, maxInList) {
		got, err := list(chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out[:min(len(out), pageLimit)], nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Times are unix microseconds in UTC in both databases: exact, sortable
// and independent of any session time zone. Reading one back therefore
// gives the time truncated to the microsecond, in UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores an empty optional reference (a top-level VA's parent)
// as NULL, which a foreign key accepts.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
