package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type alertsQuery struct {
	SA string `path:"sa" doc:"Smart Account id or domain"`
	VA string `query:"va" maxLength:"100" doc:"Only this Virtual Account (id or name) and its descendants"`
}

type prefPath struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	Email string `path:"email" maxLength:"254" doc:"The recipient's e-mail address"`
}

type prefBody struct {
	SA    string `path:"sa" doc:"Smart Account id or domain"`
	Email string `path:"email" maxLength:"254" doc:"The recipient's e-mail address"`
	Body  wire.NotificationPreferenceRequest
}

type webhookPath struct {
	SA      string `path:"sa" doc:"Smart Account id or domain"`
	Webhook string `path:"webhook" doc:"Webhook id"`
}

type webhookPage struct {
	SA      string `path:"sa" doc:"Smart Account id or domain"`
	Webhook string `path:"webhook" doc:"Webhook id"`
	Limit   int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After   string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

// registerAlertRoutes adds alerts, notification preferences and webhooks.
func (s *Server) registerAlertRoutes() {
	svc := s.svc
	const sa = "/api/v1/accounts/{sa}"
	handle(s, route{method: get, path: sa + "/alerts", id: "list-alerts", summary: "Current alerts of a Smart Account (or a Virtual Account subtree), most severe first", tag: "alerts"},
		func(ctx context.Context, in *alertsQuery) (*body[wire.Items[smartlic.Alert]], error) {
			return all(svc.ListAlerts(ctx, in.SA, in.VA))
		})

	const prefs = sa + "/notification-preferences"
	handle(s, route{method: get, path: prefs, id: "list-notification-preferences", summary: "List who is notified of alerts, and how", tag: "alerts"},
		func(ctx context.Context, in *saPath) (*body[wire.Items[smartlic.NotificationPreference]], error) {
			return all(svc.ListNotificationPreferences(ctx, in.SA))
		})
	handle(s, route{method: http.MethodPut, path: prefs + "/{email}", id: "set-notification-preference", summary: "Create or replace a recipient's notification preference", tag: "alerts"},
		func(ctx context.Context, in *prefBody) (*body[smartlic.NotificationPreference], error) {
			return one(svc.SetNotificationPreference(ctx, in.SA, in.Body.Input(in.Email)))
		})
	handle(s, route{method: del, path: prefs + "/{email}", id: "delete-notification-preference", summary: "Stop notifying a recipient", tag: "alerts", status: http.StatusNoContent},
		func(ctx context.Context, in *prefPath) (*struct{}, error) {
			return none(svc.DeleteNotificationPreference(ctx, in.SA, in.Email))
		})

	const hooks = sa + "/webhooks"
	handle(s, route{method: get, path: hooks, id: "list-webhooks", summary: "List webhooks (without their secrets)", tag: "alerts"},
		func(ctx context.Context, in *saPath) (*body[wire.Items[smartlic.Webhook]], error) {
			return all(svc.ListWebhooks(ctx, in.SA))
		})
	handle(s, route{method: post, path: hooks, id: "create-webhook", summary: "Create a webhook (its signing secret is in this answer only)", tag: "alerts", status: http.StatusCreated},
		func(ctx context.Context, in *saBody[wire.WebhookRequest]) (*body[smartlic.Webhook], error) {
			return one(svc.CreateWebhook(ctx, in.SA, in.Body.Input()))
		})
	handle(s, route{method: del, path: hooks + "/{webhook}", id: "delete-webhook", summary: "Delete a webhook and its delivery log", tag: "alerts", status: http.StatusNoContent},
		func(ctx context.Context, in *webhookPath) (*struct{}, error) {
			return none(svc.DeleteWebhook(ctx, in.SA, in.Webhook))
		})
	handle(s, route{method: get, path: hooks + "/{webhook}/deliveries", id: "list-webhook-deliveries", summary: "A webhook's delivery log, newest first", tag: "alerts"},
		func(ctx context.Context, in *webhookPage) (*body[wire.Page[smartlic.WebhookDelivery]], error) {
			return page(svc.ListWebhookDeliveries(ctx, in.SA, in.Webhook, smartlic.Page{Limit: in.Limit, After: in.After}))
		})
}
