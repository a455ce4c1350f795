package agent_test

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// TestClockRollback: the clock set back does not give back evaluation time
// or push an authorization's expiry out; the status reports the rollback,
// and it clears once the clock catches up with the checkpoint.
func TestClockRollback(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	a, err := agent.New(agent.Options{Server: "http://127.0.0.1:1", Clock: clock, Store: agent.MemoryState(), UDI: testUDI})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * smartlic.Day)
	if err := a.SetUsage("network-advantage", 2); err != nil { // saves: the checkpoint moves
		t.Fatal(err)
	}
	before := a.Status()
	if before.ClockRollback != nil || before.Evaluation.DaysRemaining != 60 {
		t.Fatalf("before the rollback: %+v %+v", before.ClockRollback, before.Evaluation)
	}

	clock.Advance(-20 * smartlic.Day)
	st := a.Status()
	if st.ClockRollback == nil || !st.ClockRollback.Checkpoint.Equal(epoch.Add(30*smartlic.Day)) || !st.ClockRollback.Clock.Equal(clock.Now()) {
		t.Fatalf("rollback not reported: %+v", st.ClockRollback)
	}
	if st.Evaluation.RemainingSeconds != before.Evaluation.RemainingSeconds {
		t.Fatalf("evaluation remaining %d after the rollback, want %d (nothing given back)", st.Evaluation.RemainingSeconds, before.Evaluation.RemainingSeconds)
	}
	// Working while rolled back keeps the checkpoint, and so the timers.
	if err := a.SetUsage("network-advantage", 3); err != nil {
		t.Fatal(err)
	}
	if got := a.State().Checkpoint; !got.Equal(epoch.Add(30 * smartlic.Day)) {
		t.Fatalf("checkpoint %v moved back", got)
	}
	// A small NTP step back is not a rollback.
	clock.Set(epoch.Add(30*smartlic.Day - 30*time.Second))
	if st := a.Status(); st.ClockRollback != nil {
		t.Fatalf("a 30-second step reported as a rollback: %+v", st.ClockRollback)
	}
	// Caught up: time runs again from the checkpoint.
	clock.Set(epoch.Add(31 * smartlic.Day))
	if st := a.Status(); st.ClockRollback != nil || st.Evaluation.DaysRemaining != 59 {
		t.Fatalf("after catching up: %+v %+v", st.ClockRollback, st.Evaluation)
	}
	_ = agent.ModeEvaluation
}
