package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serveExternally starts the smartlic binary at path as `smartlic serve`
// on the run's database (seeded already, in-process) and points the load
// at it instead of at the in-process server, so that what is measured is
// the real binary with its request log, portal and middleware, and the
// load generator no longer shares the server's process. stop ends the
// child; it must be called.
func (s *server) serveExternally(ctx context.Context, path string) (stop func() error, err error) {
	dir, err := os.MkdirTemp("", "smartlic-bench-serve-*")
	if err != nil {
		return nil, err
	}
	if s.secretKey == nil {
		// One key for every server started on this database: replicas
		// must share it, as they share a key file in production.
		s.secretKey = make([]byte, 32)
		rand.Read(s.secretKey)
	}
	key := s.secretKey
	keyFile := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(path, "serve", "--db", s.backend.dsn, "--addr", "127.0.0.1:0", "--secret-key-file", keyFile)
	cmd.Stderr = io.Discard // one log line per request: written, not shown
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s serve: %w", path, err)
	}
	s.childPIDs = append([]int{cmd.Process.Pid}, s.childPIDs...)
	exited := make(chan struct{}) // closed when waitErr is set
	var waitErr error
	stop = func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			err := waitErr
			os.RemoveAll(dir)
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled() {
				return nil // ended by the SIGTERM sent here
			}
			return err
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			os.RemoveAll(dir)
			return fmt.Errorf("%s serve did not stop within 15s of SIGTERM; killed", path)
		}
	}
	// The banner names the address; the rest of stdout is read and
	// dropped so that the child never blocks writing to it.
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), " listening on "); ok {
				if url, _, ok := strings.Cut(rest, " "); ok {
					select {
					case listening <- url:
					default:
					}
				}
			}
		}
		io.Copy(io.Discard, out)
		waitErr = cmd.Wait()
		close(exited)
	}()
	select {
	case url := <-listening:
		s.url = url
		return stop, nil
	case <-exited:
		err = errors.New("it exited before it listened (run it by hand to see why)")
	case <-time.After(60 * time.Second):
		err = errors.New("it printed no \"listening on\" line within 60s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	return nil, errors.Join(fmt.Errorf("starting %s serve: %w", path, err), stop())
}

// childCPU is the CPU time (user and system) the external servers have
// used so far, from /proc; ok is false when there is none or it cannot be
// read. Read before and after a run, it tells what the server spent per
// request whatever else the machine was doing, which throughput on a
// shared machine does not.
func (s *server) childCPU() (total time.Duration, ok bool) {
	if len(s.childPIDs) == 0 {
		return 0, false
	}
	for _, pid := range s.childPIDs {
		d, err := processCPU(pid)
		if err != nil {
			return 0, false
		}
		total += d
	}
	return total, true
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go runs on (the kernel's ABI, not its HZ).
const clockTicks = 100

// processCPU reads utime + stime of a process from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// the fields after its closing parenthesis start at field 3 (state).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime and stime, fields 14 and 15
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
