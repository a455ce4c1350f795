package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestSLACEndToEnd: export control through the CLI over real HTTP, on both
// stores. A registered router gets its SLAC online; an air-gapped one gets
// its SLAC offline with a request code, an authorization code and a
// return code. Every refusal the issue lists — a mistyped code, a code for
// another device or Smart Account, a replayed or older code, a Smart
// Account the vendor has not allowed, a Virtual Account without the
// license, a second return — is a precise coded error that leaves the
// pool's figures as they were, checked at each step.
func TestSLACEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		h := newAcmeHarness(t, open)
		h.ok("catalog", "license-type", "create", "--tag", "hseck9", "--name", "HSEC", "--term", "perpetual", "--enforcement", "export_controlled")
		h.ok("catalog", "product", "create", "--pid", "ISR4451", "--name", "ISR 4451", "--license-types", "hseck9,network-advantage")
		h.ok("deposit", "create", "--order", "O-1", "--license", "hseck9", "--quantity", "2")
		secret := tokenSecret(t, h.ok("token", "create", "--description", "routers", "--expires-days", "30", "--allow-export-controlled"))
		pool := func(inUse, available string) {
			t.Helper()
			wantRow(t, h.ok("license", "list"), "hseck9", "2", inUse, "0", available)
		}
		keys := filepath.Join(t.TempDir(), "keys.json")
		ks, err := h.mgr.PublicKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ks)
		if err := os.WriteFile(keys, b, 0o600); err != nil {
			t.Fatal(err)
		}
		router := func(sn string, registered bool) func(args ...string) []string {
			dir := filepath.Join(t.TempDir(), sn)
			dev := func(args ...string) []string { return append([]string{"device", "--state-dir", dir}, args...) }
			h.ok(dev("init", "--pid", "ISR4451", "--sn", sn)...)
			h.ok(dev("configure", "--license", "hseck9=export_controlled", "--throughput-license", "hseck9")...)
			if registered {
				h.ok(dev("register", "idtoken", secret)...)
			} else {
				// Air-gapped: it trusts the manager's keys from a file.
				h.ok(dev("license", "smart", "reservation", "enable", "--keys", keys)...)
			}
			return dev
		}

		// Online: refused until the vendor allows the account.
		r1 := router("FOC1", true)
		h.fails(smartlic.EExportControl, "sa", r1("slac", "request", "hseck9")...)
		pool("0", "2")
		h.ok("account", "export-control", "acme.com", "allowed")
		wantLines(t, h.ok(r1("slac", "request", "hseck9")...), "SLAC for hseck9: INSTALLED")
		pool("1", "1")
		h.ok(r1("use", "hseck9", "1")...)
		h.ok(r1("throughput", "500")...)

		// Offline: an air-gapped router asks with a request code.
		r2 := router("FOC2", false)
		h.fails(smartlic.EExportControl, "tag", r2("use", "hseck9", "1")...)
		req := lastLine(h.ok(r2("slac", "request", "hseck9", "--offline")...))
		if !strings.HasPrefix(req, "SQ1-") || len(req) > 160 {
			t.Fatalf("request code %q", req)
		}
		h.fails(smartlic.ECodeInvalid, "--request", "slac", "issue", "--request", typo(req))
		h.fails(smartlic.EInvalid, "--license", "slac", "issue", "--request", req, "--license", "network-advantage")
		h.ok("account", "export-control", "acme.com", "forbidden")
		h.fails(smartlic.EExportControl, "--account", "slac", "issue", "--request", req, "--license", "hseck9")
		h.ok("account", "export-control", "acme.com", "allowed")
		h.ok("va", "create", "Lab")
		h.fails(smartlic.EInsufficient, "--va", "slac", "issue", "--request", req, "--license", "hseck9", "--va", "Lab")
		pool("1", "1")

		out := h.ok("slac", "issue", "--request", req, "--license", "hseck9")
		wantLines(t, out, "ISR4451:FOC2", "hseck9", "DEFAULT", "active", "offline", "SLAC authorization code")
		auth := lastLine(out)
		if !strings.HasPrefix(auth, "SA1-") {
			t.Fatalf("authorization code %q", auth)
		}
		pool("2", "0")
		// The same request code again is a replay; a third router finds no license.
		h.fails(smartlic.EReplayed, "--request", "slac", "issue", "--request", req)
		r3 := router("FOC3", false)
		h.fails(smartlic.EInsufficient, "--va", "slac", "issue", "--request", lastLine(h.ok(r3("slac", "request", "hseck9", "--offline")...)))
		pool("2", "0")

		// Installing: another device, a typo, then the right one, then again.
		h.fails(smartlic.EWrongDevice, "code", r3("slac", "install", auth)...)
		h.fails(smartlic.ECodeInvalid, "code", r2("slac", "install", auth[:len(auth)-7])...)
		wantLines(t, h.ok(r2("slac", "install", auth)...), "SLAC for hseck9: INSTALLED", "Export Authorization (SLAC):", "  hseck9: INSTALLED")
		h.fails(smartlic.EReplayed, "code", r2("slac", "install", auth)...)
		h.ok(r2("use", "hseck9", "1")...)
		h.fails(smartlic.EExportControl, "throughput", r3("throughput", "1000")...)
		h.ok(r2("throughput", "1000")...)
		wantCells(t, h.ok("slac", "list", "--udi", "ISR4451:FOC2"), "ISR4451:FOC2", "hseck9", "DEFAULT", "active", "offline")

		// Returning offline: refused while used, then a return code.
		h.fails(smartlic.EConflict, "tag", r2("slac", "return", "hseck9", "--offline")...)
		h.ok(r2("use", "hseck9", "0")...)
		h.ok(r2("throughput", "100")...)
		ret := lastLine(h.ok(r2("slac", "return", "hseck9", "--offline")...))
		if !strings.HasPrefix(ret, "SR1-") {
			t.Fatalf("return code %q", ret)
		}
		h.fails(smartlic.EExportControl, "tag", r2("use", "hseck9", "1")...)
		// The device keeps showing the code until newer ones push it out.
		wantLines(t, h.ok(r2("show", "license", "summary")...), "  hseck9: RETURNED on ", ret)
		// Entered in another Smart Account, mistyped: refused, nothing changes.
		h.ok("account", "create", "--name", "Other", "--domain", "other.com", "--approve")
		h.fails(smartlic.EWrongAccount, "--code", "slac", "return", "--code", ret, "--account", "other.com")
		h.fails(smartlic.ECodeInvalid, "--code", "slac", "return", "--code", typo(ret))
		pool("2", "0")
		wantCells(t, h.ok("slac", "return", "--code", ret), "ISR4451:FOC2", "hseck9", "DEFAULT", "returned", "offline")
		pool("1", "1")
		h.fails(smartlic.EReplayed, "slac_id", "slac", "return", "--code", ret)
		pool("1", "1")

		// The old authorization code after a new request: refused as older.
		h.ok(r2("slac", "request", "hseck9", "--offline")...)
		h.fails(smartlic.EReplayed, "request", r2("slac", "install", auth)...)

		// Online return gives the last one back.
		h.ok(r1("use", "hseck9", "0")...)
		h.ok(r1("throughput", "100")...)
		wantLines(t, h.ok(r1("slac", "return", "hseck9")...), "SLAC for hseck9: RETURNED")
		pool("0", "2")

		// A registered router's request code entered in another Smart
		// Account that could otherwise issue: the device is not its.
		h.ok("account", "export-control", "other.com", "allowed")
		h.ok("deposit", "create", "--order", "O-2", "--license", "hseck9", "--quantity", "1", "--account", "other.com")
		other := lastLine(h.ok(r1("slac", "request", "hseck9", "--offline")...))
		h.fails(smartlic.EWrongDevice, "udi", "slac", "issue", "--request", other, "--account", "other.com")
		pool("0", "2")

		if evs := h.ok("events", "list", "--type", "slac.returned"); strings.Count(evs, "slac.returned") != 2 {
			t.Fatalf("slac.returned events, want the offline and the online return:\n%s", evs)
		}
	})
}

// typo changes one character of a code near its end, as a person might.
func typo(code string) string {
	b := []byte(code)
	i := len(b) - 3
	for b[i] == '-' {
		i--
	}
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// wantCells finds a row whose columns after the first are want.
func wantCells(t *testing.T, table string, want ...string) {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) > len(want) && slices.Equal(f[1:1+len(want)], want) {
			return
		}
	}
	t.Fatalf("no row with %q in:\n%s", want, table)
}
