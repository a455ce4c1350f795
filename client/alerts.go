package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.AlertService = (*Client)(nil)

const (
	alerts   = "alerts"
	prefsSeg = "notification-preferences"
	webhooks = "webhooks"
)

func (c *Client) ListAlerts(ctx context.Context, saKey, vaKey string) ([]smartlic.Alert, error) {
	q := url.Values{}
	if vaKey != "" {
		q.Set("va", vaKey)
	}
	var v wire.Items[smartlic.Alert]
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, accounts, sa(saKey), alerts)
	return v.Items, err
}

func (c *Client) SetNotificationPreference(ctx context.Context, saKey string, in smartlic.NotificationPreferenceInput) (smartlic.NotificationPreference, error) {
	return send[smartlic.NotificationPreference](ctx, c, http.MethodPut, wire.FromNotificationPreferenceInput(in),
		accounts, sa(saKey), prefsSeg, segment{"email", in.Email})
}

func (c *Client) ListNotificationPreferences(ctx context.Context, saKey string) ([]smartlic.NotificationPreference, error) {
	v, err := get[wire.Items[smartlic.NotificationPreference]](ctx, c, accounts, sa(saKey), prefsSeg)
	return v.Items, err
}

func (c *Client) DeleteNotificationPreference(ctx context.Context, saKey, email string) error {
	return c.remove(ctx, accounts, sa(saKey), prefsSeg, segment{"email", email})
}

func (c *Client) CreateWebhook(ctx context.Context, saKey string, in smartlic.WebhookInput) (smartlic.Webhook, error) {
	return send[smartlic.Webhook](ctx, c, http.MethodPost, wire.FromWebhookInput(in), accounts, sa(saKey), webhooks)
}

func (c *Client) ListWebhooks(ctx context.Context, saKey string) ([]smartlic.Webhook, error) {
	v, err := get[wire.Items[smartlic.Webhook]](ctx, c, accounts, sa(saKey), webhooks)
	return v.Items, err
}

func (c *Client) DeleteWebhook(ctx context.Context, saKey, id string) error {
	return c.remove(ctx, accounts, sa(saKey), webhooks, segment{"webhook", id})
}

func (c *Client) ListWebhookDeliveries(ctx context.Context, saKey, id string, p smartlic.Page) ([]smartlic.WebhookDelivery, string, error) {
	return list[smartlic.WebhookDelivery](ctx, c, p, accounts, sa(saKey), webhooks, segment{"webhook", id}, "deliveries")
}
