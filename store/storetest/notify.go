package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunNotify runs the conformance tests of alerts, notification
// preferences, webhooks and job bookkeeping; open returns a new, empty
// store for each subtest.
func RunNotify(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"InstancesNeedingAttention", testInstancesNeedingAttention},
		{"AlertStates", testAlertStates},
		{"NotificationPreferences", testNotificationPreferences},
		{"Webhooks", testWebhooks},
		{"ClaimDueDeliveries", testClaimDueDeliveries},
		{"ClaimJob", testClaimJob},
		{"ConcurrentClaimJob", testConcurrentClaimJob},
	})
}

func testInstancesNeedingAttention(t *testing.T, f *fixture) {
	sa, va := f.account("acme.example")
	other, otherVA := f.account("other.example")
	p := f.product("C9300-24T")
	mk := func(sa smartlic.SmartAccount, va smartlic.VirtualAccount, sn string, auth *time.Time, cert time.Time) smartlic.Instance {
		i := f.newInstance(sa, va, p, sn)
		i.AuthExpiresAt, i.IDCertExpiresAt = auth, cert
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, i) })
		return i
	}
	far := f.now.Add(300 * smartlic.Day)
	expired := mk(sa, va, "EXPIRED", ptr(f.now.Add(-smartlic.Day)), far)
	soon := mk(sa, va, "SOON", ptr(f.now.Add(3*smartlic.Day)), far)
	mk(sa, va, "HEALTHY", ptr(f.now.Add(60*smartlic.Day)), far)
	mk(sa, va, "PENDING", nil, far)
	cert := mk(sa, va, "CERT", ptr(f.now.Add(60*smartlic.Day)), f.now.Add(-time.Hour))
	both := mk(sa, va, "BOTH", ptr(f.now.Add(-smartlic.Day)), f.now.Add(-time.Hour))
	mk(other, otherVA, "ELSEWHERE", ptr(f.now.Add(-smartlic.Day)), f.now.Add(-time.Hour))

	var got []smartlic.Instance
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		got, err = tx.InstancesNeedingAttention(ctx, sa.ID, f.now.Add(7*smartlic.Day), f.now, 100)
		return err
	})
	ids := map[string]bool{}
	for _, i := range got {
		if ids[i.ID] {
			t.Errorf("instance %s listed twice", i.UDI)
		}
		ids[i.ID] = true
	}
	for _, want := range []smartlic.Instance{expired, soon, cert, both} {
		if !ids[want.ID] {
			t.Errorf("instance %s missing from %d listed", want.UDI, len(got))
		}
	}
	if len(got) != 4 {
		t.Errorf("listed %d instances, want 4", len(got))
	}
	for _, i := range got {
		if i.ID == soon.ID && (i.AuthExpiresAt == nil || !i.AuthExpiresAt.Equal(*soon.AuthExpiresAt) || i.UDI != soon.UDI) {
			t.Errorf("instance read back as %+v", i)
		}
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.InstancesNeedingAttention(ctx, sa.ID, f.now.Add(7*smartlic.Day), f.now, 1)
		if err == nil && len(got) != 1 {
			t.Errorf("limit 1 listed %d", len(got))
		}
		return err
	})

	// Instances under Using Policy hold no ID certificate: those that never
	// registered (zero time) and one moved from a registration (an old,
	// expired date) must not crowd out the registered instance whose
	// certificate is expiring, however many there are.
	policyAcct, policyVA := f.account("policy.example")
	for i := range 5 {
		pi := f.newInstance(policyAcct, policyVA, p, fmt.Sprintf("POLICY%d", i))
		pi.Mode, pi.IDCertExpiresAt = smartlic.ModePolicy, time.Time{}
		if i == 4 {
			pi.IDCertExpiresAt = f.now.Add(-30 * smartlic.Day) // moved from a registration
		}
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, pi) })
	}
	registered := mk(policyAcct, policyVA, "REGISTERED", ptr(f.now.Add(60*smartlic.Day)), f.now.Add(-time.Hour))
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.InstancesNeedingAttention(ctx, policyAcct.ID, f.now, f.now, 2)
		if err == nil && (len(got) != 1 || got[0].ID != registered.ID) {
			t.Errorf("with policy instances ahead of it, listed %d instances (%v), want only %s", len(got), got, registered.UDI)
		}
		return err
	})
}

func testAlertStates(t *testing.T, f *fixture) {
	sa, _ := f.account("acme.example")
	a := smartlic.AlertState{SmartAccountID: sa.ID, Key: "license.insufficient:va:lt", Type: smartlic.AlertInsufficient, RaisedAt: f.now}
	b := smartlic.AlertState{SmartAccountID: sa.ID, Key: "instance.report_overdue:i", Type: smartlic.AlertReportOverdue, RaisedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.InsertAlertState(ctx, a); err != nil {
			return err
		}
		return tx.InsertAlertState(ctx, b)
	})
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAlertState(ctx, a) }), smartlic.EConflict, "")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.ListAlertStates(ctx, sa.ID)
		if err == nil && !reflect.DeepEqual(got, []smartlic.AlertState{b, a}) {
			t.Errorf("states = %+v", got)
		}
		return err
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteAlertState(ctx, sa.ID, a.Key) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.ListAlertStates(ctx, sa.ID)
		if err == nil && !reflect.DeepEqual(got, []smartlic.AlertState{b}) {
			t.Errorf("states after delete = %+v", got)
		}
		return err
	})
}

func testNotificationPreferences(t *testing.T, f *fixture) {
	sa, va := f.account("acme.example")
	p := smartlic.NotificationPreference{
		ID: newID(t), SmartAccountID: sa.ID, Email: "ops@acme.example", AlertTypes: []smartlic.AlertType{smartlic.AlertExpired, smartlic.AlertInsufficient},
		VirtualAccounts: []string{va.ID}, Frequency: smartlic.Daily, CreatedAt: f.now, UpdatedAt: f.now,
	}
	var got smartlic.NotificationPreference
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		got, err = tx.UpsertNotificationPreference(ctx, p)
		return err
	})
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("upserted\n %+v\nwant\n %+v", got, p)
	}
	// The same e-mail again replaces the settings and keeps the row.
	later := f.now.Add(time.Hour)
	q := p
	q.ID, q.AlertTypes, q.VirtualAccounts, q.Frequency, q.CreatedAt, q.UpdatedAt = newID(t), []smartlic.AlertType{}, []string{}, smartlic.Weekly, later, later
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		got, err = tx.UpsertNotificationPreference(ctx, q)
		return err
	})
	want := p
	want.AlertTypes, want.VirtualAccounts, want.Frequency, want.UpdatedAt = []smartlic.AlertType{}, []string{}, smartlic.Weekly, later
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("replaced\n %+v\nwant\n %+v", got, want)
	}
	daily := smartlic.NotificationPreference{ID: newID(t), SmartAccountID: sa.ID, Email: "dev@acme.example", AlertTypes: []smartlic.AlertType{}, VirtualAccounts: []string{}, Frequency: smartlic.Weekly, CreatedAt: f.now, UpdatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.UpsertNotificationPreference(ctx, daily)
		return err
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		list, err := tx.ListNotificationPreferences(ctx, sa.ID)
		if err == nil && (len(list) != 2 || list[0].Email != "dev@acme.example" || list[1].Email != "ops@acme.example") {
			t.Errorf("list = %+v", list)
		}
		return err
	})

	// Due, then claimed once.
	var due []smartlic.NotificationPreference
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		due, err = tx.PreferencesDue(ctx, smartlic.Weekly, f.now, 10)
		return err
	})
	if len(due) != 2 {
		t.Fatalf("due = %d, want 2", len(due))
	}
	var first, second bool
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		if first, err = tx.MarkPreferenceSent(ctx, p.ID, f.now, f.now); err != nil {
			return err
		}
		second, err = tx.MarkPreferenceSent(ctx, p.ID, f.now, f.now)
		return err
	})
	if !first || second {
		t.Errorf("claims = %v, %v; want true, false", first, second)
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		due, err := tx.PreferencesDue(ctx, smartlic.Weekly, f.now, 10)
		if err == nil && (len(due) != 1 || due[0].ID != daily.ID) {
			t.Errorf("due after claim = %+v", due)
		}
		return err
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.DeleteNotificationPreference(ctx, sa.ID, "ops@acme.example")
	})
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.DeleteNotificationPreference(ctx, sa.ID, "ops@acme.example")
	}), smartlic.ENotFound, "")
	bad := p
	bad.ID, bad.SmartAccountID = newID(t), newID(t)
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.UpsertNotificationPreference(ctx, bad)
		return err
	}), smartlic.ENotFound, "")
}

func (f *fixture) webhook(sa smartlic.SmartAccount, url string) smartlic.Webhook {
	f.t.Helper()
	w := smartlic.Webhook{ID: newID(f.t), SmartAccountID: sa.ID, URL: url, Description: "hook", AlertTypes: []smartlic.AlertType{smartlic.AlertExpired}, Secret: "whsec_" + newID(f.t), CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertWebhook(ctx, w) })
	return w
}

func (f *fixture) delivery(w smartlic.Webhook, next *time.Time) smartlic.WebhookDelivery {
	f.t.Helper()
	d := smartlic.WebhookDelivery{ID: newID(f.t), WebhookID: w.ID, Event: "alert.raised", Payload: `{"x":1}`, Status: smartlic.DeliveryPending, NextAttemptAt: next, CreatedAt: f.now}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertDelivery(ctx, d) })
	return d
}

func testWebhooks(t *testing.T, f *fixture) {
	sa, _ := f.account("acme.example")
	w := f.webhook(sa, "https://hooks.acme.example/smartlic")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetWebhook(ctx, w.ID)
		if err == nil && !reflect.DeepEqual(got, w) {
			t.Errorf("got %+v, want %+v", got, w)
		}
		list, err := tx.ListWebhooks(ctx, sa.ID)
		if err == nil && (len(list) != 1 || !reflect.DeepEqual(list[0], w)) {
			t.Errorf("list = %+v", list)
		}
		return err
	})
	var ds []smartlic.WebhookDelivery
	for range 3 {
		ds = append(ds, f.delivery(w, &f.now))
	}
	// Attempt recorded.
	d := ds[0]
	d.Status, d.Attempts, d.LastAttemptAt, d.LastStatus, d.LastError, d.NextAttemptAt = smartlic.DeliveryFailed, 8, &f.now, 503, "endpoint answered 503", nil
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateDelivery(ctx, d) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		page, err := tx.ListDeliveries(ctx, w.ID, smartlic.Page{Limit: 2})
		if err != nil {
			return err
		}
		if len(page) != 2 || page[0].ID != ds[2].ID || page[1].ID != ds[1].ID {
			t.Errorf("first page = %+v", page)
		}
		rest, err := tx.ListDeliveries(ctx, w.ID, smartlic.Page{Limit: 2, After: page[1].ID})
		if err == nil && (len(rest) != 1 || !reflect.DeepEqual(rest[0], d)) {
			t.Errorf("second page = %+v, want %+v", rest, d)
		}
		return err
	})
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.UpdateDelivery(ctx, smartlic.WebhookDelivery{ID: newID(t), Status: smartlic.DeliveryPending})
	}), smartlic.ENotFound, "")
	// Deleting the webhook deletes its log.
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteWebhook(ctx, w.ID) })
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteWebhook(ctx, w.ID) }), smartlic.ENotFound, "")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		page, err := tx.ListDeliveries(ctx, w.ID, smartlic.Page{})
		if err == nil && len(page) != 0 {
			t.Errorf("deliveries of a deleted webhook: %d", len(page))
		}
		return err
	})
}

func testClaimDueDeliveries(t *testing.T, f *fixture) {
	sa, _ := f.account("acme.example")
	w := f.webhook(sa, "https://hooks.acme.example/smartlic")
	due := f.delivery(w, ptr(f.now.Add(-time.Minute)))
	f.delivery(w, ptr(f.now.Add(time.Minute))) // not yet
	f.delivery(w, nil)                         // done
	lease := f.now.Add(5 * time.Minute)
	var got []smartlic.DueDelivery
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		got, err = tx.ClaimDueDeliveries(ctx, f.now, lease, 10)
		return err
	})
	if len(got) != 1 || got[0].Delivery.ID != due.ID || got[0].URL != w.URL || got[0].Secret != w.Secret {
		t.Fatalf("claimed %+v", got)
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		again, err := tx.ClaimDueDeliveries(ctx, f.now, lease, 10)
		if err == nil && len(again) != 0 {
			t.Errorf("claimed again during the lease: %+v", again)
		}
		return err
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		after, err := tx.ClaimDueDeliveries(ctx, lease, lease.Add(5*time.Minute), 10)
		if err == nil && len(after) != 2 {
			t.Errorf("after the lease claimed %d, want 2 (the expired lease and the later one)", len(after))
		}
		return err
	})
}

func testClaimJob(t *testing.T, f *fixture) {
	claim := func(now, next time.Time) bool {
		var ok bool
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			var err error
			ok, err = tx.ClaimJob(ctx, "alerts.scan", now, next)
			return err
		})
		return ok
	}
	if !claim(f.now, f.now.Add(time.Hour)) {
		t.Fatal("first claim refused")
	}
	if claim(f.now.Add(time.Minute), f.now.Add(time.Hour+time.Minute)) {
		t.Fatal("claimed again before the job was due")
	}
	if !claim(f.now.Add(time.Hour), f.now.Add(2*time.Hour)) {
		t.Fatal("claim refused when due")
	}
}

// testConcurrentClaimJob races workers for one period of a job: exactly
// one must win.
func testConcurrentClaimJob(t *testing.T, f *fixture) {
	const workers = 8
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
				ok, err := tx.ClaimJob(ctx, "webhooks.deliver", f.now, f.now.Add(time.Minute))
				if ok {
					wins.Add(1)
				}
				return err
			})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d workers claimed the job, want exactly 1", n)
	}
}
