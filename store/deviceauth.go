package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/smartlic/smartlic"
)

const deviceAuthCols = `id, device_code_hash, user_code_hash, key_name, status, user_id, api_key_id, interval_seconds, created_at, expires_at, last_polled_at`

func (t *tx) InsertDeviceAuthorization(ctx context.Context, d smartlic.DeviceAuthorization) error {
	_, err := t.execBuilt(ctx, `INSERT INTO device_authorizations (`+deviceAuthCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.DeviceCodeHash, d.UserCodeHash, d.KeyName, d.Status, nullString(d.UserID), nullString(d.APIKeyID), d.Interval,
		micros(d.CreatedAt), micros(d.ExpiresAt), nullMicros(d.LastPolledAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a device authorization", noun: "device authorization", field: "user_code", id: d.ID, refs: "a user"})
	}
	return nil
}

func (t *tx) GetDeviceAuthorization(ctx context.Context, codeHash string) (smartlic.DeviceAuthorization, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+deviceAuthCols+` FROM device_authorizations WHERE device_code_hash = ? OR user_code_hash = ?`, codeHash, codeHash),
		func(r scanner) (smartlic.DeviceAuthorization, error) {
			var (
				d                smartlic.DeviceAuthorization
				user, key        sql.NullString
				created, expires int64
				polled           sql.NullInt64
			)
			err := r.Scan(&d.ID, &d.DeviceCodeHash, &d.UserCodeHash, &d.KeyName, &d.Status, &user, &key, &d.Interval, &created, &expires, &polled)
			d.UserID, d.APIKeyID = user.String, key.String
			d.CreatedAt, d.ExpiresAt, d.LastPolledAt = fromMicros(created), fromMicros(expires), fromNullMicros(polled)
			return d, err
		}, "reading a device authorization", func() error { return smartlic.NotFound("device authorization not found") })
}

func (t *tx) UpdateDeviceAuthorization(ctx context.Context, d smartlic.DeviceAuthorization, from string) error {
	res, err := t.execBuilt(ctx, `UPDATE device_authorizations SET status = ?, user_id = ?, api_key_id = ?, interval_seconds = ?, last_polled_at = ?
		WHERE id = ? AND status = ?`,
		d.Status, nullString(d.UserID), nullString(d.APIKeyID), d.Interval, nullMicros(d.LastPolledAt), d.ID, from)
	err = t.oneRow(res, err, about{what: "updating a device authorization", noun: "device authorization", id: d.ID, refs: "a user"})
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.Errorf(smartlic.EConflict, "", "device authorization %s is no longer %s", d.ID, from)
	}
	return err
}

func (t *tx) DeleteDeviceAuthorizations(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.execBuilt(ctx, `DELETE FROM device_authorizations WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, smartlic.Internal(err, "forgetting device authorizations")
	}
	return res.RowsAffected()
}
