package store

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
)

// The statement cache must be invisible: a cached statement reused gives
// fresh results with fresh arguments, one still being read is not reset
// under its reader, and a failed statement leaves the cached one usable.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i := range 3 {
		if err := db.Write(t.Context(), insertType(fmt.Sprintf("t%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT tag FROM license_types WHERE tag >= ? ORDER BY tag`
	err = db.Write(t.Context(), func(stx smartlic.Tx) error {
		tx := stx.(*tx)
		outer, err := tx.queryBuilt(t.Context(), q, "t0")
		if err != nil {
			return err
		}
		defer outer.Close()
		var got []string
		for outer.Next() {
			var tag string
			if err := outer.Scan(&tag); err != nil {
				return err
			}
			// The same text while the outer rows are open: it must not
			// borrow (and reset) the statement the outer loop reads.
			var n int
			inner, err := tx.queryBuilt(t.Context(), q, tag)
			if err != nil {
				return err
			}
			for inner.Next() {
				n++
			}
			if err := inner.Close(); err != nil {
				return err
			}
			got = append(got, fmt.Sprintf("%s:%d", tag, n))
		}
		if err := outer.Err(); err != nil {
			return err
		}
		if want := "[t0:3 t1:2 t2:1]"; fmt.Sprint(got) != want {
			t.Errorf("nested reads of one statement: %v, want %s", got, want)
		}
		// A statement that fails (a unique violation) and then succeeds.
		const ins = `INSERT INTO license_types (id, tag, name, description, term, enforcement, created_at) VALUES (?, ?, 'n', '', 'perpetual', 'unenforced', 0)`
		if _, err := tx.execBuilt(t.Context(), ins, "id-dup", "t0"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
			t.Errorf("inserting a duplicate tag: %v, want a unique violation", err)
		}
		if _, err := tx.execBuilt(t.Context(), ins, "id-t9", "t9"); err != nil {
			return fmt.Errorf("the cached INSERT after its failure: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Reused on a later transaction with other arguments.
	for _, c := range []struct {
		from string
		want int
	}{{"t1", 3}, {"t9", 1}, {"u", 0}} {
		var n int
		err := db.Read(t.Context(), func(stx smartlic.Tx) error {
			rows, err := stx.(*tx).queryBuilt(t.Context(), q, c.from)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				n++
			}
			return rows.Err()
		})
		if err != nil || n != c.want {
			t.Errorf("tags from %s: %d rows (%v), want %d", c.from, n, err, c.want)
		}
	}
}
