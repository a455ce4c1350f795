package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

const slacCols = `s.id, s.sa_id, s.va_id, v.name, s.license_type_id, s.tag, s.pid, s.sn, s.instance_id, s.status, s.requested,
	s.request_nonce, s.return_hash, s.issued_at, s.returned_at, s.returned, s.cancel_reason, s.document`

const slacFrom = ` FROM slacs s JOIN virtual_accounts v ON v.id = s.va_id`

func (t *tx) InsertSLAC(ctx context.Context, s smartlic.SLAC) error {
	doc, err := json.Marshal(s.Document)
	if err != nil {
		return smartlic.Internal(err, "encoding a SLAC")
	}
	_, err = t.execBuilt(ctx, `INSERT INTO slacs (id, sa_id, va_id, license_type_id, tag, pid, sn, instance_id, status, requested,
		request_nonce, return_hash, issued_at, returned_at, returned, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.SmartAccountID, s.VirtualAccountID, s.LicenseTypeID, s.LicenseTag, s.UDI.PID, s.UDI.SN, nullString(s.InstanceID),
		s.Status, s.Requested, s.RequestNonce, s.ReturnHash, micros(s.IssuedAt), nullMicros(s.ReturnedAt), nullString(string(s.Returned)), doc)
	if err != nil {
		err = t.writeErr(err, about{what: "storing a SLAC", noun: "SLAC", id: s.ID, refs: "a Smart Account, Virtual Account or license type"})
		if smartlic.ErrorCode(err) == smartlic.EConflict && smartlic.ErrorField(err) != "id" {
			// The statement cannot say which unique constraint broke; the
			// manager looks for both before inserting, so a conflict here
			// is a concurrent request for the same device and license.
			return smartlic.Errorf(smartlic.EConflict, "udi", "%s already holds an active SLAC for %q", s.UDI, s.LicenseTag)
		}
		return err
	}
	return nil
}

func (t *tx) GetSLAC(ctx context.Context, id string) (smartlic.SLAC, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+slacCols+slacFrom+` WHERE s.id = ?`, id), scanSLAC,
		"reading a SLAC", func() error { return smartlic.NotFound("SLAC %q not found", id) })
}

func (t *tx) SLACByRequest(ctx context.Context, saID, nonce string) (smartlic.SLAC, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+slacCols+slacFrom+` WHERE s.sa_id = ? AND s.request_nonce = ?`, saID, nonce), scanSLAC,
		"reading a SLAC", func() error { return smartlic.NotFound("no SLAC answers request %q", nonce) })
}

func (t *tx) ActiveSLACsOf(ctx context.Context, udi smartlic.UDI) ([]smartlic.SLAC, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+slacCols+slacFrom+` WHERE s.pid = ? AND s.sn = ? AND s.status = 'active' ORDER BY s.id LIMIT 1000`, udi.PID, udi.SN)
	return collect(rows, err, scanSLAC, "reading a device's SLACs")
}

// ActiveSLACsOfDevices reads the active SLACs of many devices, a few
// hundred devices to a statement.
func (t *tx) ActiveSLACsOfDevices(ctx context.Context, udis []smartlic.UDI) ([]smartlic.SLAC, error) {
	var out []smartlic.SLAC
	var reads []readQuery
	for chunk := range pow2Chunks(udis, usageRowsPerStatement) {
		args := make([]any, 0, 2*len(chunk))
		for _, u := range chunk {
			args = append(args, u.PID, u.SN)
		}
		reads = append(reads, readQuery{
			q:    `SELECT ` + slacCols + slacFrom + ` WHERE (s.pid, s.sn) IN (VALUES ` + valueRows(len(chunk), 2) + `) AND s.status = 'active' ORDER BY s.id`,
			args: args, what: "reading devices' SLACs",
			scan: func(r scanner) error {
				s, err := scanSLAC(r)
				out = append(out, s)
				return err
			},
		})
	}
	if err := t.readAll(ctx, reads...); err != nil {
		return nil, err
	}
	// Chunks each read in id order; the whole list is too.
	slices.SortFunc(out, func(a, b smartlic.SLAC) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *tx) ListSLACs(ctx context.Context, saID string, vaIDs []string, udi *smartlic.UDI, status smartlic.SLACStatus, p smartlic.Page) ([]smartlic.SLAC, error) {
	if vaIDs != nil && len(vaIDs) == 0 {
		return nil, nil // a caller who may see no Virtual Account sees no SLAC
	}
	if len(vaIDs) > maxInList {
		return listInChunks(vaIDs, limit(p), func(s smartlic.SLAC) string { return s.ID }, func(chunk []string) ([]smartlic.SLAC, error) {
			return t.ListSLACs(ctx, saID, chunk, udi, status, p)
		})
	}
	var where []string
	var args []any
	switch {
	case udi != nil:
		// The device index serves this; the Smart Account is checked too.
		where, args = append(where, "s.pid = ? AND s.sn = ?", "s.sa_id = ?"), append(args, udi.PID, udi.SN, saID)
	case len(vaIDs) > 0:
		where, args = append(where, "s.va_id IN ("+inList(len(vaIDs))+")"), append(args, anys(vaIDs)...)
	default:
		where, args = append(where, "s.sa_id = ?"), append(args, saID)
	}
	if len(vaIDs) > 0 && udi != nil {
		where, args = append(where, "s.va_id IN ("+inList(len(vaIDs))+")"), append(args, anys(vaIDs)...)
	}
	if status != "" {
		where, args = append(where, "s.status = ?"), append(args, status)
	}
	if p.After != "" {
		where, args = append(where, "s.id > ?"), append(args, p.After)
	}
	args = append(args, limit(p))
	rows, err := t.queryBuilt(ctx, `SELECT `+slacCols+slacFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY s.id LIMIT ?`, args...)
	return collect(rows, err, scanSLAC, "listing SLACs")
}

func (t *tx) ReturnSLAC(ctx context.Context, id string, at time.Time, how smartlic.SLACHow) (bool, error) {
	res, err := t.execBuilt(ctx, `UPDATE slacs SET status = 'returned', returned_at = ?, returned = ? WHERE id = ? AND status = 'active'`,
		micros(at), how, id)
	if err != nil {
		return false, smartlic.Internal(err, "returning a SLAC")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, smartlic.Internal(err, "returning a SLAC")
	}
	return n == 1, nil
}

func (t *tx) CancelSLAC(ctx context.Context, id string, at time.Time, reason string) (bool, error) {
	res, err := t.execBuilt(ctx, `UPDATE slacs SET status = 'cancelled', returned_at = ?, returned = 'cancelled', cancel_reason = ? WHERE id = ? AND status = 'active'`,
		micros(at), reason, id)
	if err != nil {
		return false, smartlic.Internal(err, "cancelling a SLAC")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, smartlic.Internal(err, "cancelling a SLAC")
	}
	return n == 1, nil
}

func scanSLAC(r scanner) (smartlic.SLAC, error) {
	var (
		s                  smartlic.SLAC
		instance, returned sql.NullString
		reason             sql.NullString
		issued             int64
		returnedAt         sql.NullInt64
		doc                []byte
	)
	err := r.Scan(&s.ID, &s.SmartAccountID, &s.VirtualAccountID, &s.VirtualAccount, &s.LicenseTypeID, &s.LicenseTag, &s.UDI.PID, &s.UDI.SN,
		&instance, &s.Status, &s.Requested, &s.RequestNonce, &s.ReturnHash, &issued, &returnedAt, &returned, &reason, &doc)
	if err != nil {
		return s, err
	}
	s.InstanceID, s.Returned, s.CancelReason = instance.String, smartlic.SLACHow(returned.String), reason.String
	s.IssuedAt, s.ReturnedAt = fromMicros(issued), fromNullMicros(returnedAt)
	return s, json.Unmarshal(doc, &s.Document)
}

func (t *tx) GetExportControl(ctx context.Context, saID string) (smartlic.ExportControl, error) {
	e := smartlic.ExportControl{SmartAccountID: saID}
	var updated int64
	err := t.queryRowBuilt(ctx, `SELECT e.allowed, e.updated_at, a.domain FROM export_controls e JOIN smart_accounts a ON a.id = e.sa_id WHERE e.sa_id = ?`, saID).
		Scan(&e.Allowed, &updated, &e.SmartAccount)
	switch {
	case err == sql.ErrNoRows:
		// Never set: not allowed, the safe default.
		return e, nil
	case err != nil:
		return e, smartlic.Internal(err, "reading an export-control setting")
	}
	at := fromMicros(updated)
	e.UpdatedAt = &at
	return e, nil
}

func (t *tx) SetExportControl(ctx context.Context, e smartlic.ExportControl) error {
	var at int64
	if e.UpdatedAt != nil {
		at = micros(*e.UpdatedAt)
	}
	_, err := t.execBuilt(ctx, `INSERT INTO export_controls (sa_id, allowed, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (sa_id) DO UPDATE SET allowed = excluded.allowed, updated_at = excluded.updated_at`, e.SmartAccountID, e.Allowed, at)
	if err != nil {
		return t.writeErr(err, about{what: "storing an export-control setting", noun: "export-control setting", id: e.SmartAccountID, refs: "a Smart Account"})
	}
	return nil
}

func (t *tx) ListExportControls(ctx context.Context) ([]smartlic.ExportControl, error) {
	rows, err := t.queryBuilt(ctx, `SELECT e.sa_id, a.domain, e.allowed, e.updated_at FROM export_controls e JOIN smart_accounts a ON a.id = e.sa_id
		WHERE e.allowed ORDER BY a.domain LIMIT ?`, smartlic.MaxPageLimit)
	return collect(rows, err, func(r scanner) (smartlic.ExportControl, error) {
		var e smartlic.ExportControl
		var updated int64
		err := r.Scan(&e.SmartAccountID, &e.SmartAccount, &e.Allowed, &updated)
		at := fromMicros(updated)
		e.UpdatedAt = &at
		return e, err
	}, "listing export-control settings")
}
