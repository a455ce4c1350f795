package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between SQLite and PostgreSQL. The
// queries themselves are shared.
type dialect struct {
	name  string // names the migrations directory
	goose goose.Dialect
	// migrationLock serialises start-up migrations of replicas sharing a
	// database; nil where one process owns the database.
	migrationLock lock.SessionLocker
	numbered      bool   // placeholders are $1, $2, … instead of ?
	forUpdate     string // row lock that serialises writers of one Smart Account
	// prepare says statements are prepared once per connection by the
	// store; pgx already does this itself for every query it sees.
	prepare bool
	// groupCommit batches concurrent writes into one transaction, for a
	// database with a single writer.
	groupCommit bool
	// pipeline says a write transaction runs on a connection of its own
	// whose driver can send several statements in one round trip (pgx
	// batches; see tx.Pipeline).
	pipeline bool
	// probePerKey says a read by a list of keys on a column that is not
	// unique is written as one index probe per key (see keyedRows).
	probePerKey bool
	// claimsKeyed says usage_reports.instance_id is a foreign key, which
	// refuses a claim of a missing instance itself (SQLite; PostgreSQL's
	// was dropped by migration 00024, see ClaimUsageReports).
	claimsKeyed bool
	writeTx     *sql.TxOptions
	readTx      *sql.TxOptions
	// violation classifies a driver error as a constraint violation.
	violation func(error) violation
}

// violation is the kind of constraint a statement broke.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	primaryKeyViolation
	foreignKeyViolation
)

// SQLite is opened with two pools. Writes go through a single connection
// with BEGIN IMMEDIATE, so write transactions take the database lock up
// front and queue in Go; a deferred BEGIN could instead fail with
// SQLITE_BUSY halfway through when it tries to upgrade. Reads use a pool of
// WAL readers, which see a consistent snapshot and never block the writer.
func sqliteDialect() *dialect {
	return &dialect{
		name:        "sqlite",
		goose:       goose.DialectSQLite3,
		forUpdate:   "", // the single writer connection already serialises everything
		prepare:     true,
		groupCommit: true,
		claimsKeyed: true,
		writeTx:     nil, // _txlock=immediate in the DSN makes every write BEGIN IMMEDIATE
		readTx:      &sql.TxOptions{ReadOnly: true},
		violation:   sqliteViolation,
	}
}

// PostgreSQL writes run at READ COMMITTED: single-statement claims (token
// uses, pool counters) re-check their WHERE clause on the latest row
// version, and tree changes take the Smart Account's row lock. Reads run in
// a read-only REPEATABLE READ transaction, so that all of a Read's queries
// see one snapshot, as on SQLite; read-only transactions never fail to
// serialise.
func postgresDialect() *dialect {
	return &dialect{
		name:          "postgres",
		goose:         goose.DialectPostgres,
		migrationLock: postgresMigrationLock{},
		numbered:      true,
		forUpdate:     " FOR UPDATE",
		prepare:       false,
		pipeline:      true,
		probePerKey:   true,
		writeTx:       &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		readTx:        &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		violation:     postgresViolation,
	}
}

func sqliteViolation(err error) violation {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return noViolation
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return uniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return primaryKeyViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyViolation
	}
	return noViolation
}

func postgresViolation(err error) violation {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return noViolation
	}
	switch e.Code {
	case "23505": // unique_violation
		// PostgreSQL names a primary key constraint <table>_pkey unless
		// told otherwise, and the migrations never tell it otherwise.
		if strings.HasSuffix(e.ConstraintName, "_pkey") {
			return primaryKeyViolation
		}
		return uniqueViolation
	case "23503": // foreign_key_violation
		return foreignKeyViolation
	}
	return noViolation
}

// sqliteBusyTimeoutMS is how long a SQLite connection waits for a lock held
// by another process (an admin command on the same file, a backup).
const sqliteBusyTimeoutMS = 10000

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		return nil, errors.New("store: no database given: pass a SQLite file path or a postgres:// URL")
	}
	base, query := dsn, ""
	if strings.HasPrefix(dsn, "file:") {
		base, query, _ = strings.Cut(dsn, "?")
	} else if strings.Contains(dsn, "?") {
		// The driver treats everything after '?' in a plain path as
		// parameters, so such a path cannot be opened as written.
		return nil, fmt.Errorf("store: SQLite path %q contains '?'; use a file: URI instead", dsn)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("store: SQLite URI parameters do not parse: %w", err)
	}
	// Each connection to an in-memory database is a database of its own,
	// so the writer and the readers would not see each other's data.
	if dsn == ":memory:" || strings.HasPrefix(base, "file::memory:") || params.Get("mode") == "memory" {
		return nil, errors.New("store: in-memory SQLite databases are not supported; use a file (a temporary directory will do)")
	}
	if err := createPrivate(sqlitePath(dsn)); err != nil {
		return nil, err
	}
	with := func(txlock string, pragmas ...string) string {
		p := url.Values{}
		for k, v := range params {
			p[k] = append([]string(nil), v...)
		}
		p.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMS))
		p.Add("_pragma", "foreign_keys(1)")
		for _, pr := range pragmas {
			p.Add("_pragma", pr)
		}
		if txlock != "" {
			p.Set("_txlock", txlock)
		}
		return base + "?" + p.Encode()
	}

	// journal_mode is stored in the file, so only the writer sets it, and
	// it does so before any reader connects. temp_store(MEMORY) keeps the
	// savepoint journal of group commit (see committer) in memory: on
	// disk, every page a write touches first would cost two more system
	// calls. The automatic checkpoint is off: the store runs its own (see
	// checkpointer).
	w, err := openSQLitePool(with("immediate", "journal_mode(WAL)", "synchronous(NORMAL)", "temp_store(MEMORY)", "wal_autocheckpoint(0)"))
	if err != nil {
		return nil, fmt.Errorf("store: opening SQLite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening SQLite database: %w", err)
	}
	// query_only makes a write inside Read fail instead of slipping
	// through a connection of the read pool.
	r, err := openSQLitePool(with("", "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening SQLite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n) // idle readers keep their prepared statements
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	db := &DB{d: sqliteDialect(), write: w, read: r}
	db.text = statements(db.d)
	return db, nil
}

// defaultPostgresConns bounds each replica's connections; the DSN
// parameter pool_max_conns (the name pgxpool uses) overrides it.
const defaultPostgresConns = 20

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	// Parse errors from net/url and pgx quote the URL, password and all, so
	// they are replaced by a message that names no part of it.
	errBadURL := errors.New("store: the PostgreSQL URL is not valid; expected postgres://user[:password]@host[:port]/database[?param=value…]")
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, errBadURL
	}
	q := u.Query()
	conns := defaultPostgresConns
	if v := q.Get("pool_max_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("store: pool_max_conns must be a positive integer (got %q)", v)
		}
		conns = n
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, errBadURL
	}
	pool := sql.OpenDB(retryConnector{Connector: stdlib.GetConnector(*cfg), retryFor: connectRetryFor, retried: connectRetried(ctx)})
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns) // idle connections keep their cached statements
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connecting to PostgreSQL: %w", err)
	}
	// A search_path naming no existing schema makes every CREATE fail with
	// a puzzling message; say what is wrong instead.
	var schema sql.NullString
	if err := pool.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: reading the PostgreSQL schema: %w", err)
	}
	if !schema.Valid {
		pool.Close()
		return nil, errors.New("store: the PostgreSQL search_path names no existing schema; create the schema or fix search_path")
	}
	db := &DB{d: postgresDialect(), write: pool, read: pool}
	db.text = statements(db.d)
	return db, nil
}

// rebind turns '?' placeholders into $1, $2, … for PostgreSQL. It skips
// quoted literals and identifiers, though the store's queries have no '?'
// inside either.
func (d *dialect) rebind(q string) string {
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// postgresMigrationLock makes replicas that start together migrate one at
// a time. The advisory lock is keyed by the schema, so databases that hold
// several smartlic schemas (the tests do) migrate them in parallel. Unlike
// goose's own locker, it blocks in PostgreSQL instead of polling every
// second.
type postgresMigrationLock struct{}

const postgresMigrationKey = `hashtext('smartlic.migrate'), hashtext(coalesce(current_schema(), ''))`

func (postgresMigrationLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+postgresMigrationKey+")")
	return err
}

func (postgresMigrationLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+postgresMigrationKey+")")
	return err
}
