package store

import (
	"context"
	"time"

	"github.com/smartlic/smartlic"
)

// RetireSigningKeys gives every key but keep a retirement time. A key that
// already retires earlier keeps its time: a second rotation with a short
// grace (say, after a leak) can only bring a retirement forward.
func (t *tx) RetireSigningKeys(ctx context.Context, keep string, at time.Time) (int, error) {
	res, err := t.execBuilt(ctx, `UPDATE signing_keys SET retires_at = ? WHERE id <> ? AND (retires_at IS NULL OR retires_at > ?)`,
		micros(at), keep, micros(at))
	if err != nil {
		return 0, smartlic.Internal(err, "retiring signing keys")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, smartlic.Internal(err, "retiring signing keys")
	}
	return int(n), nil
}
