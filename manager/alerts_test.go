package manager_test

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// alertScene builds a Smart Account with one alert of each computed kind
// at f.clock.Now() (epoch + 91 days):
//
//	DEFAULT     network-advantage ends in 20 days        license.expiring_30
//	Campus      network-advantage ends in 45 days        license.expiring_60
//	Building A  network-advantage ends in 80 days        license.expiring_90
//	Building A  network-essentials 2 in use, 1 bought    license.insufficient
//	Lab         network-advantage ended 10 days ago      license.expired
//	Building A  sw-FOC0001 authorized at day 0           instance.report_overdue
//	Building A  sw-FOC0002 authorized at day 5           instance.renewal_failing
//	Building A  sw-FOC0003 authorized at day 35          (healthy)
func alertScene(t *testing.T, f *fixture) smartlic.SmartAccount {
	t.Helper()
	f.catalog()
	sa := f.account("acme.example")
	for _, in := range []smartlic.VirtualAccountInput{{Name: "Campus"}, {Name: "Building A", Parent: "Campus"}, {Name: "Lab"}} {
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, in))
	}
	must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-essentials", Quantity: 1}))
	tok := f.token(sa.Domain, "Building A", smartlic.TokenInput{})
	var devs []*device
	for _, sn := range []string{"FOC0001", "FOC0002", "FOC0003"} {
		d := newDevice(t, sn)
		must[smartlic.IDCert](t)(f.register(d, tok))
		devs = append(devs, d)
	}
	must[smartlic.Authorization](t)(f.authorize(devs[0], use("network-essentials", 1)))
	f.clock.Advance(5 * smartlic.Day)
	must[smartlic.Authorization](t)(f.authorize(devs[1], use("network-essentials", 1)))
	f.clock.Advance(30 * smartlic.Day)
	must[smartlic.Authorization](t)(f.authorize(devs[2]))
	f.clock.Advance(56 * smartlic.Day) // day 91
	now := f.clock.Now()
	dep := func(va string, start, end int) {
		s, e := now.Add(smartlic.Day*time.Duration(start)), now.Add(smartlic.Day*time.Duration(end))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.Domain, va, smartlic.DepositInput{OrderNumber: "PO-" + va, License: "network-advantage", Quantity: 5, StartsAt: &s, EndsAt: &e}))
	}
	dep("DEFAULT", -1, 20)
	dep("Campus", -1, 45)
	dep("Building A", -1, 80)
	dep("Lab", -100, -10)
	return sa
}

// summary is an alert as "type VA subject", for comparing lists.
func summary(as []smartlic.Alert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		subject := a.LicenseTag
		if a.UDI != "" {
			subject = a.UDI
		}
		out[i] = string(a.Type) + " " + a.VirtualAccount + " " + subject
	}
	sort.Strings(out)
	return out
}

func TestListAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := alertScene(t, f)
		got := must[[]smartlic.Alert](t)(f.mgr.ListAlerts(f.ctx, sa.Domain, ""))
		want := []string{
			"instance.renewal_failing Building A C9300-24T:FOC0002",
			"instance.report_overdue Building A C9300-24T:FOC0001",
			"license.expired Lab network-advantage",
			"license.expiring_30 DEFAULT network-advantage",
			"license.expiring_60 Campus network-advantage",
			"license.expiring_90 Building A network-advantage",
			"license.insufficient Building A network-essentials",
		}
		if s := summary(got); !slices.Equal(s, want) {
			t.Fatalf("alerts:\n %s\nwant\n %s", strings.Join(s, "\n "), strings.Join(want, "\n "))
		}
		// Most severe first.
		for i := 1; i < len(got); i++ {
			rank := map[smartlic.Severity]int{smartlic.SeverityCritical: 0, smartlic.SeverityWarning: 1, smartlic.SeverityInfo: 2}
			if rank[got[i-1].Severity] > rank[got[i].Severity] {
				t.Errorf("alert %d (%s) after a less severe one", i, got[i].Type)
			}
		}
		for _, a := range got {
			if a.Message == "" || a.Key == "" || a.SmartAccountID != sa.ID || a.VirtualAccountID == "" {
				t.Errorf("incomplete alert %+v", a)
			}
			if a.Type == smartlic.AlertInsufficient && !strings.Contains(a.Message, "2 in use, 1 purchased") {
				t.Errorf("insufficient message %q", a.Message)
			}
		}

		// A VA subtree.
		sub := must[[]smartlic.Alert](t)(f.mgr.ListAlerts(f.ctx, sa.Domain, "Campus"))
		want = []string{
			"instance.renewal_failing Building A C9300-24T:FOC0002",
			"instance.report_overdue Building A C9300-24T:FOC0001",
			"license.expiring_60 Campus network-advantage",
			"license.expiring_90 Building A network-advantage",
			"license.insufficient Building A network-essentials",
		}
		if s := summary(sub); !slices.Equal(s, want) {
			t.Fatalf("Campus alerts:\n %s\nwant\n %s", strings.Join(s, "\n "), strings.Join(want, "\n "))
		}
		_, err := f.mgr.ListAlerts(f.ctx, sa.Domain, "Nowhere")
		wantCode(t, err, smartlic.ENotFound)
		_, err = f.mgr.ListAlerts(t.Context(), sa.Domain, "")
		wantCode(t, err, smartlic.EUnauthorized)
	})
}

func TestScanAlertsAndSummaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := alertScene(t, f)
		must[smartlic.NotificationPreference](t)(f.mgr.SetNotificationPreference(f.ctx, sa.Domain, smartlic.NotificationPreferenceInput{
			Email: "Ops@Acme.example", Frequency: smartlic.Immediate,
		}))
		fin := must[smartlic.NotificationPreference](t)(f.mgr.SetNotificationPreference(f.ctx, sa.Domain, smartlic.NotificationPreferenceInput{
			Email: "finance@acme.example", Frequency: smartlic.Daily, VirtualAccounts: []string{"Campus"},
			AlertTypes: []smartlic.AlertType{smartlic.AlertExpiring90, smartlic.AlertExpiring60, smartlic.AlertExpiring60},
		}))
		if fin.Email != "finance@acme.example" || len(fin.AlertTypes) != 2 || len(fin.VirtualAccounts) != 1 {
			t.Fatalf("preference = %+v", fin)
		}
		hook := must[smartlic.Webhook](t)(f.mgr.CreateWebhook(f.ctx, sa.Domain, smartlic.WebhookInput{
			URL: "https://hooks.acme.example/in", AlertTypes: []smartlic.AlertType{smartlic.AlertInsufficient},
		}))
		if !strings.HasPrefix(hook.Secret, "whsec_") {
			t.Fatalf("secret %q", hook.Secret)
		}
		for _, w := range must[[]smartlic.Webhook](t)(f.mgr.ListWebhooks(f.ctx, sa.Domain)) {
			if w.Secret != "" {
				t.Fatal("ListWebhooks shows a secret")
			}
		}

		digests := must[[]smartlic.Digest](t)(f.mgr.ScanAlerts(f.ctx))
		if len(digests) != 1 || digests[0].Email != "ops@acme.example" || len(digests[0].Alerts) != 7 || digests[0].Frequency != smartlic.Immediate {
			t.Fatalf("first scan digests = %+v", digests)
		}
		if again := must[[]smartlic.Digest](t)(f.mgr.ScanAlerts(f.ctx)); len(again) != 0 {
			t.Fatalf("second scan sent again: %+v", again)
		}
		ds, _, err := f.mgr.ListWebhookDeliveries(f.ctx, sa.Domain, hook.ID, smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Event != manager.EventAlertRaised || ds[0].Status != smartlic.DeliveryPending {
			t.Fatalf("deliveries = %+v", ds)
		}
		var ev manager.AlertEvent
		if err := json.Unmarshal([]byte(ds[0].Payload), &ev); err != nil || ev.Alert.Type != smartlic.AlertInsufficient || ev.SmartAccount.Domain != sa.Domain || ev.ID != ds[0].ID {
			t.Fatalf("payload %s (%v)", ds[0].Payload, err)
		}

		sums := must[[]smartlic.Digest](t)(f.mgr.DueSummaries(f.ctx, smartlic.Daily))
		if len(sums) != 1 || sums[0].Email != "finance@acme.example" {
			t.Fatalf("daily summaries = %+v", sums)
		}
		if s := summary(sums[0].Alerts); !slices.Equal(s, []string{"license.expiring_60 Campus network-advantage", "license.expiring_90 Building A network-advantage"}) {
			t.Fatalf("finance alerts = %v", s)
		}
		if again := must[[]smartlic.Digest](t)(f.mgr.DueSummaries(f.ctx, smartlic.Daily)); len(again) != 0 {
			t.Fatalf("summary sent twice in a day: %+v", again)
		}
		f.clock.Advance(smartlic.Day)
		if next := must[[]smartlic.Digest](t)(f.mgr.DueSummaries(f.ctx, smartlic.Daily)); len(next) != 1 {
			t.Fatalf("next day's summaries = %+v", next)
		}

		// A condition that clears and returns notifies again: removing the
		// overdue instance clears its alert.
		must[[]smartlic.Digest](t)(f.mgr.ScanAlerts(f.ctx))
		prefs := must[[]smartlic.NotificationPreference](t)(f.mgr.ListNotificationPreferences(f.ctx, sa.Domain))
		if len(prefs) != 2 {
			t.Fatalf("preferences = %+v", prefs)
		}
		if err := f.mgr.DeleteNotificationPreference(f.ctx, sa.Domain, "ops@acme.example"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.mgr.DeleteNotificationPreference(f.ctx, sa.Domain, "ops@acme.example"), smartlic.ENotFound)
		wantCode(t, f.mgr.DeleteWebhook(f.ctx, "other.example", hook.ID), smartlic.ENotFound)
		if err := f.mgr.DeleteWebhook(f.ctx, sa.Domain, hook.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNotificationInputErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := f.account("acme.example")
		for _, in := range []smartlic.NotificationPreferenceInput{
			{Email: "not-an-address", Frequency: smartlic.Daily},
			{Email: "a@acme.example", Frequency: "hourly"},
			{Email: "a@acme.example", Frequency: smartlic.Daily, AlertTypes: []smartlic.AlertType{"license.bogus"}},
		} {
			_, err := f.mgr.SetNotificationPreference(f.ctx, sa.Domain, in)
			wantCode(t, err, smartlic.EInvalid)
		}
		_, err := f.mgr.SetNotificationPreference(f.ctx, sa.Domain, smartlic.NotificationPreferenceInput{Email: "a@acme.example", Frequency: smartlic.Daily, VirtualAccounts: []string{"Nowhere"}})
		wantCode(t, err, smartlic.ENotFound)
		for _, u := range []string{"ftp://x.example/", "https://user:pw@x.example/", "not a url"} {
			_, err := f.mgr.CreateWebhook(f.ctx, sa.Domain, smartlic.WebhookInput{URL: u})
			wantCode(t, err, smartlic.EInvalid)
		}
	})
}

// TestDeliveryGivesUp: a delivery that keeps failing is retried on the
// backoff schedule and marked failed after the last attempt.
func TestDeliveryGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		sa := alertScene(t, f)
		must[smartlic.Webhook](t)(f.mgr.CreateWebhook(f.ctx, sa.Domain, smartlic.WebhookInput{URL: "https://hooks.acme.example/in", AlertTypes: []smartlic.AlertType{smartlic.AlertExpired}}))
		must[[]smartlic.Digest](t)(f.mgr.ScanAlerts(f.ctx))
		var d smartlic.WebhookDelivery
		for attempt := 1; attempt <= smartlic.WebhookMaxAttempts; attempt++ {
			due := must[[]smartlic.DueDelivery](t)(f.mgr.ClaimDueDeliveries(f.ctx, 10))
			if len(due) != 1 {
				t.Fatalf("attempt %d: %d deliveries due", attempt, len(due))
			}
			if again := must[[]smartlic.DueDelivery](t)(f.mgr.ClaimDueDeliveries(f.ctx, 10)); len(again) != 0 {
				t.Fatalf("attempt %d: claimed twice", attempt)
			}
			d = must[smartlic.WebhookDelivery](t)(f.mgr.RecordDeliveryAttempt(f.ctx, due[0].Delivery, smartlic.DeliveryAttempt{Error: "connection refused"}))
			if d.Attempts != attempt {
				t.Fatalf("attempts = %d, want %d", d.Attempts, attempt)
			}
			if attempt < smartlic.WebhookMaxAttempts {
				if d.Status != smartlic.DeliveryPending || !d.NextAttemptAt.Equal(f.clock.Now().Add(smartlic.WebhookBackoff(attempt))) {
					t.Fatalf("after attempt %d: %+v", attempt, d)
				}
				f.clock.Set(*d.NextAttemptAt)
			}
		}
		if d.Status != smartlic.DeliveryFailed || d.NextAttemptAt != nil || d.LastError != "connection refused" {
			t.Fatalf("after the last attempt: %+v", d)
		}
		f.clock.Advance(30 * smartlic.Day)
		if due := must[[]smartlic.DueDelivery](t)(f.mgr.ClaimDueDeliveries(f.ctx, 10)); len(due) != 0 {
			t.Fatalf("a failed delivery is still due: %+v", due)
		}
	})
}
