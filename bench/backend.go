package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for creating and dropping the schema
)

const (
	// postgresEnv names the PostgreSQL server the harness uses.
	postgresEnv     = "SMARTLIC_BENCH_POSTGRES"
	defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// backend is a fresh, empty database for one run and the means to throw it
// away.
type backend struct {
	name    string // "sqlite" or "postgres"
	dsn     string
	cleanup func() error
}

// openBackend makes a new database: a SQLite file in a new temporary
// directory, or a uniquely named schema on the PostgreSQL server at
// postgresURL (reached through search_path, as store/storetest does), so a
// run never sees another's rows and leaves nothing behind.
func openBackend(ctx context.Context, name, postgresURL string) (*backend, error) {
	switch name {
	case "sqlite":
		dir, err := os.MkdirTemp("", "smartlic-bench-*")
		if err != nil {
			return nil, err
		}
		return &backend{name: name, dsn: filepath.Join(dir, "smartlic.db"), cleanup: func() error { return os.RemoveAll(dir) }}, nil
	case "postgres":
		return openPostgresSchema(ctx, postgresURL)
	}
	return nil, fmt.Errorf("unknown store %q", name)
}

// postgresURL returns the server the harness uses: $SMARTLIC_BENCH_POSTGRES
// or the local default.
func postgresURL() string {
	if v := os.Getenv(postgresEnv); v != "" {
		return v
	}
	return defaultPostgres
}

func openPostgresSchema(ctx context.Context, base string) (*backend, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// The URL may hold a password: not printed.
		return nil, fmt.Errorf("the PostgreSQL URL ($%s) is not a postgres:// URL", postgresEnv)
	}
	// The harness creates and drops schemas and loads the server flat out:
	// it is for a local server, never one that serves anybody.
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
	default:
		return nil, fmt.Errorf("the PostgreSQL server must be on this machine (127.0.0.1, ::1 or localhost; got host %q)", u.Hostname())
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "smartlic_bench_" + hex.EncodeToString(b)

	exec := func(ctx context.Context, q string) error {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("creating PostgreSQL schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return &backend{name: "postgres", dsn: u.String(), cleanup: func() error {
		// The run's context may be cancelled by now (Ctrl-C); the schema
		// must go anyway.
		if err := exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("dropping PostgreSQL schema %s: %w", schema, err)
		}
		return nil
	}}, nil
}

// close throws the database away.
func (b *backend) close() error {
	if b == nil || b.cleanup == nil {
		return nil
	}
	err := b.cleanup()
	b.cleanup = nil
	return err
}

var errFailures = errors.New("some requests failed; the numbers above do not count")
