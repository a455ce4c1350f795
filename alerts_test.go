package smartlic_test

import (
	"slices"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

func alertTypes(as []smartlic.Alert) []smartlic.AlertType {
	out := []smartlic.AlertType{}
	for _, a := range as {
		out = append(out, a.Type)
	}
	return out
}

func TestPoolAlerts(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	va := smartlic.VirtualAccount{ID: "va1", Name: "Campus"}
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	for _, tc := range []struct {
		name string
		pool smartlic.Pool
		want []smartlic.AlertType
	}{
		{"in compliance", smartlic.Pool{Purchased: 5, InUse: 5, Status: smartlic.InCompliance}, nil},
		{"overage", smartlic.Pool{Purchased: 5, InUse: 6, Status: smartlic.Insufficient}, []smartlic.AlertType{smartlic.AlertInsufficient}},
		{"nothing bought, one used", smartlic.Pool{InUse: 1, Status: smartlic.Insufficient}, []smartlic.AlertType{smartlic.AlertInsufficient}},
		{"expired", smartlic.Pool{Status: smartlic.Expired}, []smartlic.AlertType{smartlic.AlertExpired}},
		{"ends in exactly 30 days", smartlic.Pool{Purchased: 1, NextExpiry: at(30 * smartlic.Day)}, []smartlic.AlertType{smartlic.AlertExpiring30}},
		{"ends in 30 days and a minute", smartlic.Pool{Purchased: 1, NextExpiry: at(30*smartlic.Day + time.Minute)}, []smartlic.AlertType{smartlic.AlertExpiring60}},
		{"ends in exactly 60 days", smartlic.Pool{Purchased: 1, NextExpiry: at(60 * smartlic.Day)}, []smartlic.AlertType{smartlic.AlertExpiring60}},
		{"ends in exactly 90 days", smartlic.Pool{Purchased: 1, NextExpiry: at(90 * smartlic.Day)}, []smartlic.AlertType{smartlic.AlertExpiring90}},
		{"ends in 91 days", smartlic.Pool{Purchased: 1, NextExpiry: at(91 * smartlic.Day)}, nil},
		{"overage and ending", smartlic.Pool{Purchased: 1, InUse: 2, NextExpiry: at(10 * smartlic.Day)}, []smartlic.AlertType{smartlic.AlertInsufficient, smartlic.AlertExpiring30}},
	} {
		tc.pool.LicenseTypeID, tc.pool.LicenseTag = "lt1", "network-advantage"
		got := smartlic.PoolAlerts(now, "sa1", va, tc.pool)
		if !slices.Equal(alertTypes(got), append([]smartlic.AlertType{}, tc.want...)) {
			t.Errorf("%s: alerts %v, want %v", tc.name, alertTypes(got), tc.want)
		}
		for _, a := range got {
			if a.VirtualAccount != "Campus" || a.LicenseTag != "network-advantage" || a.Message == "" || a.Key != smartlic.AlertKey(a.Type, "va1", "lt1") {
				t.Errorf("%s: incomplete alert %+v", tc.name, a)
			}
		}
	}
}

func TestInstanceAlerts(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	va := smartlic.VirtualAccount{ID: "va1", Name: "Campus"}
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	for _, tc := range []struct {
		name       string
		auth       *time.Time
		cert       time.Time
		want       []smartlic.AlertType
		wantSevere smartlic.Severity
	}{
		{"healthy", at(60 * smartlic.Day), now.Add(200 * smartlic.Day), nil, ""},
		{"never authorized", nil, now.Add(200 * smartlic.Day), nil, ""},
		{"expires in 7 days", at(7 * smartlic.Day), now.Add(200 * smartlic.Day), []smartlic.AlertType{smartlic.AlertRenewalFailing}, smartlic.SeverityWarning},
		{"expires in 8 days", at(8 * smartlic.Day), now.Add(200 * smartlic.Day), nil, ""},
		{"expires now", at(0), now.Add(200 * smartlic.Day), []smartlic.AlertType{smartlic.AlertReportOverdue}, smartlic.SeverityCritical},
		{"cert expired", at(30 * smartlic.Day), now.Add(-time.Second), []smartlic.AlertType{smartlic.AlertIDCertExpired}, smartlic.SeverityCritical},
		{"both", at(-smartlic.Day), now, []smartlic.AlertType{smartlic.AlertReportOverdue, smartlic.AlertIDCertExpired}, smartlic.SeverityCritical},
	} {
		i := smartlic.Instance{ID: "i1", SmartAccountID: "sa1", VirtualAccountID: "va1", UDI: smartlic.UDI{PID: "C9300-24T", SN: "FOC1"}, Hostname: "sw1", AuthExpiresAt: tc.auth, IDCertExpiresAt: tc.cert}
		got := smartlic.InstanceAlerts(now, va, i)
		if !slices.Equal(alertTypes(got), append([]smartlic.AlertType{}, tc.want...)) {
			t.Errorf("%s: alerts %v, want %v", tc.name, alertTypes(got), tc.want)
			continue
		}
		if len(got) > 0 && (got[0].Severity != tc.wantSevere || got[0].UDI != "C9300-24T:FOC1" || got[0].DueAt == nil) {
			t.Errorf("%s: alert %+v", tc.name, got[0])
		}
	}
	// Moved to Using Policy: the classic authorization and ID certificate
	// it kept raise nothing (reporting deadlines are ReportingAlerts').
	moved := smartlic.Instance{ID: "i1", VirtualAccountID: "va1", UDI: smartlic.UDI{PID: "C9300-24T", SN: "FOC1"}, Mode: smartlic.ModePolicy, AuthExpiresAt: at(-smartlic.Day), IDCertExpiresAt: now.Add(-time.Second)}
	if got := smartlic.InstanceAlerts(now, va, moved); len(got) != 0 {
		t.Errorf("policy-mode instance with stale classic dates: alerts %v", alertTypes(got))
	}
}

// TestAuthorizationAtPolicy: a policy-mode instance's standing is the
// compliance its last accepted report got, not a classic authorization it
// held before the move, and "not reported" before any report.
func TestAuthorizationAtPolicy(t *testing.T) {
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	later, earlier := now.Add(60*smartlic.Day), now.Add(-smartlic.Day)
	ok := []smartlic.Usage{{LicenseTag: "network-advantage", Count: 1, Status: smartlic.Authorized}}
	ooc := []smartlic.Usage{{LicenseTag: "network-advantage", Count: 9, Status: smartlic.OutOfCompliance}}
	for _, tc := range []struct {
		name string
		i    smartlic.Instance
		want smartlic.AuthorizationState
	}{
		{"classic never asked", smartlic.Instance{Mode: smartlic.ModeRegistered}, smartlic.AuthPending},
		{"classic authorized", smartlic.Instance{Mode: smartlic.ModeRegistered, AuthExpiresAt: &later, Usage: ok}, smartlic.AuthValid},
		{"policy, no report yet", smartlic.Instance{Mode: smartlic.ModePolicy}, smartlic.AuthNotReported},
		{"moved to policy, classic authorization kept", smartlic.Instance{Mode: smartlic.ModePolicy, AuthExpiresAt: &later, Usage: ok}, smartlic.AuthNotReported},
		{"policy, ACK out of compliance", smartlic.Instance{Mode: smartlic.ModePolicy, LastReportAt: &earlier, Usage: ooc}, smartlic.AuthOOC},
		{"policy, ACK in compliance, old classic expiry", smartlic.Instance{Mode: smartlic.ModePolicy, LastReportAt: &earlier, AuthExpiresAt: &earlier, Usage: ok}, smartlic.AuthValid},
	} {
		if got := tc.i.AuthorizationAt(now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestWebhookBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute}
	for i, w := range want {
		if got := smartlic.WebhookBackoff(i + 1); got != w {
			t.Errorf("backoff after attempt %d = %v, want %v", i+1, got, w)
		}
	}
	if got := smartlic.WebhookBackoff(100); got != smartlic.WebhookBackoffMax {
		t.Errorf("backoff after attempt 100 = %v, want the cap %v", got, smartlic.WebhookBackoffMax)
	}
}
