package store_test

import (
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestNotify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		storetest.RunNotify(t, func(t *testing.T) smartlic.Store { return open(t) })
	})
}

// TestSQLiteNotifyPlans checks that the alert and queue queries are served
// by their indexes, not by scans of whole tables; partial indexes
// included, which a planner uses only when the query implies their WHERE.
func TestSQLiteNotifyPlans(t *testing.T) {
	_, read := store.Pools(storetest.OpenSQLite(t))
	for q, index := range map[string]string{
		`SELECT i.id FROM instances i WHERE i.smart_account_id = ? AND i.auth_expires_at < ? ORDER BY i.auth_expires_at LIMIT ?`:                                                     "instances_auth_expiry",
		`SELECT i.id FROM instances i WHERE i.smart_account_id = ? AND i.id_cert_expires_at >= 0 AND i.id_cert_expires_at < ? AND i.mode <> ? ORDER BY i.id_cert_expires_at LIMIT ?`: "instances_cert_expiry",
		`SELECT d.id FROM webhook_deliveries d WHERE d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?`:                                                                "webhook_deliveries_due",
		`SELECT id FROM notification_preferences WHERE frequency = ? AND (last_sent_at IS NULL OR last_sent_at < ?) ORDER BY id LIMIT ?`:                                             "notification_preferences_due",
		`SELECT d.id FROM webhook_deliveries d WHERE d.webhook_id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`:                                                                       "webhook_deliveries_webhook",
		`SELECT i.id FROM instances i WHERE i.smart_account_id = ? AND i.mode = 'policy' ORDER BY i.id LIMIT ?`:                                                                      "instances_policy",
		`SELECT 1 FROM device_requests WHERE instance_id = ? AND instance_id <> '' AND sent_at > ? LIMIT 1`:                                                                          "device_requests_instance",
	} {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = 1
		}
		rows, err := read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, index) || strings.Contains(joined, "SCAN") && !strings.Contains(joined, "USING") {
			t.Errorf("%s\nplan: %s\nwant index %s", q, joined, index)
		}
	}
}

// TestTryLeader: one leader at a time per database; releasing lets the
// next one in; on PostgreSQL the lock is per schema.
func TestTryLeader(t *testing.T) {
	check := func(t *testing.T, a, b *store.DB) {
		ctx := t.Context()
		releaseA, ok, err := a.TryLeader(ctx)
		if err != nil || !ok {
			t.Fatalf("first TryLeader: %v, %v", ok, err)
		}
		if err := a.CheckLeader(ctx); err != nil {
			t.Fatalf("CheckLeader of the leader: %v", err)
		}
		if _, ok, err := b.TryLeader(ctx); err != nil || ok {
			t.Fatalf("second TryLeader while the first leads: %v, %v", ok, err)
		}
		releaseA()
		releaseA() // idempotent
		releaseB, ok, err := b.TryLeader(ctx)
		if err != nil || !ok {
			t.Fatalf("TryLeader after release: %v, %v", ok, err)
		}
		releaseB()
	}
	t.Run("sqlite", func(t *testing.T) {
		db := storetest.OpenSQLite(t)
		check(t, db, db)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		a, b := storetest.Open(t, dsn), storetest.Open(t, dsn)
		check(t, a, b)
		// Another schema elects its own leader.
		other := storetest.OpenPostgres(t)
		release, ok, err := a.TryLeader(t.Context())
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		defer release()
		if r, ok, err := other.TryLeader(t.Context()); err != nil || !ok {
			t.Fatalf("a second schema cannot elect a leader: %v, %v", ok, err)
		} else {
			r()
		}
	})
}
