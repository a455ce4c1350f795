package store

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// A drain that has just written a batch waits for lingerFor items before
// it writes the next, instead of writing the first that arrives alone; the
// first batch after a quiet spell is written at once.
func TestChainBatchesLinger(t *testing.T) {
	t.Parallel()
	var (
		mu      sync.Mutex
		batches [][]int
		ran     = make(chan struct{}, 10)
	)
	c := newChainBatches(100, func(chain string, batch []int) {
		mu.Lock()
		batches = append(batches, slices.Clone(batch))
		mu.Unlock()
		ran <- struct{}{}
	})
	// Long enough that only reaching lingerFor (or close) ends the wait.
	c.linger, c.lingerFor = time.Hour, 3
	c.add("chain", 1)
	<-ran // written alone, without waiting
	c.add("chain", 2)
	c.add("chain", 3)
	c.add("chain", 4)
	<-ran
	c.add("chain", 5) // fewer than lingerFor: close ends the wait
	c.close()
	mu.Lock()
	defer mu.Unlock()
	want := [][]int{{1}, {2, 3, 4}, {5}}
	if !slices.EqualFunc(batches, want, slices.Equal[[]int]) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
}
