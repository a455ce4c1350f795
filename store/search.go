package store

import (
	"context"
	"strings"

	"github.com/smartlic/smartlic"
)

// Search reads a substring of a few columns within a scope of Virtual
// Accounts: the va_id index of each table (instances_va, tokens_va,
// deposits_va) narrows the rows to the caller's accounts, the match runs
// on those, and LIMIT bounds the answer. A substring cannot use a b-tree,
// and a search box is typed into seldom compared with registrations,
// which would pay for any extra index on every write.

// likePattern is a LIKE pattern matching text anywhere, with LIKE's own
// wildcards in it taken literally.
func likePattern(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(text)) + "%"
}

// searchWhere is the scope and text condition of a search of table alias
// a over the lower-cased expressions cols, and its arguments.
func searchWhere(a string, scope smartlic.SearchScope, text, after string, cols ...string) (string, []any) {
	var conds []string
	var args []any
	if !scope.All {
		if len(scope.VAIDs) == 0 {
			return "1 = 0", nil
		}
		conds = append(conds, a+".va_id IN ("+inList(len(scope.VAIDs))+")")
		args = append(args, anys(scope.VAIDs)...)
	}
	if text != "" {
		var ors []string
		for _, c := range cols {
			ors = append(ors, "lower("+c+`) LIKE ? ESCAPE '\'`)
			args = append(args, likePattern(text))
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	conds = append(conds, a+".id > ?")
	args = append(args, after)
	return strings.Join(conds, " AND "), args
}

func (t *tx) SearchInstances(ctx context.Context, scope smartlic.SearchScope, text, after string, limit int) ([]smartlic.Instance, error) {
	const what = "searching instances"
	where, args := searchWhere("i", scope, text, after, "i.pid || ':' || i.sn", "i.hostname")
	if scope.LicenseTypeID != "" {
		// instance_usage's primary key is (instance_id, license_type_id).
		where = `EXISTS (SELECT 1 FROM instance_usage u WHERE u.instance_id = i.id AND u.license_type_id = ?) AND ` + where
		args = append([]any{scope.LicenseTypeID}, args...)
	}
	rows, err := t.queryBuilt(ctx, `SELECT `+instanceCols+` FROM instances i WHERE `+where+` ORDER BY i.id LIMIT ?`, append(args, limit)...)
	list, err := collect(rows, err, func(r scanner) (smartlic.Instance, error) { return scanInstance(r) }, what)
	if err != nil {
		return nil, err
	}
	return t.withUsage(ctx, list, what)
}

func (t *tx) SearchTokens(ctx context.Context, scope smartlic.SearchScope, text, after string, limit int) ([]smartlic.Token, error) {
	where, args := searchWhere("t", scope, text, after, "t.description")
	rows, err := t.queryBuilt(ctx, `SELECT `+prefixed("t", tokenCols)+` FROM tokens t WHERE `+where+` ORDER BY t.id LIMIT ?`, append(args, limit)...)
	return collect(rows, err, scanToken, "searching tokens")
}

func (t *tx) SearchDeposits(ctx context.Context, scope smartlic.SearchScope, text, after string, limit int) ([]smartlic.Deposit, error) {
	where, args := searchWhere("d", scope, text, after, "d.order_number")
	rows, err := t.queryBuilt(ctx, `SELECT `+depositCols+` FROM `+depositFrom+` WHERE `+where+` ORDER BY d.id LIMIT ?`, append(args, limit)...)
	return collect(rows, err, scanDeposit, "searching deposits")
}

// prefixed qualifies a column list with a table alias.
func prefixed(a, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = a + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
