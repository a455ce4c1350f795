package store

import "testing"

func TestRebind(t *testing.T) {
	pg, lite := postgresDialect(), sqliteDialect()
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{"x = '?' AND y = ? AND \"odd?\" = ?", "x = '?' AND y = $1 AND \"odd?\" = $2"},
		{"s = 'it''s ?' OR t = ?", "s = 'it''s ?' OR t = $1"},
	} {
		if got := pg.rebind(c.in); got != c.want {
			t.Errorf("postgres rebind(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := lite.rebind(c.in); got != c.in {
			t.Errorf("sqlite rebind(%q) = %q, want it unchanged", c.in, got)
		}
	}
}
