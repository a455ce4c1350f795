package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// SQLite statements built per call (queryBuilt, execBuilt: everything not
// in the fixed set of queries.go) were parsed and planned anew each time:
// modernc's conn.ExecContext prepares, steps and finalizes. Parsing is
// most of a small statement's cost — a fifth of all CPU in a profile of
// usage ingestion, the single writer's time included. The store's SQLite
// connections therefore keep what they prepare: a statement text seen on a
// connection is prepared once there and reset after each use.
//
// database/sql cannot do this itself without a free connection to prepare
// on, and SQLite's writer has one connection, held by the transaction that
// wants the statement; so the cache lives below database/sql, one per
// driver connection, which database/sql never uses from two goroutines at
// once.

// openSQLitePool is sql.Open("sqlite", dsn) with the statement cache.
func openSQLitePool(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(stmtCachingConnector{c}), nil
}

// maxCachedStmts bounds the statements one connection keeps. The store's
// statement texts are a few hundred at most; texts past the bound (an IN
// list of a new length, say) run uncached, as before.
const maxCachedStmts = 512

// stmtCachingConnector opens connections that cache their statements.
type stmtCachingConnector struct {
	driver.Connector
}

func (c stmtCachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	for _, ok := range []bool{
		is[driver.ExecerContext](conn), is[driver.QueryerContext](conn), is[driver.ConnPrepareContext](conn),
		is[driver.ConnBeginTx](conn),
	} {
		if !ok {
			conn.Close()
			return nil, errors.New("store: the SQLite driver's connection lacks a context method the statement cache needs")
		}
	}
	return &stmtCachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

// cachedStmt is a prepared statement and whether a call is using it: a
// query's rows hold it until closed, and the same text asked for meanwhile
// (a query inside a loop over rows of itself) runs uncached.
type cachedStmt struct {
	stmt interface {
		driver.StmtExecContext
		driver.StmtQueryContext
		driver.Stmt
	}
	busy bool
}

type stmtCachingConn struct {
	driver.Conn
	mu    sync.Mutex // database/sql serialises calls; rows may close late
	stmts map[string]*cachedStmt
}

var (
	_ driver.ExecerContext      = (*stmtCachingConn)(nil)
	_ driver.QueryerContext     = (*stmtCachingConn)(nil)
	_ driver.ConnPrepareContext = (*stmtCachingConn)(nil)
	_ driver.ConnBeginTx        = (*stmtCachingConn)(nil)
	_ driver.Pinger             = (*stmtCachingConn)(nil)
	_ driver.SessionResetter    = (*stmtCachingConn)(nil)
	_ driver.Validator          = (*stmtCachingConn)(nil)
)

// take returns the connection's prepared statement for query, preparing
// it on first use, or nil when query is not to be cached or is in use.
func (c *stmtCachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	// A script of several statements is prepared one statement at a time
	// by the driver anyway (migrations are the only ones).
	if strings.Contains(query, ";") {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		s.busy = true
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	ds, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(interface {
		driver.StmtExecContext
		driver.StmtQueryContext
		driver.Stmt
	})
	if !ok {
		ds.Close()
		return nil, nil
	}
	s := &cachedStmt{stmt: st, busy: true}
	c.stmts[query] = s
	return s, nil
}

func (c *stmtCachingConn) give(s *cachedStmt) {
	c.mu.Lock()
	s.busy = false
	c.mu.Unlock()
}

func (c *stmtCachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	defer c.give(s)
	return s.stmt.ExecContext(ctx, args)
}

func (c *stmtCachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		c.give(s)
		return nil, err
	}
	return &cachedRows{Rows: rows, release: func() { c.give(s) }}, nil
}

func (c *stmtCachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *stmtCachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *stmtCachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *stmtCachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *stmtCachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// Close finalizes the cached statements, then closes the connection.
func (c *stmtCachingConn) Close() error {
	c.mu.Lock()
	var errs []error
	for q, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	errs = append(errs, c.Conn.Close())
	return errors.Join(errs...)
}

// cachedRows hands its statement back when closed (the driver resets it
// then, ready for the next use).
type cachedRows struct {
	driver.Rows
	release func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}
