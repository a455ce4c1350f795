package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/smartlic/smartlic"
)

// ClaimUsageReport inserts the report's id unless the instance had it
// accepted before. ON CONFLICT DO NOTHING rather than a lookup first: of
// two copies racing on PostgreSQL, the second INSERT waits for the first
// transaction and then finds its row.
func (t *tx) ClaimUsageReport(ctx context.Context, instanceID, reportID, hash string, at time.Time) (string, bool, error) {
	res, err := t.execBuilt(ctx, `INSERT INTO usage_reports (instance_id, report_id, hash, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (instance_id, report_id) DO NOTHING`, instanceID, reportID, hash, micros(at))
	if err != nil {
		return "", false, t.writeErr(err, about{what: "recording a usage report", noun: "usage report", refs: "an instance"})
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", false, smartlic.Internal(err, "recording a usage report")
	} else if n == 1 {
		return "", true, nil
	}
	var prior string
	if err := t.queryRowBuilt(ctx, `SELECT hash FROM usage_reports WHERE instance_id = ? AND report_id = ?`, instanceID, reportID).Scan(&prior); err != nil {
		return "", false, smartlic.Internal(err, "reading a usage report")
	}
	return prior, false, nil
}

func (t *tx) UsageMarks(ctx context.Context, instanceID string) ([]smartlic.UsageMark, error) {
	rows, err := t.queryBuilt(ctx, `SELECT tag, measured_until, count FROM usage_marks WHERE instance_id = ? ORDER BY tag`, instanceID)
	return collect(rows, err, func(r scanner) (smartlic.UsageMark, error) {
		var m smartlic.UsageMark
		var until int64
		err := r.Scan(&m.Tag, &until, &m.Count)
		m.MeasuredUntil = fromMicros(until)
		return m, err
	}, "reading usage marks")
}

func (t *tx) SetUsageMark(ctx context.Context, instanceID string, m smartlic.UsageMark) error {
	_, err := t.execBuilt(ctx, `INSERT INTO usage_marks (instance_id, tag, measured_until, count) VALUES (?, ?, ?, ?)
		ON CONFLICT (instance_id, tag) DO UPDATE SET measured_until = excluded.measured_until, count = excluded.count`,
		instanceID, m.Tag, micros(m.MeasuredUntil), m.Count)
	if err != nil {
		return t.writeErr(err, about{what: "recording a usage mark", noun: "usage mark", refs: "an instance"})
	}
	return nil
}

const usageUploadCols = `id, smart_account_id, file_name, uploaded_by, uploaded_at, reports, accepted, rejected`

func (t *tx) InsertUsageUpload(ctx context.Context, u smartlic.UsageUpload) error {
	_, err := t.execBuilt(ctx, `INSERT INTO usage_uploads (`+usageUploadCols+`, ack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.SmartAccountID, u.FileName, u.UploadedBy, micros(u.UploadedAt), u.Summary.Reports, u.Summary.Accepted, u.Summary.Rejected, u.Ack)
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
	err := r.Scan(append([]any{&u.ID, &u.SmartAccountID, &u.FileName, &u.UploadedBy, &at, &u.Summary.Reports, &u.Summary.Accepted, &u.Summary.Rejected}, extra...)...)
	u.UploadedAt = fromMicros(at)
	return u, err
}
