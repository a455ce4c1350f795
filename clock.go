package smartlic

import (
	"sync"
	"time"
)

// Clock tells the time. Every timer in licensing (30-day renewals, 90-day
// expiry, 365-day certificates) reads it, so tests move time instead of
// waiting for it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC() }

// FakeClock is a Clock that moves only when told to. Safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock set to t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t.UTC()} }

func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

// Day is the unit every licensing timer is expressed in.
const Day = 24 * time.Hour

// OffsetClock is the wall clock moved by Offset, in UTC. It lets a demo or
// a trial see what a deadline does (a report overdue, a token expired)
// without waiting for it (smartlic serve --clock-offset): the manager and
// its devices must then be moved alike, or signed times look forged.
type OffsetClock struct{ Offset time.Duration }

func (c OffsetClock) Now() time.Time { return time.Now().UTC().Add(c.Offset) }
