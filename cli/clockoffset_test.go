package cli

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

func TestClockOffsetFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"400d": 400 * smartlic.Day, "-2d": -2 * smartlic.Day, "0d": 0, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "3650d": 3650 * smartlic.Day,
	} {
		var o clockOffset
		if err := o.Set(in); err != nil || time.Duration(o) != want {
			t.Errorf("--clock-offset %s: %v, %v; want %v", in, time.Duration(o), err, want)
		}
	}
	for _, in := range []string{"1y", "d", "1.5d", "3651d", "-87601h", "soon", ""} {
		var o clockOffset
		if err := o.Set(in); smartlic.ErrorField(err) != "--clock-offset" {
			t.Errorf("--clock-offset %q: %v, want it refused naming the flag", in, err)
		}
	}
	if c := clockOffset(0).clock(); c != (smartlic.SystemClock{}) {
		t.Errorf("no offset gives %T", c)
	}
	ahead := clockOffset(400 * smartlic.Day).clock().Now()
	if d := time.Until(ahead); d < 399*smartlic.Day || d > 401*smartlic.Day {
		t.Errorf("400d ahead reads %v", ahead)
	}
}

// TestDeviceClockOffset: a device moved ahead of its manager signs times
// from its future and is refused; moved alike, the two see a policy's
// deadline pass, and a report brings the instance back on time.
func TestDeviceClockOffset(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()
	h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"
	secret := tokenSecret(t, h.ok("token", "create", "--description", "switches", "--expires-days", "30"))
	sw := filepath.Join(t.TempDir(), "sw")
	dev := func(offset string, args ...string) []string {
		return append([]string{"device", "--state-dir", sw, "--clock-offset", offset}, args...)
	}
	h.ok(dev("0d", "init", "--mode", "policy", "--pid", "C9300-24T", "--sn", "OFS0001")...)
	h.ok(dev("0d", "use", "network-advantage", "2")...)
	h.fails(smartlic.EInvalid, "--clock-offset", dev("1y", "show", "license", "status")...)
	h.fails(smartlic.EInvalid, "sent_at", dev("20d", "license", "smart", "trust", "idtoken", secret)...)
	h.ok(dev("0d", "license", "smart", "trust", "idtoken", secret)...)
	h.ok(dev("0d", "license", "smart", "sync")...)
	if out := h.ok("instance", "get", "C9300-24T:OFS0001"); !strings.Contains(out, "on time") {
		t.Fatalf("not on time right after its report:\n%s", out)
	}

	// A subscription is reported every 90 days (the default policy).
	h.clock.Advance(100 * smartlic.Day)
	if out := h.ok("instance", "get", "C9300-24T:OFS0001"); !strings.Contains(out, "OVERDUE") {
		t.Fatalf("not overdue 100 days after its report:\n%s", out)
	}
	h.ok(dev("100d", "license", "smart", "sync")...)
	if out := h.ok("instance", "get", "C9300-24T:OFS0001"); !strings.Contains(out, "on time") {
		t.Fatalf("not on time after a report:\n%s", out)
	}
}

// TestServeClockOffset: a manager started with --clock-offset says so in
// its log, seeds its demo (whose devices share its clock) and signs and
// stores its own times moved by it.
func TestServeClockOffset(t *testing.T) {
	logs := &syncBuffer{}
	url, _ := startServeLogging(t, logs, "--db", filepath.Join(t.TempDir(), "smartlic.db"), "--clock-offset", "400d", "--demo")
	if !strings.Contains(logs.String(), "the clock is moved") {
		t.Errorf("no warning of the moved clock in the log:\n%s", logs)
	}
	resp, err := http.Get(url + "/device/v1/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var keys smartlic.PublicKeySet
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) == 0 {
		t.Fatal("no signing key")
	}
	if d := time.Until(keys.Keys[0].CreatedAt); d < 399*smartlic.Day || d > 401*smartlic.Day {
		t.Errorf("the signing key was made at %v, not 400 days ahead", keys.Keys[0].CreatedAt)
	}
}
