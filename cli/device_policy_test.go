package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
)

// TestDevicePolicyWalkthrough drives simulated switches under Smart
// Licensing Using Policy through the real server: one online (trust with a
// token, usage reported as it changes), one offline (trust file, save
// usage, upload, import the ACK file), then the show commands.
func TestDevicePolicyWalkthrough(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()
	h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"
	secret := tokenSecret(t, h.ok("token", "create", "--description", "switches", "--expires-days", "30"))
	dir := t.TempDir()
	sw1, sw2 := filepath.Join(dir, "sw1"), filepath.Join(dir, "sw2")
	dev := func(state string, args ...string) []string {
		return append([]string{"device", "--state-dir", state}, args...)
	}

	wantLines(t, h.ok(dev(sw1, "init", "--mode", "policy", "--pid", "C9300-24T", "--sn", "POL0001", "--hostname", "sw1", "--enforced", "threat-defense")...),
		"Created product instance PID:C9300-24T,SN:POL0001", "Smart Licensing Using Policy is ENABLED")
	h.fails(smartlic.EInvalid, "--mode", dev(filepath.Join(dir, "x"), "init", "--mode", "other", "--pid", "C9300-24T")...)
	wantLines(t, h.ok(dev(sw1, "use", "network-advantage", "2")...),
		"License Authorization:", "  Status: Not Applicable", "network-advantage (network-advantage):", "  Count: 2", "  Status: IN USE", "  Enforcement type: NOT ENFORCED")
	h.fails(agent.EAuthorizationRequired, "tag", dev(sw1, "use", "threat-defense", "1")...)
	h.fails(smartlic.ENotTrusted, "trust", dev(sw1, "license", "smart", "sync")...)
	wantLines(t, h.ok(dev(sw1, "license", "smart", "trust", "idtoken", secret)...),
		"Trust Establishment: SUCCEEDED", "Trust Code Installed: INSTALLED on ", "  Smart Account: Acme Corp (acme.com)")
	wantLines(t, h.ok(dev(sw1, "license", "smart", "sync")...), "Usage report: SUCCEEDED (1 sent, 1 acknowledged, 0 rejected, 0 pending)")
	wantRow(t, h.ok("license", "list"), "network-advantage", "0", "2")
	// A change is reported as it happens.
	h.ok(dev(sw1, "use", "network-advantage", "1")...)
	wantRow(t, h.ok("license", "list"), "network-advantage", "0", "1")
	wantLines(t, h.ok(dev(sw1, "show", "license", "status")...),
		"Smart Licensing Using Policy:", "  Status: ENABLED", "Policy:", "  Policy name: Default Policy",
		"  Unenforced/Non-Export Perpetual Attributes:", "    First report requirement (days): 365",
		"Usage Reporting:", "  Last ACK received: ", "Trust Code Installed:", "  Active: PID:C9300-24T,SN:POL0001")
	wantLines(t, h.ok(dev(sw1, "show", "license", "usage")...), "threat-defense (threat-defense):", "  Status: NOT AUTHORIZED", "  Enforcement type: ENFORCED")
	// Nothing to renew under Using Policy: renew says what to run instead.
	err := h.fails(smartlic.EConflict, "mode", dev(sw1, "renew", "--auth")...)
	if !strings.Contains(err.Error(), "Using Policy") || !strings.Contains(err.Error(), "smartlic device license smart sync") {
		t.Errorf("renew --auth in policy mode: %q does not point at license smart sync", err)
	}
	h.fails(smartlic.EConflict, "mode", dev(sw1, "renew")...)

	// Offline.
	h.ok(dev(sw2, "init", "--mode", "policy", "--pid", "C9300-24T", "--sn", "OFF0001")...)
	h.ok(dev(sw2, "use", "network-essentials", "3")...)
	trust := filepath.Join(dir, "trust.json")
	wantLines(t, h.ok("trust", "generate", "--udi", "C9300-24T:OFF0001", "--file", trust), "Trust file with 1 trust code for acme.com / DEFAULT written to "+trust)
	wantLines(t, h.ok(dev(sw2, "license", "smart", "import", trust)...), "Trust code installed")
	wantLines(t, h.ok("trust", "generate", "--udi", "C9300-24T:OFF0002", "--udi", "C9300-24T:OFF0003", "--file", filepath.Join(dir, "trust2.json")),
		"Trust file with 2 trust codes for acme.com / DEFAULT written to ")
	usage := filepath.Join(dir, "usage.json")
	wantLines(t, h.ok(dev(sw2, "license", "smart", "save", "usage", usage)...), "1 usage report saved to "+usage)
	ack := filepath.Join(dir, "ack.json")
	wantLines(t, h.ok("usage", "upload", usage, "--ack", ack), "1 report from 1 instance, 1 accepted (0 already known), 0 rejected", "ACK file written to "+ack)
	wantLines(t, h.ok("usage", "upload", usage, "--ack", ack), "1 accepted (1 already known)")
	wantRow(t, h.ok("license", "list"), "network-essentials", "0", "3")
	wantLines(t, h.ok(dev(sw2, "license", "smart", "import", ack)...), "ACK installed: 1 report acknowledged, 0 rejected, 0 still pending")
	wantLines(t, h.ok("usage", "list"), "usage.json", "usage.json")
	// The instances show the ACK's compliance (no deposit: out of
	// compliance), not "pending" as if they never asked, and no year-1 ID
	// certificate date.
	list := h.ok("instance", "list", "--va", "DEFAULT")
	wantRow(t, list, "C9300-24T:OFF0001", "-", "policy", "out of compliance")
	wantRow(t, list, "C9300-24T:OFF0002", "-", "policy", "not reported")
	wantRow(t, list, "C9300-24T:POL0001", "sw1", "policy", "out of compliance")
	if js := h.ok("instance", "list", "--va", "DEFAULT", "-o", "json"); strings.Contains(js, "0001-01-01") || strings.Contains(js, "id_cert_expires_at") {
		t.Errorf("instance list -o json carries a zero ID certificate date:\n%s", js)
	}

	// Bad files: truncated, another kind.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"type":"smartlic.usage-file/v1","reports":[`), 0o600); err != nil {
		t.Fatal(err)
	}
	h.fails(smartlic.EInvalid, "file", "usage", "upload", bad)
	h.fails(smartlic.EInvalid, "type", "usage", "upload", trust)
	h.fails(smartlic.EInvalid, "type", dev(sw2, "license", "smart", "import", usage)...)
}
