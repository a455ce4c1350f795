package manager

import (
	"context"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
)

// poolLedger is a write transaction whose pool counters move in memory
// and reach the store once per pool, at flush. One ingestion of a
// thousand instances that share three pools writes three counters and
// three history rows, not three thousand of each; what it checks along
// the way (PoolStateOf, for an enforced license's "is there room") sees
// every move made so far, exactly as if each had been written.
//
// The usage lines of the instances given to holdUsage wait for flush
// too, which writes only the lines that changed, of all of them together
// (ChangeUsage): replacing each instance's lines cost two statements per
// instance and rewrote lines that had not changed. Nothing in an
// ingestion reads those lines back before flush.
//
// Only one caller may use a ledger, and only inside the transaction it
// wraps; a flush that fails leaves the transaction to be rolled back.
type poolLedger struct {
	smartlic.Tx
	pools map[smartlic.PoolKey]*ledgerPool
	usage map[string]*usageHeld // by instance id
	held  []*usageHeld          // in the order holdUsage saw them
}

// usageHeld is an instance's usage lines as read and as SetUsage left them.
type usageHeld struct {
	smartlic.UsageChange
	set bool
}

type ledgerPool struct {
	read     bool               // deposits and counter read from the store
	deposits []smartlic.Deposit // as read
	counter  smartlic.PoolCounter
	moved    int64 // in use added since the read (or before it)
	at       time.Time
}

func newPoolLedger(tx smartlic.Tx) *poolLedger {
	return &poolLedger{Tx: tx, pools: map[smartlic.PoolKey]*ledgerPool{}, usage: map[string]*usageHeld{}}
}

// holdUsage defers SetUsage of inst to flush; inst.Usage must be its
// lines as stored (read in this transaction, under its lock).
func (l *poolLedger) holdUsage(inst smartlic.Instance) {
	h := &usageHeld{UsageChange: smartlic.UsageChange{InstanceID: inst.ID, Before: inst.Usage}}
	l.usage[inst.ID] = h
	l.held = append(l.held, h)
}

// SetUsage records the lines of a held instance for flush; any other
// instance's are written now.
func (l *poolLedger) SetUsage(ctx context.Context, instanceID string, usage []smartlic.Usage) error {
	h := l.usage[instanceID]
	if h == nil {
		return l.Tx.SetUsage(ctx, instanceID, usage)
	}
	h.After, h.set = slices.Clone(usage), true
	return nil
}

func (l *poolLedger) pool(va, lt string) *ledgerPool {
	k := smartlic.PoolKey{VirtualAccountID: va, LicenseTypeID: lt}
	p := l.pools[k]
	if p == nil {
		p = &ledgerPool{counter: smartlic.PoolCounter{VirtualAccountID: va, LicenseTypeID: lt}}
		l.pools[k] = p
	}
	return p
}

// seed gives the ledger pools as the store answered them under their
// locks (LockPoolStates): each counter's pool counts as read, with the
// deposits of it among deposits.
func (l *poolLedger) seed(deposits []smartlic.Deposit, counters []smartlic.PoolCounter) {
	for _, c := range counters {
		p := l.pool(c.VirtualAccountID, c.LicenseTypeID)
		p.read, p.counter = true, c
	}
	for _, d := range deposits {
		if p := l.pool(d.VirtualAccountID, d.LicenseTypeID); p.read {
			p.deposits = append(p.deposits, d)
		}
	}
}

// AddInUse records the move; flush writes it.
func (l *poolLedger) AddInUse(_ context.Context, vaID, licenseTypeID string, delta int64, at time.Time) error {
	p := l.pool(vaID, licenseTypeID)
	p.moved += delta
	if at.After(p.at) {
		p.at = at
	}
	return nil
}

// PoolStateOf reads each pool from the store once and answers its
// counter with the moves not yet written.
func (l *poolLedger) PoolStateOf(ctx context.Context, vaID string, typeIDs []string) ([]smartlic.Deposit, []smartlic.PoolCounter, error) {
	var unread []string
	for _, lt := range typeIDs {
		if !l.pool(vaID, lt).read {
			unread = append(unread, lt)
		}
	}
	if len(unread) > 0 {
		deposits, counters, err := l.Tx.PoolStateOf(ctx, vaID, unread)
		if err != nil {
			return nil, nil, err
		}
		for _, lt := range unread {
			l.pool(vaID, lt).read = true
		}
		for _, d := range deposits {
			p := l.pool(vaID, d.LicenseTypeID)
			p.deposits = append(p.deposits, d)
		}
		for _, c := range counters {
			l.pool(vaID, c.LicenseTypeID).counter = c
		}
	}
	var deposits []smartlic.Deposit
	var counters []smartlic.PoolCounter
	for _, lt := range typeIDs {
		p := l.pool(vaID, lt)
		deposits = append(deposits, p.deposits...)
		c := p.counter
		c.InUse += p.moved
		counters = append(counters, c)
	}
	return deposits, counters, nil
}

// flush writes the held instances' usage lines, then every pool's moves:
// one counter update (and history row) per pool, all pools' in a few
// statements (AddInUseAll), in (Virtual Account, license type) order like
// every other write that moves several pools.
func (l *poolLedger) flush(ctx context.Context) error {
	var changes []smartlic.UsageChange
	for _, h := range l.held {
		if h.set {
			changes = append(changes, h.UsageChange)
		}
	}
	if len(changes) > 0 {
		if err := l.Tx.ChangeUsage(ctx, changes); err != nil {
			return err
		}
	}
	l.usage, l.held = map[string]*usageHeld{}, nil
	var moves []smartlic.PoolMove
	for k, p := range l.pools {
		if p.moved != 0 {
			moves = append(moves, smartlic.PoolMove{PoolKey: k, Delta: p.moved, At: p.at})
		}
	}
	if len(moves) == 0 {
		return nil
	}
	if err := l.Tx.AddInUseAll(ctx, moves); err != nil { // in (VA, license type) order
		return err
	}
	for _, p := range l.pools {
		p.counter.InUse += p.moved
		p.moved = 0
	}
	return nil
}
