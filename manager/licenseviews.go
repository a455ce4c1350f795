package manager

import (
	"context"

	"github.com/smartlic/smartlic"
)

// QueryPools shows one page of a license view (see view: the account when
// vaKey is empty, else a VA, rolled up with rollup), filtered and ordered
// by q, with the number of rows that match.
func (m *Manager) QueryPools(ctx context.Context, saKey, vaKey string, rollup bool, q smartlic.PoolQuery) (page smartlic.PoolPage, err error) {
	if q, err = q.Normalize(); err != nil {
		return page, err
	}
	var pools []smartlic.Pool
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		pools, err = m.view(ctx, tx, saKey, vaKey, rollup)
		return err
	})
	if err != nil {
		return page, err
	}
	return smartlic.PagePools(pools, q), nil
}

// SummarizePools counts the rows of a license view by status: what a
// dashboard shows without paging through every license type.
func (m *Manager) SummarizePools(ctx context.Context, saKey, vaKey string, rollup bool) (s smartlic.PoolSummary, err error) {
	var pools []smartlic.Pool
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		pools, err = m.view(ctx, tx, saKey, vaKey, rollup)
		return err
	})
	if err != nil {
		return s, err
	}
	return smartlic.SummarizePools(pools), nil
}
