package store

import (
	"sync"
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

	mu      sync.Mutex
	waiting map[string][]T
	busy    map[string]bool // a goroutine drains the chain
	closed  bool
	wg      sync.WaitGroup
}

func newChainBatches[T any](max int, run func(chain string, batch []T)) *chainBatches[T] {
	return &chainBatches[T]{max: max, run: run, waiting: map[string][]T{}, busy: map[string]bool{}}
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
	if !c.busy[chain] {
		c.busy[chain] = true
		c.wg.Add(1)
		go c.drain(chain)
	}
	return true
}

func (c *chainBatches[T]) drain(chain string) {
	defer c.wg.Done()
	for {
		c.mu.Lock()
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
	c.mu.Unlock()
	c.wg.Wait()
}
