package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// LockPool creates the counter if needed and locks its row: on PostgreSQL
// with FOR UPDATE until the transaction ends, on SQLite by the single
// writer. Transfers lock both pools before reading what is available, so
// two transfers out of one pool take turns instead of both spending the
// same licenses.
func (t *tx) LockPool(ctx context.Context, vaID, licenseTypeID string) (int64, error) {
	const what = "locking a pool"
	if _, err := t.execBuilt(ctx, `INSERT INTO pools (va_id, license_type_id, in_use) VALUES (?, ?, 0)
		ON CONFLICT (va_id, license_type_id) DO NOTHING`, vaID, licenseTypeID); err != nil {
		return 0, t.writeErr(err, about{what: what, noun: "pool", refs: "a Virtual Account or license type"})
	}
	var inUse int64
	err := t.queryRowBuilt(ctx, `SELECT in_use FROM pools WHERE va_id = ? AND license_type_id = ?`+t.db.d.forUpdate,
		vaID, licenseTypeID).Scan(&inUse)
	if err != nil {
		return 0, smartlic.Internal(err, what)
	}
	return inUse, nil
}

// LockPools creates the missing counters and locks them all, a chunk of
// pools in two statements (one INSERT, one SELECT … ORDER BY … FOR
// UPDATE, which locks its rows in its order), where LockPool took two per
// pool. The chunks go in order, so the locks do too.
func (t *tx) LockPools(ctx context.Context, pools []smartlic.PoolKey) ([]smartlic.PoolCounter, error) {
	_, counters, err := t.lockPools(ctx, pools, false)
	return counters, err
}

func (t *tx) LockPoolStates(ctx context.Context, pools []smartlic.PoolKey) ([]smartlic.Deposit, []smartlic.PoolCounter, error) {
	return t.lockPools(ctx, pools, true)
}

// lockPools locks the pools, and reads their deposits too with
// withDeposits.
func (t *tx) lockPools(ctx context.Context, pools []smartlic.PoolKey, withDeposits bool) ([]smartlic.Deposit, []smartlic.PoolCounter, error) {
	const what = "locking pools"
	pools = slices.Clone(pools)
	slices.SortFunc(pools, comparePools)
	pools = slices.Compact(pools)
	var out []smartlic.PoolCounter
	var deposits []smartlic.Deposit
	err := inChunks(len(pools), func(lo, hi int) error {
		args := make([]any, 0, 2*(hi-lo))
		for _, p := range pools[lo:hi] {
			args = append(args, p.VirtualAccountID, p.LicenseTypeID)
		}
		// In Pipeline, the insert and the locking read go in one round
		// trip.
		err := t.execHeld(ctx, `INSERT INTO pools (va_id, license_type_id, in_use) VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?, 0), ", hi-lo), ", ")+`
			ON CONFLICT (va_id, license_type_id) DO NOTHING`, args, t.failsAs(about{what: what, noun: "pool", refs: "a Virtual Account or license type"}))
		if err != nil {
			return err
		}
		reads := []readQuery{{
			q: `SELECT va_id, license_type_id, in_use, reserved FROM pools
			WHERE (va_id, license_type_id) IN (VALUES ` + valueRows(hi-lo, 2) + `) ORDER BY va_id, license_type_id` + t.db.d.forUpdate,
			args: args, what: what,
			scan: func(r scanner) error {
				c, err := scanPoolCounter(r)
				out = append(out, c)
				return err
			},
		}}
		if withDeposits {
			reads = append(reads, readQuery{
				q: `SELECT ` + depositCols + ` FROM ` + depositFrom + `
				WHERE (d.va_id, d.license_type_id) IN (VALUES ` + valueRows(hi-lo, 2) + `) ORDER BY d.id`,
				args: args, what: "listing deposits",
				scan: func(r scanner) error {
					d, err := scanDeposit(r)
					deposits = append(deposits, d)
					return err
				},
			})
		}
		return t.readAll(ctx, reads...)
	})
	if err != nil {
		return nil, nil, err
	}
	// Chunks each read their deposits in id order; the whole list is too.
	slices.SortFunc(deposits, func(a, b smartlic.Deposit) int { return strings.Compare(a.ID, b.ID) })
	return deposits, out, nil
}

// LicenseLots returns the pool's deposits active at now, each with its
// quantity less what transfers have drawn from it.
func (t *tx) LicenseLots(ctx context.Context, vaID, licenseTypeID string, now time.Time) ([]smartlic.LicenseLot, error) {
	rows, err := t.queryBuilt(ctx, `SELECT d.id,
			CAST(d.quantity + COALESCE((SELECT SUM(x.quantity) FROM deposits x WHERE x.transfer_lot = d.id), 0) AS BIGINT),
			d.starts_at, d.ends_at
		FROM deposits d
		WHERE d.va_id = ? AND d.license_type_id = ? AND d.quantity > 0
			AND d.starts_at <= ? AND (d.ends_at IS NULL OR d.ends_at > ?)
		ORDER BY d.id`, vaID, licenseTypeID, micros(now), micros(now))
	lots, err := collect(rows, err, func(r scanner) (smartlic.LicenseLot, error) {
		var l smartlic.LicenseLot
		var starts int64
		var ends sql.NullInt64
		err := r.Scan(&l.DepositID, &l.Remaining, &starts, &ends)
		l.StartsAt, l.EndsAt = fromMicros(starts), fromNullMicros(ends)
		return l, err
	}, "reading license lots")
	if err != nil {
		return nil, err
	}
	out := lots[:0]
	for _, l := range lots {
		if l.Remaining > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// transferDetail is what a transfer row keeps as JSON: lists that are read
// only with the transfer.
type transferDetail struct {
	Lots      []smartlic.TransferLot     `json:"lots,omitempty"`
	Instances []smartlic.TransferredInst `json:"instances,omitempty"`
}

const transferCols = `id, smart_account_id, kind, from_va_id, from_va_name, to_va_id, to_va_name, license_type_id,
	license_tag, quantity, detail_json, actor_email, created_at`

func (t *tx) InsertTransfer(ctx context.Context, tr smartlic.Transfer) error {
	detail, err := json.Marshal(transferDetail{Lots: tr.Lots, Instances: tr.Instances})
	if err != nil {
		return smartlic.Internal(err, "encoding a transfer")
	}
	_, err = t.execBuilt(ctx, `INSERT INTO transfers (`+transferCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tr.ID, tr.SmartAccountID, tr.Kind, tr.FromID, tr.FromName, tr.ToID, tr.ToName, nullString(tr.LicenseTypeID),
		tr.LicenseTag, tr.Quantity, string(detail), tr.ActorEmail, micros(tr.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a transfer", noun: "transfer", id: tr.ID, refs: "a Smart Account"})
	}
	return nil
}

func (t *tx) InsertTransferDeposit(ctx context.Context, d smartlic.Deposit, transferID, fromLot string) error {
	_, err := t.execBuilt(ctx, `INSERT INTO deposits (id, va_id, order_number, license_type_id, quantity, starts_at, ends_at,
			created_at, transfer_id, transfer_lot)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.VirtualAccountID, d.OrderNumber, d.LicenseTypeID, d.Quantity, micros(d.StartsAt), nullMicros(d.EndsAt),
		micros(d.CreatedAt), transferID, nullString(fromLot))
	if err != nil {
		return t.writeErr(err, about{what: "storing a transfer's deposit", noun: "deposit", id: d.ID, refs: "a Virtual Account, license type, transfer or lot"})
	}
	return nil
}

func (t *tx) ListTransfers(ctx context.Context, saID string, p smartlic.Page) ([]smartlic.Transfer, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+transferCols+` FROM transfers WHERE smart_account_id = ? AND id > ? ORDER BY id LIMIT ?`,
		saID, p.After, limit(p))
	return collect(rows, err, scanTransfer, "listing transfers")
}

func scanTransfer(r scanner) (smartlic.Transfer, error) {
	var tr smartlic.Transfer
	var lt sql.NullString
	var detail string
	var created int64
	if err := r.Scan(&tr.ID, &tr.SmartAccountID, &tr.Kind, &tr.FromID, &tr.FromName, &tr.ToID, &tr.ToName, &lt,
		&tr.LicenseTag, &tr.Quantity, &detail, &tr.ActorEmail, &created); err != nil {
		return tr, err
	}
	tr.LicenseTypeID, tr.CreatedAt = lt.String, fromMicros(created)
	var d transferDetail
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		return tr, err
	}
	tr.Lots, tr.Instances = d.Lots, d.Instances
	return tr, nil
}

// LockInstance locks the instance's row: FOR UPDATE on PostgreSQL, the
// single writer on SQLite.
func (t *tx) LockInstance(ctx context.Context, id string) error {
	var got string
	err := t.queryRowBuilt(ctx, `SELECT id FROM instances WHERE id = ?`+t.db.d.forUpdate, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return smartlic.NotFound("instance %q not found", id)
	}
	if err != nil {
		return smartlic.Internal(err, "locking an instance")
	}
	return nil
}
