package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// Alerts, notification preferences, webhooks and job bookkeeping. These
// statements are off the hot paths, so they are built here rather than
// added to the prepared set.

// InstancesNeedingAttention reads through instances_auth_expiry and
// instances_cert_expiry: two range scans within one Smart Account, merged.
func (t *tx) InstancesNeedingAttention(ctx context.Context, saID string, authBefore, certBefore time.Time, limit int) ([]smartlic.Instance, error) {
	const what = "listing instances that need attention"
	scan := func(r scanner) (smartlic.Instance, error) { return scanInstance(r) }
	rows, err := t.queryBuilt(ctx, `SELECT `+instanceCols+` FROM instances i
		WHERE i.smart_account_id = ? AND i.auth_expires_at < ? ORDER BY i.auth_expires_at LIMIT ?`,
		saID, micros(authBefore), limit)
	byAuth, err := collect(rows, err, scan, what)
	if err != nil {
		return nil, err
	}
	// An instance under Using Policy has no ID certificate to expire:
	// one that never registered stores the zero time, which would sort
	// first and fill the limit, and one moved from a registration keeps a
	// certificate it no longer uses. The lower bound skips the former in
	// the index range; the mode test drops the latter.
	rows, err = t.queryBuilt(ctx, `SELECT `+instanceCols+` FROM instances i
		WHERE i.smart_account_id = ? AND i.id_cert_expires_at >= 0 AND i.id_cert_expires_at < ? AND i.mode <> ?
		ORDER BY i.id_cert_expires_at LIMIT ?`,
		saID, micros(certBefore), string(smartlic.ModePolicy), limit)
	byCert, err := collect(rows, err, scan, what)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(byAuth))
	out := byAuth
	for _, i := range byAuth {
		seen[i.ID] = true
	}
	for _, i := range byCert {
		if !seen[i.ID] && len(out) < limit {
			out = append(out, i)
		}
	}
	return out, nil
}

// Alert states.

func (t *tx) ListAlertStates(ctx context.Context, saID string) ([]smartlic.AlertState, error) {
	rows, err := t.queryBuilt(ctx, `SELECT sa_id, alert_key, type, raised_at FROM alert_states WHERE sa_id = ? ORDER BY alert_key`, saID)
	return collect(rows, err, func(r scanner) (smartlic.AlertState, error) {
		var s smartlic.AlertState
		var at int64
		err := r.Scan(&s.SmartAccountID, &s.Key, &s.Type, &at)
		s.RaisedAt = fromMicros(at)
		return s, err
	}, "listing alert states")
}

func (t *tx) InsertAlertState(ctx context.Context, s smartlic.AlertState) error {
	_, err := t.execBuilt(ctx, `INSERT INTO alert_states (sa_id, alert_key, type, raised_at) VALUES (?, ?, ?, ?)`,
		s.SmartAccountID, s.Key, string(s.Type), micros(s.RaisedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an alert state", noun: "alert", field: "key", value: s.Key, refs: "a Smart Account"})
	}
	return nil
}

func (t *tx) DeleteAlertState(ctx context.Context, saID, key string) error {
	if _, err := t.execBuilt(ctx, `DELETE FROM alert_states WHERE sa_id = ? AND alert_key = ?`, saID, key); err != nil {
		return smartlic.Internal(err, "deleting an alert state")
	}
	return nil
}

// Notification preferences.

const prefCols = `id, sa_id, email, alert_types, va_ids, frequency, last_sent_at, created_at, updated_at`

func scanPreference(r scanner) (smartlic.NotificationPreference, error) {
	var p smartlic.NotificationPreference
	var types, vas string
	var last sql.NullInt64
	var created, updated int64
	err := r.Scan(&p.ID, &p.SmartAccountID, &p.Email, &types, &vas, &p.Frequency, &last, &created, &updated)
	p.AlertTypes, p.VirtualAccounts = splitTypes(types), splitList(vas)
	p.LastSentAt, p.CreatedAt, p.UpdatedAt = fromNullMicros(last), fromMicros(created), fromMicros(updated)
	return p, err
}

// UpsertNotificationPreference inserts p or, when the e-mail already has a
// preference in the Smart Account, replaces its settings (keeping its id,
// creation time and last e-mail). It returns the stored row.
func (t *tx) UpsertNotificationPreference(ctx context.Context, p smartlic.NotificationPreference) (smartlic.NotificationPreference, error) {
	row := t.queryRowBuilt(ctx, `INSERT INTO notification_preferences (`+prefCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sa_id, email) DO UPDATE SET alert_types = excluded.alert_types, va_ids = excluded.va_ids,
			frequency = excluded.frequency, updated_at = excluded.updated_at
		RETURNING `+prefCols,
		p.ID, p.SmartAccountID, p.Email, joinTypes(p.AlertTypes), strings.Join(p.VirtualAccounts, ","), string(p.Frequency),
		nullMicros(p.LastSentAt), micros(p.CreatedAt), micros(p.UpdatedAt))
	out, err := scanPreference(row)
	if err != nil {
		return out, t.writeErr(err, about{what: "storing a notification preference", noun: "notification preference", field: "email", value: p.Email, id: p.ID, refs: "a Smart Account"})
	}
	return out, nil
}

func (t *tx) ListNotificationPreferences(ctx context.Context, saID string) ([]smartlic.NotificationPreference, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+prefCols+` FROM notification_preferences WHERE sa_id = ? ORDER BY email LIMIT 10000`, saID)
	return collect(rows, err, scanPreference, "listing notification preferences")
}

func (t *tx) PreferencesDue(ctx context.Context, f smartlic.Frequency, before time.Time, limit int) ([]smartlic.NotificationPreference, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+prefCols+` FROM notification_preferences
		WHERE frequency = ? AND (last_sent_at IS NULL OR last_sent_at < ?) ORDER BY id LIMIT ?`, string(f), micros(before), limit)
	return collect(rows, err, scanPreference, "listing notification preferences due")
}

func (t *tx) MarkPreferenceSent(ctx context.Context, id string, before, at time.Time) (bool, error) {
	res, err := t.execBuilt(ctx, `UPDATE notification_preferences SET last_sent_at = ?
		WHERE id = ? AND (last_sent_at IS NULL OR last_sent_at < ?)`, micros(at), id, micros(before))
	if err != nil {
		return false, smartlic.Internal(err, "marking a notification sent")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) DeleteNotificationPreference(ctx context.Context, saID, email string) error {
	res, err := t.execBuilt(ctx, `DELETE FROM notification_preferences WHERE sa_id = ? AND email = ?`, saID, email)
	if err != nil {
		return smartlic.Internal(err, "deleting a notification preference")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return smartlic.NotFound("no notification preference for %q", email)
	}
	return nil
}

// Webhooks.

const webhookCols = `id, sa_id, url, description, alert_types, secret, created_at`

func scanWebhook(r scanner) (smartlic.Webhook, error) {
	var w smartlic.Webhook
	var types string
	var created int64
	err := r.Scan(&w.ID, &w.SmartAccountID, &w.URL, &w.Description, &types, &w.Secret, &created)
	w.AlertTypes, w.CreatedAt = splitTypes(types), fromMicros(created)
	return w, err
}

// scanWebhook scans a webhook and opens its sealed secret.
func (t *tx) scanWebhook(r scanner) (smartlic.Webhook, error) {
	w, err := scanWebhook(r)
	if err == nil {
		w.Secret, err = t.db.openWebhookSecret(w.ID, w.Secret)
	}
	return w, err
}

func (t *tx) InsertWebhook(ctx context.Context, w smartlic.Webhook) error {
	_, err := t.execBuilt(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.SmartAccountID, w.URL, w.Description, joinTypes(w.AlertTypes), t.db.sealWebhookSecret(w.ID, w.Secret), micros(w.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a webhook", noun: "webhook", id: w.ID, refs: "a Smart Account"})
	}
	return nil
}

func (t *tx) GetWebhook(ctx context.Context, id string) (smartlic.Webhook, error) {
	return one(t.queryRowBuilt(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id), t.scanWebhook, "reading a webhook",
		func() error { return smartlic.NotFound("webhook %q not found", id) })
}

// ListWebhooks returns a Smart Account's webhooks, secrets included; the
// manager strips them before anything leaves it.
func (t *tx) ListWebhooks(ctx context.Context, saID string) ([]smartlic.Webhook, error) {
	rows, err := t.queryBuilt(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE sa_id = ? ORDER BY id LIMIT 1000`, saID)
	return collect(rows, err, t.scanWebhook, "listing webhooks")
}

func (t *tx) DeleteWebhook(ctx context.Context, id string) error {
	res, err := t.execBuilt(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return smartlic.Internal(err, "deleting a webhook")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return smartlic.NotFound("webhook %q not found", id)
	}
	return nil
}

const deliveryCols = `d.id, d.webhook_id, d.event, d.payload, d.status, d.attempts, d.last_attempt_at, d.last_status, d.last_error, d.next_attempt_at, d.created_at`

func scanDelivery(r scanner, extra ...any) (smartlic.WebhookDelivery, error) {
	var d smartlic.WebhookDelivery
	var last, next sql.NullInt64
	var created int64
	err := r.Scan(append([]any{&d.ID, &d.WebhookID, &d.Event, &d.Payload, &d.Status, &d.Attempts, &last, &d.LastStatus, &d.LastError, &next, &created}, extra...)...)
	d.LastAttemptAt, d.NextAttemptAt, d.CreatedAt = fromNullMicros(last), fromNullMicros(next), fromMicros(created)
	return d, err
}

func (t *tx) InsertDelivery(ctx context.Context, d smartlic.WebhookDelivery) error {
	_, err := t.execBuilt(ctx, `INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, last_attempt_at, last_status, last_error, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.WebhookID, d.Event, d.Payload, string(d.Status), d.Attempts, nullMicros(d.LastAttemptAt), d.LastStatus, d.LastError, nullMicros(d.NextAttemptAt), micros(d.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "queueing a webhook delivery", noun: "webhook delivery", id: d.ID, refs: "a webhook"})
	}
	return nil
}

// ListDeliveries lists a webhook's deliveries newest first; Page.After is
// the id of the last delivery of the previous page.
func (t *tx) ListDeliveries(ctx context.Context, webhookID string, p smartlic.Page) ([]smartlic.WebhookDelivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries d WHERE d.webhook_id = ?`
	args := []any{webhookID}
	if p.After != "" {
		q += ` AND d.id < ?`
		args = append(args, p.After)
	}
	rows, err := t.queryBuilt(ctx, q+` ORDER BY d.id DESC LIMIT ?`, append(args, limit(p))...)
	return collect(rows, err, func(r scanner) (smartlic.WebhookDelivery, error) { return scanDelivery(r) }, "listing webhook deliveries")
}

func (t *tx) ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, n int) ([]smartlic.DueDelivery, error) {
	const what = "claiming webhook deliveries"
	rows, err := t.queryBuilt(ctx, `SELECT `+deliveryCols+`, w.url, w.secret FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?`, micros(now), n)
	due, err := collect(rows, err, func(r scanner) (smartlic.DueDelivery, error) {
		var dd smartlic.DueDelivery
		var err error
		dd.Delivery, err = scanDelivery(r, &dd.URL, &dd.Secret)
		if err == nil {
			dd.Secret, err = t.db.openWebhookSecret(dd.Delivery.WebhookID, dd.Secret)
		}
		return dd, err
	}, what)
	if err != nil {
		return nil, err
	}
	out := due[:0]
	for _, dd := range due {
		// The WHERE re-checks the due time, so of two workers racing for a
		// delivery exactly one moves it.
		res, err := t.execBuilt(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND next_attempt_at <= ?`,
			micros(leaseUntil), dd.Delivery.ID, micros(now))
		if err != nil {
			return nil, smartlic.Internal(err, what)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			out = append(out, dd)
		}
	}
	return out, nil
}

func (t *tx) UpdateDelivery(ctx context.Context, d smartlic.WebhookDelivery) error {
	res, err := t.execBuilt(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, last_attempt_at = ?, last_status = ?, last_error = ?, next_attempt_at = ?
		WHERE id = ?`, string(d.Status), d.Attempts, nullMicros(d.LastAttemptAt), d.LastStatus, d.LastError, nullMicros(d.NextAttemptAt), d.ID)
	if err != nil {
		return smartlic.Internal(err, "recording a webhook delivery attempt")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return smartlic.NotFound("webhook delivery %q not found", d.ID)
	}
	return nil
}

// Jobs.

// ClaimJob is the per-task "last run" record: the UPDATE's WHERE makes the
// claim, so two replicas (or an old and a new leader) cannot both run one
// period of a task.
func (t *tx) ClaimJob(ctx context.Context, name string, now, next time.Time) (bool, error) {
	const what = "claiming a background job"
	if _, err := t.execBuilt(ctx, `INSERT INTO job_runs (name, last_run_at, next_run_at) VALUES (?, 0, ?)
		ON CONFLICT (name) DO NOTHING`, name, micros(now)); err != nil {
		return false, smartlic.Internal(err, what)
	}
	res, err := t.execBuilt(ctx, `UPDATE job_runs SET last_run_at = ?, next_run_at = ? WHERE name = ? AND next_run_at <= ?`,
		micros(now), micros(next), name, micros(now))
	if err != nil {
		return false, smartlic.Internal(err, what)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func joinTypes(ts []smartlic.AlertType) string {
	ss := make([]string, len(ts))
	for i, t := range ts {
		ss[i] = string(t)
	}
	return strings.Join(ss, ",")
}

func splitTypes(s string) []smartlic.AlertType {
	out := []smartlic.AlertType{}
	for _, v := range splitList(s) {
		out = append(out, smartlic.AlertType(v))
	}
	return out
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
