package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store/storetest"
)

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `smartlic serve` in-process on port 0 and returns its URL
// and banner once it is listening (and seeded, with --demo).
func startServe(t *testing.T, args ...string) (url string, banner *syncBuffer) {
	t.Helper()
	return startServeLogging(t, &syncBuffer{}, args...)
}

// startServeLogging is startServe with the server's log written to logs.
func startServeLogging(t *testing.T, logs *syncBuffer, args ...string) (url string, banner *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &env{
			stdout: out, stderr: logs, getenv: func(string) string { return "" },
			ready: func(u string) { ready <- u },
		})
	}()
	select {
	case url = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve exited before listening: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return url, out
}

func runWith(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }})
	if err != nil {
		t.Fatalf("smartlic %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// The demo banner is the last thing serve --demo prints: the seeding's
// request log stays quiet, and the request log resumes after it.
func TestServeDemoBannerIsLast(t *testing.T) {
	logs := &syncBuffer{}
	url, banner := startServeLogging(t, logs, "--db", filepath.Join(t.TempDir(), "demo.db"), "--demo")
	if !strings.Contains(banner.String(), "Operator API key") {
		t.Fatalf("no demo banner:\n%s", banner)
	}
	if strings.Contains(logs.String(), "msg=request") {
		t.Fatalf("the seeding's requests were logged around the banner:\n%s", logs)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The line is written before the handler returns, so before the
	// client has its answer.
	if !strings.Contains(logs.String(), "msg=request") {
		t.Fatalf("requests after the seeding are not logged:\n%s", logs)
	}
}

// The README's first command: serve --demo seeds a catalogue, an account
// with a VA tree, deposits, a token and registered instances, and prints an
// operator key that works.
func TestServeDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	url, banner := startServe(t, "--db", db, "--demo")
	key := regexp.MustCompile(`slk_[A-Za-z0-9_-]{43}`).FindString(banner.String())
	if key == "" {
		t.Fatalf("no operator key in the banner:\n%s", banner)
	}
	if !regexp.MustCompile(`slt_[A-Za-z0-9_-]{43}`).MatchString(banner.String()) {
		t.Fatalf("no registration token in the banner:\n%s", banner)
	}
	vars := map[string]string{"SMARTLIC_SERVER": url, "SMARTLIC_API_KEY": key, "SMARTLIC_ACCOUNT": demoDomain}

	var pools struct{ Items []smartlic.Pool }
	if err := json.Unmarshal([]byte(runWith(t, vars, "license", "list", "--va", "Building A", "-o", "json")), &pools); err != nil {
		t.Fatal(err)
	}
	byTag := map[string]smartlic.Pool{}
	for _, p := range pools.Items {
		byTag[p.LicenseTag] = p
	}
	if p := byTag["network-advantage"]; p.Purchased != 4 || p.InUse != 5 || p.Status != smartlic.Insufficient {
		t.Errorf("demo Building A network-advantage = %+v, want 4 purchased, 5 in use, insufficient", p)
	}
	if p := byTag["dna-advantage"]; p.InUse != 4 || p.Status != smartlic.InCompliance {
		t.Errorf("demo dna-advantage = %+v", p)
	}
	var insts struct{ Items []smartlic.Instance }
	if err := json.Unmarshal([]byte(runWith(t, vars, "instance", "list", "--va", "Building A", "-o", "json")), &insts); err != nil {
		t.Fatal(err)
	}
	if len(insts.Items) != len(demoInstances) {
		t.Errorf("demo instances = %d, want %d", len(insts.Items), len(demoInstances))
	}
}

// Every demo user can sign in to the portal with the password the banner
// prints, and the portal answers at /.
func TestServeDemoUsersSignIn(t *testing.T) {
	url, banner := startServe(t, "--db", filepath.Join(t.TempDir(), "demo.db"), "--demo")
	if !strings.Contains(banner.String(), "Portal: open "+url+"/") {
		t.Fatalf("the banner does not show the portal:\n%s", banner)
	}
	for _, u := range demoUsers {
		if !strings.Contains(banner.String(), u.email) {
			t.Errorf("the banner does not list %s", u.email)
		}
		body := `{"email":"` + u.email + `","password":"` + demoPassword + `"}`
		resp, err := http.Post(url+"/api/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("demo user %s cannot sign in: %s", u.email, resp.Status)
		}
	}
	resp, err := http.Get(url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /login: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// On an empty database the banner says how to create the first operator.
func TestServeFirstRunHint(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	_, banner := startServe(t, "--db", db)
	if want := "smartlic admin create-operator --db " + db + " --email"; !strings.Contains(banner.String(), want) {
		t.Fatalf("banner of an empty database lacks %q:\n%s", want, banner)
	}
}

// A second start on a seeded database does not seed twice.
func TestServeDemoTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	startServe(t, "--db", db, "--demo")
	// The first server is still running: SQLite in WAL mode serves both.
	_, banner := startServe(t, "--db", db, "--demo")
	if !strings.Contains(banner.String(), "already present") {
		t.Fatalf("second demo start did not notice the seeded data:\n%s", banner)
	}
}

// The non-interactive bootstrap: create-operator prints a key once, the
// key works against a server on the same database, and -o json gives
// {"api_key": …}. Runs on both stores.
func TestAdminCreateOperator(t *testing.T) {
	for name, dsn := range map[string]func(*testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "ops.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			db := dsn(t)
			var created struct {
				APIKey string `json:"api_key"`
			}
			// SQLite makes its key file beside the database; PostgreSQL is given one.
			keyVars, serveArgs := map[string]string{}, []string{"--db", db}
			if name == "postgres" {
				keyVars[envSecretKeyFile] = writeKeyFile(t)
				serveArgs = append(serveArgs, "--secret-key-file", keyVars[envSecretKeyFile])
			}
			out := runWith(t, keyVars, "admin", "create-operator", "--db", db, "--email", "ops@example.com", "-o", "json")
			if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.APIKey, "slk_") {
				t.Fatalf("create-operator -o json = %q (%v)", out, err)
			}
			url, _ := startServe(t, serveArgs...)
			vars := map[string]string{"SMARTLIC_SERVER": url, "SMARTLIC_API_KEY": created.APIKey}
			runWith(t, vars, "account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
			if out := runWith(t, vars, "account", "list"); !strings.Contains(out, "acme.example") {
				t.Fatalf("account list with the new key:\n%s", out)
			}
			vars["SMARTLIC_API_KEY"] = created.APIKey + "x"
			var errOut bytes.Buffer
			err := run(context.Background(), []string{"account", "list"}, &env{stdout: &bytes.Buffer{}, stderr: &errOut, getenv: func(k string) string { return vars[k] }})
			if smartlic.ErrorCode(err) != smartlic.EUnauthorized {
				t.Fatalf("wrong key: %v", err)
			}
		})
	}
	var errOut bytes.Buffer
	err := run(context.Background(), []string{"admin", "create-operator", "--db", filepath.Join(t.TempDir(), "x.db"), "--email", "not an address"}, &env{stdout: &bytes.Buffer{}, stderr: &errOut, getenv: func(string) string { return "" }})
	if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != "--email" {
		t.Fatalf("bad e-mail: %v", err)
	}
}
