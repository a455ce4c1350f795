package store

import (
	"net/url"
	"strings"
)

// Describe returns dsn fit for a log line or banner: a PostgreSQL URL loses
// its password, a file path is shown as is.
func Describe(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return "sqlite " + dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres (unparseable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return "postgres " + u.Redacted()
}
