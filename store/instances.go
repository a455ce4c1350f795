package store

import (
	"context"
	"database/sql"
	"slices"

	"github.com/smartlic/smartlic"
)

func (t *tx) InsertInstance(ctx context.Context, i smartlic.Instance) error {
	_, err := t.exec(ctx, stInsertInstance, i.ID, i.SmartAccountID, i.VirtualAccountID, i.UDI.PID, i.UDI.SN, i.Hostname,
		i.ProductID, string(i.Mode), i.AllowExportControlled, i.PublicKey, micros(i.RegisteredAt), micros(i.LastContactAt),
		nullMicros(i.AuthorizedAt), nullMicros(i.AuthExpiresAt), micros(i.IDCertExpiresAt), nullString(i.TrustSerial),
		nullMicros(i.TrustedAt), nullMicros(i.FirstUseAt), nullMicros(i.LastReportAt), nullMicros(i.LastAckAt), nullMicros(i.UsageChangedAt))
	if err != nil {
		return t.writeErr(err, about{
			what: "storing an instance", noun: "instance", field: "udi", value: i.UDI.String(), id: i.ID,
			refs: "a Smart Account, Virtual Account or product",
		})
	}
	return t.insertUsage(ctx, i.ID, i.Usage)
}

func (t *tx) GetInstance(ctx context.Context, id string) (smartlic.Instance, error) {
	return t.getInstance(ctx, stGetInstance, func() error { return smartlic.NotFound("instance %q not found", id) }, id)
}

func (t *tx) GetInstanceByUDI(ctx context.Context, udi smartlic.UDI) (smartlic.Instance, error) {
	return t.getInstance(ctx, stGetInstanceByUDI, func() error { return smartlic.NotFound("instance %q not found", udi.String()) }, udi.PID, udi.SN)
}

// getInstance reads an instance and its usage lines, which the statement
// joins in: one row per line.
func (t *tx) getInstance(ctx context.Context, s stmt, notFound func() error, args ...any) (smartlic.Instance, error) {
	const what = "reading an instance"
	rows, err := t.query(ctx, s, args...)
	if err != nil {
		return smartlic.Instance{}, smartlic.Internal(err, what)
	}
	defer rows.Close()
	var inst smartlic.Instance
	found := false
	for rows.Next() {
		var lt, tag, status sql.NullString
		var count sql.NullInt64
		row, err := scanInstance(rows, &lt, &tag, &count, &status)
		if err != nil {
			return inst, smartlic.Internal(err, what)
		}
		if !found {
			inst, found = row, true
		}
		if lt.Valid {
			inst.Usage = append(inst.Usage, smartlic.Usage{
				LicenseTypeID: lt.String, LicenseTag: tag.String, Count: count.Int64, Status: smartlic.AuthStatus(status.String),
			})
		}
	}
	if err := rows.Err(); err != nil {
		return inst, smartlic.Internal(err, what)
	}
	if !found {
		return inst, notFound()
	}
	return inst, nil
}

func (t *tx) ListInstances(ctx context.Context, vaID string, p smartlic.Page) ([]smartlic.Instance, error) {
	const what = "listing instances"
	rows, err := t.query(ctx, stListInstances, vaID, p.After, limit(p))
	list, err := collect(rows, err, func(r scanner) (smartlic.Instance, error) { return scanInstance(r) }, what)
	if err != nil {
		return nil, err
	}
	return t.withUsage(ctx, list, what)
}

// GetInstances reads the instances with these ids and their usage lines,
// a few hundred to a statement, in id order; ids not found are left out.
// With lock, the rows are locked as LockInstance locks one, in id order.
func (t *tx) GetInstances(ctx context.Context, ids []string, lock bool) ([]smartlic.Instance, error) {
	const what = "reading instances"
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	suffix := ""
	if lock {
		suffix = t.db.d.forUpdate
	}
	if t.piping {
		// The instances and their usage lines in one round trip: the
		// lines are read after the rows' locks are taken.
		return t.instancesPiped(ctx, ids, suffix)
	}
	var out []smartlic.Instance
	for chunk := range slices.Chunk(ids, maxInList) {
		rows, err := t.queryBuilt(ctx, `SELECT `+instanceCols+` FROM instances i WHERE i.id IN (`+inList(len(chunk))+`) ORDER BY i.id`+suffix, anys(chunk)...)
		list, err := collect(rows, err, func(r scanner) (smartlic.Instance, error) { return scanInstance(r) }, what)
		if err != nil {
			return nil, err
		}
		if list, err = t.withUsage(ctx, list, what); err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// instancesPiped is GetInstances in Pipeline, of ids in order: the
// instances, in chunks of a power of two (pow2Chunks), then their usage
// lines, all in one batch.
func (t *tx) instancesPiped(ctx context.Context, ids []string, suffix string) ([]smartlic.Instance, error) {
	const what = "reading instances"
	list := []smartlic.Instance{}
	type line struct {
		id string
		u  smartlic.Usage
	}
	var lines []line
	var instances, usage []readQuery
	for chunk := range pow2Chunks(ids, usageRowsPerStatement) {
		instances = append(instances, readQuery{
			q:    `SELECT ` + instanceCols + ` FROM instances i WHERE i.id IN (` + inList(len(chunk)) + `) ORDER BY i.id` + suffix,
			args: anys(chunk), what: what,
			scan: func(r scanner) error {
				inst, err := scanInstance(r)
				list = append(list, inst)
				return err
			},
		})
		usage = append(usage, readQuery{
			q: `SELECT u.instance_id, ` + usageCols + ` FROM ` + t.keyedRows("instance_usage", "u", "instance_id", len(chunk)) + `
			ORDER BY u.instance_id, u.tag`,
			args: anys(chunk), what: what,
			scan: func(r scanner) error {
				var l line
				lines = append(lines, l)
				p := &lines[len(lines)-1]
				return r.Scan(&p.id, &p.u.LicenseTypeID, &p.u.LicenseTag, &p.u.Count, &p.u.Status)
			},
		})
	}
	err := t.readAll(ctx, append(instances, usage...)...)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(list))
	for i, inst := range list {
		index[inst.ID] = i
	}
	for _, l := range lines {
		if i, ok := index[l.id]; ok {
			list[i].Usage = append(list[i].Usage, l.u)
		}
	}
	return list, nil
}

// withUsage loads the usage lines of a page of instances in one query
// rather than one per instance.
func (t *tx) withUsage(ctx context.Context, list []smartlic.Instance, what string) ([]smartlic.Instance, error) {
	if len(list) == 0 {
		return list, nil
	}
	index := make(map[string]int, len(list))
	ids := make([]any, len(list))
	for i, inst := range list {
		index[inst.ID], ids[i] = i, inst.ID
	}
	rows, err := t.queryBuilt(ctx, `SELECT u.instance_id, `+usageCols+` FROM `+t.keyedRows("instance_usage", "u", "instance_id", len(ids))+`
		ORDER BY u.instance_id, u.tag`, ids...)
	if err != nil {
		return nil, smartlic.Internal(err, what)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var u smartlic.Usage
		if err := rows.Scan(&id, &u.LicenseTypeID, &u.LicenseTag, &u.Count, &u.Status); err != nil {
			return nil, smartlic.Internal(err, what)
		}
		inst := &list[index[id]]
		inst.Usage = append(inst.Usage, u)
	}
	if err := rows.Err(); err != nil {
		return nil, smartlic.Internal(err, what)
	}
	return list, nil
}

func (t *tx) UpdateInstance(ctx context.Context, i smartlic.Instance) error {
	ok, err := t.execOne(ctx, stUpdateInstance, i.SmartAccountID, i.VirtualAccountID, i.UDI.PID, i.UDI.SN, i.Hostname,
		i.ProductID, string(i.Mode), i.AllowExportControlled, i.PublicKey, micros(i.RegisteredAt), micros(i.LastContactAt),
		nullMicros(i.AuthorizedAt), nullMicros(i.AuthExpiresAt), micros(i.IDCertExpiresAt), nullString(i.TrustSerial),
		nullMicros(i.TrustedAt), nullMicros(i.FirstUseAt), nullMicros(i.LastReportAt), nullMicros(i.LastAckAt), nullMicros(i.UsageChangedAt), i.ID)
	if err != nil {
		return t.writeErr(err, about{
			what: "updating an instance", noun: "instance", field: "udi", value: i.UDI.String(), id: i.ID,
			refs: "a Smart Account, Virtual Account or product",
		})
	}
	if !ok {
		return smartlic.NotFound("instance %q not found", i.ID)
	}
	return nil
}

// UpdateReporting writes an instance's Using Policy columns only: none of
// them is indexed, so the row changes and no index does (a full
// UpdateInstance rewrites the entries of the instance's six indexes).
func (t *tx) UpdateReporting(ctx context.Context, i smartlic.Instance) error {
	res, err := t.execBuilt(ctx, `UPDATE instances SET hostname = ?, public_key = ?, last_contact_at = ?, trusted_at = ?,
		first_use_at = ?, last_report_at = ?, last_ack_at = ?, usage_changed_at = ? WHERE id = ?`,
		i.Hostname, i.PublicKey, micros(i.LastContactAt), nullMicros(i.TrustedAt),
		nullMicros(i.FirstUseAt), nullMicros(i.LastReportAt), nullMicros(i.LastAckAt), nullMicros(i.UsageChangedAt), i.ID)
	if err != nil {
		return smartlic.Internal(err, "updating an instance's reporting")
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return smartlic.NotFound("instance %q not found", i.ID)
	}
	return nil
}

// SetUsage replaces the usage lines of an instance.
func (t *tx) SetUsage(ctx context.Context, instanceID string, usage []smartlic.Usage) error {
	if len(usage) == 0 {
		// With lines to insert, a missing instance shows as a foreign key
		// violation; without, it has to be looked for.
		var exists bool
		if err := t.queryRow(ctx, stInstanceExists, instanceID).Scan(&exists); err != nil {
			return smartlic.Internal(err, "replacing an instance's usage")
		}
		if !exists {
			return smartlic.NotFound("instance %q not found", instanceID)
		}
	}
	if _, err := t.exec(ctx, stDeleteUsage, instanceID); err != nil {
		return smartlic.Internal(err, "replacing an instance's usage")
	}
	return t.insertUsage(ctx, instanceID, usage)
}

// insertUsage stores an instance's usage lines: one line with the fixed
// statement, several in one multi-row statement.
func (t *tx) insertUsage(ctx context.Context, instanceID string, usage []smartlic.Usage) error {
	for i, u := range usage {
		for _, prev := range usage[:i] {
			if prev.LicenseTypeID == u.LicenseTypeID {
				return smartlic.Invalid("usage", "lists license type %q twice", u.LicenseTag)
			}
		}
	}
	var err error
	switch len(usage) {
	case 0:
		return nil
	case 1:
		u := usage[0]
		_, err = t.exec(ctx, stInsertUsage, instanceID, u.LicenseTypeID, u.LicenseTag, u.Count, string(u.Status))
	default:
		args := make([]any, 0, 5*len(usage))
		for _, u := range usage {
			args = append(args, instanceID, u.LicenseTypeID, u.LicenseTag, u.Count, string(u.Status))
		}
		_, err = t.execBuilt(ctx, `INSERT INTO instance_usage (instance_id, license_type_id, tag, count, status) VALUES `+valueRows(len(usage), 5), args...)
	}
	if err != nil {
		return t.writeErr(err, about{what: "storing an instance's usage", noun: "usage line", refs: "an instance or license type"})
	}
	return nil
}

// DeleteInstance deletes an instance; its usage lines cascade.
func (t *tx) DeleteInstance(ctx context.Context, id string) error {
	ok, err := t.execOne(ctx, stDeleteInstance, id)
	if err != nil {
		return smartlic.Internal(err, "deleting an instance")
	}
	if !ok {
		return smartlic.NotFound("instance %q not found", id)
	}
	return nil
}

// scanInstance reads an instance row and any extra columns after it.
func scanInstance(r scanner, extra ...any) (smartlic.Instance, error) {
	var i smartlic.Instance
	var registered, lastContact, certExpires int64
	var authorized, authExpires, trusted, firstUse, lastReport, lastAck, usageChanged sql.NullInt64
	var trustSerial sql.NullString
	err := r.Scan(append([]any{&i.ID, &i.SmartAccountID, &i.VirtualAccountID, &i.UDI.PID, &i.UDI.SN, &i.Hostname,
		&i.ProductID, &i.Mode, &i.AllowExportControlled, &i.PublicKey, &registered, &lastContact, &authorized,
		&authExpires, &certExpires, &trustSerial, &trusted, &firstUse, &lastReport, &lastAck, &usageChanged}, extra...)...)
	i.RegisteredAt, i.LastContactAt, i.IDCertExpiresAt = fromMicros(registered), fromMicros(lastContact), fromMicros(certExpires)
	i.AuthorizedAt, i.AuthExpiresAt = fromNullMicros(authorized), fromNullMicros(authExpires)
	i.TrustSerial, i.TrustedAt, i.FirstUseAt = trustSerial.String, fromNullMicros(trusted), fromNullMicros(firstUse)
	i.LastReportAt, i.LastAckAt, i.UsageChangedAt = fromNullMicros(lastReport), fromNullMicros(lastAck), fromNullMicros(usageChanged)
	i.Usage = []smartlic.Usage{}
	return i, err
}
