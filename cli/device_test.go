package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// wantLines fails unless out contains every line of want, in order.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order):\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

// TestDeviceWalkthrough drives a simulated switch through the real server:
// evaluation, registration with a token, usage in and out of compliance,
// renewal, the show commands, deregistration.
func TestDeviceWalkthrough(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()
	h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"
	h.ok("deposit", "create", "--order", "O-1", "--license", "network-essentials", "--quantity", "1")
	secret := tokenSecret(t, h.ok("token", "create", "--description", "switches", "--expires-days", "30"))
	sw1 := filepath.Join(t.TempDir(), "sw1")
	dev := func(args ...string) []string { return append([]string{"device", "--state-dir", sw1}, args...) }

	err := h.fails(smartlic.ENotFound, "--state-dir", dev("show", "license", "summary")...)
	if !strings.Contains(err.Error(), "init") {
		t.Errorf("missing state error %q does not say to run init", err)
	}

	wantLines(t, h.ok(dev("init", "--pid", "C9300-24T", "--sn", "FOC0001", "--hostname", "sw1")...),
		"Created product instance PID:C9300-24T,SN:FOC0001 in "+sw1,
		"Evaluation Period Remaining: 90 days, 0 hours, 0 minutes, 0 seconds")
	h.fails(smartlic.EConflict, "--state-dir", dev("init", "--pid", "C9300-24T", "--sn", "FOC0009")...)

	wantLines(t, h.ok(dev("show", "license", "summary")...),
		"Smart Licensing is ENABLED", "Registration:", "  Status: UNREGISTERED",
		"License Authorization:", "  Status: EVALUATION MODE", "  Evaluation Mode: Not In Use",
		"License Usage:", "  No licenses in use.")
	wantLines(t, h.ok(dev("use", "network-essentials", "1")...),
		"Status: EVALUATION MODE", "network-essentials:", "  Count: 1", "  Status: EVALUATION")
	wantLines(t, h.ok(dev("show", "license", "status")...),
		"Evaluation Period:", "  Evaluation Mode: In Use", "  Evaluation Period Remaining: ", "Product Information:", "  UDI: PID:C9300-24T,SN:FOC0001", "  Hostname: sw1")

	wantLines(t, h.ok(dev("register", "idtoken", secret)...),
		"Registration: SUCCEEDED",
		"Registration:", "  Status: REGISTERED", "  Smart Account: Acme Corp (acme.com)", "  Virtual Account: DEFAULT",
		"  Last Renewal Attempt: None", "  Next Renewal Attempt: ",
		"License Authorization:", "  Status: AUTHORIZED on ", "  Last Communication Attempt: SUCCEEDED on ",
		"License Usage:", "network-essentials", "AUTHORIZED")
	wantRow(t, h.ok("license", "list"), "network-essentials", "1", "1", "0", "0", "in compliance")
	h.fails(smartlic.EConflict, "--force", dev("register", "--token", secret)...)

	// Two on a pool of one: counted, out of compliance.
	wantLines(t, h.ok(dev("use", "network-essentials", "2")...),
		"  Status: OUT OF COMPLIANCE on ", "network-essentials:", "  Count: 2", "  Status: OUT OF COMPLIANCE")
	wantRow(t, h.ok("license", "list"), "network-essentials", "1", "2", "0", "-1", "insufficient")
	wantLines(t, h.ok(dev("use", "network-advantage", "1")...), "network-advantage:", "  Count: 1", "  Status: ")

	out := h.ok(dev("show", "license", "usage")...)
	wantLines(t, out, "License Authorization:", "network-advantage:", "  Count: 1", "network-essentials:", "  Count: 2", "  Status: OUT OF COMPLIANCE")
	wantLines(t, h.ok(dev("show", "license", "status")...),
		"Transport:", "  URL: "+h.env["SMARTLIC_SERVER"],
		"Registration:", "  Status: REGISTERED", "  Instance ID: ", "  Initial Registration: SUCCEEDED on ", "  Registration Expires: ",
		"License Authorization:", "  Communication Deadline: ",
		"Evaluation Period:", "  Evaluation Mode: Not In Use",
		"Manager Keys Trusted:")
	if got := h.ok(dev("show", "license", "udi")...); got != "UDI: PID:C9300-24T,SN:FOC0001\n" {
		t.Errorf("show license udi = %q", got)
	}

	var st agent.Status
	h.json(&st, dev("show", "license", "summary")...)
	if st.Mode != agent.ModeRegistered || st.Registration == nil || st.Registration.SmartAccount != "acme.com" ||
		st.Authorization.Status != smartlic.AuthOOC || len(st.Licenses) != 2 || len(st.ManagerKeyIDs) != 1 {
		t.Fatalf("show license summary -o json = %+v", st)
	}

	wantLines(t, h.ok(dev("renew")...), "ID Certificate: not due until ", "Authorization: not due until ")
	wantLines(t, h.ok(dev("renew", "--id", "--auth")...), "ID Certificate: RENEWED", "Authorization: RENEWED",
		"  Last Renewal Attempt: SUCCEEDED on ")

	wantLines(t, h.ok(dev("deregister")...), "Deregistration: SUCCEEDED", "  Status: UNREGISTERED", "  Evaluation Mode: In Use")
	wantRow(t, h.ok("license", "list"), "network-essentials", "1", "0", "0", "1", "in compliance")
	h.fails(smartlic.ENotRegistered, "", dev("renew")...)

	err = h.fails(smartlic.ETokenUnknown, "--token", dev("register", "--token", "slt_nope")...)
	wantLines(t, h.ok(dev("show", "license", "summary")...), "  Status: UNREGISTERED", "  Last Registration Attempt: FAILED on ", "token_unknown")
	_ = err

	// Another instance from the same machine, with a random serial number.
	sw2 := filepath.Join(t.TempDir(), "sw2")
	h.ok("device", "--state-dir", sw2, "init", "--pid", "C9300-24T")
	udi := h.ok("device", "--state-dir", sw2, "show", "license", "udi")
	if !regexp.MustCompile(`^UDI: PID:C9300-24T,SN:SIM[0-9A-F]{8}\n$`).MatchString(udi) {
		t.Errorf("random serial number: %q", udi)
	}
	h.ok("device", "--state-dir", sw2, "register", "idtoken", secret, "force")
	wantRow(t, h.ok("instance", "list"), "C9300-24T:"+strings.TrimSpace(strings.TrimPrefix(udi, "UDI: PID:C9300-24T,SN:")))
}

// TestDeviceBadInput: what the simulator can check itself, it refuses
// before contacting the server, naming the input.
func TestDeviceBadInput(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "sw")
	h.ok("device", "--state-dir", dir, "init", "--pid", "C9300-24T", "--sn", "FOC1")
	for _, tc := range []struct {
		field string
		args  []string
	}{
		{"--pid", []string{"init", "--sn", "X"}},
		{"--pid/--sn", []string{"init", "--pid", "C9300-24T", "--sn", "bad sn"}},
		{"--hostname", []string{"init", "--pid", "C9300-24T", "--hostname", "-bad-"}},
		{"COUNT", []string{"use", "network-advantage", "many"}},
		{"COUNT", []string{"use", "network-advantage"}},
		{"tag", []string{"use", "Network Advantage", "1"}},
		{"count", []string{"use", "--", "network-advantage", "-1"}},
		{"", []string{"show", "license", "everything"}},
		{"", []string{"show", "license"}},
		{"--token", []string{"register"}},
		{"--token", []string{"register", "--token", "a", "idtoken", "b"}},
		{"--token", []string{"register", "token", "a"}},
		{"", []string{"register", "idtoken", "a", "now"}},
		{"--output", []string{"show", "license", "summary", "-o", "yaml"}},
		{"--server", []string{"register", "--token", "t", "--server", "ftp://example.com"}},
		{"--force", []string{"register", "--token", "t", "--force=maybe"}},
		{"", []string{"reboot"}},
	} {
		args := append([]string{"device", "--state-dir", dir}, tc.args...)
		if tc.field == "--pid" || tc.field == "--pid/--sn" || tc.field == "--hostname" {
			args[2] = filepath.Join(t.TempDir(), "new")
		}
		h.fails(smartlic.EInvalid, tc.field, args...)
	}
	if n := h.requests.Load(); n != 0 {
		t.Errorf("the server received %d requests for input the simulator should have refused", n)
	}
	h.fails(smartlic.ENotRegistered, "", "device", "--state-dir", dir, "renew", "--auth")
}

// TestDeviceUnreachable: a manager that is not there is reported with
// where the simulator looked, and the failed attempt is remembered.
func TestDeviceUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	dir := t.TempDir()
	run1 := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"device", "--state-dir", dir}, args...), &env{
			stdout: &out, stderr: &errOut,
			getenv: func(k string) string { return map[string]string{envServer: srv.URL}[k] },
		})
		return out.String(), err
	}
	if _, err := run1("init", "--pid", "C9300-24T", "--sn", "FOC1"); err != nil {
		t.Fatal(err)
	}
	_, err := run1("register", "--token", "t")
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "--server") {
		t.Fatalf("error = %v, want one naming %s and --server", err, srv.URL)
	}
	out, err := run1("show", "license", "summary")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "  Status: UNREGISTERED", "  Last Registration Attempt: FAILED on ")
}
