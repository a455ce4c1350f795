package manager

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
)

// CreateDeposit puts licenses of one type into a VA.
func (m *Manager) CreateDeposit(ctx context.Context, saKey, vaKey string, in smartlic.DepositInput) (d smartlic.Deposit, err error) {
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, va, err := m.getVAAs(ctx, tx, PermDeposit, saKey, vaKey)
		if err != nil {
			return err
		}
		lt, err := getLicenseType(ctx, tx, in.License, "license")
		if err != nil {
			return err
		}
		d = smartlic.Deposit{
			ID: newID(), VirtualAccountID: va.ID, OrderNumber: in.OrderNumber,
			LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: in.Quantity,
			StartsAt: now, CreatedAt: now,
		}
		if in.StartsAt != nil {
			d.StartsAt = in.StartsAt.UTC()
		}
		switch {
		case lt.Term == smartlic.TermSubscription && in.EndsAt == nil:
			return smartlic.Invalid("ends_at", "is required: %q is a subscription license", lt.Tag)
		case lt.Term == smartlic.TermPerpetual && in.EndsAt != nil:
			return smartlic.Invalid("ends_at", "must not be set: %q is a perpetual license", lt.Tag)
		case in.EndsAt != nil:
			end := in.EndsAt.UTC()
			d.EndsAt = &end
		}
		if err := d.Validate(); err != nil {
			return err
		}
		if err := tx.InsertDeposit(ctx, d); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "deposit.created", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: d.ID,
			Message: fmt.Sprintf("%d × %s deposited into %q (order %s)", d.Quantity, d.LicenseTag, va.Name, d.OrderNumber), After: eventData(d)})
	})
	return d, err
}

// ListDeposits lists a VA's deposits.
func (m *Manager) ListDeposits(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Deposit, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.Deposit
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, va, err := m.getVAAs(ctx, tx, PermLicenseView, saKey, vaKey)
		if err != nil {
			return err
		}
		out, err = tx.ListDeposits(ctx, va.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(d smartlic.Deposit) string { return d.ID })
	return out, next, err
}

// ListPools shows a VA's pools, optionally rolled up over its descendants.
// It reads counters and deposits, never instances, so it costs the same
// with ten instances or a hundred thousand.
func (m *Manager) ListPools(ctx context.Context, saKey, vaKey string, rollup bool) (pools []smartlic.Pool, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		pools, err = m.view(ctx, tx, saKey, vaKey, rollup)
		pools = slices.Clone(pools) // the caller's to sort or change
		return err
	})
	return pools, err
}

// ListAccountPools shows the whole Smart Account, one row per license type.
func (m *Manager) ListAccountPools(ctx context.Context, saKey string) (pools []smartlic.Pool, err error) {
	return m.ListPools(ctx, saKey, "", false)
}

// view computes every row of a license view: the whole Smart Account (one
// row per license type) when vaKey is empty, else one VA's pools, rolled
// up over its descendants when rollup is set. It runs a fixed number of
// queries, however many license types the rows hold, and none but the
// authorisation and two chain heads while the view is kept unchanged
// (viewcache.go). The slice is shared: callers must not modify it.
func (m *Manager) view(ctx context.Context, tx smartlic.Tx, saKey, vaKey string, rollup bool) ([]smartlic.Pool, error) {
	if vaKey == "" {
		sa, err := m.getSAAs(ctx, tx, PermLicenseView, saKey)
		if err != nil {
			return nil, err
		}
		all, err := tx.AllVirtualAccounts(ctx, sa.ID)
		if err != nil {
			return nil, err
		}
		// An account-wide row belongs to no single VA.
		pools, err := m.keptPools(ctx, tx, viewKey{sa: sa.ID}, idsOf(all), &smartlic.Rollup{Names: vaNames(all)})
		return m.withOverdue(ctx, tx, sa.ID, idsOf(all), pools, err)
	}
	sa, va, err := m.getVAAs(ctx, tx, PermLicenseView, saKey, vaKey)
	if err != nil {
		return nil, err
	}
	if !rollup {
		pools, err := m.keptPools(ctx, tx, viewKey{sa: sa.ID, va: va.ID}, []string{va.ID}, nil)
		return m.withOverdue(ctx, tx, sa.ID, []string{va.ID}, pools, err)
	}
	all, err := tx.AllVirtualAccounts(ctx, sa.ID)
	if err != nil {
		return nil, err
	}
	sub := idsOf(newVATree(all).subtree(va.ID))
	pools, err := m.keptPools(ctx, tx, viewKey{sa: sa.ID, va: va.ID, rollup: true}, sub, &smartlic.Rollup{To: va.ID, Names: vaNames(all)})
	return m.withOverdue(ctx, tx, sa.ID, sub, pools, err)
}

// pools computes the pools of vaIDs afresh.
func (m *Manager) pools(ctx context.Context, tx smartlic.Tx, vaIDs []string, rollup *smartlic.Rollup) ([]smartlic.Pool, error) {
	pools, _, err := m.computePools(ctx, tx, vaIDs, rollup, m.clock.Now())
	return pools, err
}

// computePools reads the counters, deposits and license types of vaIDs and
// computes their pools at now, and when time alone will change them (see
// smartlic.PoolsChangeAt).
func (m *Manager) computePools(ctx context.Context, tx smartlic.Tx, vaIDs []string, rollup *smartlic.Rollup, now time.Time) ([]smartlic.Pool, time.Time, error) {
	counters, err := tx.PoolCountersOf(ctx, vaIDs)
	if err != nil {
		return nil, time.Time{}, err
	}
	deposits, err := tx.DepositsOf(ctx, vaIDs)
	if err != nil {
		return nil, time.Time{}, err
	}
	types, err := licenseTypesOf(ctx, tx, vaIDs)
	if err != nil {
		return nil, time.Time{}, err
	}
	return smartlic.ComputePools(now, types, counters, deposits, rollup), smartlic.PoolsChangeAt(now, deposits), nil
}

func idsOf(vas []smartlic.VirtualAccount) []string {
	ids := make([]string, len(vas))
	for i, v := range vas {
		ids[i] = v.ID
	}
	return ids
}

func getLicenseType(ctx context.Context, tx smartlic.Tx, key, field string) (smartlic.LicenseType, error) {
	if key == "" {
		return smartlic.LicenseType{}, smartlic.Invalid(field, "a license type tag is required")
	}
	lt, err := tx.GetLicenseType(ctx, key)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return lt, smartlic.Invalid(field, "unknown license type %q", key)
	}
	return lt, err
}
