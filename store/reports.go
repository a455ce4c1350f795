package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
)

// Agreements.

const agreementCols = `id, smart_account_id, va_id, number, starts_at, ends_at, created_at`

// agreementReadCols are agreementCols and what is set after the insert.
const agreementReadCols = agreementCols + `, accepted_at, accepted_by`

// InsertAgreement stores the agreement, its lines and their deposits.
func (t *tx) InsertAgreement(ctx context.Context, a smartlic.Agreement, deposits []smartlic.Deposit) error {
	_, err := t.execBuilt(ctx, `INSERT INTO agreements (`+agreementCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.SmartAccountID, a.VirtualAccountID, a.Number, micros(a.StartsAt), micros(a.EndsAt), micros(a.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an agreement", noun: "agreement", field: "number", value: a.Number, id: a.ID,
			refs: "a Smart Account or Virtual Account"})
	}
	for _, l := range a.Lines {
		if _, err := t.execBuilt(ctx, `INSERT INTO agreement_lines (agreement_id, license_type_id, quantity) VALUES (?, ?, ?)`,
			a.ID, l.LicenseTypeID, l.Quantity); err != nil {
			if t.db.d.violation(err) == primaryKeyViolation {
				return smartlic.Invalid("lines", "license %q is listed twice", l.LicenseTag)
			}
			return t.writeErr(err, about{what: "storing an agreement line", noun: "agreement line", refs: "a license type"})
		}
	}
	for _, d := range deposits {
		_, err := t.execBuilt(ctx, `INSERT INTO deposits (id, va_id, order_number, license_type_id, quantity, starts_at, ends_at,
				created_at, agreement_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.VirtualAccountID, d.OrderNumber, d.LicenseTypeID, d.Quantity, micros(d.StartsAt), nullMicros(d.EndsAt),
			micros(d.CreatedAt), a.ID)
		if err != nil {
			return t.writeErr(err, about{what: "storing an agreement's deposit", noun: "deposit", id: d.ID, refs: "a Virtual Account or license type"})
		}
	}
	return nil
}

func (t *tx) GetAgreement(ctx context.Context, id string) (smartlic.Agreement, error) {
	a, err := one(t.queryRowBuilt(ctx, `SELECT `+agreementReadCols+` FROM agreements WHERE id = ?`, id), scanAgreement,
		"reading an agreement", func() error { return smartlic.NotFound("agreement %q not found", id) })
	if err != nil {
		return a, err
	}
	list := []smartlic.Agreement{a}
	if err := t.agreementLines(ctx, list); err != nil {
		return a, err
	}
	return list[0], nil
}

func (t *tx) ListAgreements(ctx context.Context, vaID string, p smartlic.Page) ([]smartlic.Agreement, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+agreementReadCols+` FROM agreements WHERE va_id = ? AND id > ? ORDER BY id LIMIT ?`,
		vaID, p.After, limit(p))
	list, err := collect(rows, err, scanAgreement, "listing agreements")
	if err != nil || len(list) == 0 {
		return list, err
	}
	return list, t.agreementLines(ctx, list)
}

// AcceptAgreement records the acceptance of an agreement not accepted
// yet: the condition in the UPDATE makes a second acceptance, concurrent
// or not, change nothing.
func (t *tx) AcceptAgreement(ctx context.Context, id, by string, at time.Time) (bool, error) {
	res, err := t.execBuilt(ctx, `UPDATE agreements SET accepted_at = ?, accepted_by = ? WHERE id = ? AND accepted_at IS NULL`, micros(at), by, id)
	if err != nil {
		return false, smartlic.Internal(err, "accepting an agreement")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, smartlic.Internal(err, "accepting an agreement")
	}
	return n == 1, nil
}

// agreementLines fills in the lines of a page of agreements in one query.
func (t *tx) agreementLines(ctx context.Context, list []smartlic.Agreement) error {
	const what = "reading agreement lines"
	index := make(map[string]int, len(list))
	ids := make([]any, len(list))
	for i, a := range list {
		index[a.ID], ids[i] = i, a.ID
	}
	rows, err := t.queryBuilt(ctx, `SELECT l.agreement_id, l.license_type_id, lt.tag, l.quantity
		FROM agreement_lines l JOIN license_types lt ON lt.id = l.license_type_id
		WHERE l.agreement_id IN (`+inList(len(ids))+`) ORDER BY l.agreement_id, lt.tag`, ids...)
	if err != nil {
		return smartlic.Internal(err, what)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l smartlic.AgreementLine
		if err := rows.Scan(&id, &l.LicenseTypeID, &l.LicenseTag, &l.Quantity); err != nil {
			return smartlic.Internal(err, what)
		}
		a := &list[index[id]]
		a.Lines = append(a.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return smartlic.Internal(err, what)
	}
	return nil
}

func scanAgreement(r scanner) (smartlic.Agreement, error) {
	var a smartlic.Agreement
	var starts, ends, created int64
	var accepted sql.NullInt64
	err := r.Scan(&a.ID, &a.SmartAccountID, &a.VirtualAccountID, &a.Number, &starts, &ends, &created, &accepted, &a.AcceptedBy)
	a.StartsAt, a.EndsAt, a.CreatedAt, a.AcceptedAt = fromMicros(starts), fromMicros(ends), fromMicros(created), fromNullMicros(accepted)
	a.Lines = []smartlic.AgreementLine{}
	return a, err
}

// Pool history.

// InUseAt reads, for every pool of the given VAs, the last history entry
// at or before at: one indexed lookup per pool.
func (t *tx) InUseAt(ctx context.Context, vaIDs []string, at time.Time) ([]smartlic.PoolCounter, error) {
	var out []smartlic.PoolCounter
	for chunk := range slices.Chunk(vaIDs, maxInList) {
		args := append([]any{micros(at), micros(at)}, anys(chunk)...)
		rows, err := t.queryBuilt(ctx, `SELECT p.va_id, p.license_type_id,
				(SELECT h.in_use FROM pool_history h
				 WHERE h.va_id = p.va_id AND h.license_type_id = p.license_type_id AND h.at <= ?
				 ORDER BY h.at DESC, h.seq DESC LIMIT 1),
				(SELECT h.reserved FROM pool_history h
				 WHERE h.va_id = p.va_id AND h.license_type_id = p.license_type_id AND h.at <= ?
				 ORDER BY h.at DESC, h.seq DESC LIMIT 1)
			FROM pools p WHERE p.va_id IN (`+inList(len(chunk))+`) ORDER BY p.va_id, p.license_type_id`, args...)
		part, err := collect(rows, err, func(r scanner) (smartlic.PoolCounter, error) {
			var c smartlic.PoolCounter
			var n, reserved sql.NullInt64
			err := r.Scan(&c.VirtualAccountID, &c.LicenseTypeID, &n, &reserved)
			c.InUse, c.Reserved = n.Int64, reserved.Int64
			if !n.Valid {
				c.VirtualAccountID = "" // no history then
			}
			return c, err
		}, "reading pool history")
		if err != nil {
			return nil, err
		}
		for _, c := range part {
			if c.VirtualAccountID != "" {
				out = append(out, c)
			}
		}
	}
	if len(vaIDs) > maxInList {
		slices.SortFunc(out, comparePoolCounters)
	}
	return out, nil
}

// InUseChanges returns the history entries of the given VAs strictly inside
// (from, to).
func (t *tx) InUseChanges(ctx context.Context, vaIDs []string, from, to time.Time) ([]smartlic.InUseChange, error) {
	var out []smartlic.InUseChange
	for chunk := range slices.Chunk(vaIDs, maxInList) {
		args := append(anys(chunk), micros(from), micros(to))
		rows, err := t.queryBuilt(ctx, `SELECT va_id, license_type_id, at, seq, in_use FROM pool_history
			WHERE va_id IN (`+inList(len(chunk))+`) AND at > ? AND at < ?
			ORDER BY va_id, license_type_id, at, seq`, args...)
		part, err := collect(rows, err, func(r scanner) (smartlic.InUseChange, error) {
			var c smartlic.InUseChange
			var at int64
			err := r.Scan(&c.VirtualAccountID, &c.LicenseTypeID, &at, &c.Seq, &c.InUse)
			c.At = fromMicros(at)
			return c, err
		}, "reading pool history")
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	if len(vaIDs) > maxInList {
		slices.SortFunc(out, func(a, b smartlic.InUseChange) int {
			return cmp.Or(cmp.Compare(a.VirtualAccountID, b.VirtualAccountID), cmp.Compare(a.LicenseTypeID, b.LicenseTypeID),
				a.At.Compare(b.At), cmp.Compare(a.Seq, b.Seq))
		})
	}
	return out, nil
}
