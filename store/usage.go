package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// usageRowsPerStatement bounds the rows of one multi-row statement of an
// ingestion: at 2 to 4 parameters a row, far below both stores' limits.
// It is larger than maxRowsPerInsert because a file's claims run to
// thousands; chunks are powers of two up to it (pow2Chunks).
const usageRowsPerStatement = 256

// ClaimUsageReports inserts the claims' report ids unless their instances
// had them accepted before, a few hundred in one statement. ON CONFLICT
// DO NOTHING rather than a lookup first: of two copies racing on
// PostgreSQL, the second INSERT waits for the first transaction and then
// finds its row. Only the claims that found an id taken are looked up.
// The instances' marks are read in the inserts' batch (one round trip in
// Pipeline).
func (t *tx) ClaimUsageReports(ctx context.Context, claims []smartlic.UsageClaim, at time.Time) ([]smartlic.ClaimResult, map[string][]smartlic.UsageMark, error) {
	type key struct{ inst, report string }
	out := make([]smartlic.ClaimResult, len(claims))
	first := make(map[key]int, len(claims)) // the claim that may record each id
	var fresh []int
	for i, c := range claims {
		k := key{c.InstanceID, c.ReportID}
		if _, ok := first[k]; !ok {
			first[k] = i
			fresh = append(fresh, i)
		}
	}
	recorded := make(map[key]bool, len(fresh))
	// Every chunk's insert at once: in Pipeline, one round trip for a
	// file's thousands of claims.
	var inserts []readQuery
	for chunk := range pow2Chunks(fresh, usageRowsPerStatement) {
		args := make([]any, 0, 4*len(chunk))
		for _, i := range chunk {
			c := claims[i]
			args = append(args, c.InstanceID, c.ReportID, c.Hash, micros(at))
		}
		inserts = append(inserts, readQuery{
			q: `INSERT INTO usage_reports (instance_id, report_id, hash, received_at) VALUES ` + valueRows(len(chunk), 4) + `
			ON CONFLICT (instance_id, report_id) DO NOTHING RETURNING instance_id, report_id`,
			args: args, what: "recording usage reports",
			scan: func(r scanner) error {
				var k key
				err := r.Scan(&k.inst, &k.report)
				recorded[k] = true
				return err
			},
		})
	}
	var instances []string
	seen := make(map[string]bool)
	for _, c := range claims {
		if !seen[c.InstanceID] {
			seen[c.InstanceID] = true
			instances = append(instances, c.InstanceID)
		}
	}
	marks, markReads := t.usageMarksQueries(instances)
	// On PostgreSQL no foreign key holds claims to their instances
	// (migration 00024: its checks cost a query a row); their instances are
	// read instead, a row an instance rather than a query a claim, and a
	// claim of one that is missing fails the transaction as the key did.
	// SQLite's key still does that itself.
	var found map[string]bool // the instances read; nil where the key checks
	if !t.db.d.claimsKeyed {
		found = make(map[string]bool, len(instances))
		for chunk := range pow2Chunks(instances, usageRowsPerStatement) {
			markReads = append(markReads, readQuery{
				q: `SELECT i.id FROM ` + t.keyedRows("instances", "i", "id", len(chunk)), args: anys(chunk), what: "reading usage reports' instances",
				scan: func(r scanner) error {
					var id string
					err := r.Scan(&id)
					found[id] = true
					return err
				},
			})
		}
	}
	about := about{what: "recording a usage report", noun: "usage report", refs: "an instance"}
	if err := t.readAll(ctx, append(inserts, markReads...)...); err != nil {
		return nil, nil, t.writeErr(err, about)
	}
	for _, id := range instances {
		if found != nil && !found[id] {
			return nil, nil, smartlic.NotFound("%s refers to %s that does not exist (%q)", about.noun, about.refs, id)
		}
	}
	var taken []key // ids recorded by an earlier transaction
	for _, i := range fresh {
		if k := (key{claims[i].InstanceID, claims[i].ReportID}); !recorded[k] {
			taken = append(taken, k)
		}
	}
	prior := make(map[key]string, len(taken))
	var lookups []readQuery
	for chunk := range pow2Chunks(taken, usageRowsPerStatement) {
		args := make([]any, 0, 2*len(chunk))
		for _, k := range chunk {
			args = append(args, k.inst, k.report)
		}
		lookups = append(lookups, readQuery{
			q: `SELECT instance_id, report_id, hash FROM usage_reports
			WHERE (instance_id, report_id) IN (VALUES ` + valueRows(len(chunk), 2) + `)`,
			args: args, what: "reading usage reports",
			scan: func(r scanner) error {
				var k key
				var hash string
				err := r.Scan(&k.inst, &k.report, &hash)
				prior[k] = hash
				return err
			},
		})
	}
	if err := t.readAll(ctx, lookups...); err != nil {
		return nil, nil, err
	}
	for i, c := range claims {
		k := key{c.InstanceID, c.ReportID}
		switch f := first[k]; {
		case f == i && recorded[k]:
			out[i].Claimed = true
		case recorded[k]:
			out[i].PriorHash = claims[f].Hash // claimed earlier in this list
		default:
			out[i].PriorHash = prior[k]
		}
	}
	return out, marks, nil
}

// UsageMarksOf reads the marks of many instances, a few hundred at a time.
func (t *tx) UsageMarksOf(ctx context.Context, instanceIDs []string) (map[string][]smartlic.UsageMark, error) {
	out, reads := t.usageMarksQueries(instanceIDs)
	if err := t.readAll(ctx, reads...); err != nil {
		return nil, err
	}
	return out, nil
}

// usageMarksQueries are the reads of UsageMarksOf, filling out as they
// are read.
func (t *tx) usageMarksQueries(instanceIDs []string) (out map[string][]smartlic.UsageMark, reads []readQuery) {
	out = make(map[string][]smartlic.UsageMark, len(instanceIDs))
	for chunk := range pow2Chunks(instanceIDs, usageRowsPerStatement) {
		reads = append(reads, readQuery{
			q: `SELECT m.instance_id, m.tag, m.measured_until, m.count FROM ` + t.keyedRows("usage_marks", "m", "instance_id", len(chunk)) + `
			ORDER BY m.instance_id, m.tag`,
			args: anys(chunk), what: "reading usage marks",
			scan: func(r scanner) error {
				var m smartlic.InstanceMark
				var until int64
				err := r.Scan(&m.InstanceID, &m.Tag, &until, &m.Count)
				m.MeasuredUntil = fromMicros(until)
				out[m.InstanceID] = append(out[m.InstanceID], m.UsageMark)
				return err
			},
		})
	}
	return out, reads
}

// SetUsageMarks inserts or replaces marks, a few hundred in one statement.
func (t *tx) SetUsageMarks(ctx context.Context, marks []smartlic.InstanceMark) error {
	for chunk := range pow2Chunks(marks, usageRowsPerStatement) {
		args := make([]any, 0, 4*len(chunk))
		for _, m := range chunk {
			args = append(args, m.InstanceID, m.Tag, micros(m.MeasuredUntil), m.Count)
		}
		err := t.execHeld(ctx, `INSERT INTO usage_marks (instance_id, tag, measured_until, count) VALUES `+valueRows(len(chunk), 4)+`
			ON CONFLICT (instance_id, tag) DO UPDATE SET measured_until = excluded.measured_until, count = excluded.count`, args,
			t.failsAs(about{what: "recording usage marks", noun: "usage mark", refs: "an instance"}))
		if err != nil {
			return err
		}
	}
	return nil
}

const usageUploadCols = `id, smart_account_id, file_name, uploaded_by, uploaded_at, reports, accepted, rejected, duplicates, instances`

func (t *tx) InsertUsageUpload(ctx context.Context, u smartlic.UsageUpload) error {
	_, err := t.execBuilt(ctx, `INSERT INTO usage_uploads (`+usageUploadCols+`, ack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.SmartAccountID, u.FileName, u.UploadedBy, micros(u.UploadedAt), u.Summary.Reports, u.Summary.Accepted, u.Summary.Rejected,
		u.Summary.Duplicates, u.Summary.Instances, u.Ack)
	if err != nil {
		return t.writeErr(err, about{what: "recording a usage upload", noun: "usage upload", id: u.ID, refs: "a Smart Account"})
	}
	return nil
}

func (t *tx) ListUsageUploads(ctx context.Context, saID string, p smartlic.Page) ([]smartlic.UsageUpload, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+usageUploadCols+` FROM usage_uploads WHERE smart_account_id = ? AND id > ? ORDER BY id LIMIT ?`,
		saID, p.After, limit(p))
	return collect(rows, err, func(r scanner) (smartlic.UsageUpload, error) { return scanUsageUpload(r) }, "listing usage uploads")
}

func (t *tx) GetUsageUpload(ctx context.Context, id string) (smartlic.UsageUpload, error) {
	var ack []byte
	u, err := scanUsageUpload(t.queryRowBuilt(ctx, `SELECT `+usageUploadCols+`, ack FROM usage_uploads WHERE id = ?`, id), &ack)
	if errors.Is(err, sql.ErrNoRows) {
		return u, smartlic.NotFound("usage upload %q not found", id)
	}
	if err != nil {
		return u, smartlic.Internal(err, "reading a usage upload")
	}
	if !json.Valid(ack) {
		return u, smartlic.Internal(errors.New("stored ACK file is not JSON"), "reading a usage upload")
	}
	u.Ack = ack
	return u, nil
}

func scanUsageUpload(r scanner, extra ...any) (smartlic.UsageUpload, error) {
	var u smartlic.UsageUpload
	var at int64
	err := r.Scan(append([]any{&u.ID, &u.SmartAccountID, &u.FileName, &u.UploadedBy, &at, &u.Summary.Reports, &u.Summary.Accepted, &u.Summary.Rejected,
		&u.Summary.Duplicates, &u.Summary.Instances}, extra...)...)
	u.UploadedAt = fromMicros(at)
	return u, err
}

// ChangeUsage writes, for many instances at once, only the usage lines
// that changed: a report most often moves one count of an instance's
// lines, and replacing them all (SetUsage) rewrote every line and its
// index entries, two statements per instance.
func (t *tx) ChangeUsage(ctx context.Context, changes []smartlic.UsageChange) error {
	type line struct {
		instanceID string
		smartlic.Usage
	}
	var writes, drops []line
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		if seen[c.InstanceID] {
			return smartlic.Invalid("usage", "changes instance %q twice", c.InstanceID)
		}
		seen[c.InstanceID] = true
		before := make(map[string]smartlic.Usage, len(c.Before))
		for _, u := range c.Before {
			before[u.LicenseTypeID] = u
		}
		kept := make(map[string]bool, len(c.After))
		for _, u := range c.After {
			if kept[u.LicenseTypeID] {
				return smartlic.Invalid("usage", "lists license type %q twice", u.LicenseTag)
			}
			kept[u.LicenseTypeID] = true
			if b, ok := before[u.LicenseTypeID]; ok && b.LicenseTag == u.LicenseTag && b.Count == u.Count && b.Status == u.Status {
				continue
			}
			writes = append(writes, line{c.InstanceID, u})
		}
		for _, u := range c.Before {
			if !kept[u.LicenseTypeID] {
				drops = append(drops, line{c.InstanceID, u})
			}
		}
	}
	const what = "changing usage lines"
	err := inChunks(len(drops), func(lo, hi int) error {
		args := make([]any, 0, 2*(hi-lo))
		for _, d := range drops[lo:hi] {
			args = append(args, d.instanceID, d.LicenseTypeID)
		}
		want := int64(hi - lo)
		return t.execHeld(ctx, `DELETE FROM instance_usage WHERE (instance_id, license_type_id) IN (VALUES `+valueRows(hi-lo, 2)+`)`, args,
			func(n int64, err error) error {
				if err != nil {
					return smartlic.Internal(err, what)
				}
				// A line that is not there was not read in this
				// transaction: its instance went, or its caller's Before
				// is not what is stored.
				if n != want {
					return smartlic.NotFound("usage line to remove not found: its instance was removed, or its lines changed since they were read")
				}
				return nil
			})
	})
	if err != nil {
		return err
	}
	return inChunks(len(writes), func(lo, hi int) error {
		args := make([]any, 0, 5*(hi-lo))
		for _, w := range writes[lo:hi] {
			args = append(args, w.instanceID, w.LicenseTypeID, w.LicenseTag, w.Count, string(w.Status))
		}
		return t.execHeld(ctx, `INSERT INTO instance_usage (instance_id, license_type_id, tag, count, status) VALUES `+valueRows(hi-lo, 5)+`
			ON CONFLICT (instance_id, license_type_id) DO UPDATE SET tag = excluded.tag, count = excluded.count, status = excluded.status`, args,
			t.failsAs(about{what: what, noun: "usage line", refs: "an instance or license type"}))
	})
}

// UpdateReportingTimes updates many instances in one statement per chunk
// (UPDATE … FROM a VALUES list) instead of one each. The times are cast
// so that PostgreSQL reads the list's untyped parameters as integers; the
// key and hostname, written only when an offline trust code binds a key,
// stay with UpdateReporting, since a bytea has no name both databases
// share.
func (t *tx) UpdateReportingTimes(ctx context.Context, insts []smartlic.Instance) error {
	seen := make(map[string]bool, len(insts))
	for _, i := range insts {
		if seen[i.ID] {
			return smartlic.Invalid("instances", "lists instance %q twice", i.ID)
		}
		seen[i.ID] = true
	}
	const row = "(?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"
	return inChunks(len(insts), func(lo, hi int) error {
		args := make([]any, 0, 6*(hi-lo))
		for _, i := range insts[lo:hi] {
			args = append(args, i.ID, micros(i.LastContactAt), nullMicros(i.FirstUseAt), nullMicros(i.LastReportAt), nullMicros(i.LastAckAt), nullMicros(i.UsageChangedAt))
		}
		want := int64(hi - lo)
		return t.execHeld(ctx, `UPDATE instances SET last_contact_at = v.column2, first_use_at = v.column3, last_report_at = v.column4,
			last_ack_at = v.column5, usage_changed_at = v.column6
			FROM (VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", hi-lo), ", ")+`) AS v WHERE instances.id = v.column1`, args,
			func(n int64, err error) error {
				if err != nil {
					return smartlic.Internal(err, "updating instances' reporting times")
				}
				if n != want {
					return smartlic.NotFound("%d of %d instances not found", want-n, want)
				}
				return nil
			})
	})
}
