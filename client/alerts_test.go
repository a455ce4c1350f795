package client_test

import (
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestAlertsAPI drives alerts, notification preferences and webhooks
// through the REST API with the Go client.
func TestAlertsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		ctx := t.Context()
		c := f.c
		must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "network-advantage", Name: "NA", Term: smartlic.TermSubscription}))
		sa := must[smartlic.SmartAccount](t)(c.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example", Status: smartlic.SAActive}))
		must[smartlic.VirtualAccount](t)(c.CreateVirtualAccount(ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "EMEA Sales"}))
		end := epoch.Add(20 * smartlic.Day)
		must[smartlic.Deposit](t)(c.CreateDeposit(ctx, sa.Domain, "EMEA Sales", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-advantage", Quantity: 3, EndsAt: &end}))

		alerts := must[[]smartlic.Alert](t)(c.ListAlerts(ctx, sa.Domain, ""))
		if len(alerts) != 1 || alerts[0].Type != smartlic.AlertExpiring30 || alerts[0].VirtualAccount != "EMEA Sales" || alerts[0].DueAt == nil || !alerts[0].DueAt.Equal(end) {
			t.Fatalf("alerts = %+v", alerts)
		}
		if got := must[[]smartlic.Alert](t)(c.ListAlerts(ctx, sa.Domain, smartlic.DefaultVAName)); len(got) != 0 {
			t.Fatalf("DEFAULT alerts = %+v", got)
		}
		_, err := c.ListAlerts(ctx, sa.Domain, "Nowhere")
		wantErr(t, err, smartlic.ENotFound, "va")

		p := must[smartlic.NotificationPreference](t)(c.SetNotificationPreference(ctx, sa.Domain, smartlic.NotificationPreferenceInput{
			Email: "ops@acme.example", Frequency: smartlic.Weekly, VirtualAccounts: []string{"EMEA Sales"}, AlertTypes: []smartlic.AlertType{smartlic.AlertExpired},
		}))
		if p.Frequency != smartlic.Weekly || len(p.VirtualAccounts) != 1 || p.Email != "ops@acme.example" {
			t.Fatalf("preference = %+v", p)
		}
		_, err = c.SetNotificationPreference(ctx, sa.Domain, smartlic.NotificationPreferenceInput{Email: "ops@acme.example", Frequency: "hourly"})
		wantErr(t, err, smartlic.EInvalid, "frequency")
		if got := must[[]smartlic.NotificationPreference](t)(c.ListNotificationPreferences(ctx, sa.Domain)); len(got) != 1 || got[0].ID != p.ID {
			t.Fatalf("preferences = %+v", got)
		}
		if err := c.DeleteNotificationPreference(ctx, sa.Domain, "ops@acme.example"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, c.DeleteNotificationPreference(ctx, sa.Domain, "ops@acme.example"), smartlic.ENotFound, "")

		w := must[smartlic.Webhook](t)(c.CreateWebhook(ctx, sa.Domain, smartlic.WebhookInput{URL: "https://hooks.acme.example/smartlic", Description: "ops"}))
		if w.Secret == "" || w.ID == "" {
			t.Fatalf("webhook = %+v", w)
		}
		_, err = c.CreateWebhook(ctx, sa.Domain, smartlic.WebhookInput{URL: "gopher://x"})
		wantErr(t, err, smartlic.EInvalid, "url")
		list := must[[]smartlic.Webhook](t)(c.ListWebhooks(ctx, sa.Domain))
		if len(list) != 1 || list[0].Secret != "" || list[0].URL != w.URL {
			t.Fatalf("webhooks = %+v", list)
		}
		ds, next, err := c.ListWebhookDeliveries(ctx, sa.Domain, w.ID, smartlic.Page{Limit: 10})
		if err != nil || len(ds) != 0 || next != "" {
			t.Fatalf("deliveries = %+v, %q, %v", ds, next, err)
		}
		_, _, err = c.ListWebhookDeliveries(ctx, sa.Domain, "0190a000-0000-7000-8000-000000000001", smartlic.Page{})
		wantErr(t, err, smartlic.ENotFound, "")
		if err := c.DeleteWebhook(ctx, sa.Domain, w.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, c.DeleteWebhook(ctx, sa.Domain, w.ID), smartlic.ENotFound, "")
	})
}
