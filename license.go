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

// PoolStatus is the compliance state of a pool.
type PoolStatus string

const (
	InCompliance PoolStatus = "in_compliance"
	Insufficient PoolStatus = "insufficient" // in use exceeds purchased
	Expiring     PoolStatus = "expiring"     // a subscription ends within 90 days
	Expired      PoolStatus = "expired"      // everything deposited has ended
)

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
	Available        int64       `json:"available"` // purchased - in_use; negative means overage
	Overage          int64       `json:"overage"`   // max(0, in_use - purchased)
	Status           PoolStatus  `json:"status"`
	NextExpiry       *time.Time  `json:"next_expiry,omitempty"` // earliest end among active subscriptions
}

// PoolCounter is the maintained in-use count of one VA × license type.
type PoolCounter struct {
	VirtualAccountID string
	LicenseTypeID    string
	InUse            int64
}

// ComputePools builds the pools of the given counters and deposits at now.
// Purchased counts active deposits only; status follows, in order of
// severity: insufficient, expired, expiring, in compliance.
//
// rollupTo, when non-empty, adds every VA's pools up into one row per
// license type attributed to that VA id (a parent's rolled-up view). Pools
// are separate per VA (an instance consumes from its own VA), so a rolled-up
// row keeps the shortfall of each VA: Overage is the sum of the per-VA
// overages and the row is insufficient when any VA is, even if spare
// licenses elsewhere make the totals look fine.
func ComputePools(now time.Time, types map[string]LicenseType, counters []PoolCounter, deposits []Deposit, rollupTo string) []Pool {
	type key struct{ va, lt string }
	type acc struct {
		pool       Pool
		anyDeposit bool
	}
	rows := map[key]*acc{}
	get := func(va, lt string) *acc {
		k := key{va, lt}
		a := rows[k]
		if a == nil {
			t := types[lt]
			a = &acc{pool: Pool{VirtualAccountID: va, LicenseTypeID: lt, LicenseTag: t.Tag, LicenseName: t.Name, Enforcement: t.Enforcement}}
			rows[k] = a
		}
		return a
	}
	for _, c := range counters {
		get(c.VirtualAccountID, c.LicenseTypeID).pool.InUse += c.InUse
	}
	for _, d := range deposits {
		a := get(d.VirtualAccountID, d.LicenseTypeID)
		a.anyDeposit = true
		if !d.ActiveAt(now) {
			continue
		}
		a.pool.Purchased += d.Quantity
		if d.EndsAt != nil && (a.pool.NextExpiry == nil || d.EndsAt.Before(*a.pool.NextExpiry)) {
			e := *d.EndsAt
			a.pool.NextExpiry = &e
		}
	}
	settle := func(a *acc) {
		p := &a.pool
		p.Available = p.Purchased - p.InUse
		switch {
		case p.InUse > p.Purchased || p.Overage > 0:
			p.Status = Insufficient
		case p.Purchased == 0 && a.anyDeposit:
			p.Status = Expired
		case p.NextExpiry != nil && p.NextExpiry.Sub(now) <= ExpiringWindow:
			p.Status = Expiring
		default:
			p.Status = InCompliance
		}
	}
	if rollupTo != "" {
		merged := map[key]*acc{}
		for _, a := range rows {
			if a.pool.InUse > a.pool.Purchased {
				a.pool.Overage = a.pool.InUse - a.pool.Purchased
			}
			k := key{rollupTo, a.pool.LicenseTypeID}
			m := merged[k]
			if m == nil {
				m = &acc{pool: a.pool}
				m.pool.VirtualAccountID, m.pool.Purchased, m.pool.InUse, m.pool.Overage, m.pool.NextExpiry = rollupTo, 0, 0, 0, nil
				merged[k] = m
			}
			m.anyDeposit = m.anyDeposit || a.anyDeposit
			m.pool.Purchased += a.pool.Purchased
			m.pool.InUse += a.pool.InUse
			m.pool.Overage += a.pool.Overage
			if e := a.pool.NextExpiry; e != nil && (m.pool.NextExpiry == nil || e.Before(*m.pool.NextExpiry)) {
				m.pool.NextExpiry = e
			}
		}
		rows = merged
	}
	out := make([]Pool, 0, len(rows))
	for _, a := range rows {
		if a.pool.InUse == 0 && a.pool.Purchased == 0 && !a.anyDeposit {
			continue // a counter that went back to zero with nothing ever deposited
		}
		if rollupTo == "" && a.pool.InUse > a.pool.Purchased {
			a.pool.Overage = a.pool.InUse - a.pool.Purchased
		}
		settle(a)
		out = append(out, a.pool)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].VirtualAccountID != out[j].VirtualAccountID {
			return out[i].VirtualAccountID < out[j].VirtualAccountID
		}
		return out[i].LicenseTag < out[j].LicenseTag
	})
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
