// Package storetest is the conformance suite every smartlic.Store must
// pass, and the helpers other packages' tests use to get a real store on
// SQLite or PostgreSQL.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for creating and dropping schemas

	"github.com/smartlic/smartlic/secretbox"
	"github.com/smartlic/smartlic/store"
)

// SecretKeys returns the key ring tests seal a database's secrets with:
// derived from dsn, so that two stores a test opens on one database (two
// replicas) share it, as replicas share a key file.
func SecretKeys(t testing.TB, dsn string) *secretbox.Keyring {
	t.Helper()
	k := sha256.Sum256([]byte("storetest secret key\x00" + dsn))
	r, err := secretbox.New(k[:])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// PostgresEnv names the environment variable with the PostgreSQL server
// the tests use, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresEnv = "SMARTLIC_TEST_POSTGRES"

// Each runs body once against SQLite (subtest "sqlite") and once against
// PostgreSQL (subtest "postgres", skipped without SMARTLIC_TEST_POSTGRES
// outside CI).
func Each(t *testing.T, body func(t *testing.T, open func(*testing.T) *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { body(t, OpenSQLite) })
	t.Run("postgres", func(t *testing.T) { body(t, OpenPostgres) })
}

// EachDSN runs body in parallel subtests "sqlite" and "postgres", each
// with the DSN of a new database of its own that body opens (or migrates)
// itself.
func EachDSN(t *testing.T, body func(t *testing.T, dsn string)) {
	t.Helper()
	for name, newDSN := range map[string]func(testing.TB) string{"sqlite": SQLiteDSN, "postgres": PostgresDSN} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body(t, newDSN(t))
		})
	}
}

// OpenSQLite opens a store on a new SQLite file in t.TempDir(), closed when
// the test ends.
func OpenSQLite(t *testing.T) *store.DB {
	t.Helper()
	return Open(t, SQLiteDSN(t))
}

// SQLiteDSN returns the path of a new SQLite file in t.TempDir().
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "smartlic.db")
}

// OpenPostgres opens a store on a fresh PostgreSQL schema of its own (see
// PostgresDSN), closed and dropped when the test ends.
func OpenPostgres(t *testing.T) *store.DB {
	t.Helper()
	return Open(t, PostgresDSN(t))
}

// PostgresDSN creates a uniquely named schema on the server in
// SMARTLIC_TEST_POSTGRES, drops it when the test ends, and returns a URL
// whose search_path points at it: tests on PostgreSQL are as isolated as
// tests on SQLite files and may run in parallel. Without the variable the
// test is skipped, unless CI is set: CI must not pass by skipping.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must set " + PostgresEnv)
		}
		t.Skip(PostgresEnv + " is not set; skipping PostgreSQL (e.g. " + PostgresEnv + "='postgres://postgres@127.0.0.1:5432/test?sslmode=disable')")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL", PostgresEnv) // the URL may hold a password: not printed
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "smartlic_test_" + hex.EncodeToString(b)

	exec := func(ctx context.Context, q string) error {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		if err := exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	if q.Get("pool_max_conns") == "" {
		// Tests run in parallel against one server with a bounded number
		// of connections; a few per store is plenty.
		q.Set("pool_max_conns", "8")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenRaw opens the database dsn names with database/sql alone, bypassing
// the store, as someone with a copy of it would read it (or as a test
// tampers with it); closed when the test ends.
func OpenRaw(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
		// pool_max_conns is the store's own parameter, not the server's.
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Del("pool_max_conns")
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Open opens a store on dsn, closed when the test ends. Its secrets are
// sealed with SecretKeys(dsn), as serve seals them with its key file, so
// every test runs with secrets encrypted at rest.
func Open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), dsn, store.WithSecretKeys(SecretKeys(t, dsn)))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	return db
}
