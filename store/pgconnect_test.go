package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A PostgreSQL server with no connection to spare refuses new ones
// (53300). The store waits for a slot instead of failing the request that
// needed it: here the store's role may hold one connection, a client holds
// it, and the store opens once the client lets it go — after the store
// was refused at least once, which the test waits on rather than on the
// clock. A refusal for another reason (a role that may not log in) is the
// answer at once.
func TestPostgresWaitsForAConnectionSlot(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin := storetest.OpenRaw(t, os.Getenv(storetest.PostgresEnv))
	b := make([]byte, 6)
	rand.Read(b)
	role := "smartlic_limited_" + hex.EncodeToString(b)
	schema := u.Query().Get("search_path")
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN CONNECTION LIMIT 1",
		"GRANT ALL ON SCHEMA " + schema + " TO " + role,
	} {
		if _, err := admin.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP OWNED BY " + role + " CASCADE", "DROP ROLE " + role} {
			if _, err := admin.ExecContext(context.Background(), q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	u.User = url.User(role)
	q := u.Query()
	q.Del("pool_max_conns") // the store's parameter, not the server's
	u.RawQuery = q.Encode()
	roleDSN := u.String()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()

	// Another client holds the role's only connection.
	holder, err := sql.Open("pgx", roleDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	held, err := holder.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan error, 1)
	ctx := store.WithConnectRetried(t.Context(), func(err error) {
		select {
		case refused <- err:
		default:
		}
	})
	opened := make(chan error, 1)
	go func() {
		db, err := store.Open(ctx, u.String())
		if err == nil {
			db.Close()
		}
		opened <- err
	}()
	select {
	case err := <-refused:
		if !strings.Contains(err.Error(), "53300") {
			t.Errorf("refusal retried: %v, want SQLSTATE 53300", err)
		}
	case err := <-opened:
		t.Fatalf("the store opened while its role's only connection was held: %v", err)
	}
	held.Close()
	holder.Close()
	if err := <-opened; err != nil {
		t.Fatalf("the store did not open once the connection was free: %v", err)
	}

	// Not a lack of room: refused at once, without a retry.
	if _, err := admin.ExecContext(t.Context(), "ALTER ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	retried := false
	ctx = store.WithConnectRetried(t.Context(), func(error) { retried = true })
	if db, err := store.Open(ctx, u.String()); err == nil {
		db.Close()
		t.Fatal("a role that may not log in opened the store")
	}
	if retried {
		t.Error("a refusal for a role that may not log in was retried")
	}
}
