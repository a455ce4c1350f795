package cli

import (
	"runtime/debug"
)

// The server's garbage collector. With Go's default (GOGC=100) the
// collector ran after every few hundred usage reports: a server's live heap
// is small (tens of MiB) and each request allocates its body, its parsed
// reports and its answer, so a sixth of the CPU of an online exchange of
// ten reports went to collection. GOGC=400 lets the heap grow to five
// times what is live before collecting; the soft memory limit makes the
// collector run sooner instead whenever that would pass serveMemoryLimit,
// so a server on a large database (whose live heap is larger) stays
// within its memory budget. An operator's GOGC or GOMEMLIMIT, which the Go
// runtime has already applied, wins over either.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 96 << 20
)

// tuneGC applies the server's collector settings that the environment does
// not set.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
