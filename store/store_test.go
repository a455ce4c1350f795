package store_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// testSchemaTooNew marks the database at dsn as migrated past this
// binary's newest migration, as a newer smartlic would leave it, and checks
// that Open refuses it.
func testSchemaTooNew(t *testing.T, dsn, placeholders string) {
	t.Helper()
	ctx := t.Context()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw := storetest.OpenRaw(t, dsn)
	var newest int64
	if err := raw.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version").Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if newest < 1 {
		t.Fatalf("schema version after Open = %d, want at least 1", newest)
	}
	future := newest + 1000
	if _, err := raw.ExecContext(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES "+placeholders, future, true); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(ctx, dsn)
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a schema newer than the binary")
	}
	if code := smartlic.ErrorCode(err); code != smartlic.ESchemaTooNew {
		t.Fatalf("Open: %v (code %q), want %q", err, code, smartlic.ESchemaTooNew)
	}
	want := fmt.Sprintf("database schema version %d is newer than this smartlic binary supports (%d); upgrade smartlic", future, newest)
	if msg := smartlic.ErrorMessage(err); msg != want {
		t.Errorf("message = %q, want %q", msg, want)
	}
}

// testReopen checks that a second Open of a migrated database keeps its
// data and migrates nothing twice.
func testReopen(t *testing.T, dsn string) {
	ctx := t.Context()
	lt := smartlic.LicenseType{ID: "0190a000-0000-7000-8000-000000000001", Tag: "kept", Name: "Kept", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}
	db := storetest.Open(t, dsn)
	if err := db.Write(ctx, func(tx smartlic.Tx) error { return tx.InsertLicenseType(ctx, lt) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again := storetest.Open(t, dsn)
	err := again.Read(ctx, func(tx smartlic.Tx) error {
		_, err := tx.GetLicenseType(ctx, "kept")
		return err
	})
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

// TestQueryPlans guards the rule that every statement is served by an
// index: a full scan of a table that grows with customers (instances,
// tokens, deposits…) would make a hot path slow only in production.
func TestQueryPlans(t *testing.T) {
	// The signing keys are few and read whole at start-up; a CONSTANT ROW
	// is SQLite's name for a SELECT without FROM.
	allowed := map[string]bool{"signing_keys": true, "CONSTANT": true}
	sqliteScan := regexp.MustCompile(`^SCAN (\w+)`)
	postgresScan := regexp.MustCompile(`Seq Scan on (\w+)`)

	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		db := open(t)
		plans, err := store.QueryPlans(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		scan := sqliteScan
		if store.DialectName(db) == "postgres" {
			scan = postgresScan
		}
		for _, p := range plans {
			for _, line := range p.Lines {
				m := scan.FindStringSubmatch(strings.TrimLeft(line, " ->"))
				if m != nil && !allowed[m[1]] {
					t.Errorf("full scan of %s:\n%s\nplan:\n%s", m[1], p.SQL, strings.Join(p.Lines, "\n"))
				}
			}
		}
		if len(plans) == 0 {
			t.Fatal("no statements explained")
		}
	})
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"smartlic.db", "SQLite smartlic.db"},
		{"/var/lib/smartlic/smartlic.db", "SQLite /var/lib/smartlic/smartlic.db"},
		{"file:/data/s.db?cache=private&_pragma=x", "SQLite /data/s.db"},
		{"postgres://admin:hunter2@db.example:5432/smartlic?sslmode=require&password=hunter2", "PostgreSQL db.example:5432/smartlic"},
		{"postgresql://u@10.0.0.1/lic?search_path=tenant1", "PostgreSQL 10.0.0.1/lic (schema tenant1)"},
		{"postgres://u:hunter2@host:bad port/x", "PostgreSQL (unparsable URL)"},
	} {
		got := store.Describe(c.dsn)
		if got != c.want {
			t.Errorf("Describe(%q) = %q, want %q", c.dsn, got, c.want)
		}
		if strings.Contains(got, "hunter2") || strings.Contains(got, "admin") {
			t.Errorf("Describe(%q) = %q reveals credentials", c.dsn, got)
		}
	}
}
