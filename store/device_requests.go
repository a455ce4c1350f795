package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/smartlic/smartlic"
)

// ClaimDeviceRequest inserts the request's row unless its hash is there,
// with its answer when the caller knows it already (a registration does).
// ON CONFLICT DO NOTHING rather than a lookup first: on PostgreSQL an
// INSERT that meets a row another transaction is still inserting waits for
// that transaction, so of two racing copies exactly one claims the request
// and the other then reads the committed row, answer included. On SQLite
// writers are serial, and a copy in the same group commit sees the first
// one's row (and answer) in the shared transaction.
func (t *tx) ClaimDeviceRequest(ctx context.Context, r smartlic.SeenRequest) (smartlic.SeenRequest, bool, error) {
	res, err := t.execBuilt(ctx, `INSERT INTO device_requests (hash, instance_id, sent_at, expires_at, answer) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sent_at, hash) DO NOTHING`, r.Hash, r.InstanceID, micros(r.SentAt), micros(r.ExpiresAt), nullText(r.Answer))
	if err != nil {
		return smartlic.SeenRequest{}, false, smartlic.Internal(err, "recording a device request")
	}
	if n, err := res.RowsAffected(); err != nil {
		return smartlic.SeenRequest{}, false, smartlic.Internal(err, "recording a device request")
	} else if n == 1 {
		return smartlic.SeenRequest{}, true, nil
	}
	prior := smartlic.SeenRequest{Hash: r.Hash}
	var sent, expires int64
	var answer sql.NullString
	err = t.queryRowBuilt(ctx, `SELECT instance_id, sent_at, expires_at, answer FROM device_requests WHERE sent_at = ? AND hash = ?`,
		micros(r.SentAt), r.Hash).Scan(&prior.InstanceID, &sent, &expires, &answer)
	if err != nil {
		return smartlic.SeenRequest{}, false, smartlic.Internal(err, "reading a device request")
	}
	prior.SentAt, prior.ExpiresAt = fromMicros(sent), fromMicros(expires)
	if answer.Valid {
		prior.Answer = []byte(answer.String)
	}
	return prior, false, nil
}

func (t *tx) AnswerDeviceRequest(ctx context.Context, r smartlic.SeenRequest) error {
	if _, err := t.execBuilt(ctx, `UPDATE device_requests SET answer = ? WHERE sent_at = ? AND hash = ?`,
		string(r.Answer), micros(r.SentAt), r.Hash); err != nil {
		return smartlic.Internal(err, "recording a device answer")
	}
	return nil
}

// NewerDeviceRequest reads device_requests_instance, a partial index of the
// requests with an instance: a planner uses it only when the query says
// itself that instance_id is not empty, since it cannot know what the
// parameter holds.
func (t *tx) NewerDeviceRequest(ctx context.Context, instanceID string, sentAt time.Time) (bool, error) {
	var n int
	err := t.queryRowBuilt(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM device_requests
		WHERE instance_id = ? AND instance_id <> '' AND sent_at > ? LIMIT 1) newer`,
		instanceID, micros(sentAt)).Scan(&n)
	if err != nil {
		return false, smartlic.Internal(err, "reading device requests")
	}
	return n > 0, nil
}

// ForgetDeviceRequests deletes in bounded batches, so that on SQLite a
// backlog does not hold the one writer for long.
func (t *tx) ForgetDeviceRequests(ctx context.Context, now time.Time, limit int) (int64, error) {
	res, err := t.execBuilt(ctx, `DELETE FROM device_requests WHERE (sent_at, hash) IN
		(SELECT sent_at, hash FROM device_requests WHERE expires_at < ? ORDER BY expires_at LIMIT ?)`, micros(now), limit)
	if err != nil {
		return 0, smartlic.Internal(err, "forgetting device requests")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, smartlic.Internal(err, "forgetting device requests")
	}
	return n, nil
}

// nullText stores an absent answer as NULL.
func nullText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}
