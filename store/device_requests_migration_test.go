package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestDeviceRequestsKeyMigration: the device requests of a database from
// before they were keyed by (sent_at, hash) survive the migration (on
// SQLite a rebuild of the table): a copy of a remembered request still
// gets its stored answer and claims nothing, an instance's newer request
// is still found, and expired requests are still forgotten.
func TestDeviceRequestsKeyMigration(t *testing.T) {
	t.Parallel()
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		err := store.MigrateTo(ctx, dsn, 22,
			`INSERT INTO device_requests (hash, instance_id, sent_at, expires_at, answer) VALUES
				('h-reg', '', 1000000, 2000000, '{"serial":"s1"}'),
				('h-auth', 'inst1', 3000000, 4000000, '{"type":"auth"}'),
				('h-open', 'inst1', 5000000, 600000000, NULL)`,
		)
		if err != nil {
			t.Fatal(err)
		}
		db := storetest.Open(t, dsn)
		at := func(sec int64) time.Time { return time.UnixMicro(sec * 1000000).UTC() }
		write := func(fn func(ctx context.Context, tx smartlic.Tx) error) {
			t.Helper()
			if err := db.Write(ctx, func(tx smartlic.Tx) error { return fn(ctx, tx) }); err != nil {
				t.Fatal(err)
			}
		}
		write(func(ctx context.Context, tx smartlic.Tx) error {
			for _, c := range []struct {
				r      smartlic.SeenRequest
				answer string
			}{
				{smartlic.SeenRequest{Hash: "h-reg", SentAt: at(1), ExpiresAt: at(2)}, `{"serial":"s1"}`},
				{smartlic.SeenRequest{Hash: "h-auth", InstanceID: "inst1", SentAt: at(3), ExpiresAt: at(4)}, `{"type":"auth"}`},
				{smartlic.SeenRequest{Hash: "h-open", InstanceID: "inst1", SentAt: at(5), ExpiresAt: at(600)}, ""},
			} {
				prior, ok, err := tx.ClaimDeviceRequest(ctx, c.r)
				if err != nil {
					return err
				}
				if ok || prior.InstanceID != c.r.InstanceID || !prior.SentAt.Equal(c.r.SentAt) || string(prior.Answer) != c.answer {
					t.Errorf("claim of %s after the migration: ok %v, prior %+v", c.r.Hash, ok, prior)
				}
			}
			if newer, err := tx.NewerDeviceRequest(ctx, "inst1", at(4)); err != nil || !newer {
				t.Errorf("NewerDeviceRequest after the migration = %v, %v; want true", newer, err)
			}
			if n, err := tx.ForgetDeviceRequests(ctx, at(10), 10); err != nil || n != 2 {
				t.Errorf("ForgetDeviceRequests after the migration = %d, %v; want 2", n, err)
			}
			return nil
		})
	})
}
