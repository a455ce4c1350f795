package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// Deposits.

func (t *tx) InsertDeposit(ctx context.Context, d smartlic.Deposit) error {
	_, err := t.exec(ctx, stInsertDeposit, d.ID, d.VirtualAccountID, d.OrderNumber, d.LicenseTypeID, d.Quantity,
		micros(d.StartsAt), nullMicros(d.EndsAt), micros(d.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a deposit", noun: "deposit", id: d.ID, refs: "a Virtual Account or license type"})
	}
	return nil
}

func (t *tx) ListDeposits(ctx context.Context, vaID string, p smartlic.Page) ([]smartlic.Deposit, error) {
	rows, err := t.query(ctx, stListDeposits, vaID, p.After, limit(p))
	return collect(rows, err, scanDeposit, "listing deposits")
}

// DepositsOf returns the deposits of the given VAs ordered by id.
func (t *tx) DepositsOf(ctx context.Context, vaIDs []string) ([]smartlic.Deposit, error) {
	if len(vaIDs) == 0 {
		return nil, nil
	}
	var out []smartlic.Deposit
	for chunk := range slices.Chunk(vaIDs, maxInList) {
		rows, err := t.queryBuilt(ctx, `SELECT `+depositCols+` FROM `+depositFrom+`
			WHERE d.va_id IN (`+inList(len(chunk))+`) ORDER BY d.id`, anys(chunk)...)
		part, err := collect(rows, err, scanDeposit, "listing deposits")
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	if len(vaIDs) > maxInList {
		slices.SortFunc(out, func(a, b smartlic.Deposit) int { return cmp.Compare(a.ID, b.ID) })
	}
	return out, nil
}

func scanDeposit(r scanner) (smartlic.Deposit, error) {
	var d smartlic.Deposit
	var starts, created int64
	var ends sql.NullInt64
	err := r.Scan(&d.ID, &d.VirtualAccountID, &d.OrderNumber, &d.LicenseTypeID, &d.LicenseTag, &d.Quantity, &starts, &ends, &created)
	d.StartsAt, d.EndsAt, d.CreatedAt = fromMicros(starts), fromNullMicros(ends), fromMicros(created)
	return d, err
}

// Pools.

// AddInUse moves the in-use counter of one pool by delta, creating the
// counter on first use. It is one statement, so concurrent changes to the
// same pool add up instead of overwriting each other. The count after the
// change is appended to the pool's history in the same transaction, dated
// at (the manager's clock); the counter's row lock, held to the end of the
// transaction, orders the history entries of one pool as the changes
// commit.
func (t *tx) AddInUse(ctx context.Context, vaID, licenseTypeID string, delta int64, at time.Time) error {
	var inUse, reserved int64
	if err := t.queryRow(ctx, stAddInUse, vaID, licenseTypeID, delta).Scan(&inUse, &reserved); err != nil {
		return t.writeErr(err, about{what: "counting licenses in use", noun: "pool", refs: "a Virtual Account or license type"})
	}
	if delta == 0 {
		return nil
	}
	if _, err := t.exec(ctx, stInsertPoolHistory, vaID, licenseTypeID, micros(at), inUse, reserved); err != nil {
		return t.writeErr(err, about{what: "recording pool history", noun: "pool history", refs: "a Virtual Account or license type"})
	}
	return nil
}

// AddInUseAll moves the pools' counters in one multi-row upsert per
// chunk, in (VA, license type) order as every writer locks pools, and
// records their history in one multi-row insert: four statements where
// AddInUse of two pools took four, whatever the number of pools. The
// history insert reads the counters it records from the pools it has
// just moved, rather than from the upsert's answer, so that neither
// statement waits for the other's result and Pipeline can send both in
// one round trip.
func (t *tx) AddInUseAll(ctx context.Context, moves []smartlic.PoolMove) error {
	moves = slices.Clone(moves)
	slices.SortFunc(moves, func(a, b smartlic.PoolMove) int { return comparePools(a.PoolKey, b.PoolKey) })
	for i := 1; i < len(moves); i++ {
		if moves[i].PoolKey == moves[i-1].PoolKey {
			return smartlic.Invalid("moves", "moves the pool of license type %q twice", moves[i].LicenseTypeID)
		}
	}
	const what = "counting licenses in use"
	err := inChunks(len(moves), func(lo, hi int) error {
		args := make([]any, 0, 3*(hi-lo))
		for _, m := range moves[lo:hi] {
			args = append(args, m.VirtualAccountID, m.LicenseTypeID, m.Delta)
		}
		return t.execHeld(ctx, `INSERT INTO pools (va_id, license_type_id, in_use) VALUES `+valueRows(hi-lo, 3)+`
			ON CONFLICT (va_id, license_type_id) DO UPDATE SET in_use = pools.in_use + excluded.in_use`, args,
			t.failsAs(about{what: what, noun: "pool", refs: "a Virtual Account or license type"}))
	})
	if err != nil {
		return err
	}
	var moved []smartlic.PoolMove
	for _, m := range moves {
		if m.Delta != 0 {
			moved = append(moved, m)
		}
	}
	const row = "(?, ?, CAST(? AS BIGINT))"
	return inChunks(len(moved), func(lo, hi int) error {
		args := make([]any, 0, 3*(hi-lo))
		for _, m := range moved[lo:hi] {
			args = append(args, m.VirtualAccountID, m.LicenseTypeID, micros(m.At))
		}
		want := int64(hi - lo)
		return t.execHeld(ctx, `INSERT INTO pool_history (va_id, license_type_id, at, in_use, reserved)
			SELECT p.va_id, p.license_type_id, v.column3, p.in_use, p.reserved
			FROM (VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", hi-lo), ", ")+`) AS v
			JOIN pools p ON p.va_id = v.column1 AND p.license_type_id = v.column2`, args,
			func(n int64, err error) error {
				if err != nil {
					return t.writeErr(err, about{what: "recording pool history", noun: "pool history", refs: "a Virtual Account or license type"})
				}
				if n != want {
					return smartlic.Internal(fmt.Errorf("%d of %d pools not found", want-n, want), "recording pool history")
				}
				return nil
			})
	})
}

// comparePools orders pools as every writer locks them.
func comparePools(a, b smartlic.PoolKey) int {
	return cmp.Or(strings.Compare(a.VirtualAccountID, b.VirtualAccountID), strings.Compare(a.LicenseTypeID, b.LicenseTypeID))
}

// comparePoolCounters orders counters as their pools (comparePools):
// by VA, then license type, as the queries' ORDER BY does, for lists read
// in chunks.
func comparePoolCounters(a, b smartlic.PoolCounter) int {
	return comparePools(smartlic.PoolKey{VirtualAccountID: a.VirtualAccountID, LicenseTypeID: a.LicenseTypeID},
		smartlic.PoolKey{VirtualAccountID: b.VirtualAccountID, LicenseTypeID: b.LicenseTypeID})
}

// PoolCountersOf returns the in-use counters of the given VAs ordered by
// VA and license type id.
func (t *tx) PoolCountersOf(ctx context.Context, vaIDs []string) ([]smartlic.PoolCounter, error) {
	if len(vaIDs) == 0 {
		return nil, nil
	}
	var out []smartlic.PoolCounter
	for chunk := range slices.Chunk(vaIDs, maxInList) {
		rows, err := t.queryBuilt(ctx, `SELECT va_id, license_type_id, in_use, reserved FROM pools
			WHERE va_id IN (`+inList(len(chunk))+`) ORDER BY va_id, license_type_id`, anys(chunk)...)
		part, err := collect(rows, err, scanPoolCounter, "reading pool counters")
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	if len(vaIDs) > maxInList {
		slices.SortFunc(out, comparePoolCounters)
	}
	return out, nil
}

// PoolStateOf reads one VA's deposits and counters of typeIDs.
func (t *tx) PoolStateOf(ctx context.Context, vaID string, typeIDs []string) ([]smartlic.Deposit, []smartlic.PoolCounter, error) {
	var deposits []smartlic.Deposit
	var counters []smartlic.PoolCounter
	for chunk := range slices.Chunk(typeIDs, maxInList) {
		args := append([]any{vaID}, anys(chunk)...)
		// Both in one round trip in Pipeline.
		err := t.readAll(ctx, readQuery{
			q: `SELECT ` + depositCols + ` FROM ` + depositFrom + `
			WHERE d.va_id = ? AND d.license_type_id IN (` + inList(len(chunk)) + `) ORDER BY d.id`,
			args: args, what: "listing deposits",
			scan: func(r scanner) error {
				d, err := scanDeposit(r)
				deposits = append(deposits, d)
				return err
			},
		}, readQuery{
			q: `SELECT va_id, license_type_id, in_use, reserved FROM pools
			WHERE va_id = ? AND license_type_id IN (` + inList(len(chunk)) + `) ORDER BY license_type_id`,
			args: args, what: "reading pool counters",
			scan: func(r scanner) error {
				c, err := scanPoolCounter(r)
				counters = append(counters, c)
				return err
			},
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return deposits, counters, nil
}

func scanPoolCounter(r scanner) (smartlic.PoolCounter, error) {
	var c smartlic.PoolCounter
	err := r.Scan(&c.VirtualAccountID, &c.LicenseTypeID, &c.InUse, &c.Reserved)
	return c, err
}

// LicenseTypesOf returns the license types that have a counter or a
// deposit in any of the given VAs, ordered by id: what a pool view of
// those VAs names. It is one query per maxInList VAs, however many license
// types there are, where reading each type by id cost one query per type.
func (t *tx) LicenseTypesOf(ctx context.Context, vaIDs []string) ([]smartlic.LicenseType, error) {
	if len(vaIDs) == 0 {
		return nil, nil
	}
	var out []smartlic.LicenseType
	seen := map[string]bool{}
	for chunk := range slices.Chunk(vaIDs, maxInList) {
		in := inList(len(chunk))
		rows, err := t.queryBuilt(ctx, `SELECT `+licenseTypeCols+` FROM license_types WHERE id IN (
				SELECT license_type_id FROM pools WHERE va_id IN (`+in+`)
				UNION SELECT license_type_id FROM deposits WHERE va_id IN (`+in+`))
			ORDER BY id`, append(anys(chunk), anys(chunk)...)...)
		part, err := collect(rows, err, scanLicenseType, "reading license types")
		if err != nil {
			return nil, err
		}
		for _, lt := range part {
			if !seen[lt.ID] {
				seen[lt.ID] = true
				out = append(out, lt)
			}
		}
	}
	if len(vaIDs) > maxInList {
		slices.SortFunc(out, func(a, b smartlic.LicenseType) int { return cmp.Compare(a.ID, b.ID) })
	}
	return out, nil
}
