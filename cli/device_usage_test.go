package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestDeviceUseRefusedLicense: a license the product may not consume is
// refused and not kept, so the instance does not sit in "authorization
// pending" with every later renewal failing on it.
func TestDeviceUseRefusedLicense(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("catalog", "license-type", "create", "--tag", "ise-base", "--name", "ISE Base",
			"--term", "perpetual", "--enforcement", "unenforced")
		h.ok("deposit", "create", "--order", "O-1", "--license", "network-essentials", "--quantity", "5")
		secret := tokenSecret(t, h.ok("token", "create", "--description", "switches"))
		sw := filepath.Join(t.TempDir(), "sw1")
		dev := func(args ...string) []string { return append([]string{"device", "--state-dir", sw}, args...) }
		h.ok(dev("init", "--pid", "C9300-24T", "--sn", "FOC0001")...)
		h.ok(dev("register", "--token", secret)...)
		h.ok(dev("use", "network-essentials", "2")...)

		// C9300-24T may not consume ise-base; nor a license nobody sells.
		for _, tag := range []string{"ise-base", "no-such-license"} {
			err := h.fails(smartlic.EInvalid, anyField, dev("use", tag, "1")...)
			if !strings.Contains(err.Error(), tag) || !strings.Contains(err.Error(), "not changed") {
				t.Errorf("refusal %q does not say %s was not changed", err, tag)
			}
		}
		out := h.ok(dev("show", "license", "usage")...)
		if strings.Contains(out, "\nise-base:") || strings.Contains(out, "\nno-such-license:") {
			t.Fatalf("refused licenses kept in the usage:\n%s", out)
		}
		wantLines(t, out, "network-essentials:", "  Count: 2")
		// Later renewals are not stuck on the refused line.
		wantLines(t, h.ok(dev("renew", "--auth")...), "AUTHORIZED")
		wantLines(t, h.ok(dev("show", "license", "summary")...), "  Status: AUTHORIZED on ")
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "2", "0", "3", "in compliance")

		// A line already in use that the product may no longer consume is
		// dropped, not kept to fail every later request.
		h.ok("catalog", "product", "update", "C9300-24T", "--license-types", "network-advantage")
		err := h.fails(smartlic.EInvalid, "TAG", dev("use", "network-essentials", "3")...)
		if !strings.Contains(err.Error(), "network-essentials dropped (it was 2)") {
			t.Errorf("refusal %q does not say the line was dropped", err)
		}
		out = h.ok(dev("show", "license", "usage")...)
		wantLines(t, out, "No licenses in use.", "Licenses Dropped (the server refused them; no longer reported):")
		wantLines(t, h.ok(dev("renew", "--auth")...), "AUTHORIZED")
	})
}

// TestDeviceUseStuckScenario is the newcomer's report: in evaluation a
// typo tag and a license the product may not consume, then register.
// Before, every later "use … 0" failed on the other line and both stayed
// AUTHORIZATION PENDING until deregister. Now register drops both lines
// (saying why), and lowering a count is never put back.
func TestDeviceUseStuckScenario(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("catalog", "license-type", "create", "--tag", "threat-defense", "--name", "Threat Defense",
			"--term", "perpetual", "--enforcement", "unenforced")
		h.ok("deposit", "create", "--order", "O-1", "--license", "network-essentials", "--quantity", "5")
		secret := tokenSecret(t, h.ok("token", "create", "--description", "switches"))
		sw := filepath.Join(t.TempDir(), "sw1")
		dev := func(args ...string) []string { return append([]string{"device", "--state-dir", sw}, args...) }
		h.ok(dev("init", "--pid", "C9300-24T", "--sn", "FOC0001")...)
		h.ok(dev("use", "network-advantge", "1")...)
		h.ok(dev("use", "threat-defense", "1")...)
		h.ok(dev("use", "network-essentials", "2")...)
		out := h.ok(dev("register", "--token", secret)...)
		wantLines(t, out, "Registration: SUCCEEDED",
			"Licenses Dropped (the server refused them; no longer reported):",
			`  network-advantge (count 1): product C9300-24T may not consume license "network-advantge"`,
			`  threat-defense (count 1): product C9300-24T may not consume license "threat-defense"`)
		if strings.Contains(out, "PENDING") {
			t.Fatalf("still pending after register:\n%s", out)
		}
		out = h.ok(dev("show", "license", "usage")...)
		wantLines(t, out, "  Status: AUTHORIZED", "network-essentials:", "  Count: 2")
		// The typo is no longer in use: "use … 0" is a no-op that succeeds.
		h.ok(dev("use", "network-advantge", "0")...)
		h.ok(dev("use", "threat-defense", "0")...)
		// Lowering is authorized and kept.
		wantLines(t, h.ok(dev("use", "network-essentials", "1")...), "network-essentials:", "  Count: 1", "  Status: AUTHORIZED")
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "1", "0", "4", "in compliance")
		// A typo used while registered is refused and not kept.
		err := h.fails(smartlic.EInvalid, "TAG", dev("use", "network-advantge", "1")...)
		if !strings.Contains(err.Error(), "usage of network-advantge not changed") {
			t.Errorf("refusal %q does not say the typo was not used", err)
		}
		wantLines(t, h.ok(dev("renew", "--auth")...), "AUTHORIZED")
	})
}

// TestDeviceUseNegativeCount: "-1" is a bad COUNT, not an unknown flag.
func TestDeviceUseNegativeCount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sw := filepath.Join(t.TempDir(), "sw1")
	h.ok("device", "--state-dir", sw, "init", "--pid", "C9300-24T", "--sn", "FOC0001")
	for _, n := range []string{"-1", "-10"} {
		err := h.fails(smartlic.EInvalid, "COUNT", "device", "--state-dir", sw, "use", "ise-base", n)
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not show %s", err, n)
		}
	}
	h.fails(smartlic.EInvalid, "COUNT", "device", "--state-dir", sw, "convert", "L-SKU", "-1")
	h.fails(smartlic.EInvalid, "-x", "device", "--state-dir", sw, "use", "ise-base", "-x")
}
