package smartlic

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Reports answer what a licensing team asks at audit and renewal time:
// usage per Virtual Account at a moment, true-up (peak consumption above
// what was purchased over a period), subscriptions about to end, and the
// product instances with their authorization. Each has a JSON shape and a
// Table, the rows CSV and the CLI's tables are made of.

// Table is a report as text: a header and rows of the same width.
type Table struct {
	Header []string
	Rows   [][]string
}

// UsageQuery asks for usage at a moment (now when At is nil), of one VA or
// every VA of the Smart Account.
type UsageQuery struct {
	VA string     `json:"va,omitempty"`
	At *time.Time `json:"at,omitempty"`
}

// UsageRow is one pool at the report's moment.
type UsageRow struct {
	VirtualAccountID string     `json:"virtual_account_id"`
	VirtualAccount   string     `json:"virtual_account"`
	LicenseTag       string     `json:"license_tag"`
	LicenseName      string     `json:"license_name"`
	Purchased        int64      `json:"purchased"`
	InUse            int64      `json:"in_use"`
	Reserved         int64      `json:"reserved"` // held by reservations (SLR) for air-gapped instances
	Available        int64      `json:"available"`
	Overage          int64      `json:"overage"`
	Status           PoolStatus `json:"status"`
}

// UsageReport is license usage per Virtual Account at a moment. Purchased
// counts the deposits (orders, agreements, transfers) active then; in use
// is the pool counter as it stood then, from the pool history.
type UsageReport struct {
	At    time.Time  `json:"at"`
	Items []UsageRow `json:"items"`
}

// Table returns the report's rows.
func (r UsageReport) Table() Table {
	t := Table{Header: []string{"virtual_account", "license", "purchased", "in_use", "reserved", "available", "overage", "status"}}
	for _, u := range r.Items {
		t.Rows = append(t.Rows, []string{u.VirtualAccount, u.LicenseTag, itoa(u.Purchased), itoa(u.InUse), itoa(u.Reserved), itoa(u.Available), itoa(u.Overage), string(u.Status)})
	}
	return t
}

// TrueUpQuery asks for the true-up of a period [From, To).
type TrueUpQuery struct {
	VA   string    `json:"va,omitempty"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// MaxReportPeriod bounds a true-up period.
const MaxReportPeriod = 10 * 366 * Day

// Validate checks the period.
func (q TrueUpQuery) Validate() error {
	if q.From.IsZero() {
		return Invalid("from", "is required")
	}
	if q.To.IsZero() {
		return Invalid("to", "is required")
	}
	if !q.To.After(q.From) {
		return Invalid("to", "must be after from")
	}
	if q.To.Sub(q.From) > MaxReportPeriod {
		return Invalid("to", "a report period is at most 10 years")
	}
	return nil
}

// TrueUpLine is one pool's peak over a period. PeakOverage is the most in
// use ever stood above purchased at one moment of the period: what a
// true-up bills.
type TrueUpLine struct {
	VirtualAccountID string     `json:"virtual_account_id"`
	VirtualAccount   string     `json:"virtual_account"`
	LicenseTypeID    string     `json:"license_type_id"`
	LicenseTag       string     `json:"license_tag"`
	Purchased        int64      `json:"purchased"` // at the end of the period
	PeakInUse        int64      `json:"peak_in_use"`
	PeakInUseAt      *time.Time `json:"peak_in_use_at,omitempty"`
	PeakOverage      int64      `json:"peak_overage"`
	PeakOverageAt    *time.Time `json:"peak_overage_at,omitempty"`
	PurchasedAtPeak  int64      `json:"purchased_at_peak"` // purchased when the overage peaked
}

// TrueUpReport is the true-up of a period.
type TrueUpReport struct {
	From  time.Time    `json:"from"`
	To    time.Time    `json:"to"`
	Items []TrueUpLine `json:"items"`
}

// Table returns the report's rows.
func (r TrueUpReport) Table() Table { return trueUpTable(r.Items) }

// Table returns the report's rows.
func (r TrueForward) Table() Table { return trueUpTable(r.Lines) }

func trueUpTable(lines []TrueUpLine) Table {
	t := Table{Header: []string{"virtual_account", "license", "purchased", "peak_in_use", "peak_in_use_at", "peak_overage", "peak_overage_at", "purchased_at_peak"}}
	for _, l := range lines {
		t.Rows = append(t.Rows, []string{l.VirtualAccount, l.LicenseTag, itoa(l.Purchased), itoa(l.PeakInUse), stamp(l.PeakInUseAt),
			itoa(l.PeakOverage), stamp(l.PeakOverageAt), itoa(l.PurchasedAtPeak)})
	}
	return t
}

// InUseChange is one entry of a pool's history: the in-use count after a
// change at At. Seq orders changes of the same microsecond.
type InUseChange struct {
	VirtualAccountID string
	LicenseTypeID    string
	At               time.Time
	Seq              int64
	InUse            int64
}

// MeasurePeak computes one pool's peaks over [from, to): start is the
// in-use count at from, changes the pool's history entries inside the
// period in order, deposits every deposit of the pool. The counts are
// evaluated at from and at every moment either changes: a history entry, a
// deposit starting or ending.
func MeasurePeak(from, to time.Time, start int64, changes []InUseChange, deposits []Deposit) TrueUpLine {
	moments := []time.Time{from}
	for _, c := range changes {
		moments = append(moments, c.At)
	}
	for _, d := range deposits {
		if d.StartsAt.After(from) && d.StartsAt.Before(to) {
			moments = append(moments, d.StartsAt)
		}
		if d.EndsAt != nil && d.EndsAt.After(from) && d.EndsAt.Before(to) {
			moments = append(moments, *d.EndsAt)
		}
	}
	sort.Slice(moments, func(i, j int) bool { return moments[i].Before(moments[j]) })
	purchasedAt := func(t time.Time) int64 {
		var n int64
		for _, d := range deposits {
			if d.ActiveAt(t) {
				n += d.Quantity
			}
		}
		return n
	}
	var line TrueUpLine
	inUse, next := start, 0
	first := true
	for i, t := range moments {
		if i > 0 && t.Equal(moments[i-1]) {
			continue
		}
		for next < len(changes) && !changes[next].At.After(t) {
			inUse = changes[next].InUse
			next++
		}
		purchased := purchasedAt(t)
		at := t
		if first || inUse > line.PeakInUse {
			line.PeakInUse, line.PeakInUseAt = inUse, &at
		}
		if over := inUse - purchased; over > 0 && over > line.PeakOverage {
			line.PeakOverage, line.PeakOverageAt, line.PurchasedAtPeak = over, &at, purchased
		}
		first = false
	}
	if line.PeakOverageAt == nil {
		line.PurchasedAtPeak = purchasedAt(from)
	}
	// Purchased at the end: the last moment inside the period.
	line.Purchased = purchasedAt(to.Add(-time.Microsecond))
	if line.PeakInUse == 0 {
		line.PeakInUseAt = nil
	}
	return line
}

// ExpiringQuery asks for subscriptions ending within Days days of now.
type ExpiringQuery struct {
	VA   string `json:"va,omitempty"`
	Days int    `json:"days"`
}

// ExpiringRow is licenses of one pool ending at one moment.
type ExpiringRow struct {
	VirtualAccountID string    `json:"virtual_account_id"`
	VirtualAccount   string    `json:"virtual_account"`
	LicenseTag       string    `json:"license_tag"`
	Quantity         int64     `json:"quantity"`
	EndsAt           time.Time `json:"ends_at"`
	DaysLeft         int       `json:"days_left"`
}

// ExpiringReport lists subscriptions that end within the window.
type ExpiringReport struct {
	At    time.Time     `json:"at"`
	Days  int           `json:"days"`
	Items []ExpiringRow `json:"items"`
}

// Table returns the report's rows.
func (r ExpiringReport) Table() Table {
	t := Table{Header: []string{"virtual_account", "license", "quantity", "ends_at", "days_left"}}
	for _, e := range r.Items {
		end := e.EndsAt
		t.Rows = append(t.Rows, []string{e.VirtualAccount, e.LicenseTag, itoa(e.Quantity), stamp(&end), strconv.Itoa(e.DaysLeft)})
	}
	return t
}

// InstancesQuery asks for the instances of one VA or the whole account.
type InstancesQuery struct {
	VA string `json:"va,omitempty"`
}

// MaxReportInstances bounds the instance report; a larger estate is listed
// page by page through the instances API.
const MaxReportInstances = 100_000

// InstanceRow is one product instance with its authorization.
type InstanceRow struct {
	VirtualAccountID string             `json:"virtual_account_id"`
	VirtualAccount   string             `json:"virtual_account"`
	ID               string             `json:"id"`
	UDI              string             `json:"udi"`
	Hostname         string             `json:"hostname"`
	Mode             InstanceMode       `json:"mode"`
	Authorization    AuthorizationState `json:"authorization"`
	LastContactAt    time.Time          `json:"last_contact_at"`
	AuthExpiresAt    *time.Time         `json:"auth_expires_at,omitempty"`
	Usage            []Usage            `json:"usage"`
}

// InstancesReport lists product instances.
type InstancesReport struct {
	At    time.Time     `json:"at"`
	Items []InstanceRow `json:"items"`
}

// Table returns the report's rows; usage is "tag=count/status" joined by ';'.
func (r InstancesReport) Table() Table {
	t := Table{Header: []string{"virtual_account", "udi", "hostname", "mode", "authorization", "last_contact_at", "auth_expires_at", "usage", "id"}}
	for _, i := range r.Items {
		var usage []string
		for _, u := range i.Usage {
			usage = append(usage, u.LicenseTag+"="+itoa(u.Count)+"/"+string(u.Status))
		}
		last := i.LastContactAt
		t.Rows = append(t.Rows, []string{i.VirtualAccount, i.UDI, i.Hostname, string(i.Mode), string(i.Authorization),
			stamp(&last), stamp(i.AuthExpiresAt), strings.Join(usage, ";"), i.ID})
	}
	return t
}

// ReportService answers reports. Every report is read-only.
type ReportService interface {
	AgreementService
	UsageReport(ctx context.Context, sa string, q UsageQuery) (UsageReport, error)
	TrueUpReport(ctx context.Context, sa string, q TrueUpQuery) (TrueUpReport, error)
	ExpiringReport(ctx context.Context, sa string, q ExpiringQuery) (ExpiringReport, error)
	InstancesReport(ctx context.Context, sa string, q InstancesQuery) (InstancesReport, error)
}

// ReportTx is the storage reports need. The pool history it reads is
// written by AddInUse, in the same transaction as the counter change.
type ReportTx interface {
	AgreementTx
	// InUseAt returns the in-use counters of the given VAs as they stood
	// at at (the last history entry at or before it), leaving out pools
	// with no history then.
	InUseAt(ctx context.Context, vaIDs []string, at time.Time) ([]PoolCounter, error)
	// InUseChanges returns the history entries of the given VAs with from <
	// At < to, ordered by VA, license type, At and Seq.
	InUseChanges(ctx context.Context, vaIDs []string, from, to time.Time) ([]InUseChange, error)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// stamp formats an optional instant for a table: RFC 3339 in UTC, or "".
func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
