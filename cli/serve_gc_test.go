package cli

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTuneGC: the server's collector settings apply where the environment
// sets none, and an operator's GOGC or GOMEMLIMIT is left as the runtime
// read it. Not parallel: the settings are the process's.
func TestTuneGC(t *testing.T) {
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	read := func() (int, int64) {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p, debug.SetMemoryLimit(-1)
	}

	tuneGC(func(string) string { return "" })
	if p, l := read(); p != serveGCPercent || l != serveMemoryLimit {
		t.Errorf("no GOGC nor GOMEMLIMIT: GC percent %d, memory limit %d; want %d, %d", p, l, serveGCPercent, serveMemoryLimit)
	}

	debug.SetGCPercent(150)
	debug.SetMemoryLimit(1 << 30)
	tuneGC(func(k string) string { return map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}[k] })
	if p, l := read(); p != 150 || l != 1<<30 {
		t.Errorf("GOGC=150 GOMEMLIMIT=1GiB: GC percent %d, memory limit %d; want the environment's 150, 1 GiB", p, l)
	}

	debug.SetMemoryLimit(1 << 30)
	tuneGC(func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] })
	if p, l := read(); p != serveGCPercent || l != 1<<30 {
		t.Errorf("GOMEMLIMIT only: GC percent %d, memory limit %d; want %d and the environment's 1 GiB", p, l, serveGCPercent)
	}
}
