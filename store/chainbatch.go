package store

import (
	"sync"
	"time"
)

// chainBatches is group commit per event chain, for PostgreSQL. Writes
// that append to one chain all lock its head row, so on PostgreSQL they
// run one after another however many connections there are, each holding
// the head (and whatever else it locked) through its COMMIT's WAL flush.
// Instead, each process keeps one queue per chain and one goroutine that
// drains it while it is not empty: it takes everything waiting (up to max)
// and hands it to run as one batch, which writes it in one transaction.
// While a batch is being written the next one gathers, so the batch size
// follows the load: one at a time when writes are rare, dozens per COMMIT
// under a rush. Other replicas have queues of their own; the head row's
// lock still orders their batches.
//
// There is no goroutine for a chain with nothing waiting.
type chainBatches[T any] struct {
	max int
	// run writes one batch and answers each of its items. It must not
	// panic: nothing would answer the items' callers.
	run func(chain string, batch []T)
	// linger, when set, is how long a drain that has just written a batch
	// waits for lingerFor items to gather before it takes what is there
	// (see drain). Zero writes whatever is waiting at once.
	linger    time.Duration
	lingerFor int

	mu      sync.Mutex
	waiting map[string][]T
	busy    map[string]bool          // a goroutine drains the chain
	gather  map[string]chan struct{} // closed when lingerFor items wait
	closed  bool
	wg      sync.WaitGroup
}

func newChainBatches[T any](max int, run func(chain string, batch []T)) *chainBatches[T] {
	return &chainBatches[T]{max: max, run: run, waiting: map[string][]T{}, busy: map[string]bool{}, gather: map[string]chan struct{}{}}
}

// add queues item for chain. It reports false after close: the item will
// not be written.
func (c *chainBatches[T]) add(chain string, item T) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.waiting[chain] = append(c.waiting[chain], item)
	if ch := c.gather[chain]; ch != nil && len(c.waiting[chain]) >= c.lingerFor {
		close(ch)
		delete(c.gather, chain)
	}
	if !c.busy[chain] {
		c.busy[chain] = true
		c.wg.Add(1)
		go c.drain(chain)
	}
	return true
}

// drain writes the chain's batches while items are waiting. With linger
// set, after each batch it waits up to linger for lingerFor items before
// taking the next, and for the first of them before it ends. Without it,
// 16 registrations in flight on SQLite were written mostly one at a time
// (2,506 of 3,447 batches held one): the drain ended whenever the queue
// was empty, and the next arrival went alone, paying a commit — a WAL
// frame for each of the twenty-odd pages one registration touches — that
// a batch of four shares four ways. The first batch after a quiet spell
// does not wait: a lone device is not slowed down.
func (c *chainBatches[T]) drain(chain string) {
	defer c.wg.Done()
	var timer *time.Timer
	for lingered := false; ; lingered = c.linger > 0 {
		c.mu.Lock()
		if lingered && len(c.waiting[chain]) < c.lingerFor && !c.closed {
			ch := make(chan struct{})
			c.gather[chain] = ch
			c.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(c.linger)
			} else {
				timer.Reset(c.linger)
			}
			select {
			case <-ch:
				timer.Stop()
			case <-timer.C:
			}
			c.mu.Lock()
			delete(c.gather, chain)
		}
		items := c.waiting[chain]
		if len(items) == 0 {
			delete(c.waiting, chain)
			delete(c.busy, chain)
			c.mu.Unlock()
			return
		}
		n := min(len(items), c.max)
		batch := items[:n:n]
		if n == len(items) {
			delete(c.waiting, chain)
		} else {
			c.waiting[chain] = items[n:]
		}
		c.mu.Unlock()
		c.run(chain, batch)
	}
}

// close refuses new items and waits until every queued one is written.
func (c *chainBatches[T]) close() {
	c.mu.Lock()
	c.closed = true
	for chain, ch := range c.gather { // lingering drains write what they have
		close(ch)
		delete(c.gather, chain)
	}
	c.mu.Unlock()
	c.wg.Wait()
}
