package manager

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/smartlic/smartlic"
)

// TestUsageCombinerRounds: two rounds run at once; requests that arrive
// while they run wait and go together into the next one, led by one of
// them; each gets its own answer; and a round that panics fails its own
// requests, not the combiner.
func TestUsageCombinerRounds(t *testing.T) {
	var c usageCombiner
	release := make(chan struct{})
	var mu sync.Mutex
	var rounds [][]string
	run := func(_ context.Context, round []*usageJob) {
		mu.Lock()
		held := len(rounds) < maxRounds
		var names []string
		for _, j := range round {
			names = append(names, j.file.Type)
		}
		rounds = append(rounds, names)
		mu.Unlock()
		if held {
			<-release
		}
		for _, j := range round {
			if j.file.Type == "boom" {
				panic("boom")
			}
		}
		for _, j := range round {
			j.ack = smartlic.AckFile{Type: "ack of " + j.file.Type}
			close(j.done)
		}
	}
	submit := func(name string) (smartlic.AckFile, error) {
		return c.submit(context.Background(), smartlic.UsageFile{Type: name}, run)
	}
	var wg sync.WaitGroup
	answers := make([]string, 32)
	waitFor := func(cond func() bool) {
		for {
			c.mu.Lock()
			ok := cond()
			c.mu.Unlock()
			if ok {
				return
			}
			runtime.Gosched()
		}
	}
	for i := range maxRounds {
		wg.Go(func() {
			ack, _ := submit(fmt.Sprint("job", i))
			answers[i] = ack.Type
		})
		waitFor(func() bool { return c.rounds == i+1 && len(c.pending) == 0 })
		// And its round has reached run: on a loaded machine the leader
		// may not have yet, and a later round would be listed before it.
		for {
			mu.Lock()
			n := len(rounds)
			mu.Unlock()
			if n == i+1 {
				break
			}
			runtime.Gosched()
		}
	}
	for i := maxRounds; i < len(answers); i++ {
		wg.Go(func() {
			ack, _ := submit(fmt.Sprint("job", i))
			answers[i] = ack.Type
		})
	}
	waitFor(func() bool { return len(c.pending) == len(answers)-maxRounds })
	close(release)
	wg.Wait()
	for i, a := range answers {
		if want := fmt.Sprint("ack of job", i); a != want {
			t.Errorf("answer %d: %q, want %q", i, a, want)
		}
	}
	if len(rounds) != 3 || len(rounds[0]) != 1 || len(rounds[1]) != 1 || len(rounds[2]) != len(answers)-maxRounds {
		t.Fatalf("rounds %v, want job0 and job1 alone and then the thirty that waited together", rounds)
	}
	if c.rounds != 0 || len(c.pending) != 0 {
		t.Fatalf("combiner left %d rounds running with %d pending", c.rounds, len(c.pending))
	}

	_, err := submit("boom")
	if smartlic.ErrorCode(err) != smartlic.EInternal {
		t.Fatalf("a round that panicked answered %v, want an internal error", err)
	}
	if ack, err := submit("after"); err != nil || ack.Type != "ack of after" {
		t.Fatalf("after a panic: %+v %v", ack, err)
	}
}
