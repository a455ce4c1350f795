package manager

import (
	"context"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
)

// License views are kept between changes. Computing one reads every pool
// counter, deposit and license type in its scope — tens of thousands of
// rows for an account with ten thousand license types — while reading it
// again, unchanged, should cost a lookup. A kept view is exact, not
// approximately fresh:
//
//   - Every change to what a view reads (usage, deposits, transfers,
//     reservations, SLACs, the VA tree) appends to the Smart Account's
//     event chain in the same transaction, and every change to the
//     catalogue to the vendor chain. A view is kept with the two chains'
//     head seqs it was computed at and used only while both are unchanged.
//     The heads are read before the rows, so a change committed between
//     the two reads makes the kept view look older than it is (computed
//     again next time), never newer.
//   - Time alone changes a view when a deposit starts or ends or a
//     subscription enters the expiring window; smartlic.PoolsChangeAt says
//     when, and the view is kept until then by the manager's clock.
//
// Replicas keep their own views and read the same heads, so a change made
// through one is seen by every other at its next read.

// maxKeptViews bounds how many views are kept; the least recently used
// goes first. A view of ten thousand license types is a few MiB.
const maxKeptViews = 64

type viewKey struct {
	sa, va string // va is empty for the account-wide view
	rollup bool
}

type keptView struct {
	seqs     [2]int64 // the account's and the vendor's chain heads
	at       time.Time
	until    time.Time // zero: no time-driven change ahead
	pools    []smartlic.Pool
	lastUsed uint64
}

type viewCache struct {
	mu    sync.Mutex
	views map[viewKey]*keptView
	tick  uint64
}

func (c *viewCache) get(k viewKey, seqs [2]int64, now time.Time) ([]smartlic.Pool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := c.views[k]
	if v == nil || v.seqs != seqs || now.Before(v.at) || (!v.until.IsZero() && !now.Before(v.until)) {
		return nil, false
	}
	c.tick++
	v.lastUsed = c.tick
	return v.pools, true
}

func (c *viewCache) put(k viewKey, v *keptView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.views == nil {
		c.views = map[viewKey]*keptView{}
	}
	if old := c.views[k]; old != nil && (old.seqs[0] > v.seqs[0] || old.seqs[1] > v.seqs[1]) {
		return // a concurrent read kept a newer one
	}
	c.tick++
	v.lastUsed = c.tick
	c.views[k] = v
	for len(c.views) > maxKeptViews {
		var oldest viewKey
		first := true
		for key, kv := range c.views {
			if first || kv.lastUsed < c.views[oldest].lastUsed {
				oldest, first = key, false
			}
		}
		delete(c.views, oldest)
	}
}

// keptPools is pools for the view k over vaIDs, kept as above. The slice
// is shared between readers: callers must not modify it.
func (m *Manager) keptPools(ctx context.Context, tx smartlic.Tx, k viewKey, vaIDs []string, rollup *smartlic.Rollup) ([]smartlic.Pool, error) {
	heads, err := tx.ChainSeqs(ctx, k.sa, smartlic.VendorChain)
	if err != nil {
		return nil, err
	}
	seqs := [2]int64{heads[0], heads[1]}
	now := m.clock.Now()
	if pools, ok := m.views.get(k, seqs, now); ok {
		return pools, nil
	}
	pools, until, err := m.computePools(ctx, tx, vaIDs, rollup, now)
	if err != nil {
		return nil, err
	}
	m.views.put(k, &keptView{seqs: seqs, at: now, until: until, pools: pools})
	return pools, nil
}
