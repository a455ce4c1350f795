package cli

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// An air-gapped router that never registered nor enabled reservation
// installs its SLAC with "slac install CODE --keys FILE", FILE the
// manager's key list: without it the device trusts no key; a file of
// other keys (another key under the manager's key id, or another id) or a
// file that is not a key list is refused, naming --keys, and leaves the
// device as it was (no SLAC, the request outstanding, no key trusted);
// the manager's file installs the SLAC and the device trusts its keys.
func TestSLACInstallWithKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		h := newAcmeHarness(t, open)
		h.ok("catalog", "license-type", "create", "--tag", "hseck9", "--name", "HSEC", "--term", "perpetual", "--enforcement", "export_controlled")
		h.ok("catalog", "product", "create", "--pid", "ISR4451", "--name", "ISR 4451", "--license-types", "hseck9")
		h.ok("deposit", "create", "--order", "O-1", "--license", "hseck9", "--quantity", "1")
		h.ok("account", "export-control", "acme.com", "allowed")
		ks, err := h.mgr.PublicKeys(t.Context())
		if err != nil || len(ks.Keys) == 0 {
			t.Fatalf("manager keys: %+v %v", ks, err)
		}
		dir := t.TempDir()
		file := func(name string, v any) string {
			path := filepath.Join(dir, name)
			b, _ := json.Marshal(v)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
		right := file("keys.json", ks)
		other := func(kid string) smartlic.PublicKeySet {
			pub, _, _ := ed25519.GenerateKey(rand.Reader)
			return smartlic.PublicKeySet{Keys: []smartlic.SigningKey{{ID: kid, Algorithm: sign.AlgEd25519, PublicKey: pub}}}
		}
		sameID, otherID := file("same-id.json", other(ks.Keys[0].ID)), file("other-id.json", other("someone-else"))
		notKeys := file("not-keys.json", map[string]string{"request_code": "SQ1-0"})

		state := filepath.Join(dir, "router")
		dev := func(args ...string) []string { return append([]string{"device", "--state-dir", state}, args...) }
		h.ok(dev("init", "--pid", "ISR4451", "--sn", "AIR9")...)
		h.ok(dev("configure", "--license", "hseck9=export_controlled")...)
		auth := lastLine(h.ok("slac", "issue", "--request", lastLine(h.ok(dev("slac", "request", "hseck9", "--offline")...))))
		unchanged := func() {
			t.Helper()
			out := h.ok(dev("show", "license", "status")...)
			if !strings.Contains(out, "Manager Keys Trusted:\n  <none>") || strings.Contains(out, "hseck9: INSTALLED") {
				t.Fatalf("device changed by a refused install:\n%s", out)
			}
		}

		err = h.fails(smartlic.ESignature, "code", dev("slac", "install", auth)...)
		if !strings.Contains(err.Error(), "trusts no manager key") {
			t.Fatalf("install without keys: %v", err)
		}
		for _, keys := range []string{sameID, otherID} {
			err = h.fails(smartlic.ESignature, "--keys", dev("slac", "install", auth, "--keys", keys)...)
			if !strings.Contains(err.Error(), "does not verify with the manager keys given") {
				t.Fatalf("install with %s: %v", filepath.Base(keys), err)
			}
			unchanged()
		}
		h.fails(smartlic.EInvalid, "--keys", dev("slac", "install", auth, "--keys", notKeys)...)
		h.fails(smartlic.EInvalid, "--keys", dev("slac", "install", auth, "--keys", filepath.Join(dir, "missing.json"))...)
		unchanged()

		wantLines(t, h.ok(dev("slac", "install", auth, "--keys", right)...), "SLAC for hseck9: INSTALLED")
		out := h.ok(dev("show", "license", "status")...)
		if !strings.Contains(out, "Manager Keys Trusted:\n  "+ks.Keys[0].ID) {
			t.Fatalf("the device does not trust the manager's key after the install:\n%s", out)
		}
		h.ok(dev("use", "hseck9", "1")...)
	})
}
