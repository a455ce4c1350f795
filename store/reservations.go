package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

const reservationCols = `r.id, r.sa_id, r.va_id, v.name, r.udi_pid, r.udi_sn, r.kind, r.status, r.fingerprint, r.device_key,
	r.seq, r.confirmed, r.licenses, r.previous, r.auth_code, r.created_at, r.updated_at, r.closed_at, r.close_reason`

const reservationFrom = ` FROM reservations r JOIN virtual_accounts v ON v.id = r.va_id`

func (t *tx) InsertReservation(ctx context.Context, r smartlic.Reservation) error {
	lic, prev, err := reservationLines(r)
	if err != nil {
		return err
	}
	_, err = t.execBuilt(ctx, `INSERT INTO reservations (id, sa_id, va_id, udi_pid, udi_sn, kind, status, fingerprint, device_key,
			seq, confirmed, licenses, previous, auth_code, created_at, updated_at, closed_at, close_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.SmartAccountID, r.VirtualAccountID, r.UDI.PID, r.UDI.SN, r.Kind, r.Status, r.Fingerprint, r.DeviceKey,
		r.Sequence, r.Confirmed, lic, prev, r.AuthorizationCode, micros(r.CreatedAt), micros(r.UpdatedAt), nullMicros(r.ClosedAt), r.CloseReason)
	if err == nil {
		return nil
	}
	if t.db.d.violation(err) == uniqueViolation {
		// Two unique constraints: the request's fingerprint (the same
		// request code entered twice) and one open reservation per UDI.
		if strings.Contains(err.Error(), "fingerprint") {
			return smartlic.Errorf(smartlic.ECodeStale, "request_code", "this request code was already used for a reservation; ask the device for a new one")
		}
		return smartlic.Errorf(smartlic.EConflict, "request_code", "device %s already holds a reservation; return or cancel it first, or update it", r.UDI)
	}
	return t.writeErr(err, about{what: "storing a reservation", noun: "reservation", id: r.ID, refs: "a Smart or Virtual Account"})
}

func reservationLines(r smartlic.Reservation) (string, string, error) {
	lic, err := json.Marshal(nonNil(r.Licenses))
	if err != nil {
		return "", "", smartlic.Internal(err, "encoding reserved licenses")
	}
	prev, err := json.Marshal(nonNil(r.Previous))
	if err != nil {
		return "", "", smartlic.Internal(err, "encoding reserved licenses")
	}
	return string(lic), string(prev), nil
}

func nonNil(l []smartlic.ReservedLicense) []smartlic.ReservedLicense {
	if l == nil {
		return []smartlic.ReservedLicense{}
	}
	return l
}

func (t *tx) UpdateReservation(ctx context.Context, r, prev smartlic.Reservation) (bool, error) {
	lic, prevLines, err := reservationLines(r)
	if err != nil {
		return false, err
	}
	res, err := t.execBuilt(ctx, `UPDATE reservations SET status = ?, seq = ?, confirmed = ?, licenses = ?, previous = ?, auth_code = ?,
			updated_at = ?, closed_at = ?, close_reason = ?
		WHERE id = ? AND seq = ? AND confirmed = ? AND status = ?`,
		r.Status, r.Sequence, r.Confirmed, lic, prevLines, r.AuthorizationCode, micros(r.UpdatedAt), nullMicros(r.ClosedAt), r.CloseReason,
		r.ID, prev.Sequence, prev.Confirmed, prev.Status)
	if err != nil {
		return false, t.writeErr(err, about{what: "updating a reservation", noun: "reservation", id: r.ID})
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, smartlic.Internal(err, "updating a reservation")
	}
	return n == 1, nil
}

func (t *tx) GetReservation(ctx context.Context, saID, id string) (smartlic.Reservation, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+reservationCols+reservationFrom+` WHERE r.sa_id = ? AND r.id = ?`, saID, id),
		scanReservation, "reading a reservation", func() error { return smartlic.NotFound("reservation %q not found", id) })
}

func (t *tx) ReservationByFingerprint(ctx context.Context, fp string) (smartlic.Reservation, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+reservationCols+reservationFrom+` WHERE r.fingerprint = ?`, fp),
		scanReservation, "reading a reservation", func() error { return smartlic.NotFound("no reservation answers this code") })
}

func (t *tx) OpenReservationOfUDI(ctx context.Context, udi smartlic.UDI) (smartlic.Reservation, bool, error) {
	r, err := one(t.queryRowBuilt(ctx, `SELECT `+reservationCols+reservationFrom+`
		WHERE r.udi_pid = ? AND r.udi_sn = ? AND r.status IN ('authorized', 'updating', 'installed')`, udi.PID, udi.SN),
		scanReservation, "reading a reservation", func() error { return smartlic.NotFound("no open reservation") })
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return r, false, nil
	}
	return r, err == nil, err
}

// ListReservations lists an account's reservations by id, in the given
// VAs only when vaIDs is not nil (a VA-scoped user). The UDI filter is a
// prefix of PID:SN, served by the (udi_pid, udi_sn) index when it names a
// whole PID.
func (t *tx) ListReservations(ctx context.Context, saID string, vaIDs []string, f smartlic.ReservationFilter, p smartlic.Page) ([]smartlic.Reservation, error) {
	if len(vaIDs) > maxInList {
		return listInChunks(vaIDs, limit(p), func(r smartlic.Reservation) string { return r.ID }, func(chunk []string) ([]smartlic.Reservation, error) {
			return t.ListReservations(ctx, saID, chunk, f, p)
		})
	}
	q := `SELECT ` + reservationCols + reservationFrom + ` WHERE r.sa_id = ? AND r.id > ?`
	args := []any{saID, p.After}
	if vaIDs != nil {
		if len(vaIDs) == 0 {
			return nil, nil
		}
		q += ` AND r.va_id IN (` + inList(len(vaIDs)) + `)`
		args = append(args, anys(vaIDs)...)
	}
	if f.UDI != "" {
		if pid, sn, ok := strings.Cut(f.UDI, ":"); ok {
			q += ` AND r.udi_pid = ? AND r.udi_sn LIKE ? ESCAPE '\'`
			args = append(args, pid, likePrefix(sn))
		} else {
			q += ` AND r.udi_pid LIKE ? ESCAPE '\'`
			args = append(args, likePrefix(pid))
		}
	}
	switch f.Status {
	case "":
	case "open":
		q += ` AND r.status IN ('authorized', 'updating', 'installed')`
	case "closed":
		q += ` AND r.status IN ('returned', 'cancelled')`
	case "pending": // an authorization code not confirmed yet
		q += ` AND r.status IN ('authorized', 'updating')`
	default:
		q += ` AND r.status = ?`
		args = append(args, f.Status)
	}
	q += ` ORDER BY r.id LIMIT ?`
	args = append(args, limit(p))
	rows, err := t.queryBuilt(ctx, q, args...)
	return collect(rows, err, scanReservation, "listing reservations")
}

func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func scanReservation(r scanner) (smartlic.Reservation, error) {
	var (
		res              smartlic.Reservation
		lic, prev        string
		created, updated int64
		closed           sql.NullInt64
	)
	err := r.Scan(&res.ID, &res.SmartAccountID, &res.VirtualAccountID, &res.VirtualAccount, &res.UDI.PID, &res.UDI.SN, &res.Kind, &res.Status,
		&res.Fingerprint, &res.DeviceKey, &res.Sequence, &res.Confirmed, &lic, &prev, &res.AuthorizationCode,
		&created, &updated, &closed, &res.CloseReason)
	if err != nil {
		return res, err
	}
	res.CreatedAt, res.UpdatedAt, res.ClosedAt = fromMicros(created), fromMicros(updated), fromNullMicros(closed)
	if err := json.Unmarshal([]byte(lic), &res.Licenses); err != nil {
		return res, err
	}
	if err := json.Unmarshal([]byte(prev), &res.Previous); err != nil {
		return res, err
	}
	if len(res.Previous) == 0 {
		res.Previous = nil
	}
	return res, nil
}

// AddReserved moves both the reserved and the in-use count of one pool by
// delta in one statement (reserved licenses are consumed: every check of
// what is available, transfers' included, sees them through in_use), and
// appends the in-use count to the pool's history as AddInUse does.
func (t *tx) AddReserved(ctx context.Context, vaID, licenseTypeID string, delta int64, at time.Time) error {
	if delta == 0 {
		return nil
	}
	var inUse, reserved int64
	err := t.queryRowBuilt(ctx, `INSERT INTO pools (va_id, license_type_id, in_use, reserved) VALUES (?, ?, ?, ?)
		ON CONFLICT (va_id, license_type_id) DO UPDATE SET in_use = pools.in_use + excluded.in_use, reserved = pools.reserved + excluded.reserved
		RETURNING in_use, reserved`, vaID, licenseTypeID, delta, delta).Scan(&inUse, &reserved)
	if err != nil {
		return t.writeErr(err, about{what: "counting reserved licenses", noun: "pool", refs: "a Virtual Account or license type"})
	}
	if _, err := t.exec(ctx, stInsertPoolHistory, vaID, licenseTypeID, micros(at), inUse, reserved); err != nil {
		return t.writeErr(err, about{what: "recording pool history", noun: "pool history", refs: "a Virtual Account or license type"})
	}
	return nil
}

func (t *tx) PermanentReservationAllowed(ctx context.Context, subject, id string) (bool, error) {
	var n int
	err := t.queryRowBuilt(ctx, `SELECT COUNT(*) FROM reservation_permissions WHERE subject = ? AND subject_id = ?`, subject, id).Scan(&n)
	if err != nil {
		return false, smartlic.Internal(err, "reading reservation permissions")
	}
	return n > 0, nil
}

func (t *tx) SetPermanentReservationAllowed(ctx context.Context, subject, id string, allowed bool) error {
	q := `DELETE FROM reservation_permissions WHERE subject = ? AND subject_id = ?`
	if allowed {
		q = `INSERT INTO reservation_permissions (subject, subject_id) VALUES (?, ?) ON CONFLICT DO NOTHING`
	}
	if _, err := t.execBuilt(ctx, q, subject, id); err != nil {
		return t.writeErr(err, about{what: "storing reservation permissions", noun: "reservation permission"})
	}
	return nil
}
