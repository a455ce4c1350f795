package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestKeyedRows reads rows by a column that is only a prefix of their
// key, on a table that grew since it was last analysed (never, here: as
// in every young deployment, or any table faster than autovacuum). The
// rows read are the same on both stores; on PostgreSQL the plan probes
// the key's index instead of scanning the table, where the plain IN list
// the read replaces does scan it.
func TestKeyedRows(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		write, _ := store.Pools(db)
		ctx := t.Context()
		setup := []string{
			`CREATE TABLE keyed_lines (owner TEXT NOT NULL, line INTEGER NOT NULL, PRIMARY KEY (owner, line))`,
			// 40,000 rows: 20,000 owners of two lines each.
			`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39999)
			INSERT INTO keyed_lines (owner, line) SELECT 'owner-' || (i / 2), i % 2 FROM n`,
		}
		for _, q := range setup {
			if _, err := write.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		owners := []any{"owner-7", "owner-19999", "owner-nobody"}
		for i := range 61 {
			owners = append(owners, fmt.Sprintf("owner-%d", 300*i+11))
		}
		read := func(q string) []string {
			t.Helper()
			rows, err := write.QueryContext(ctx, store.Rebind(db, q), owners...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var owner string
				var line int
				if err := rows.Scan(&owner, &line); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s/%d", owner, line))
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return got
		}
		keyed := `SELECT k.owner, k.line FROM ` + store.KeyedRows(db, "keyed_lines", "k", "owner", len(owners)) + ` ORDER BY k.owner, k.line`
		plain := `SELECT owner, line FROM keyed_lines WHERE owner IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(owners)), ", ") + `) ORDER BY owner, line`
		got, want := read(keyed), read(plain)
		if len(want) != 2*(len(owners)-1) || !slices.Equal(got, want) {
			t.Fatalf("keyed read: %d rows %v\nwant the IN list's %d rows %v", len(got), got, len(want), want)
		}
		if store.DialectName(db) != "postgres" {
			return
		}
		plan := func(q string) string {
			t.Helper()
			rows, err := write.QueryContext(ctx, "EXPLAIN "+store.Rebind(db, q), owners...)
			if err != nil {
				t.Fatalf("EXPLAIN %s: %v", q, err)
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				b.WriteString(line + "\n")
			}
			return b.String()
		}
		if p := plan(plain); !strings.Contains(p, "Seq Scan on keyed_lines") {
			t.Logf("the IN list no longer scans an unanalysed table on this PostgreSQL:\n%s", p)
		}
		if p := plan(keyed); strings.Contains(p, "Seq Scan on keyed_lines") || !strings.Contains(p, "keyed_lines_pkey") {
			t.Fatalf("the keyed read does not probe the key's index:\n%s", p)
		}
	})
}
