package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/smartlic/smartlic"
)

const policyCols = `p.subject, p.version, p.policy_id, p.name, p.scope, p.smart_account_id, p.va_id, COALESCE(v.name, ''),
	p.rules, p.deleted, p.created_at, p.created_by`

// policyFrom joins the VA, for its name.
const policyFrom = `policies p LEFT JOIN virtual_accounts v ON v.id = p.va_id`

func (t *tx) InsertPolicyVersion(ctx context.Context, p smartlic.Policy) error {
	t.changes |= catalogChange
	rules, err := json.Marshal(p.Rules)
	if err != nil {
		return smartlic.Internal(err, "encoding a policy's rules")
	}
	_, err = t.execBuilt(ctx, `INSERT INTO policies (subject, version, policy_id, name, scope, smart_account_id, va_id, rules, deleted, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Subject(), p.Version, p.ID, p.Name, string(p.Scope), nullString(p.SmartAccountID), nullString(p.VirtualAccountID),
		string(rules), p.Deleted, micros(p.CreatedAt), p.CreatedBy)
	if t.db.d.violation(err) == primaryKeyViolation || t.db.d.violation(err) == uniqueViolation {
		return smartlic.Errorf(smartlic.EConflict, "version", "version %d of this policy already exists: it was edited meanwhile", p.Version)
	}
	if err != nil {
		return t.writeErr(err, about{what: "storing a policy version", noun: "policy", field: "version", id: p.ID, refs: "a Smart Account or Virtual Account"})
	}
	return nil
}

func (t *tx) LatestPolicyVersion(ctx context.Context, subject string) (smartlic.Policy, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+policyCols+` FROM `+policyFrom+` WHERE p.subject = ? ORDER BY p.version DESC LIMIT 1`, subject),
		scanPolicy, "reading a policy", func() error { return smartlic.NotFound("no policy is set here") })
}

func (t *tx) CurrentPolicies(ctx context.Context, saID string) ([]smartlic.Policy, error) {
	// The newest version of each scope of the account, served by
	// policies_account; a scope whose newest version is deleted has no
	// current policy.
	rows, err := t.queryBuilt(ctx, `SELECT `+policyCols+` FROM `+policyFrom+`
		WHERE p.smart_account_id = ?
		AND p.version = (SELECT MAX(q.version) FROM policies q WHERE q.subject = p.subject)
		AND p.deleted = ?
		ORDER BY p.scope, COALESCE(v.name, ''), p.subject`, saID, false)
	return collect(rows, err, scanPolicy, "listing policies")
}

func (t *tx) PolicyVersions(ctx context.Context, subject string, before, limit int) ([]smartlic.Policy, error) {
	if before <= 0 {
		before = int(^uint32(0) >> 1)
	}
	rows, err := t.queryBuilt(ctx, `SELECT `+policyCols+` FROM `+policyFrom+`
		WHERE p.subject = ? AND p.version < ? ORDER BY p.version DESC LIMIT ?`, subject, before, limit)
	return collect(rows, err, scanPolicy, "listing policy versions")
}

func scanPolicy(r scanner) (smartlic.Policy, error) {
	var (
		p       smartlic.Policy
		subject string
		sa, va  sql.NullString
		rules   string
		created int64
		scope   string
	)
	err := r.Scan(&subject, &p.Version, &p.ID, &p.Name, &scope, &sa, &va, &p.VirtualAccount, &rules, &p.Deleted, &created, &p.CreatedBy)
	if err != nil {
		return p, err
	}
	p.Scope, p.SmartAccountID, p.VirtualAccountID, p.CreatedAt = smartlic.PolicyScope(scope), sa.String, va.String, fromMicros(created)
	if err := json.Unmarshal([]byte(rules), &p.Rules); err != nil {
		return p, err
	}
	return p, nil
}

// PolicyInstances reads instances_policy, a partial index of the instances
// in policy mode: the mode is written into the query, not bound, so that
// the planners can tell the index holds every row asked for.
func (t *tx) PolicyInstances(ctx context.Context, saID string, limit int) ([]smartlic.Instance, error) {
	const what = "listing instances under policy"
	rows, err := t.queryBuilt(ctx, `SELECT `+instanceCols+` FROM instances i
		WHERE i.smart_account_id = ? AND i.mode = '`+string(smartlic.ModePolicy)+`' ORDER BY i.id LIMIT ?`, saID, limit)
	list, err := collect(rows, err, func(r scanner) (smartlic.Instance, error) { return scanInstance(r) }, what)
	if err != nil {
		return nil, err
	}
	return t.withUsage(ctx, list, what)
}
