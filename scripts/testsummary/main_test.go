package main

import (
	"os"
	"strings"
	"testing"
)

// The files in testdata are real `go test -json` output of a small module
// (times removed): stores.json has a test on "sqlite" and "postgres"
// subtests that fails on postgres, a skip and a plain test; broken.json a
// package that does not compile and one that times out; pass.json a
// passing run and a package without tests.

func run(t *testing.T, file string) (string, bool) {
	t.Helper()
	f, err := os.Open("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	failed, err := summarise(f, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), failed
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestCountsPerStore(t *testing.T) {
	t.Parallel()
	out, failed := run(t, "stores.json")
	if !failed {
		t.Error("a failed test must make the summary fail")
	}
	// Parents (TestStores, TestStores/postgres) are not counted: only the
	// four leaves under the stores, the skip and the plain test.
	want := "FAIL: 4 passed, 1 failed, 1 skipped (sqlite: 2 passed, 0 failed, 0 skipped; postgres: 1 passed, 1 failed, 1 skipped; other: 1 passed, 0 failed, 0 skipped)"
	if got := lastLine(out); got != want {
		t.Errorf("closing line\n got %s\nwant %s", got, want)
	}
	for _, s := range []string{
		"    a_test.go:10: boom on postgres\n--- FAIL: TestStores/postgres/Broken (0.00s)\n",
		"FAIL\texample.com/fix/a\t0.008s\t(4 passed, 1 failed, 1 skipped)\n",
		"      1  SMARTLIC_TEST_POSTGRES is not set\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	// Passing tests' logs and verbose mode's === lines are left out.
	for _, s := range []string{"hello", "=== RUN", "=== PAUSE", "--- PASS"} {
		if strings.Contains(out, s) {
			t.Errorf("output has %q:\n%s", s, out)
		}
	}
}

func TestBuildFailureAndTimeout(t *testing.T) {
	t.Parallel()
	out, failed := run(t, "broken.json")
	if !failed {
		t.Error("a build failure and a timeout must make the summary fail")
	}
	for _, s := range []string{
		"b/b_test.go:3:28: undefined: undefined\nFAIL\texample.com/fix/b\t[build failed]\n",
		"    c_test.go:3: before\npanic: test timed out after 2s\n",
		"/tmp/tsfix/c/c_test.go:3 +0x3f\n", // the goroutine dump, in full
		"--- FAIL: TestHang (did not finish)\nFAIL\texample.com/fix/c\t2.008s\t(0 passed, 1 failed, 0 skipped)\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	want := "FAIL: 0 passed, 1 failed, 0 skipped, 1 package(s) did not build (sqlite: 0 passed, 0 failed, 0 skipped; postgres: 0 passed, 0 failed, 0 skipped; other: 0 passed, 1 failed, 0 skipped)"
	if got := lastLine(out); got != want {
		t.Errorf("closing line\n got %s\nwant %s", got, want)
	}
}

func TestPass(t *testing.T) {
	t.Parallel()
	out, failed := run(t, "pass.json")
	if failed {
		t.Errorf("a passing run must not fail:\n%s", out)
	}
	want := "?   \texample.com/fix/d\t[no test files]\n" +
		"ok  \texample.com/fix/a\t0.004s\t(3 passed, 0 failed, 1 skipped)\n" +
		"skipped:\n      1  SMARTLIC_TEST_POSTGRES is not set\n" +
		"PASS: 3 passed, 0 failed, 1 skipped (sqlite: 2 passed, 0 failed, 0 skipped; postgres: 0 passed, 0 failed, 1 skipped; other: 1 passed, 0 failed, 0 skipped)\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestNonJSONLinesPassThrough(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	failed, err := summarise(strings.NewReader("go: warning: something\n"), &out)
	if err != nil || failed {
		t.Fatalf("summarise: failed=%v err=%v", failed, err)
	}
	if !strings.HasPrefix(out.String(), "go: warning: something\n") {
		t.Errorf("plain line lost:\n%s", out.String())
	}
}

func TestStoreOf(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"TestTokens/sqlite/Revoke":         "sqlite",
		"TestTokens/postgres":              "postgres",
		"TestPostgres/Tokens":              "postgres",
		"TestSQLite":                       "sqlite",
		"TestPostgresSchemaTooNew":         "postgres",
		"TestRegister":                     "other",
		"TestX/sqlite_busy":                "other",
		"TestHelpers/TestPostgresLikeName": "other", // only a top-level name counts by prefix
	} {
		if got := storeOf(name); got != want {
			t.Errorf("storeOf(%q) = %q, want %q", name, got, want)
		}
	}
}
