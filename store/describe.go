package store

import (
	"net/url"
	"strings"
)

// Describe names the database dsn points at, for logs and start-up banners:
// the SQLite file, or the PostgreSQL server, database and schema. It never
// includes a user name, password or other parameter, which may be secret.
func Describe(dsn string) string {
	if !isPostgresDSN(dsn) {
		path, _, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
		return "SQLite " + path
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "PostgreSQL (unparsable URL)"
	}
	d := "PostgreSQL " + u.Host + u.Path
	if schema := u.Query().Get("search_path"); schema != "" {
		d += " (schema " + schema + ")"
	}
	return d
}
