package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestConversionWalkthrough: the vendor maps classic SKUs and deposits a
// PAK; the customer converts part of it in the portal, a switch converts the
// units installed on it, the rest converts, and a second conversion is
// refused.
func TestConversionWalkthrough(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()
	h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"
	h.ok("va", "create", "Campus")

	wantRow(t, h.ok("sku", "create", "--sku", "L-C3850-24-S-E", "--license", "network-essentials", "--ratio", "2"),
		"L-C3850-24-S-E", "network-essentials", "2")
	h.ok("sku", "create", "--sku", "L-DNA-A-3Y", "--license", "network-advantage", "--term-days", "1095")
	h.fails(smartlic.EInvalid, "--term-days", "sku", "create", "--sku", "L-BAD", "--license", "network-advantage")
	wantRow(t, h.ok("sku", "list"), "L-DNA-A-3Y", "network-advantage", "1", "1095")

	out := h.ok("pak", "deposit", "--number", "3300J7A1B2C", "--order", "SO-1001",
		"--line", "L-C3850-24-S-E,10", "--line", "L-DNA-A-3Y,3",
		"--fulfilled", "L-C3850-24-S-E,C9300-24T:FOC0001,2")
	wantRow(t, out, "1", "L-C3850-24-S-E", "10", "0", "10", "C9300-24T:FOC0001×2")
	h.fails(smartlic.EInvalid, "lines.sku", "pak", "deposit", "--number", "X1", "--order", "SO-1", "--line", "L-NOPE,1")
	h.fails(smartlic.EInvalid, "--line", "pak", "deposit", "--number", "X1", "--order", "SO-1", "--line", "L-NOPE")

	wantRow(t, h.ok("pak", "convert", "3300J7A1B2C", "--va", "Campus", "--line", "1,4"), "3300J7A1B2C", "1", "L-C3850-24-S-E", "4", "network-essentials", "8", "portal")
	wantRow(t, h.ok("license", "list", "--va", "Campus"), "network-essentials", "8")

	// The switch converts the two units installed on it.
	secret := tokenSecret(t, h.ok("token", "create", "--va", "Campus", "--description", "switches", "--expires-days", "30"))
	sw1 := filepath.Join(t.TempDir(), "sw1")
	dev := func(args ...string) []string { return append([]string{"device", "--state-dir", sw1}, args...) }
	h.ok(dev("init", "--pid", "C9300-24T", "--sn", "FOC0001")...)
	h.ok(dev("register", "--token", secret)...)
	out = h.ok(dev("convert", "L-C3850-24-S-E", "2")...)
	wantRow(t, out, "L-C3850-24-S-E", "-", "2", "2", "network-essentials", "4", "converted")
	wantRow(t, h.ok(dev("convert", "L-C3850-24-S-E", "2", "--pak", "3300J7A1B2C")...), "L-C3850-24-S-E", "3300J7A1B2C", "2", "0", "network-essentials", "0", "already converted")

	h.ok("pak", "convert", "3300J7A1B2C", "--va", "Campus")
	wantRow(t, h.ok("license", "list", "--va", "Campus"), "network-essentials", "20")
	wantRow(t, h.ok("license", "list", "--va", "Campus"), "network-advantage", "3")
	h.fails(smartlic.EAlreadyConverted, "pak", "pak", "convert", "3300J7A1B2C", "--va", "Campus")
	h.fails(smartlic.EAlreadyConverted, "lines.quantity", "pak", "convert", "3300J7A1B2C", "--va", "Campus", "--sku", "L-DNA-A-3Y,1")
	wantRow(t, h.ok("pak", "list"), "3300J7A1B2C", "SO-1001", "2", "13", "13")

	var convs struct{ Items []smartlic.Conversion }
	h.json(&convs, "pak", "conversions", "3300J7A1B2C")
	if len(convs.Items) != 4 {
		t.Fatalf("%d conversions, want 4: %+v", len(convs.Items), convs.Items)
	}
}

// TestDeviceConvertUnmatched: a device reporting a classic license its PAK
// does not record on it is told what is missing, and the command fails.
func TestDeviceConvertUnmatched(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("sku", "create", "--sku", "L-C3850-24-S-E", "--license", "network-essentials")
		// The PAK exists, but its units are fulfilled on another switch.
		h.ok("pak", "deposit", "--number", "3300J7A1B2C", "--order", "SO-1001",
			"--line", "L-C3850-24-S-E,10", "--fulfilled", "L-C3850-24-S-E,C9300-24T:FOC0002,2")
		secret := tokenSecret(t, h.ok("token", "create", "--description", "switches"))
		sw1 := filepath.Join(t.TempDir(), "sw1")
		dev := func(args ...string) []string { return append([]string{"device", "--state-dir", sw1}, args...) }
		h.ok(dev("init", "--pid", "C9300-24T", "--sn", "FOC0001")...)
		h.ok(dev("register", "--token", secret)...)

		for _, args := range [][]string{
			{"convert", "L-C3850-24-S-E", "2"},
			{"convert", "L-C3850-24-S-E", "2", "--pak", "3300J7A1B2C"},
		} {
			err := h.fails(smartlic.ENotFound, "SKU", dev(args...)...)
			for _, want := range []string{"L-C3850-24-S-E", "C9300-24T:FOC0001", "--fulfilled"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v: error %q does not name %s", args, err, want)
				}
			}
			if ExitCode(err) == 0 {
				t.Errorf("%v: exit code 0", args)
			}
		}
		h.fails(smartlic.EInvalid, "SKU", dev("convert", "L-UNKNOWN", "1")...)
		// Nothing was deposited.
		if out := h.ok("license", "list"); strings.Contains(out, "network-essentials") {
			t.Fatalf("licenses after refused conversions:\n%s", out)
		}
	})
}
