package smartlic

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AlertType is what an alert is about. Alerts are computed, not stored:
// they are what the pools and instances of a Smart Account say at a moment.
type AlertType string

const (
	AlertInsufficient AlertType = "license.insufficient" // a pool is in overage
	AlertExpiring90   AlertType = "license.expiring_90"  // a subscription ends within 90 days
	AlertExpiring60   AlertType = "license.expiring_60"  // … within 60 days
	AlertExpiring30   AlertType = "license.expiring_30"  // … within 30 days
	AlertExpired      AlertType = "license.expired"      // everything deposited in a pool has ended
	// AlertRenewalFailing: the instance's authorization expires within
	// RenewalWarning; it should have renewed 60 days ago.
	AlertRenewalFailing AlertType = "instance.renewal_failing"
	// AlertReportOverdue: the authorization has expired, the instance has
	// not reported for AuthValidity; or, under Using Policy, the instance
	// missed its policy's reporting deadline (ReportingAlerts).
	AlertReportOverdue AlertType = "instance.report_overdue"
	AlertIDCertExpired AlertType = "instance.id_cert_expired" // the ID certificate has expired
	// AlertReservationPending: an authorization code of a reservation
	// has waited ReservationPendingAfter for the device's confirmation.
	// AlertSatelliteSyncOverdue is defined so that preferences and
	// webhooks can subscribe to it; nothing raises it until satellites
	// exist.
	AlertReservationPending   AlertType = "reservation.pending"
	AlertSatelliteSyncOverdue AlertType = "satellite.sync_overdue"
)

// AlertTypes lists every alert type, in display order.
var AlertTypes = []AlertType{
	AlertInsufficient, AlertExpired, AlertExpiring30, AlertExpiring60, AlertExpiring90,
	AlertReportOverdue, AlertRenewalFailing, AlertIDCertExpired,
	AlertReservationPending, AlertSatelliteSyncOverdue,
}

// RenewalWarning is how long before its authorization expires an instance
// is reported as failing to renew.
const RenewalWarning = 7 * Day

// Severity ranks alerts.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Alert is one thing that needs attention in a Smart Account.
type Alert struct {
	// Key identifies the condition (type and subject), stable from one
	// computation to the next, so that "new since last time" is a set
	// difference.
	Key              string     `json:"key"`
	Type             AlertType  `json:"type"`
	Severity         Severity   `json:"severity"`
	SmartAccountID   string     `json:"smart_account_id"`
	VirtualAccountID string     `json:"virtual_account_id"`
	VirtualAccount   string     `json:"virtual_account"` // its name
	LicenseTypeID    string     `json:"license_type_id,omitempty"`
	LicenseTag       string     `json:"license_tag,omitempty"`
	InstanceID       string     `json:"instance_id,omitempty"`
	UDI              string     `json:"udi,omitempty"`
	Message          string     `json:"message"`
	DueAt            *time.Time `json:"due_at,omitempty"` // when it expires or expired, where that applies
}

// AlertKey builds an alert's key.
func AlertKey(t AlertType, parts ...string) string {
	return string(t) + ":" + strings.Join(parts, ":")
}

// ParseAlertType checks an alert type name.
func ParseAlertType(field, s string) (AlertType, error) {
	t := AlertType(s)
	if !slices.Contains(AlertTypes, t) {
		names := make([]string, len(AlertTypes))
		for i, a := range AlertTypes {
			names[i] = string(a)
		}
		return "", Invalid(field, "unknown alert type %q; one of %s", s, strings.Join(names, ", "))
	}
	return t, nil
}

// ParseAlertTypes checks a list of alert type names; none gives nil.
func ParseAlertTypes[S ~string](field string, names []S) ([]AlertType, error) {
	var out []AlertType
	for _, s := range names {
		t, err := ParseAlertType(field, string(s))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// PoolAlerts returns the alerts one per-VA pool raises at now. expiry
// windows: within 30 days is critical, 60 a warning, 90 informational.
func PoolAlerts(now time.Time, saID string, va VirtualAccount, p Pool) []Alert {
	base := Alert{SmartAccountID: saID, VirtualAccountID: va.ID, VirtualAccount: va.Name, LicenseTypeID: p.LicenseTypeID, LicenseTag: p.LicenseTag}
	var out []Alert
	add := func(t AlertType, sev Severity, due *time.Time, format string, args ...any) {
		a := base
		a.Key, a.Type, a.Severity, a.DueAt = AlertKey(t, va.ID, p.LicenseTypeID), t, sev, due
		a.Message = fmt.Sprintf(format, args...)
		out = append(out, a)
	}
	if over := p.InUse - p.Purchased; over > 0 {
		add(AlertInsufficient, SeverityCritical, nil, "%s: %d in use, %d purchased (%d short) in %s", p.LicenseTag, p.InUse, p.Purchased, over, va.Name)
	}
	if p.Status == Expired {
		add(AlertExpired, SeverityCritical, nil, "%s: every license deposited in %s has expired", p.LicenseTag, va.Name)
	}
	if p.NextExpiry != nil && p.NextExpiry.After(now) {
		left := p.NextExpiry.Sub(now)
		days := DaysLeft(now, *p.NextExpiry)
		due := *p.NextExpiry
		switch {
		case left <= 30*Day:
			add(AlertExpiring30, SeverityCritical, &due, "%s in %s: a subscription ends on %s (%d days)", p.LicenseTag, va.Name, due.Format(time.DateOnly), days)
		case left <= 60*Day:
			add(AlertExpiring60, SeverityWarning, &due, "%s in %s: a subscription ends on %s (%d days)", p.LicenseTag, va.Name, due.Format(time.DateOnly), days)
		case left <= 90*Day:
			add(AlertExpiring90, SeverityInfo, &due, "%s in %s: a subscription ends on %s (%d days)", p.LicenseTag, va.Name, due.Format(time.DateOnly), days)
		}
	}
	return out
}

// InstanceAlerts returns the alerts one instance raises at now.
func InstanceAlerts(now time.Time, va VirtualAccount, i Instance) []Alert {
	base := Alert{SmartAccountID: i.SmartAccountID, VirtualAccountID: va.ID, VirtualAccount: va.Name, InstanceID: i.ID, UDI: i.UDI.String()}
	var out []Alert
	add := func(t AlertType, sev Severity, due time.Time, format string, args ...any) {
		a := base
		a.Key, a.Type, a.Severity, a.DueAt = AlertKey(t, i.ID), t, sev, &due
		a.Message = fmt.Sprintf(format, args...)
		out = append(out, a)
	}
	name := i.UDI.String()
	if i.Hostname != "" {
		name = i.Hostname + " (" + name + ")"
	}
	// An instance under Using Policy renews no authorization: its
	// reporting deadlines are ReportingAlerts'.
	if e := i.AuthExpiresAt; e != nil && i.Mode != ModePolicy {
		switch {
		case !now.Before(*e):
			add(AlertReportOverdue, SeverityCritical, *e, "%s in %s has not renewed its authorization; it expired on %s", name, va.Name, e.Format(time.DateOnly))
		case e.Sub(now) <= RenewalWarning:
			add(AlertRenewalFailing, SeverityWarning, *e, "%s in %s is failing to renew; its authorization expires on %s", name, va.Name, e.Format(time.DateOnly))
		}
	}
	// Nor does it renew an ID certificate: one moved from a registration
	// keeps the old expiry, which means nothing any more.
	if !i.IDCertExpiresAt.IsZero() && !now.Before(i.IDCertExpiresAt) && i.Mode != ModePolicy {
		add(AlertIDCertExpired, SeverityCritical, i.IDCertExpiresAt, "%s in %s: its ID certificate expired on %s; register it again", name, va.Name, i.IDCertExpiresAt.Format(time.DateOnly))
	}
	return out
}

// ReportingAlerts returns the alert an instance under Using Policy raises
// when its Reporting (set when read) says it is overdue.
func ReportingAlerts(va VirtualAccount, i Instance) []Alert {
	r := i.Reporting
	if r == nil || !r.Overdue || r.Due == nil {
		return nil
	}
	name := i.UDI.String()
	if i.Hostname != "" {
		name = i.Hostname + " (" + name + ")"
	}
	due := *r.Due
	return []Alert{{
		Key: AlertKey(AlertReportOverdue, i.ID), Type: AlertReportOverdue, Severity: SeverityCritical,
		SmartAccountID: i.SmartAccountID, VirtualAccountID: va.ID, VirtualAccount: va.Name, InstanceID: i.ID, UDI: i.UDI.String(),
		Message: fmt.Sprintf("%s in %s has not reported usage: %s", name, va.Name, r.Message), DueAt: &due,
	}}
}

// SortAlerts orders alerts most severe first, then by VA name, type and key.
func SortAlerts(as []Alert) {
	rank := map[Severity]int{SeverityCritical: 0, SeverityWarning: 1, SeverityInfo: 2}
	slices.SortFunc(as, func(a, b Alert) int {
		if rank[a.Severity] != rank[b.Severity] {
			return rank[a.Severity] - rank[b.Severity]
		}
		if c := strings.Compare(a.VirtualAccount, b.VirtualAccount); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Type), string(b.Type)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// Frequency is how often a recipient hears about alerts.
type Frequency string

const (
	Immediate Frequency = "immediate" // an e-mail as soon as a new alert is raised
	Daily     Frequency = "daily"     // a summary of every current alert once a day
	Weekly    Frequency = "weekly"    // … once a week
)

// NotificationPreference says which alerts of a Smart Account one person
// (by e-mail) receives, and how often. It is keyed by (Smart Account,
// e-mail), so it attaches to a user account once the person has one.
type NotificationPreference struct {
	ID              string      `json:"id"`
	SmartAccountID  string      `json:"smart_account_id"`
	Email           string      `json:"email"`
	AlertTypes      []AlertType `json:"alert_types"`            // empty: every type
	VirtualAccounts []string    `json:"virtual_accounts"`       // VA ids whose subtrees are watched; empty: the whole account
	Frequency       Frequency   `json:"frequency"`              // immediate, daily or weekly
	LastSentAt      *time.Time  `json:"last_sent_at,omitempty"` // last summary or immediate e-mail
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// NotificationPreferenceInput creates or replaces a recipient's preference.
// VirtualAccounts are ids or names.
type NotificationPreferenceInput struct {
	Email           string      `json:"email"`
	AlertTypes      []AlertType `json:"alert_types,omitempty"`
	VirtualAccounts []string    `json:"virtual_accounts,omitempty"`
	Frequency       Frequency   `json:"frequency"`
}

// Validate checks the frequency and alert types.
func (in NotificationPreferenceInput) Validate() error {
	switch in.Frequency {
	case Immediate, Daily, Weekly:
	default:
		return Invalid("frequency", "must be immediate, daily or weekly (got %q)", in.Frequency)
	}
	if _, err := ParseAlertTypes("alert_types", in.AlertTypes); err != nil {
		return err
	}
	if len(in.AlertTypes) > len(AlertTypes) {
		return Invalid("alert_types", "lists a type twice")
	}
	if len(in.VirtualAccounts) > 100 {
		return Invalid("virtual_accounts", "at most 100 Virtual Accounts")
	}
	return nil
}

// Webhook is an HTTPS endpoint a Smart Account's events are posted to,
// signed with its secret.
type Webhook struct {
	ID             string      `json:"id"`
	SmartAccountID string      `json:"smart_account_id"`
	URL            string      `json:"url"`
	Description    string      `json:"description"`
	AlertTypes     []AlertType `json:"alert_types"` // empty: every type
	// Secret signs deliveries. It is returned when the webhook is created
	// and never again.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// WebhookInput creates a webhook.
type WebhookInput struct {
	URL         string      `json:"url"`
	Description string      `json:"description"`
	AlertTypes  []AlertType `json:"alert_types,omitempty"`
}

// Validate checks the URL and alert types. http:// is accepted for
// endpoints inside a private network; the signature, not the transport,
// authenticates a delivery.
func (in WebhookInput) Validate() error {
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.URL) > 2000 {
		return Invalid("url", "must be an http:// or https:// URL (got %q)", in.URL)
	}
	if u.User != nil {
		return Invalid("url", "must not carry credentials; the signature authenticates deliveries")
	}
	if len(in.Description) > 500 {
		return Invalid("description", "at most 500 characters")
	}
	if _, err := ParseAlertTypes("alert_types", in.AlertTypes); err != nil {
		return err
	}
	return nil
}

// Subscribed reports whether a list of alert types (empty: all) includes t.
func Subscribed(types []AlertType, t AlertType) bool {
	return len(types) == 0 || slices.Contains(types, t)
}

// DeliveryStatus is where a webhook delivery is.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliverySucceeded DeliveryStatus = "succeeded" // the endpoint answered 2xx
	DeliveryFailed    DeliveryStatus = "failed"    // every attempt failed
)

// Webhook retry schedule: attempt n+1 waits WebhookBackoffBase·2^(n-1),
// at most WebhookBackoffMax, and a delivery gives up after
// WebhookMaxAttempts.
const (
	WebhookBackoffBase = time.Minute
	WebhookBackoffMax  = 6 * time.Hour
	WebhookMaxAttempts = 8
)

// WebhookBackoff is how long to wait after the given (1-based) failed attempt.
func WebhookBackoff(attempt int) time.Duration {
	d := WebhookBackoffBase
	for i := 1; i < attempt && d < WebhookBackoffMax; i++ {
		d *= 2
	}
	return min(d, WebhookBackoffMax)
}

// WebhookDelivery is one event posted (or to be posted) to a webhook, with
// the outcome of its latest attempt.
type WebhookDelivery struct {
	ID            string         `json:"id"`
	WebhookID     string         `json:"webhook_id"`
	Event         string         `json:"event"` // "alert.raised", "webhook.test"
	Payload       string         `json:"payload"`
	Status        DeliveryStatus `json:"status"`
	Attempts      int            `json:"attempts"`
	LastAttemptAt *time.Time     `json:"last_attempt_at,omitempty"`
	LastStatus    int            `json:"last_status_code,omitempty"` // HTTP status of the last attempt
	LastError     string         `json:"last_error,omitempty"`
	NextAttemptAt *time.Time     `json:"next_attempt_at,omitempty"`
	CreatedAt     time.Time      `json:"created_at"`
}

// DeliveryAttempt is the outcome of one POST.
type DeliveryAttempt struct {
	StatusCode int    // 0 when no answer came
	Error      string // transport error or a summary of a non-2xx answer
}

// OK reports whether the endpoint accepted the delivery.
func (a DeliveryAttempt) OK() bool {
	return a.StatusCode >= 200 && a.StatusCode <= 299 && a.Error == ""
}

// DueDelivery is a delivery claimed for an attempt, with what sending needs.
type DueDelivery struct {
	Delivery WebhookDelivery
	URL      string
	Secret   string
}

// Digest is one e-mail: a recipient's alerts of one Smart Account.
type Digest struct {
	SmartAccount SmartAccount `json:"smart_account"`
	Email        string       `json:"email"`
	Frequency    Frequency    `json:"frequency"`
	Alerts       []Alert      `json:"alerts"`
}

// AlertService shows alerts and manages who hears about them.
type AlertService interface {
	// ListAlerts computes the Smart Account's current alerts; with va, only
	// that VA and its descendants.
	ListAlerts(ctx context.Context, sa, va string) ([]Alert, error)

	// SetNotificationPreference creates or replaces the preference of
	// in.Email in the Smart Account.
	SetNotificationPreference(ctx context.Context, sa string, in NotificationPreferenceInput) (NotificationPreference, error)
	ListNotificationPreferences(ctx context.Context, sa string) ([]NotificationPreference, error)
	DeleteNotificationPreference(ctx context.Context, sa, email string) error

	// CreateWebhook returns the webhook with its secret, shown only here.
	CreateWebhook(ctx context.Context, sa string, in WebhookInput) (Webhook, error)
	ListWebhooks(ctx context.Context, sa string) ([]Webhook, error)
	DeleteWebhook(ctx context.Context, sa, id string) error
	// ListWebhookDeliveries lists a webhook's deliveries, newest first.
	ListWebhookDeliveries(ctx context.Context, sa, id string, p Page) ([]WebhookDelivery, string, error)
}

// AlertState is what the store remembers of an alert already raised, so
// that an immediate notification is sent once per condition.
type AlertState struct {
	SmartAccountID string
	Key            string
	Type           AlertType
	RaisedAt       time.Time
}

// AlertTx is the storage of alerts, notification preferences, webhooks
// and background job bookkeeping.
type AlertTx interface {
	// InstancesNeedingAttention returns up to limit instances of a Smart
	// Account whose authorization expires before authBefore or whose ID
	// certificate expires before certBefore (indexed; usage not loaded).
	InstancesNeedingAttention(ctx context.Context, saID string, authBefore, certBefore time.Time, limit int) ([]Instance, error)

	// Alert states.
	ListAlertStates(ctx context.Context, saID string) ([]AlertState, error)
	InsertAlertState(ctx context.Context, s AlertState) error
	DeleteAlertState(ctx context.Context, saID, key string) error

	// Notification preferences, unique per (Smart Account, e-mail).
	UpsertNotificationPreference(ctx context.Context, p NotificationPreference) (NotificationPreference, error)
	ListNotificationPreferences(ctx context.Context, saID string) ([]NotificationPreference, error)
	// PreferencesDue returns up to limit preferences of a frequency across
	// every Smart Account whose last e-mail was sent before before (or never).
	PreferencesDue(ctx context.Context, f Frequency, before time.Time, limit int) ([]NotificationPreference, error)
	// MarkPreferenceSent claims a preference for sending: it sets
	// last_sent_at to at only if it is still before before, and reports
	// whether it did.
	MarkPreferenceSent(ctx context.Context, id string, before, at time.Time) (bool, error)
	DeleteNotificationPreference(ctx context.Context, saID, email string) error

	// Webhooks.
	InsertWebhook(ctx context.Context, w Webhook) error
	GetWebhook(ctx context.Context, id string) (Webhook, error) // with its secret
	ListWebhooks(ctx context.Context, saID string) ([]Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	InsertDelivery(ctx context.Context, d WebhookDelivery) error
	ListDeliveries(ctx context.Context, webhookID string, p Page) ([]WebhookDelivery, error)
	// ClaimDueDeliveries returns up to limit pending deliveries due at now
	// and moves their next attempt to leaseUntil in the same transaction,
	// so that no other worker takes them meanwhile.
	ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]DueDelivery, error)
	UpdateDelivery(ctx context.Context, d WebhookDelivery) error

	// ClaimJob marks the periodic job name as run at now, next due at
	// next, if it was due at now; ok is false when it was not due (another
	// replica, or an earlier leader, has run it).
	ClaimJob(ctx context.Context, name string, now, next time.Time) (ok bool, err error)
}
