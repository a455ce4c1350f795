package smartlic

import (
	"sort"
	"time"
)

// ExpiringWindow is how far ahead a subscription's end makes its pool
// "expiring".
const ExpiringWindow = 90 * Day

// Deposit is licenses entering a Virtual Account.
type Deposit struct {
	ID               string     `json:"id"`
	VirtualAccountID string     `json:"virtual_account_id"`
	OrderNumber      string     `json:"order_number"`
	LicenseTypeID    string     `json:"license_type_id"`
	LicenseTag       string     `json:"license_tag"`
	Quantity         int64      `json:"quantity"`
	StartsAt         time.Time  `json:"starts_at"`
	EndsAt           *time.Time `json:"ends_at,omitempty"` // nil for perpetual
	CreatedAt        time.Time  `json:"created_at"`
}

// ActiveAt reports whether the deposit counts as purchased at t.
func (d Deposit) ActiveAt(t time.Time) bool {
	if t.Before(d.StartsAt) {
		return false
	}
	return d.EndsAt == nil || t.Before(*d.EndsAt)
}

// PoolStatus is the compliance state of a pool. docs/reports.md defines
// each, and what they mean for a rolled-up or account-wide row.
type PoolStatus string

const (
	InCompliance PoolStatus = "in_compliance"
	Insufficient PoolStatus = "insufficient" // in use exceeds purchased
	Expiring     PoolStatus = "expiring"     // a subscription ends within 90 days
	Expired      PoolStatus = "expired"      // nothing held now, and licenses held here have ended
	// Empty: nothing held now and nothing ended here: every license was
	// transferred away, or the deposits start later.
	Empty PoolStatus = "empty"
)

// PoolStatuses are the statuses in order of severity, most severe first.
var PoolStatuses = []PoolStatus{Insufficient, Expired, Expiring, InCompliance, Empty}

// Pool is the licenses of one type in one Virtual Account (or, rolled up, in
// a VA and all its descendants).
type Pool struct {
	VirtualAccountID string      `json:"virtual_account_id"`
	LicenseTypeID    string      `json:"license_type_id"`
	LicenseTag       string      `json:"license_tag"`
	LicenseName      string      `json:"license_name"`
	Enforcement      Enforcement `json:"enforcement"`
	Purchased        int64       `json:"purchased"`
	InUse            int64       `json:"in_use"`
	// Reserved is held by reservations (SLR) for air-gapped instances:
	// consumed like licenses in use, but shown apart.
	Reserved  int64      `json:"reserved"`
	Available int64      `json:"available"` // purchased - in_use - reserved; negative means overage
	Overage   int64      `json:"overage"`   // max(0, in_use + reserved - purchased); rolled up, the sum of the VAs' overages
	Status    PoolStatus `json:"status"`
	// NextExpiry is the earliest end among the subscriptions held now, net
	// of transfers: a lot transferred away whole does not count.
	NextExpiry *time.Time `json:"next_expiry,omitempty"`
	// ShortVirtualAccounts names, in a rolled-up or account-wide row, the
	// Virtual Accounts whose own pool is insufficient: spare licenses in
	// other VAs do not cover them (an instance consumes from its own VA).
	ShortVirtualAccounts []string `json:"short_virtual_accounts,omitempty"`
	// OverdueInstances counts the instances under Using Policy that use
	// this license type and are overdue for reporting (set by license views).
	OverdueInstances int64 `json:"overdue_instances,omitempty"`
}

// PoolKey names one pool: a Virtual Account's licenses of one type.
type PoolKey struct {
	VirtualAccountID string
	LicenseTypeID    string
}

// PoolMove is a move of one pool's in-use counter by Delta, dated At.
type PoolMove struct {
	PoolKey
	Delta int64
	At    time.Time
}

// PoolCounter is the maintained in-use count of one VA × license type.
// InUse includes Reserved: the store counts reserved licenses in both, so
// that every check of what is available sees them.
type PoolCounter struct {
	VirtualAccountID string
	LicenseTypeID    string
	InUse            int64
	Reserved         int64
}

// Rollup asks ComputePools for one row per license type over all the VAs
// it is given.
type Rollup struct {
	// To is the VA id the rows are attributed to (a parent's rolled-up
	// view), or empty for account-wide rows that belong to no single VA.
	To string
	// Names maps VA ids to names, for ShortVirtualAccounts.
	Names map[string]string
}

// DaysLeft is how many days remain until end, a part of a day counting as
// a day: what alerts, reports and the portal show, so one deposit reads the
// same everywhere. It is 0 once end has passed.
func DaysLeft(now, end time.Time) int {
	left := end.Sub(now)
	if left <= 0 {
		return 0
	}
	return int((left + Day - 1) / Day)
}

// ComputePools builds the pools of the given counters and deposits at now:
// one row per VA and license type, or with rollup one row per license type.
// This is the one place pool numbers and statuses are computed.
//
// Per VA, purchased counts active deposits (transfers are deposit rows, so
// it is net of them), and the status is, in order of severity:
// insufficient (in use exceeds purchased), expired (nothing held now, and
// licenses held here ended), empty (nothing held now, nothing ended: all
// transferred away, or not started yet), expiring (a subscription held ends
// within 90 days), in compliance.
//
// Rolled up, the numbers are sums, but pools stay separate per VA (an
// instance consumes from its own VA), so the row keeps each VA's shortfall:
// Overage is the sum of the VAs' overages, ShortVirtualAccounts names the
// VAs that are insufficient, and the row is insufficient when any VA is,
// however many spare licenses other VAs have. Otherwise it is expired or
// empty when nothing is held in any of the VAs, expiring when the earliest
// expiry is within 90 days, and in compliance.
func ComputePools(now time.Time, types map[string]LicenseType, counters []PoolCounter, deposits []Deposit, rollup *Rollup) []Pool {
	type key struct{ va, lt string }
	type acc struct {
		pool       Pool
		anyDeposit bool
		ended      int64               // net quantity of lots that have ended
		lots       map[time.Time]int64 // active subscription lots by end, net of transfers
	}
	rows := map[key]*acc{}
	get := func(va, lt string) *acc {
		k := key{va, lt}
		a := rows[k]
		if a == nil {
			t := types[lt]
			a = &acc{pool: Pool{VirtualAccountID: va, LicenseTypeID: lt, LicenseTag: t.Tag, LicenseName: t.Name, Enforcement: t.Enforcement}, lots: map[time.Time]int64{}}
			rows[k] = a
		}
		return a
	}
	for _, c := range counters {
		p := &get(c.VirtualAccountID, c.LicenseTypeID).pool
		p.InUse += c.InUse - c.Reserved
		p.Reserved += c.Reserved
	}
	for _, d := range deposits {
		a := get(d.VirtualAccountID, d.LicenseTypeID)
		a.anyDeposit = true
		switch {
		case d.ActiveAt(now):
			a.pool.Purchased += d.Quantity
			if d.EndsAt != nil {
				a.lots[d.EndsAt.UTC()] += d.Quantity
			}
		case d.EndsAt != nil && !now.Before(*d.EndsAt):
			a.ended += d.Quantity
		}
	}
	status := func(p *Pool, ended bool) PoolStatus {
		switch {
		case p.InUse+p.Reserved > p.Purchased || len(p.ShortVirtualAccounts) > 0:
			return Insufficient
		case p.Purchased <= 0 && ended:
			return Expired
		case p.Purchased <= 0:
			return Empty
		case p.NextExpiry != nil && p.NextExpiry.Sub(now) <= ExpiringWindow:
			return Expiring
		}
		return InCompliance
	}
	var out []Pool
	for _, a := range rows {
		if a.pool.InUse == 0 && a.pool.Reserved == 0 && !a.anyDeposit {
			continue // a counter that went back to zero with nothing ever deposited
		}
		p := &a.pool
		p.Available = p.Purchased - p.InUse - p.Reserved
		p.Overage = max(0, p.InUse+p.Reserved-p.Purchased)
		for end, q := range a.lots {
			if q > 0 && (p.NextExpiry == nil || end.Before(*p.NextExpiry)) {
				e := end
				p.NextExpiry = &e
			}
		}
		p.Status = status(p, a.ended > 0)
		out = append(out, *p)
	}
	if rollup != nil {
		out = rollUp(out, rollup, status)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].VirtualAccountID != out[j].VirtualAccountID {
			return out[i].VirtualAccountID < out[j].VirtualAccountID
		}
		return out[i].LicenseTag < out[j].LicenseTag
	})
	return out
}

// PoolsChangeAt is the first instant after now at which ComputePools over
// these deposits would answer differently with nothing else changed: a
// deposit starts or ends, or a subscription enters the expiring window.
// It is the zero time when no such instant remains. A view computed at
// now stays exact until then, as long as no row it read changes.
func PoolsChangeAt(now time.Time, deposits []Deposit) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, d := range deposits {
		consider(d.StartsAt)
		if d.EndsAt != nil {
			consider(*d.EndsAt)
			consider(d.EndsAt.Add(-ExpiringWindow))
		}
	}
	return next
}

// rollUp adds per-VA pools up into one row per license type.
func rollUp(pools []Pool, r *Rollup, status func(*Pool, bool) PoolStatus) []Pool {
	merged := map[string]*Pool{}
	expired := map[string]bool{}
	var order []string
	for _, p := range pools {
		m := merged[p.LicenseTypeID]
		if m == nil {
			m = &Pool{VirtualAccountID: r.To, LicenseTypeID: p.LicenseTypeID, LicenseTag: p.LicenseTag, LicenseName: p.LicenseName, Enforcement: p.Enforcement}
			merged[p.LicenseTypeID] = m
			order = append(order, p.LicenseTypeID)
		}
		m.Purchased += p.Purchased
		m.InUse += p.InUse
		m.Reserved += p.Reserved
		m.Overage += p.Overage
		if e := p.NextExpiry; e != nil && (m.NextExpiry == nil || e.Before(*m.NextExpiry)) {
			m.NextExpiry = e
		}
		if p.Status == Insufficient {
			name := r.Names[p.VirtualAccountID]
			if name == "" {
				name = p.VirtualAccountID
			}
			m.ShortVirtualAccounts = append(m.ShortVirtualAccounts, name)
		}
		expired[p.LicenseTypeID] = expired[p.LicenseTypeID] || p.Status == Expired
	}
	out := make([]Pool, 0, len(merged))
	for _, lt := range order {
		m := merged[lt]
		sort.Strings(m.ShortVirtualAccounts)
		m.Available = m.Purchased - m.InUse - m.Reserved
		m.Status = status(m, expired[lt])
		out = append(out, *m)
	}
	return out
}

// Validate checks a deposit's own fields; the license type's term is
// checked by the manager.
func (d Deposit) Validate() error {
	if err := ValidateName("order_number", d.OrderNumber, 64); err != nil {
		return err
	}
	if d.Quantity <= 0 {
		return Invalid("quantity", "must be greater than 0 (got %d)", d.Quantity)
	}
	if d.Quantity > 1_000_000_000 {
		return Invalid("quantity", "must be at most 1000000000 (got %d)", d.Quantity)
	}
	if d.EndsAt != nil && !d.EndsAt.After(d.StartsAt) {
		return Invalid("ends_at", "must be after starts_at")
	}
	return nil
}
