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
// severity: insufficient, expired, expiring, in compliance. rollupTo, when
// non-empty, attributes every row to that VA id (a parent's rolled-up view).
func ComputePools(now time.Time, types map[string]LicenseType, counters []PoolCounter, deposits []Deposit, rollupTo string) []Pool {
	type key struct{ va, lt string }
	type acc struct {
		pool       Pool
		anyDeposit bool
		nextExpiry *time.Time
	}
	rows := map[key]*acc{}
	get := func(va, lt string) *acc {
		if rollupTo != "" {
			va = rollupTo
		}
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
		if d.EndsAt != nil && (a.nextExpiry == nil || d.EndsAt.Before(*a.nextExpiry)) {
			e := *d.EndsAt
			a.nextExpiry = &e
		}
	}
	out := make([]Pool, 0, len(rows))
	for _, a := range rows {
		p := a.pool
		if p.InUse == 0 && p.Purchased == 0 && !a.anyDeposit {
			continue // a counter that went back to zero with nothing ever deposited
		}
		p.Available = p.Purchased - p.InUse
		if p.Available < 0 {
			p.Overage = -p.Available
		}
		p.NextExpiry = a.nextExpiry
		switch {
		case p.InUse > p.Purchased:
			p.Status = Insufficient
		case p.Purchased == 0 && a.anyDeposit:
			p.Status = Expired
		case p.NextExpiry != nil && p.NextExpiry.Sub(now) <= ExpiringWindow:
			p.Status = Expiring
		default:
			p.Status = InCompliance
		}
		out = append(out, p)
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
