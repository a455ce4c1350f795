package manager

import (
	"context"
	"time"

	"github.com/smartlic/smartlic"
)

var _ smartlic.HistoryService = (*Manager)(nil)

// LicenseHistory reads a license type's daily purchased and in-use counts
// from the pool history and the deposits of the scope (the whole Smart
// Account, or a VA and its descendants, as its dashboard and alerts
// count), and projects the trend of the last smartlic.TrendWindowDays.
func (m *Manager) LicenseHistory(ctx context.Context, saKey, license string, q smartlic.HistoryQuery) (h smartlic.LicenseHistory, err error) {
	if err := q.Validate(); err != nil {
		return h, err
	}
	days := q.Days
	if days == 0 {
		days = smartlic.DefaultHistoryDays
	}
	now := m.clock.Now().UTC()
	first := now.Truncate(smartlic.Day).Add(-time.Duration(days-1) * smartlic.Day)
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		var va *smartlic.VirtualAccount
		if q.VA != "" {
			v, err := getVAIn(ctx, tx, sa, q.VA, "va")
			if err != nil {
				return err
			}
			va = &v
		}
		if err := m.authorize(ctx, tx, PermLicenseView, &sa, va); err != nil {
			return err
		}
		lt, err := tx.GetLicenseType(ctx, license)
		if err != nil {
			return err
		}
		all, err := tx.AllVirtualAccounts(ctx, sa.ID)
		if err != nil {
			return err
		}
		vas := all
		if va != nil {
			vas = newVATree(all).subtree(va.ID)
			h.VirtualAccountID, h.VirtualAccount = va.ID, va.Name
		}
		ids := idsOf(vas)
		counters, err := tx.InUseAt(ctx, ids, first)
		if err != nil {
			return err
		}
		start := map[string]int64{}
		for _, c := range counters {
			if c.LicenseTypeID == lt.ID {
				start[c.VirtualAccountID] = c.InUse
			}
		}
		changes, err := tx.InUseChanges(ctx, ids, first, now.Add(time.Microsecond))
		if err != nil {
			return err
		}
		var mine []smartlic.InUseChange
		for _, c := range changes {
			if c.LicenseTypeID == lt.ID {
				mine = append(mine, c)
			}
		}
		deposits, err := tx.DepositsOf(ctx, ids)
		if err != nil {
			return err
		}
		var deps []smartlic.Deposit
		for _, d := range deposits {
			if d.LicenseTypeID == lt.ID {
				deps = append(deps, d)
			}
		}
		h.LicenseTag, h.LicenseName, h.From, h.At = lt.Tag, lt.Name, first, now
		h.Points = smartlic.DailyHistory(first, now, start, mine, deps)
		h.Projection = smartlic.ProjectUsage(h.Points, smartlic.TrendWindowDays)
		return nil
	})
	return h, err
}
