package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// harness is a real server on port 0 and the environment of a user
// pointed at it.
type harness struct {
	t        *testing.T
	mgr      *manager.Manager
	clock    *smartlic.FakeClock
	env      map[string]string
	requests atomic.Int64 // API requests the server received
	refused  atomic.Int64 // of them, those answered 403
	stdin    string       // what the next commands read on standard input
	// wait, when set, is what `login --web` calls between polls.
	wait func(ctx context.Context, d time.Duration) error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOn(t, storetest.OpenSQLite)
}

// newHarnessOn is newHarness on the store open returns (for storetest.Each).
func newHarnessOn(t *testing.T, open func(*testing.T) *store.DB) *harness {
	t.Helper()
	ctx := context.Background()
	// The clock starts at the wall clock because token states are shown
	// against the CLI's own clock, as they would be for a real user.
	clock := smartlic.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	mgr, err := manager.New(ctx, open(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := mgr.CreateOperator(ctx, "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, mgr: mgr, clock: clock}
	api := httpapi.New(mgr, httpapi.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		api.ServeHTTP(statusSeen{w, &h.refused}, r)
	}))
	t.Cleanup(srv.Close)
	// SMARTLIC_CONFIG_DIR keeps the tests away from the real user's credentials.
	h.env = map[string]string{"SMARTLIC_SERVER": srv.URL, "SMARTLIC_API_KEY": key, "SMARTLIC_CONFIG_DIR": t.TempDir()}
	return h
}

// statusSeen counts the 403 answers written through it.
type statusSeen struct {
	http.ResponseWriter
	refused *atomic.Int64
}

func (s statusSeen) WriteHeader(status int) {
	if status == http.StatusForbidden {
		s.refused.Add(1)
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s statusSeen) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// newAcmeHarness is newHarnessOn with the catalogue seeded and the active
// Smart Account acme.com as SMARTLIC_ACCOUNT.
func newAcmeHarness(t *testing.T, open func(*testing.T) *store.DB) *harness {
	t.Helper()
	h := newHarnessOn(t, open)
	h.seedCatalog()
	h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"
	return h
}

// run runs smartlic with args as a user would.
func (h *harness) run(args ...string) (stdout, stderr string, err error) {
	h.t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &env{
		stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return h.env[k] },
		stdin:  strings.NewReader(h.stdin),
		wait:   h.wait,
	})
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its stdout.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	out, errOut, err := h.run(args...)
	if err != nil {
		h.t.Fatalf("smartlic %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// json runs a command with -o json and decodes its output into v.
func (h *harness) json(v any, args ...string) {
	h.t.Helper()
	out := h.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		h.t.Fatalf("smartlic %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// anyField is for server errors whose field is the server's business.
const anyField = "*"

// fails runs a command that must fail with code and field.
func (h *harness) fails(code, field string, args ...string) error {
	h.t.Helper()
	out, _, err := h.run(args...)
	if err == nil {
		h.t.Fatalf("smartlic %s succeeded, want %s on %q\n%s", strings.Join(args, " "), code, field, out)
	}
	if smartlic.ErrorCode(err) != code || (field != anyField && smartlic.ErrorField(err) != field) {
		h.t.Fatalf("smartlic %s: error %q has code %q field %q, want %q %q",
			strings.Join(args, " "), err, smartlic.ErrorCode(err), smartlic.ErrorField(err), code, field)
	}
	return err
}

// row finds the table row whose first column is first and returns its
// columns split on runs of two or more spaces.
func row(t *testing.T, table, first string) []string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		cols := splitColumns(line)
		if len(cols) > 0 && cols[0] == first {
			return cols
		}
	}
	t.Fatalf("no row %q in:\n%s", first, table)
	return nil
}

func splitColumns(line string) []string {
	var cols []string
	for _, c := range strings.Split(strings.TrimSpace(line), "  ") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}

func wantRow(t *testing.T, table, first string, want ...string) {
	t.Helper()
	got := row(t, table, first)
	if len(got) < len(want)+1 {
		t.Fatalf("row %q = %q, want it to start with %q", first, got, want)
	}
	for i, w := range want {
		if got[i+1] != w {
			t.Fatalf("row %q = %q, want column %d = %q\n%s", first, got, i+2, w, table)
		}
	}
}

// device registers a product instance with a token and reports usage,
// speaking the protocol to the manager directly: the CLI only shows what
// instances did.
func (h *harness) device(token, sn string, usage ...smartlic.Usage) {
	h.t.Helper()
	ctx := context.Background()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		h.t.Fatal(err)
	}
	udi := smartlic.UDI{PID: "C9300-24T", SN: sn}
	req, err := sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(pub), priv, smartlic.RegisterRequest{
		Token: token, UDI: udi, Hostname: "sw-" + strings.ToLower(sn), PublicKey: pub, SentAt: h.clock.Now(),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	certEnv, err := h.mgr.Register(ctx, req)
	if err != nil {
		h.t.Fatalf("register %s: %v", udi, err)
	}
	var cert smartlic.IDCert
	if err := smartlic.DecodePayload(certEnv, &cert); err != nil {
		h.t.Fatal(err)
	}
	auth, err := sign.Seal(smartlic.TypeAuthRequest, cert.InstanceID, priv, smartlic.DeviceRequest{
		InstanceID: cert.InstanceID, UDI: udi, SentAt: h.clock.Now(), Usage: usage,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.mgr.Authorize(ctx, auth); err != nil {
		h.t.Fatalf("authorize %s: %v", udi, err)
	}
}

// seedCatalog creates the license types and the product the tests use.
func (h *harness) seedCatalog() {
	h.t.Helper()
	h.ok("catalog", "license-type", "create", "--tag", "network-advantage", "--name", "Network Advantage",
		"--term", "subscription", "--enforcement", "unenforced")
	h.ok("catalog", "license-type", "create", "--tag", "network-essentials", "--name", "Network Essentials",
		"--term", "perpetual", "--enforcement", "unenforced", "--description", "switching basics")
	h.ok("catalog", "product", "create", "--pid", "C9300-24T", "--name", "Catalyst 9300 24-port",
		"--license-types", "network-advantage,network-essentials")
}

// TestClientWalkthrough is the seed walkthrough: a vendor fills the
// catalogue, a customer gets a Smart Account with Virtual Accounts, an
// order is deposited, a token registers switches, and the license view
// shows purchased, in use, available and compliance.
func TestClientWalkthrough(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()

	out := h.ok("catalog", "license-type", "list")
	wantRow(t, out, "TAG", "NAME", "TERM", "ENFORCEMENT", "ID")
	wantRow(t, out, "network-advantage", "Network Advantage", "subscription", "unenforced")
	wantRow(t, out, "network-essentials", "Network Essentials", "perpetual", "unenforced")
	wantRow(t, h.ok("catalog", "product", "get", "C9300-24T"), "C9300-24T",
		"Catalyst 9300 24-port", "network-advantage,network-essentials")

	wantRow(t, h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve"),
		"Acme Corp", "acme.com", "active", "no")
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"

	h.ok("va", "create", "Engineering", "--description", "R&D sites")
	h.ok("va", "create", "Lab", "--parent", "Engineering")
	out = h.ok("va", "list")
	wantRow(t, out, "DEFAULT", "-", "1")
	wantRow(t, out, "Engineering", "-", "1", "R&D sites")
	// Lab is indented under its parent and names it.
	if !strings.Contains(out, "\n  Lab ") {
		t.Fatalf("va list does not indent Lab under Engineering:\n%s", out)
	}
	wantRow(t, out, "Lab", "Engineering", "2")
	if strings.Index(out, "Engineering") > strings.Index(out, "  Lab") {
		t.Fatalf("va list shows Lab before its parent:\n%s", out)
	}

	ends := h.clock.Now().Add(60 * smartlic.Day).Format(time.DateOnly)
	wantRow(t, h.ok("deposit", "create", "--va", "Engineering", "--order", "ORD-1001",
		"--license", "network-essentials", "--quantity", "2"),
		"ORD-1001", "network-essentials", "2")
	h.ok("deposit", "create", "--va", "Lab", "--order", "ORD-1002",
		"--license", "network-advantage", "--quantity", "10", "--ends", ends)
	wantRow(t, h.ok("deposit", "list", "--va", "Lab"), "ORD-1002", "network-advantage", "10",
		h.clock.Now().Format(time.DateOnly), ends)

	out = h.ok("token", "create", "--va", "Engineering", "--description", "lab switches",
		"--expires-days", "30", "--max-uses", "5")
	if !strings.Contains(out, "cannot be shown again") {
		t.Fatalf("token create does not warn that the secret is shown once:\n%s", out)
	}
	secret := tokenSecret(t, out)
	wantRow(t, out, "lab switches", "active", "0", "5")

	for _, sn := range []string{"FOC0001", "FOC0002", "FOC0003"} {
		h.device(secret, sn, smartlic.Usage{LicenseTag: "network-essentials", Count: 1})
	}

	// Three switches on two licenses: overage is allowed, shown as a
	// negative available and an insufficient status.
	out = h.ok("license", "list")
	wantRow(t, out, "LICENSE", "PURCHASED", "IN USE", "RESERVED", "AVAILABLE", "STATUS", "NEXT EXPIRY")
	wantRow(t, out, "network-essentials", "2", "3", "0", "-1", "insufficient", "-")
	wantRow(t, out, "network-advantage", "10", "0", "0", "10", "expiring", ends)

	out = h.ok("license", "list", "--va", "Engineering")
	wantRow(t, out, "network-essentials", "2", "3", "0", "-1", "insufficient")
	if strings.Contains(out, "network-advantage") {
		t.Fatalf("Engineering's own pools show Lab's licenses:\n%s", out)
	}
	out = h.ok("license", "list", "--va", "Engineering", "--rollup")
	wantRow(t, out, "network-advantage", "10", "0", "0", "10", "expiring", ends)

	out = h.ok("instance", "list", "--va", "Engineering")
	wantRow(t, out, "C9300-24T:FOC0002", "sw-foc0002", "registered")
	out = h.ok("instance", "get", "C9300-24T:FOC0002", "--va", "Engineering")
	wantRow(t, out, "network-essentials", "1")

	out = h.ok("instance", "remove", "C9300-24T:FOC0002", "--va", "Engineering")
	if !strings.Contains(out, "Removed product instance C9300-24T:FOC0002") {
		t.Fatalf("instance remove says:\n%s", out)
	}
	wantRow(t, h.ok("license", "list"), "network-essentials", "2", "2", "0", "0", "in compliance")
	h.fails(smartlic.ENotFound, anyField, "instance", "get", "C9300-24T:FOC0002", "--va", "Engineering")

	out = h.ok("token", "list", "--va", "Engineering")
	tokenID := row(t, out, "lab switches")[6]
	wantRow(t, out, "lab switches", "active", "3", "5")
	wantRow(t, h.ok("token", "revoke", tokenID, "--va", "Engineering"), "lab switches", "revoked", "3")
	wantRow(t, h.ok("token", "get", tokenID, "--va", "Engineering"), "lab switches", "revoked")
}

// tokenSecret finds the secret token create prints on a line of its own.
func tokenSecret(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "" {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("no secret in token create output:\n%s", out)
	return ""
}

// TestClientEveryVerb drives the verbs the walkthrough does not.
func TestClientEveryVerb(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()

	wantRow(t, h.ok("catalog", "license-type", "get", "network-advantage"), "network-advantage", "Network Advantage")
	h.ok("catalog", "license-type", "create", "--tag", "dna-advantage", "--name", "DNA Advantage",
		"--term", "perpetual", "--enforcement", "enforced")
	out := h.ok("catalog", "license-type", "delete", "dna-advantage")
	if !strings.Contains(out, "Deleted license type dna-advantage") {
		t.Fatalf("license-type delete says:\n%s", out)
	}
	h.fails(smartlic.ENotFound, anyField, "catalog", "license-type", "get", "dna-advantage")

	wantRow(t, h.ok("catalog", "product", "update", "C9300-24T", "--name", "Catalyst 9300", "--license-types", "network-essentials"),
		"C9300-24T", "Catalyst 9300", "network-essentials")
	h.ok("catalog", "product", "create", "--pid", "ISR4331", "--name", "ISR 4331")
	wantRow(t, h.ok("catalog", "product", "list"), "ISR4331", "ISR 4331", "-")
	h.ok("catalog", "product", "delete", "ISR4331")
	h.fails(smartlic.ENotFound, anyField, "catalog", "product", "get", "ISR4331")

	wantRow(t, h.ok("account", "create", "--name", "Gmail User", "--domain", "example.net", "--limited-use"),
		"Gmail User", "example.net", "requested", "yes")
	h.ok("account", "create", "--name", "Spam Inc", "--domain", "spam.example")
	wantRow(t, h.ok("account", "list", "--status", "requested"), "Spam Inc", "spam.example", "requested")
	h.fails(smartlic.EInvalid, "--reason", "account", "deny", "spam.example")
	h.fails(smartlic.EInvalid, "--status", "account", "list", "--status", "sleeping")
	wantRow(t, h.ok("account", "deny", "spam.example", "--reason", "not a customer"), "Spam Inc", "spam.example", "denied")
	wantRow(t, h.ok("account", "approve", "example.net"), "Gmail User", "example.net", "active")
	wantRow(t, h.ok("account", "update", "example.net", "--name", "Example Net", "--limited-use=false"),
		"Example Net", "example.net", "active", "no")
	wantRow(t, h.ok("account", "get", "example.net"), "Example Net", "example.net", "active", "no")
	wantRow(t, h.ok("account", "list"), "Example Net", "example.net")

	h.ok("va", "create", "Sales", "--account", "example.net")
	h.ok("va", "create", "EMEA", "--account", "example.net")
	wantRow(t, h.ok("va", "rename", "EMEA", "Europe", "--account", "example.net"), "Europe", "1")
	wantRow(t, h.ok("va", "move", "Europe", "--parent", "Sales", "--account", "example.net"), "Europe", "2")
	wantRow(t, h.ok("va", "get", "Europe", "--account", "example.net"), "Europe", "2")
	wantRow(t, h.ok("va", "update", "Europe", "--description", "Europe and Africa", "--account", "example.net"),
		"Europe", "2", "Europe and Africa")
	h.fails(smartlic.ENotEmpty, anyField, "va", "delete", "Sales", "--account", "example.net")
	wantRow(t, h.ok("va", "move", "Europe", "--top", "--account", "example.net"), "Europe", "1")
	out = h.ok("va", "delete", "Sales", "--account", "example.net")
	if !strings.Contains(out, "Deleted Virtual Account Sales") {
		t.Fatalf("va delete says:\n%s", out)
	}
	h.fails(smartlic.ENotFound, anyField, "va", "get", "Sales", "--account", "example.net")
}

// TestClientJSON checks that -o json prints objects and lists scripts can
// parse, and that lists page with --limit, --after and --all.
func TestClientJSON(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()

	var lt smartlic.LicenseType
	h.json(&lt, "catalog", "license-type", "get", "network-essentials")
	if lt.Tag != "network-essentials" || lt.Term != smartlic.TermPerpetual || lt.ID == "" {
		t.Fatalf("license type = %+v", lt)
	}

	var tok smartlic.Token
	h.ok("account", "create", "--name", "Acme", "--domain", "acme.com", "--approve")
	h.json(&tok, "token", "create", "--account", "acme.com", "--description", "ci", "--expires-days", "7")
	if tok.Secret == "" || tok.ID == "" || tok.Description != "ci" {
		t.Fatalf("token create -o json = %+v, want the secret", tok)
	}

	for _, d := range []string{"b.example.com", "c.example.com", "d.example.com"} {
		h.ok("account", "create", "--name", "Org "+d, "--domain", d)
	}
	var page listJSON[smartlic.SmartAccount]
	h.json(&page, "account", "list", "--limit", "2")
	if len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("first page = %+v, want 2 items and a cursor", page)
	}
	var rest listJSON[smartlic.SmartAccount]
	h.json(&rest, "account", "list", "--limit", "2", "--after", page.Next)
	if len(rest.Items) != 2 || rest.Next != "" {
		t.Fatalf("second page = %+v, want the last 2 items and no cursor", rest)
	}
	var all listJSON[smartlic.SmartAccount]
	h.json(&all, "account", "list", "--limit", "1", "--all")
	if len(all.Items) != 4 || all.Next != "" {
		t.Fatalf("--all = %+v, want all 4 accounts", all)
	}
	seen := map[string]bool{}
	for _, sa := range append(page.Items, rest.Items...) {
		seen[sa.Domain] = true
	}
	for _, sa := range all.Items {
		if !seen[sa.Domain] {
			t.Fatalf("--all found %s that paging did not", sa.Domain)
		}
	}

	// People get the cursor on stderr, so stdout stays the table.
	out, errOut, err := h.run("account", "list", "--limit", "3")
	if err != nil {
		t.Fatal(err)
	}
	if want := "more: --after "; !strings.HasPrefix(errOut, want) || strings.Contains(out, want) {
		t.Fatalf("stdout:\n%s\nstderr:\n%s\nwant %q on stderr only", out, errOut, want)
	}
	if _, errOut, _ = h.run("account", "list"); errOut != "" {
		t.Fatalf("last page prints %q on stderr", errOut)
	}

	// An empty list is [] for scripts, not null.
	out = h.ok("instance", "list", "--account", "acme.com", "-o", "json")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw["items"]) != "[]" || string(raw["next"]) != `""` {
		t.Fatalf("empty list = %s", out)
	}

	var pools listJSON[smartlic.Pool]
	h.ok("deposit", "create", "--account", "acme.com", "--order", "O-1", "--license", "network-essentials", "--quantity", "4")
	h.json(&pools, "license", "list", "--account", "acme.com", "--va", "DEFAULT")
	if len(pools.Items) != 1 || pools.Items[0].Purchased != 4 || pools.Items[0].Status != smartlic.InCompliance {
		t.Fatalf("pools = %+v", pools)
	}
}

// TestClientBadInput checks what the CLI parses itself: it refuses before
// any request, naming the flag.
func TestClientBadInput(t *testing.T) {
	h := newHarness(t)
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"
	for _, tc := range []struct {
		field string
		args  []string
	}{
		{"--output", []string{"account", "list", "-o", "yaml"}},
		{"--limit", []string{"account", "list", "--limit", "ten"}},
		{"--limit", []string{"account", "list", "--limit", "0"}},
		{"--limit", []string{"va", "list", "--limit", "1001"}},
		{"--quantity", []string{"deposit", "create", "--order", "O", "--license", "x", "--quantity", "2.5"}},
		{"--starts", []string{"deposit", "create", "--order", "O", "--license", "x", "--quantity", "1", "--starts", "tomorrow"}},
		{"--ends", []string{"deposit", "create", "--order", "O", "--license", "x", "--quantity", "1", "--ends", "2026-02-30"}},
		{"--expires-days", []string{"token", "create", "--description", "d", "--expires-days", "366"}},
		{"--expires-days", []string{"token", "create", "--description", "d", "--expires-days", "soon"}},
		{"--max-uses", []string{"token", "create", "--description", "d", "--max-uses", "0"}},
		{"--description", []string{"token", "create"}},
		{"--expires-in", []string{"token", "create", "--description", "d", "--expires-in", "30s"}},
		{"--expires-in", []string{"token", "create", "--description", "d", "--expires-in", "10m", "--expires-days", "2"}},
		{"--expires-in", []string{"token", "create", "--description", "d", "--expires-in", "soon"}},
		{"--description", []string{"token", "create", "--description", " "}},
		{"--limited-use", []string{"account", "update", "acme.com", "--limited-use=maybe"}},
		{"--rollup", []string{"license", "list", "--rollup"}},
		{"--parent", []string{"va", "move", "Lab"}},
		{"--top", []string{"va", "move", "Lab", "--top", "--parent", "Engineering"}},
		{"--colour", []string{"account", "list", "--colour"}},
		{"--server", []string{"account", "list", "--server", "ftp://example.com"}},
		{"SA", []string{"account", "get"}},
		{"", []string{"catalog", "product", "update", "C9300-24T"}},
		{"", []string{"catalog", "licence-type", "list"}},
	} {
		h.fails(smartlic.EInvalid, tc.field, tc.args...)
	}

	delete(h.env, "SMARTLIC_ACCOUNT")
	err := h.fails(smartlic.EInvalid, "--account", "va", "list")
	if !strings.Contains(err.Error(), "SMARTLIC_ACCOUNT") {
		t.Fatalf("missing account error %q does not name SMARTLIC_ACCOUNT", err)
	}
	delete(h.env, "SMARTLIC_API_KEY")
	err = h.fails(smartlic.EInvalid, "--api-key", "account", "list")
	if !strings.Contains(err.Error(), "SMARTLIC_API_KEY") {
		t.Fatalf("missing key error %q does not name SMARTLIC_API_KEY", err)
	}
	if n := h.requests.Load(); n != 0 {
		t.Fatalf("the server received %d requests for input the CLI should have refused", n)
	}
	if code := ExitCode(err); code != 2 {
		t.Fatalf("exit code for bad input = %d, want 2", code)
	}
}

// TestClientServerErrors checks that what the server refuses reaches the
// user as code, field and message.
func TestClientServerErrors(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()

	err := h.fails(smartlic.EInvalid, "--term", "catalog", "license-type", "create", "--tag", "x", "--name", "X",
		"--term", "forever", "--enforcement", "enforced")
	if !strings.HasPrefix(err.Error(), "invalid: --term: ") {
		t.Fatalf("error reads %q, want \"invalid: --term: …\"", err)
	}
	h.fails(smartlic.EConflict, anyField, "catalog", "license-type", "create", "--tag", "network-advantage", "--name", "Again",
		"--term", "perpetual", "--enforcement", "enforced")
	err = h.fails(smartlic.ENotFound, anyField, "account", "get", "nosuch.example.com")
	if !strings.HasPrefix(err.Error(), "not_found: ") {
		t.Fatalf("error reads %q", err)
	}

	h.ok("account", "create", "--name", "Acme", "--domain", "acme.com", "--approve")
	// Errors name the flag that was typed, not the API field it became.
	err = h.fails(smartlic.EInvalid, "--ends", "deposit", "create", "--account", "acme.com", "--order", "O-1",
		"--license", "network-advantage", "--quantity", "1")
	if !strings.HasPrefix(err.Error(), "invalid: --ends: ") {
		t.Fatalf("error reads %q, want \"invalid: --ends: …\"", err)
	}
	h.fails(smartlic.EInvalid, "--order", "deposit", "create", "--account", "acme.com",
		"--license", "network-advantage", "--quantity", "1", "--ends", "2030-01-01")

	h.env["SMARTLIC_API_KEY"] = "not-a-key"
	h.fails(smartlic.EUnauthorized, anyField, "account", "list")
}

// TestClientUnreachable checks that a server that is not there is reported
// with where the CLI looked and how to change it.
func TestClientUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"account", "list", "--server", srv.URL}, &env{
		stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return map[string]string{"SMARTLIC_API_KEY": "k"}[k] },
	})
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "--server") {
		t.Fatalf("error = %v, want one naming %s and --server", err, srv.URL)
	}
}
