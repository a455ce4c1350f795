package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// load is N HTTP requests fired by a fixed number of workers.
type load struct {
	client      *http.Client
	concurrency int
	n           int
	// request returns request i, ready to send. Everything costly (keys,
	// signatures, JSON) is done before the run; this only wraps bytes.
	request func(ctx context.Context, i int) (*http.Request, error)
	// serverCPU, when set, reads the CPU time the server has used so far
	// (an external server's); the run reports what it spent in between.
	serverCPU func() (time.Duration, bool)
}

// loadResult is what each request got, by request index, and how long the
// whole run took.
type loadResult struct {
	elapsed   time.Duration
	latencies []time.Duration
	status    []int
	bodies    [][]byte
	errs      []error // transport errors; nil when an answer arrived
	// serverCPU is the server's CPU time during the run; 0 when unknown.
	serverCPU time.Duration
}

// maxAnswerBytes bounds what one answer may hold.
const maxAnswerBytes = 1 << 20

// run fires the requests. A request's latency runs from just before the
// client sends it to the last byte of the answer; answers are checked
// afterwards, so checking costs the server no CPU during the run. The run
// ends when every request has been answered or ctx is cancelled (then the
// error says so).
func (l load) run(ctx context.Context) (loadResult, error) {
	res := loadResult{
		latencies: make([]time.Duration, l.n),
		status:    make([]int, l.n),
		bodies:    make([][]byte, l.n),
		errs:      make([]error, l.n),
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var cpu0 time.Duration
	cpuKnown := false
	if l.serverCPU != nil {
		cpu0, cpuKnown = l.serverCPU()
	}
	start := time.Now()
	for range min(l.concurrency, l.n) {
		wg.Go(func() {
			pprof.Do(ctx, pprof.Labels("side", "client"), func(ctx context.Context) {
				for {
					i := int(next.Add(1) - 1)
					if i >= l.n || ctx.Err() != nil {
						return
					}
					l.one(ctx, i, &res)
				}
			})
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if cpuKnown {
		if cpu1, ok := l.serverCPU(); ok {
			res.serverCPU = cpu1 - cpu0
		}
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("run interrupted: %w", err)
	}
	return res, nil
}

func (l load) one(ctx context.Context, i int, res *loadResult) {
	req, err := l.request(ctx, i)
	if err != nil {
		res.errs[i] = err
		return
	}
	t0 := time.Now()
	resp, err := l.client.Do(req)
	if err == nil {
		res.status[i] = resp.StatusCode
		res.bodies[i], err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
		resp.Body.Close()
	}
	res.latencies[i] = time.Since(t0)
	res.errs[i] = err
}

// warmUp opens the keep-alive connections the load will use (GET /healthz
// from every worker at once), so that connection set-up is not counted as
// request latency.
func (s *server) warmUp(ctx context.Context, concurrency int) error {
	l := load{client: s.client, concurrency: concurrency, n: 4 * concurrency,
		request: func(ctx context.Context, _ int) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		}}
	res, err := l.run(ctx)
	if err != nil {
		return err
	}
	for i := range res.status {
		if res.errs[i] != nil || res.status[i] != http.StatusOK {
			return fmt.Errorf("warm-up: GET /healthz: status %d, %v", res.status[i], res.errs[i])
		}
	}
	return nil
}

// row is one line of a result table.
type row struct {
	what        string
	store       string
	n           int
	concurrency int
	elapsed     time.Duration
	p50, p90    time.Duration
	p99, max    time.Duration
	failures    int
	// serverCPU is what an external server spent in the run (0: unknown);
	// perOp divides it: the requests, or the reports they carried.
	serverCPU time.Duration
	perOp     int
}

// summarize turns a run into a row. Percentiles are nearest-rank over
// every request, failed ones included (a fast error is still a request
// the server answered, and it is reported as a failure besides).
func summarize(what, store string, concurrency int, res loadResult, failures int) row {
	lat := slices.Clone(res.latencies)
	slices.Sort(lat)
	return row{
		what: what, store: store, n: len(lat), concurrency: concurrency, elapsed: res.elapsed,
		p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: percentile(lat, 100),
		failures: failures, serverCPU: res.serverCPU, perOp: len(lat),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

func (r row) throughput() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

// printTable writes rows as a plain-text table.
func printTable(w io.Writer, rows []row) {
	head := []string{"what", "store", "N", "concurrency", "throughput/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failures"}
	cpu := slices.ContainsFunc(rows, func(r row) bool { return r.serverCPU > 0 })
	if cpu {
		// What the server process spent per operation and how many of the
		// two cores it kept busy: on a shared machine the steadier figure.
		head = append(head, "server CPU µs/op", "server cores")
	}
	cells := [][]string{head}
	for _, r := range rows {
		line := []string{r.what, r.store, strconv.Itoa(r.n), strconv.Itoa(r.concurrency),
			fmt.Sprintf("%.0f", r.throughput()), ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max), strconv.Itoa(r.failures)}
		if cpu {
			line = append(line, "?", "?")
			if r.serverCPU > 0 && r.perOp > 0 && r.elapsed > 0 {
				line[len(line)-2] = fmt.Sprintf("%.0f", float64(r.serverCPU.Microseconds())/float64(r.perOp))
				line[len(line)-1] = fmt.Sprintf("%.2f", r.serverCPU.Seconds()/r.elapsed.Seconds())
			}
		}
		cells = append(cells, line)
	}
	writeCells(w, cells, 2)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// writeCells prints a table with its first left columns aligned left and
// the numbers aligned right.
func writeCells(w io.Writer, cells [][]string, left int) {
	widths := make([]int, len(cells[0]))
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, line := range cells {
		var b strings.Builder
		for i, c := range line {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// seedRow is how long a seeding phase took, printed apart from the
// measured rows: seeding is set-up, not what is being measured.
type seedRow struct {
	what    string
	store   string
	n       int
	workers int
	elapsed time.Duration
}

func printSeedTable(w io.Writer, rows []seedRow) {
	if len(rows) == 0 {
		return
	}
	cells := [][]string{{"seeding (not measured)", "store", "N", "workers", "seconds", "per second"}}
	for _, r := range rows {
		cells = append(cells, []string{r.what, r.store, strconv.Itoa(r.n), strconv.Itoa(r.workers),
			fmt.Sprintf("%.1f", r.elapsed.Seconds()), fmt.Sprintf("%.0f", float64(r.n)/r.elapsed.Seconds())})
	}
	writeCells(w, cells, 2)
}

// failures collects what went wrong with the answers of a run, keeping the
// first few messages and counting the rest.
type failures struct {
	count int
	first []string
}

const failuresShown = 10

func (f *failures) add(format string, args ...any) {
	f.count++
	if len(f.first) < failuresShown {
		f.first = append(f.first, fmt.Sprintf(format, args...))
	}
}

// judgeGets adds a failure for every answer of a run of GETs of path that
// did not arrive, is not a 200, or fails check; it returns how many.
func (f *failures) judgeGets(path string, res loadResult, check func(body []byte) error) int {
	before := f.count
	for j := range res.status {
		switch {
		case res.errs[j] != nil:
			f.add("GET %s: %v", path, res.errs[j])
		case res.status[j] != http.StatusOK:
			f.add("GET %s: status %d: %s", path, res.status[j], clip(res.bodies[j]))
		default:
			if err := check(res.bodies[j]); err != nil {
				f.add("GET %s: %v", path, err)
			}
		}
	}
	return f.count - before
}

// report prints the failures loudly, or nothing when there are none.
func (f *failures) report(w io.Writer, what, store string, n int) {
	if f.count == 0 {
		return
	}
	fmt.Fprintf(w, "\n!!! FAILED: %s on %s: %d of %d requests failed or answered wrongly; the numbers do not count\n", what, store, f.count, n)
	for _, m := range f.first {
		fmt.Fprintf(w, "!!!   %s\n", m)
	}
	if f.count > len(f.first) {
		fmt.Fprintf(w, "!!!   … and %d more\n", f.count-len(f.first))
	}
}
