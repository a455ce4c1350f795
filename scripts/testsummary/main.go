// Command testsummary reads the output of `go test -json` on standard input
// and prints what a person wants from a test run: one line per package,
// the full output of every test that failed, and a closing line counting
// the tests that passed, failed and were skipped, in total and per store.
//
// smartlic runs most store-dependent tests twice, as subtests named
// "sqlite" and "postgres" (see storetest.Each), or as top-level tests
// named TestSQLite and TestPostgres. The closing line counts those apart,
// so a reader sees whether the PostgreSQL half ran or was skipped.
//
// It exits 1 when a test or package failed and 0 otherwise; scripts/test
// keeps the exit status of go test itself.
//
//	go test -json ./... | go run ./scripts/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
)

func main() {
	failed, err := summarise(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json's TestEvent, plus
// the ImportPath of build output, which go test -json interleaves).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
	ImportPath  string
}

// Stores are the columns of the closing line, in order; a test belongs to
// the first store named by an element of its name, or to none.
var stores = []string{"sqlite", "postgres"}

const noStore = "other"

// counts are the results of leaf tests: a test with subtests is counted
// through its subtests only, so a store's tests are not counted twice.
type counts struct{ passed, failed, skipped int }

func (c *counts) add(action string) {
	switch action {
	case "pass":
		c.passed++
	case "skip":
		c.skipped++
	default: // "fail", or never finished
		c.failed++
	}
}

func (c counts) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", c.passed, c.failed, c.skipped)
}

// test is one test's own output and result.
type test struct {
	name   string
	output []string
	result string // "pass", "fail", "skip"; "" while running
	parent bool   // it ran subtests
}

// pkg gathers one package's tests until its final event.
type pkg struct {
	tests  map[string]*test
	order  []string // names in the order they started
	output []string // output not attributed to a test (panics, TestMain, the summary lines)
}

func (p *pkg) test(name string) *test {
	t, ok := p.tests[name]
	if !ok {
		t = &test{name: name}
		p.tests[name] = t
		p.order = append(p.order, name)
	}
	return t
}

// summariser holds the run's state between events.
type summariser struct {
	w        io.Writer
	pkgs     map[string]*pkg
	total    counts
	perStore map[string]*counts
	skips    map[string]int // reason → number of tests skipped for it
	unbuilt  int            // packages whose tests did not compile
	failed   bool
}

func summarise(r io.Reader, w io.Writer) (failed bool, err error) {
	s := &summariser{w: w, pkgs: map[string]*pkg{}, perStore: map[string]*counts{}, skips: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go test writes some errors as plain text):
			// pass it through rather than lose it.
			fmt.Fprintln(w, string(line))
			continue
		}
		s.handle(e)
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	// A package whose binary died without a final event (killed, or the
	// stream was cut) still has its tests counted, unfinished ones as failed.
	for _, name := range sortedKeys(s.pkgs) {
		s.finish(name, "fail", 0)
	}
	s.close()
	return s.failed, nil
}

func (s *summariser) handle(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.w, e.Output)
		return
	case "build-fail":
		s.failed = true
		return
	}
	if e.Package == "" {
		return
	}
	p, ok := s.pkgs[e.Package]
	if !ok {
		p = &pkg{tests: map[string]*test{}}
		s.pkgs[e.Package] = p
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			p.output = append(p.output, e.Output)
		case "pass", "fail", "skip":
			if e.FailedBuild != "" {
				// The compiler's messages came before, as build output.
				delete(s.pkgs, e.Package)
				s.failed = true
				s.unbuilt++
				fmt.Fprintf(s.w, "FAIL\t%s\t[build failed]\n", e.Package)
				return
			}
			s.finish(e.Package, e.Action, e.Elapsed)
		}
		return
	}
	t := p.test(e.Test)
	switch e.Action {
	case "output":
		t.output = append(t.output, e.Output)
	case "pass", "fail", "skip":
		t.result = e.Action
	}
}

// finish counts a package's tests and prints its line, and the output of
// its failures in full.
func (s *summariser) finish(name, result string, elapsed float64) {
	p := s.pkgs[name]
	delete(s.pkgs, name)
	if p == nil {
		return
	}
	var c counts
	var failures []*test
	for _, tn := range p.order {
		t := p.tests[tn]
		if hasSubtests(p, tn) {
			t.parent = true
			if t.result == "fail" || t.result == "" {
				failures = append(failures, t) // its own output may say why (t.Fatal before subtests)
			}
			continue
		}
		res := t.result
		if res == "" {
			res = "fail" // still running when the package ended: a timeout or a crash
		}
		c.add(res)
		s.total.add(res)
		st := storeOf(tn)
		if s.perStore[st] == nil {
			s.perStore[st] = &counts{}
		}
		s.perStore[st].add(res)
		switch res {
		case "fail":
			failures = append(failures, t)
		case "skip":
			s.skips[skipReason(t)]++
		}
	}

	if result == "skip" && len(p.order) == 0 {
		fmt.Fprintf(s.w, "?   \t%s\t[no test files]\n", name)
		return
	}
	for _, t := range failures {
		fmt.Fprint(s.w, failureOutput(t))
		if t.result == "" {
			fmt.Fprintf(s.w, "--- FAIL: %s (did not finish)\n", t.name)
		}
	}
	if result == "fail" {
		s.failed = true
		// What the binary printed outside any test: a panic, a timeout's
		// goroutine dump, TestMain, and go test's own FAIL lines.
		for _, o := range p.output {
			if !isResultLine(o) {
				fmt.Fprint(s.w, o)
			}
		}
		fmt.Fprintf(s.w, "FAIL\t%s\t%.3fs\t(%s)\n", name, elapsed, c)
		return
	}
	if c.failed > 0 {
		s.failed = true
	}
	fmt.Fprintf(s.w, "ok  \t%s\t%.3fs\t(%s)\n", name, elapsed, c)
}

// failureOutput is what a failed test printed, without the === lines of
// verbose mode. A parent that printed nothing but its own --- FAIL line
// (its subtest's failure is shown) prints nothing.
func failureOutput(t *test) string {
	var b strings.Builder
	own := false
	for _, o := range t.output {
		trimmed := strings.TrimSpace(o)
		if strings.HasPrefix(trimmed, "=== ") {
			continue
		}
		if !strings.HasPrefix(trimmed, "--- ") {
			own = true
		}
		b.WriteString(o)
	}
	if !own && t.parent {
		return ""
	}
	return b.String()
}

// isResultLine reports whether o is one of the lines go test prints at the
// end of a package ("PASS", "FAIL", "ok  pkg 1.2s", "FAIL pkg 1.2s"), which
// the summary's own package line replaces.
func isResultLine(o string) bool {
	trimmed := strings.TrimRight(o, "\n")
	return trimmed == "PASS" || trimmed == "FAIL" || strings.HasPrefix(trimmed, "ok  \t") || strings.HasPrefix(trimmed, "FAIL\t")
}

// hasSubtests reports whether the test named tn ran subtests.
func hasSubtests(p *pkg, tn string) bool {
	prefix := tn + "/"
	return slices.ContainsFunc(p.order, func(o string) bool { return strings.HasPrefix(o, prefix) })
}

// storeOf names the store a test ran on: the first element of its name
// that is a store's name (a "sqlite" subtest) or a top-level test named
// for it (TestSQLite, TestPostgresSchemaTooNew).
func storeOf(name string) string {
	for i, el := range strings.Split(name, "/") {
		el = strings.ToLower(el)
		for _, st := range stores {
			if el == st || (i == 0 && strings.HasPrefix(el, "test"+st)) {
				return st
			}
		}
	}
	return noStore
}

// fileLine is the "file_test.go:12: " prefix of a t.Skip message.
var fileLine = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// skipReason is the message a skipped test gave, without its file and
// line, so that one reason given by many tests is listed once.
func skipReason(t *test) string {
	for _, o := range t.output {
		trimmed := strings.TrimSpace(o)
		if trimmed == "" || strings.HasPrefix(trimmed, "=== ") || strings.HasPrefix(trimmed, "--- ") {
			continue
		}
		return fileLine.ReplaceAllString(strings.TrimSpace(o), "")
	}
	return "(no reason given)"
}

// close prints the reasons for skips and the closing line, which is the
// last line of the output.
func (s *summariser) close() {
	if len(s.skips) > 0 {
		reasons := sortedKeys(s.skips)
		sort.SliceStable(reasons, func(i, j int) bool { return s.skips[reasons[i]] > s.skips[reasons[j]] })
		fmt.Fprintln(s.w, "skipped:")
		for _, r := range reasons {
			fmt.Fprintf(s.w, "  %5d  %s\n", s.skips[r], r)
		}
	}
	var parts []string
	for _, st := range append(slices.Clone(stores), noStore) {
		c := s.perStore[st]
		if c == nil {
			c = &counts{}
		}
		parts = append(parts, st+": "+c.String())
	}
	verdict := "PASS"
	if s.failed || s.total.failed > 0 {
		verdict = "FAIL"
	}
	unbuilt := ""
	if s.unbuilt > 0 {
		unbuilt = fmt.Sprintf(", %d package(s) did not build", s.unbuilt)
	}
	fmt.Fprintf(s.w, "%s: %s%s (%s)\n", verdict, s.total, unbuilt, strings.Join(parts, "; "))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
