// Package store persists the smartlic domain in SQLite (embedded, the
// default) or PostgreSQL (several replicas). It is the only package that
// speaks SQL. One set of queries, written with '?' placeholders, serves both
// databases; what differs between them is kept in a small dialect value.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/secretbox"
)

// DB is a smartlic.Store over SQLite or PostgreSQL.
type DB struct {
	d *dialect
	// write and read are the same pool on PostgreSQL. On SQLite, write has
	// exactly one connection, so writers queue in Go instead of spinning on
	// SQLITE_BUSY, and read is a pool of WAL readers that never wait for it.
	write *sql.DB
	read  *sql.DB
	// text is every fixed statement in the dialect's placeholder style,
	// rebound once at Open.
	text *[numStmts]string
	// wstmts and rstmts are the fixed statements prepared on each pool; nil
	// on PostgreSQL, where pgx caches prepared statements per connection
	// itself.
	wstmts, rstmts *[numStmts]*sql.Stmt
	// commits is SQLite's group commit (see committer); nil on
	// PostgreSQL, whose writers run side by side.
	commits *committer
	// regs batches registrations per event chain (see registrar): on
	// PostgreSQL to commit them together, on SQLite to write them with a
	// few multi-row statements in one write of commits.
	regs *registrar
	// chains is group commit per event chain for PostgreSQL's device
	// writes (see chainCommitter); nil on SQLite.
	chains *chainCommitter
	// secrets seals private signing keys and webhook secrets; nil stores
	// them as they are (see secrets.go).
	secrets *secretbox.Keyring
	// statements counts the statements transactions have run, so that a
	// test can hold a view to a constant number of queries (see
	// Statements).
	statements atomic.Int64
	// leader is the background jobs' leadership (see TryLeader).
	leader leadership
	// scopes are registration scopes read recently (see scopeCache).
	scopes scopeCache
	// catalogChanges counts commits that changed the catalogue, a policy
	// or a Virtual Account (see CatalogChanges).
	catalogChanges atomic.Uint64
}

// Statements is how many statements the store's transactions have run
// since Open. Tests compare it before and after a call to catch a view
// that queries once per row (N+1); it costs one atomic add a statement.
func (db *DB) Statements() int64 { return db.statements.Load() }

var _ smartlic.Store = (*DB)(nil)

// Open connects to the database named by dsn and brings its schema up to
// date. A database written by a newer smartlic is refused with
// ESchemaTooNew rather than half understood.
//
// dsn is one of
//
//	postgres://user:pass@host:5432/db?sslmode=disable  (or postgresql://)
//	smartlic.db                                         a SQLite file path
//	file:smartlic.db?cache=private                      a SQLite file: URI
//
// A PostgreSQL URL takes pgx's parameters (search_path=… selects the schema)
// and pool_max_conns, the most connections this process opens (default
// 20). A missing SQLite file is created; in-memory SQLite is refused, since
// the store's reader and writer connections would each see a database of
// their own. A new SQLite file is created readable by its owner only.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var (
		db  *DB
		err error
	)
	if isPostgresDSN(dsn) {
		db, err = openPostgres(ctx, dsn)
	} else {
		db, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(db)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepareAll(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.d.groupCommit {
		db.commits = startCommitter(db)
	} else {
		db.chains = newChainCommitter(db)
	}
	db.regs = newRegistrar(db)
	return db, nil
}

func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Close waits for the writes in progress and closes the connection pools.
func (db *DB) Close() error {
	// The registrar first: on SQLite its batches are writes of the
	// committer.
	if db.regs != nil {
		db.regs.close()
	}
	if db.chains != nil {
		db.chains.close()
	}
	if db.commits != nil {
		db.commits.close()
	}
	var errs []error
	for _, stmts := range []*[numStmts]*sql.Stmt{db.wstmts, db.rstmts} {
		if stmts == nil {
			continue
		}
		for _, s := range stmts {
			if s != nil {
				errs = append(errs, s.Close())
			}
		}
	}
	errs = append(errs, db.write.Close())
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	return errors.Join(errs...)
}

// Write runs fn in a read-write transaction and commits when fn returns
// nil. On an error or a panic it rolls back, so a rejected request leaves
// nothing behind. On SQLite, concurrent writes share a commit (see
// committer); each still commits or rolls back as a whole, and Write
// returns only once its outcome is final.
func (db *DB) Write(ctx context.Context, fn func(smartlic.Tx) error) error {
	if db.commits != nil {
		return db.commits.write(ctx, fn)
	}
	return db.run(ctx, db.write, db.d.writeTx, db.wstmts, fn)
}

// WriteIn is Write for a write that appends to the event chain named (a
// Smart Account's id): on PostgreSQL, writes of one chain share a
// transaction and its COMMIT (see chainCommitter), each still all or
// nothing on its own. On SQLite every write is grouped already.
func (db *DB) WriteIn(ctx context.Context, chain string, fn func(smartlic.Tx) error) error {
	if db.chains == nil || chain == "" {
		return db.Write(ctx, fn)
	}
	return db.chains.write(ctx, chain, fn)
}

// SerialWrites reports whether write transactions run one at a time (SQLite:
// one writer connection, concurrent writes queued and grouped), so that a
// caller need not take row locks to order writers against each other.
func (db *DB) SerialWrites() bool { return db.commits != nil }

// Read runs fn in a read-only transaction: one consistent snapshot for all
// of fn's queries.
func (db *DB) Read(ctx context.Context, fn func(smartlic.Tx) error) error {
	return db.run(ctx, db.read, db.d.readTx, db.rstmts, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, stmts *[numStmts]*sql.Stmt, fn func(smartlic.Tx) error) error {
	var conn *sql.Conn
	if db.d.pipeline && opts == db.d.writeTx {
		// The write keeps its connection at hand for Pipeline.
		c, err := pool.Conn(ctx)
		if err != nil {
			return smartlic.Internal(err, "beginning a transaction")
		}
		defer c.Close() // after the rollback deferred below
		conn = c
	}
	sqlTx, err := beginOn(ctx, pool, conn, opts)
	if err != nil {
		return smartlic.Internal(err, "beginning a transaction")
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		// The rollback's own error adds nothing: fn's error (or panic)
		// already says why, and a failed rollback discards the
		// transaction anyway when the connection goes back to the pool.
		_ = sqlTx.Rollback()
	}()
	t := &tx{db: db, sql: sqlTx, stmts: stmts, conn: conn}
	if err := fn(t); err != nil {
		return err
	}
	committed = true
	err = sqlTx.Commit()
	// A failed COMMIT may have committed all the same (a connection
	// lost on the way back): invalidate either way.
	t.committed()
	if err != nil {
		return smartlic.Internal(err, "committing a transaction")
	}
	return nil
}

// beginOn begins a transaction on conn, or on any connection of pool when
// conn is nil.
func beginOn(ctx context.Context, pool *sql.DB, conn *sql.Conn, opts *sql.TxOptions) (*sql.Tx, error) {
	if conn != nil {
		return conn.BeginTx(ctx, opts)
	}
	return pool.BeginTx(ctx, opts)
}

// prepareAll prepares every fixed statement on both SQLite pools. It runs
// before the store is handed out: preparing later, through the pool, would
// need a connection, and the writer's only connection may be inside the
// very transaction that wants the statement. Reader connections opened
// later prepare a statement on first use (database/sql does that when a
// transaction adopts it) and keep it.
func (db *DB) prepareAll(ctx context.Context) error {
	if !db.d.prepare {
		return nil
	}
	prep := func(pool *sql.DB) (*[numStmts]*sql.Stmt, error) {
		var stmts [numStmts]*sql.Stmt
		for i, q := range db.text {
			s, err := pool.PrepareContext(ctx, q)
			if err != nil {
				for _, p := range stmts[:i] {
					p.Close()
				}
				return nil, fmt.Errorf("store: preparing %q: %w", q, err)
			}
			stmts[i] = s
		}
		return &stmts, nil
	}
	var err error
	if db.wstmts, err = prep(db.write); err != nil {
		return err
	}
	db.rstmts, err = prep(db.read)
	return err
}
