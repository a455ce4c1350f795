package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// profiled runs fn, the timed phase, under a CPU profile written to path
// (no profile when path is empty). Server and load share the process, so
// the profile holds both; handlers carry the label side=server and load
// workers side=client:
//
//	go tool pprof -top -tagfocus=side=server FILE
func profiled(path string, log io.Writer, fn func() error) (err error) {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	defer func() {
		pprof.StopCPUProfile()
		err = errors.Join(err, f.Close())
		if err == nil {
			fmt.Fprintf(log, "CPU profile of the timed phase written to %s (server side: go tool pprof -top -tagfocus=side=server %s)\n", path, path)
		}
	}()
	return fn()
}
