package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) smartlic.Store { return storetest.OpenSQLite(t) })
}

func TestSQLiteSchemaTooNew(t *testing.T) {
	testSchemaTooNew(t, storetest.SQLiteDSN(t), "(?, ?)")
}

func TestSQLiteReopen(t *testing.T) {
	testReopen(t, storetest.SQLiteDSN(t))
}

// TestSQLiteDSNForms opens the forms of SQLite DSN that smartlic accepts
// and refuses the ones it cannot honour.
func TestSQLiteDSNForms(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{
		filepath.Join(dir, "plain.db"),
		"file:" + filepath.Join(dir, "uri.db"),
		"file:" + filepath.Join(dir, "uri-params.db") + "?cache=private",
	} {
		// Parameters of the caller's URI and the store's own pragmas both
		// apply.
		write, _ := store.Pools(storetest.Open(t, dsn))
		var mode string
		if err := write.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("%s: journal_mode = %q, %v; want wal", dsn, mode, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "plain.db")); err != nil {
		t.Errorf("database file not created: %v", err)
	}
	for _, dsn := range []string{":memory:", "file::memory:", "file:x.db?mode=memory", filepath.Join(dir, "what?.db"), ""} {
		if db, err := store.Open(t.Context(), dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", dsn)
		}
	}
}

// TestSQLiteConnections checks the settings the store's concurrency rests
// on: one writer connection in WAL mode, readers that cannot write, foreign
// keys enforced on both.
func TestSQLiteConnections(t *testing.T) {
	db := storetest.OpenSQLite(t)
	write, read := store.Pools(db)
	if n := write.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer pool allows %d connections, want 1", n)
	}
	if n := read.Stats().MaxOpenConnections; n < 2 {
		t.Errorf("reader pool allows %d connections, want several", n)
	}
	for _, c := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "foreign_keys", "1"},
		{"write", "synchronous", "1"}, // NORMAL
		{"write", "busy_timeout", "10000"},
		{"write", "query_only", "0"},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "busy_timeout", "10000"},
		{"read", "query_only", "1"},
	} {
		pool := write
		if c.pool == "read" {
			pool = read
		}
		var got string
		if err := pool.QueryRowContext(t.Context(), "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(got, c.want) {
			t.Errorf("%s connection: PRAGMA %s = %s, want %s", c.pool, c.pragma, got, c.want)
		}
	}
}

// TestSQLiteWriteLocksAtBegin checks that a Write holds the database's
// write lock from its first moment (BEGIN IMMEDIATE): a deferred BEGIN
// would take it only at the first write, and could then fail with
// SQLITE_BUSY halfway through a request when another process holds it.
func TestSQLiteWriteLocksAtBegin(t *testing.T) {
	ctx := t.Context()
	dsn := storetest.SQLiteDSN(t)
	db := storetest.Open(t, dsn)
	other, err := sql.Open("sqlite", dsn+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tryLock := func() error {
		_, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		if err == nil {
			_, err = conn.ExecContext(ctx, "ROLLBACK")
			if err != nil {
				t.Fatal(err)
			}
		}
		return err
	}

	err = db.Write(ctx, func(tx smartlic.Tx) error {
		if err := tryLock(); err == nil {
			t.Error("another connection took the write lock while a Write that has not written yet was open")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tryLock(); err != nil {
		t.Errorf("write lock still held after the Write: %v", err)
	}
}

// BenchmarkSQLiteRegister measures the statements of one classic
// registration, the hot write path: claim a token use, read the VA, the
// Smart Account and the product, look for the UDI, insert the instance.
func BenchmarkSQLiteRegister(b *testing.B) {
	ctx := b.Context()
	db := storetest.Open(b, storetest.SQLiteDSN(b))
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sa := smartlic.SmartAccount{ID: "sa-1", Name: "A", Domain: "example.com", Status: smartlic.SAActive, CreatedAt: now}
	va := smartlic.VirtualAccount{ID: "va-1", SmartAccountID: sa.ID, Name: "DEFAULT", Depth: 1, CreatedAt: now}
	p := smartlic.Product{ID: "p-1", PID: "C9300-24T", Name: "C9300", LicenseTypes: []string{}, CreatedAt: now}
	tok := smartlic.Token{ID: "t-1", VirtualAccountID: va.ID, ExpiresAt: now.Add(time.Hour), Hash: "h", CreatedAt: now}
	err := db.Write(ctx, func(tx smartlic.Tx) error {
		return errors.Join(tx.InsertSmartAccount(ctx, sa), tx.InsertVirtualAccount(ctx, va), tx.InsertProduct(ctx, p), tx.InsertToken(ctx, tok))
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := db.Write(ctx, func(tx smartlic.Tx) error {
			tok, ok, err := tx.ConsumeToken(ctx, "h", now)
			if err != nil || !ok {
				return fmt.Errorf("consume: %v %v", ok, err)
			}
			va, err := tx.GetVirtualAccountByID(ctx, tok.VirtualAccountID)
			if err != nil {
				return err
			}
			sa, err := tx.GetSmartAccount(ctx, va.SmartAccountID)
			if err != nil {
				return err
			}
			p, err := tx.GetProduct(ctx, "C9300-24T")
			if err != nil {
				return err
			}
			udi := smartlic.UDI{PID: p.PID, SN: fmt.Sprintf("SN%09d", i)}
			if _, err := tx.GetInstanceByUDI(ctx, udi); smartlic.ErrorCode(err) != smartlic.ENotFound {
				return fmt.Errorf("GetInstanceByUDI: %v", err)
			}
			return tx.InsertInstance(ctx, smartlic.Instance{
				ID: fmt.Sprintf("i-%09d", i), SmartAccountID: sa.ID, VirtualAccountID: va.ID, UDI: udi, ProductID: p.ID,
				Mode: smartlic.ModeRegistered, PublicKey: make([]byte, 32), RegisteredAt: now, LastContactAt: now, IDCertExpiresAt: now,
			})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
