package manager

import (
	"context"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
)

// webhookLease is how long a claimed delivery is hidden from other workers
// while its attempt runs; longer than the sender's HTTP timeout.
const webhookLease = 5 * time.Minute

// maxWebhooks bounds the webhooks of one Smart Account: every new alert is
// posted to each, and the store lists at most a thousand.
const maxWebhooks = 50

// CreateWebhook adds a webhook endpoint to a Smart Account. Its signing
// secret is in this answer only; the store keeps it, since every delivery
// is signed with it.
func (m *Manager) CreateWebhook(ctx context.Context, saKey string, in smartlic.WebhookInput) (w smartlic.Webhook, err error) {
	if err := in.Validate(); err != nil {
		return w, err
	}
	// A name is checked again at every dial (it may resolve elsewhere
	// by then); a literal address or localhost is refused here already.
	if err := m.webhooks.CheckURL(in.URL); err != nil {
		return w, err
	}
	secret, err := newSecret("whsec_")
	if err != nil {
		return w, err
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermNotifyManage, saKey)
		if err != nil {
			return err
		}
		existing, err := tx.ListWebhooks(ctx, sa.ID)
		if err != nil {
			return err
		}
		if len(existing) >= maxWebhooks {
			return smartlic.Errorf(smartlic.EConflict, "url", "Smart Account %s already has %d webhooks, the most it may have; delete one first", sa.Domain, maxWebhooks)
		}
		w = smartlic.Webhook{
			ID: newID(), SmartAccountID: sa.ID, URL: in.URL, Description: in.Description,
			AlertTypes: dedupTypes(in.AlertTypes), Secret: secret, CreatedAt: m.clock.Now(),
		}
		if err := tx.InsertWebhook(ctx, w); err != nil {
			return err
		}
		shown := w
		shown.Secret = ""
		return m.record(ctx, tx, smartlic.Event{SmartAccountID: sa.ID, Type: "webhook.created", Subject: w.ID,
			Message: "webhook " + w.URL + " created", After: eventData(shown)})
	})
	return w, err
}

// ListWebhooks lists a Smart Account's webhooks, without their secrets.
func (m *Manager) ListWebhooks(ctx context.Context, saKey string) (out []smartlic.Webhook, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermNotifyManage, saKey)
		if err != nil {
			return err
		}
		out, err = tx.ListWebhooks(ctx, sa.ID)
		return err
	})
	for i := range out {
		out[i].Secret = ""
	}
	return out, err
}

// DeleteWebhook removes a webhook and its delivery log.
func (m *Manager) DeleteWebhook(ctx context.Context, saKey, id string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, w, err := m.webhookOf(ctx, tx, saKey, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, w.ID); err != nil {
			return err
		}
		w.Secret = ""
		return m.record(ctx, tx, smartlic.Event{SmartAccountID: sa.ID, Type: "webhook.deleted", Subject: w.ID,
			Message: "webhook " + w.URL + " deleted", Before: eventData(w)})
	})
}

// ListWebhookDeliveries lists a webhook's deliveries, newest first.
func (m *Manager) ListWebhookDeliveries(ctx context.Context, saKey, id string, p smartlic.Page) ([]smartlic.WebhookDelivery, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.WebhookDelivery
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, w, err := m.webhookOf(ctx, tx, saKey, id)
		if err != nil {
			return err
		}
		out, err = tx.ListDeliveries(ctx, w.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(d smartlic.WebhookDelivery) string { return d.ID })
	return out, next, err
}

// webhookOf resolves a webhook of a Smart Account and authorises managing
// it. A webhook of another account is not found, not forbidden.
func (m *Manager) webhookOf(ctx context.Context, tx smartlic.Tx, saKey, id string) (smartlic.SmartAccount, smartlic.Webhook, error) {
	sa, err := m.getSAAs(ctx, tx, PermNotifyManage, saKey)
	if err != nil {
		return sa, smartlic.Webhook{}, err
	}
	w, err := tx.GetWebhook(ctx, id)
	if err == nil && w.SmartAccountID != sa.ID {
		err = smartlic.NotFound("webhook %q not found", id)
	}
	return sa, w, err
}

// ClaimDueDeliveries hands the background sender up to limit deliveries
// whose next attempt is due, each hidden from other workers for a lease.
func (m *Manager) ClaimDueDeliveries(ctx context.Context, limit int) (due []smartlic.DueDelivery, err error) {
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		due, err = tx.ClaimDueDeliveries(ctx, now, now.Add(webhookLease), limit)
		return err
	})
	return due, err
}

// RecordDeliveryAttempt writes the outcome of one attempt to the delivery
// log and schedules the next: exponential backoff from
// smartlic.WebhookBackoffBase, capped at WebhookBackoffMax, giving up after
// WebhookMaxAttempts.
func (m *Manager) RecordDeliveryAttempt(ctx context.Context, d smartlic.WebhookDelivery, a smartlic.DeliveryAttempt) (smartlic.WebhookDelivery, error) {
	now := m.clock.Now()
	d.Attempts++
	d.LastAttemptAt = &now
	d.LastStatus, d.LastError = a.StatusCode, truncate(a.Error, 500)
	switch {
	case a.OK():
		d.Status, d.NextAttemptAt = smartlic.DeliverySucceeded, nil
	case d.Attempts >= smartlic.WebhookMaxAttempts:
		d.Status, d.NextAttemptAt = smartlic.DeliveryFailed, nil
	default:
		next := now.Add(smartlic.WebhookBackoff(d.Attempts))
		d.Status, d.NextAttemptAt = smartlic.DeliveryPending, &next
	}
	err := m.st.Write(ctx, func(tx smartlic.Tx) error { return tx.UpdateDelivery(ctx, d) })
	return d, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func dedupTypes(ts []smartlic.AlertType) []smartlic.AlertType {
	out := []smartlic.AlertType{}
	for _, t := range ts {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
