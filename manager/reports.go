package manager

import (
	"context"
	"sort"
	"time"

	"github.com/smartlic/smartlic"
)

// reportScope resolves the Smart Account and the VAs a report covers: the
// one named, or every VA of the account, after checking the caller may
// view them.
func (m *Manager) reportScope(ctx context.Context, tx smartlic.Tx, saKey, vaKey string) (smartlic.SmartAccount, []smartlic.VirtualAccount, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return sa, nil, err
	}
	if vaKey != "" {
		va, err := getVAIn(ctx, tx, sa, vaKey, "va")
		if err != nil {
			return sa, nil, err
		}
		return sa, []smartlic.VirtualAccount{va}, m.authorize(ctx, tx, PermLicenseView, &sa, &va)
	}
	if err := m.authorize(ctx, tx, PermLicenseView, &sa, nil); err != nil {
		return sa, nil, err
	}
	vas, err := tx.AllVirtualAccounts(ctx, sa.ID)
	return sa, vas, err
}

// licenseTypesOf loads the license types that the pools and deposits of
// the VAs refer to, in one query whatever their number.
func licenseTypesOf(ctx context.Context, tx smartlic.Tx, vaIDs []string) (map[string]smartlic.LicenseType, error) {
	list, err := tx.LicenseTypesOf(ctx, vaIDs)
	if err != nil {
		return nil, err
	}
	types := make(map[string]smartlic.LicenseType, len(list))
	for _, lt := range list {
		types[lt.ID] = lt
	}
	return types, nil
}

func vaNames(vas []smartlic.VirtualAccount) map[string]string {
	names := make(map[string]string, len(vas))
	for _, v := range vas {
		names[v.ID] = v.Name
	}
	return names
}

// UsageReport shows every pool of the scope as it stood at q.At: purchased
// from the deposits active then, in use from the pool history.
func (m *Manager) UsageReport(ctx context.Context, saKey string, q smartlic.UsageQuery) (r smartlic.UsageReport, err error) {
	now := m.clock.Now()
	at := now
	if q.At != nil {
		at = q.At.UTC()
		if at.After(now) {
			return r, smartlic.Invalid("at", "must not be in the future (now is %s)", now.Format(time.RFC3339))
		}
	}
	r = smartlic.UsageReport{At: at, Items: []smartlic.UsageRow{}}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, vas, err := m.reportScope(ctx, tx, saKey, q.VA)
		if err != nil {
			return err
		}
		ids := idsOf(vas)
		counters, err := tx.InUseAt(ctx, ids, at)
		if err != nil {
			return err
		}
		all, err := tx.DepositsOf(ctx, ids)
		if err != nil {
			return err
		}
		// Deposits that start later did not exist for the pool then.
		var deposits []smartlic.Deposit
		for _, d := range all {
			if !d.StartsAt.After(at) {
				deposits = append(deposits, d)
			}
		}
		types, err := licenseTypesOf(ctx, tx, ids)
		if err != nil {
			return err
		}
		names := vaNames(vas)
		for _, p := range smartlic.ComputePools(at, types, counters, deposits, nil) {
			r.Items = append(r.Items, smartlic.UsageRow{
				VirtualAccountID: p.VirtualAccountID, VirtualAccount: names[p.VirtualAccountID], LicenseTag: p.LicenseTag,
				LicenseName: p.LicenseName, Purchased: p.Purchased, InUse: p.InUse, Reserved: p.Reserved, Available: p.Available, Overage: p.Overage, Status: p.Status,
			})
		}
		sortRows(r.Items, func(u smartlic.UsageRow) (string, string) { return u.VirtualAccount, u.LicenseTag })
		return nil
	})
	return r, err
}

// TrueUpReport measures, per pool, the peak in use and the peak of in use
// above purchased over [q.From, q.To) (cut at now: the future has no
// history yet).
func (m *Manager) TrueUpReport(ctx context.Context, saKey string, q smartlic.TrueUpQuery) (r smartlic.TrueUpReport, err error) {
	now := m.clock.Now()
	if !q.From.IsZero() && q.From.Before(now) && q.To.After(now) {
		q.To = now // the future has no history yet
	}
	if err := q.Validate(); err != nil {
		return r, err
	}
	from, to := q.From.UTC(), q.To.UTC()
	if !from.Before(now) {
		return r, smartlic.Invalid("from", "must be in the past (now is %s)", now.Format(time.RFC3339))
	}
	r = smartlic.TrueUpReport{From: from, To: to, Items: []smartlic.TrueUpLine{}}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, vas, err := m.reportScope(ctx, tx, saKey, q.VA)
		if err != nil {
			return err
		}
		r.Items, err = m.measure(ctx, tx, vas, from, to, nil)
		return err
	})
	return r, err
}

// measure computes the true-up lines of the given VAs over [from, to),
// for every license type or, when only is not nil, the ones it holds.
func (m *Manager) measure(ctx context.Context, tx smartlic.Tx, vas []smartlic.VirtualAccount, from, to time.Time, only map[string]bool) ([]smartlic.TrueUpLine, error) {
	ids := idsOf(vas)
	start, err := tx.InUseAt(ctx, ids, from)
	if err != nil {
		return nil, err
	}
	changes, err := tx.InUseChanges(ctx, ids, from, to)
	if err != nil {
		return nil, err
	}
	deposits, err := tx.DepositsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	type key struct{ va, lt string }
	type pool struct {
		start    int64
		changes  []smartlic.InUseChange
		deposits []smartlic.Deposit
	}
	pools := map[key]*pool{}
	get := func(va, lt string) *pool {
		k := key{va, lt}
		if pools[k] == nil {
			pools[k] = &pool{}
		}
		return pools[k]
	}
	for _, c := range start {
		get(c.VirtualAccountID, c.LicenseTypeID).start = c.InUse
	}
	for _, c := range changes {
		p := get(c.VirtualAccountID, c.LicenseTypeID)
		p.changes = append(p.changes, c)
	}
	for _, d := range deposits {
		p := get(d.VirtualAccountID, d.LicenseTypeID)
		p.deposits = append(p.deposits, d)
	}
	types, err := licenseTypesOf(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	names := vaNames(vas)
	lines := []smartlic.TrueUpLine{}
	for k, p := range pools {
		if only != nil && !only[k.lt] {
			continue
		}
		l := smartlic.MeasurePeak(from, to, p.start, p.changes, p.deposits)
		if l.PeakInUse == 0 && l.Purchased == 0 && l.PurchasedAtPeak == 0 && !overlaps(p.deposits, from, to) {
			continue // nothing of this pool in the period
		}
		l.VirtualAccountID, l.VirtualAccount, l.LicenseTypeID, l.LicenseTag = k.va, names[k.va], k.lt, types[k.lt].Tag
		lines = append(lines, l)
	}
	sortRows(lines, func(l smartlic.TrueUpLine) (string, string) { return l.VirtualAccount, l.LicenseTag })
	return lines, nil
}

func overlaps(deposits []smartlic.Deposit, from, to time.Time) bool {
	for _, d := range deposits {
		if d.StartsAt.Before(to) && (d.EndsAt == nil || d.EndsAt.After(from)) {
			return true
		}
	}
	return false
}

// ExpiringReport lists subscription licenses ending within q.Days days:
// per pool and end date, what is left of the deposits after transfers.
func (m *Manager) ExpiringReport(ctx context.Context, saKey string, q smartlic.ExpiringQuery) (r smartlic.ExpiringReport, err error) {
	if q.Days < 1 || q.Days > 3650 {
		return r, smartlic.Invalid("days", "must be between 1 and 3650 (got %d)", q.Days)
	}
	now := m.clock.Now()
	until := now.Add(time.Duration(q.Days) * smartlic.Day)
	r = smartlic.ExpiringReport{At: now, Days: q.Days, Items: []smartlic.ExpiringRow{}}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, vas, err := m.reportScope(ctx, tx, saKey, q.VA)
		if err != nil {
			return err
		}
		deposits, err := tx.DepositsOf(ctx, idsOf(vas))
		if err != nil {
			return err
		}
		type key struct {
			va, lt string
			end    int64
		}
		sums := map[key]*smartlic.ExpiringRow{}
		for _, d := range deposits {
			if d.EndsAt == nil || !d.ActiveAt(now) || d.EndsAt.After(until) {
				continue
			}
			k := key{d.VirtualAccountID, d.LicenseTypeID, d.EndsAt.UnixMicro()}
			if sums[k] == nil {
				sums[k] = &smartlic.ExpiringRow{VirtualAccountID: d.VirtualAccountID, LicenseTag: d.LicenseTag, EndsAt: *d.EndsAt,
					DaysLeft: smartlic.DaysLeft(now, *d.EndsAt)}
			}
			sums[k].Quantity += d.Quantity
		}
		names := vaNames(vas)
		for _, e := range sums {
			if e.Quantity <= 0 {
				continue // transferred away
			}
			e.VirtualAccount = names[e.VirtualAccountID]
			r.Items = append(r.Items, *e)
		}
		sort.Slice(r.Items, func(i, j int) bool {
			a, b := r.Items[i], r.Items[j]
			if !a.EndsAt.Equal(b.EndsAt) {
				return a.EndsAt.Before(b.EndsAt)
			}
			if a.VirtualAccount != b.VirtualAccount {
				return a.VirtualAccount < b.VirtualAccount
			}
			return a.LicenseTag < b.LicenseTag
		})
		return nil
	})
	return r, err
}

// InstancesReport lists the product instances of the scope with their
// authorization now.
func (m *Manager) InstancesReport(ctx context.Context, saKey string, q smartlic.InstancesQuery) (r smartlic.InstancesReport, err error) {
	now := m.clock.Now()
	r = smartlic.InstancesReport{At: now, Items: []smartlic.InstanceRow{}}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, vas, err := m.reportScope(ctx, tx, saKey, q.VA)
		if err != nil {
			return err
		}
		sort.Slice(vas, func(i, j int) bool { return vas[i].Name < vas[j].Name })
		for _, va := range vas {
			p := smartlic.Page{Limit: smartlic.MaxPageLimit}
			for {
				page, err := tx.ListInstances(ctx, va.ID, p)
				if err != nil {
					return err
				}
				for _, i := range page {
					r.Items = append(r.Items, smartlic.InstanceRow{
						VirtualAccountID: va.ID, VirtualAccount: va.Name, ID: i.ID, UDI: i.UDI.String(), Hostname: i.Hostname,
						Mode: i.Mode, Authorization: i.AuthorizationAt(now), LastContactAt: i.LastContactAt, AuthExpiresAt: i.AuthExpiresAt,
						Usage: i.Usage,
					})
				}
				if len(r.Items) > smartlic.MaxReportInstances {
					return smartlic.Invalid("va", "more than %d instances; report one Virtual Account at a time or page through the instances API", smartlic.MaxReportInstances)
				}
				if len(page) < p.Limit {
					break
				}
				p.After = page[len(page)-1].ID
			}
		}
		return nil
	})
	return r, err
}

// sortRows orders report rows by VA name, then license tag.
func sortRows[T any](rows []T, by func(T) (string, string)) {
	sort.SliceStable(rows, func(i, j int) bool {
		a1, a2 := by(rows[i])
		b1, b2 := by(rows[j])
		if a1 != b1 {
			return a1 < b1
		}
		return a2 < b2
	})
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
