package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestSLACCancelCLI: `smartlic slac cancel ID --reason TEXT` over real
// HTTP on both stores. An air-gapped router's SLAC is cancelled after the
// router is lost: the reason is required, a Smart Account user may not,
// the license goes back to the pool, the event log keeps the reason, and a
// second cancel or the lost router's late return code is refused.
func TestSLACCancelCLI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		h := newAcmeHarness(t, open)
		h.ok("catalog", "license-type", "create", "--tag", "hseck9", "--name", "HSEC", "--term", "perpetual", "--enforcement", "export_controlled")
		h.ok("catalog", "product", "create", "--pid", "ISR4451", "--name", "ISR 4451", "--license-types", "hseck9")
		h.ok("deposit", "create", "--order", "O-1", "--license", "hseck9", "--quantity", "2")
		h.ok("account", "export-control", "acme.com", "allowed")
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
		dir := filepath.Join(t.TempDir(), "router")
		dev := func(args ...string) []string { return append([]string{"device", "--state-dir", dir}, args...) }
		h.ok(dev("init", "--pid", "ISR4451", "--sn", "LOST1")...)
		h.ok(dev("configure", "--license", "hseck9=export_controlled")...)
		h.ok(dev("license", "smart", "reservation", "enable", "--keys", keys)...)
		req := lastLine(h.ok(dev("slac", "request", "hseck9", "--offline")...))
		var s smartlic.SLAC
		h.json(&s, "slac", "issue", "--request", req, "--license", "hseck9")
		h.ok(dev("slac", "install", s.AuthorizationCode)...)
		// Taken back from the router before it was lost.
		ret := lastLine(h.ok(dev("slac", "return", "hseck9", "--offline")...))
		pool("1", "1")

		h.fails(smartlic.EInvalid, "--reason", "slac", "cancel", s.ID)
		h.fails(smartlic.EInvalid, "--reason", "slac", "cancel", s.ID, "--reason", "  ")
		h.fails(smartlic.ENotFound, anyField, "slac", "cancel", "no-such-slac", "--reason", "lost")

		// A Smart Account user (licensing, not administration) is refused.
		h.ok("user", "create", "--email", "user@acme.com", "--name", "Una User", "--password", "correct horse battery")
		h.ok("role", "grant", "--user", "user@acme.com", "--role", "sa_user")
		login, err := h.mgr.Login(t.Context(), "user@acme.com", "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		actor, _, err := h.mgr.AuthenticateSession(t.Context(), login.Secret)
		if err != nil {
			t.Fatal(err)
		}
		k, err := h.mgr.CreateAPIKey(smartlic.WithActor(t.Context(), actor), smartlic.APIKeyInput{Name: "laptop"})
		if err != nil {
			t.Fatal(err)
		}
		opKey := h.env["SMARTLIC_API_KEY"]
		h.env["SMARTLIC_API_KEY"] = k.Secret
		h.fails(smartlic.EForbidden, anyField, "slac", "cancel", s.ID, "--reason", "lost")
		h.env["SMARTLIC_API_KEY"] = opKey
		pool("1", "1")

		out := h.ok("slac", "cancel", s.ID, "--reason", "router lost in transit")
		wantCells(t, out, "ISR4451:LOST1", "hseck9", "DEFAULT", "cancelled", "offline")
		if !strings.Contains(out, "(cancelled: router lost in transit)") {
			t.Fatalf("cancel output:\n%s", out)
		}
		pool("0", "2")
		wantCells(t, h.ok("slac", "list", "--status", "cancelled"), "ISR4451:LOST1", "hseck9", "DEFAULT", "cancelled")
		if evs := h.ok("events", "list", "--type", "slac.cancelled"); !strings.Contains(evs, "router lost in transit") {
			t.Fatalf("slac.cancelled event:\n%s", evs)
		}

		h.fails(smartlic.ESLACClosed, anyField, "slac", "cancel", s.ID, "--reason", "again")
		h.fails(smartlic.ESLACClosed, "slac_id", "slac", "return", "--code", ret)
		pool("0", "2")

		// A registered router learns of the cancel at its next contact: its
		// summary says so and it may not raise its throughput any more.
		secret := tokenSecret(t, h.ok("token", "create", "--description", "routers", "--expires-days", "30", "--allow-export-controlled"))
		reg := filepath.Join(t.TempDir(), "registered")
		rdev := func(args ...string) []string { return append([]string{"device", "--state-dir", reg}, args...) }
		h.ok(rdev("init", "--pid", "ISR4451", "--sn", "STOLEN1")...)
		h.ok(rdev("configure", "--license", "hseck9=export_controlled", "--throughput-license", "hseck9")...)
		h.ok(rdev("register", "idtoken", secret)...)
		h.ok(rdev("slac", "request", "hseck9")...)
		var online struct {
			Items []smartlic.SLAC `json:"items"`
		}
		h.json(&online, "slac", "list", "--udi", "ISR4451:STOLEN1", "--status", "active")
		if len(online.Items) != 1 {
			t.Fatalf("the registered router's SLACs: %+v", online.Items)
		}
		h.ok("slac", "cancel", online.Items[0].ID, "--reason", "reported stolen")
		h.ok(rdev("use", "hseck9", "0")...) // any contact: an authorization request
		wantLines(t, h.ok(rdev("show", "license", "summary")...), "Export Authorization (SLAC):")
		if sum := h.ok(rdev("show", "license", "summary")...); !strings.Contains(sum, "hseck9: CANCELLED by an administrator") {
			t.Fatalf("summary after the cancel reached the router:\n%s", sum)
		}
		h.fails(smartlic.EExportControl, "throughput", rdev("throughput", "1000")...)

		// Its owner returning it online after the cancel: the return is
		// refused, and the device asks for an authorization at once, learns
		// of the cancel and removes the SLAC, saying so.
		other := filepath.Join(t.TempDir(), "other")
		odev := func(args ...string) []string { return append([]string{"device", "--state-dir", other}, args...) }
		h.ok(odev("init", "--pid", "ISR4451", "--sn", "STOLEN2")...)
		h.ok(odev("configure", "--license", "hseck9=export_controlled")...)
		h.ok(odev("register", "idtoken", secret)...)
		h.ok(odev("slac", "request", "hseck9")...)
		h.json(&online, "slac", "list", "--udi", "ISR4451:STOLEN2", "--status", "active")
		if len(online.Items) != 1 {
			t.Fatalf("the second router's SLACs: %+v", online.Items)
		}
		h.ok("slac", "cancel", online.Items[0].ID, "--reason", "wrong router")
		out = h.ok(odev("slac", "return", "hseck9")...)
		wantLines(t, out, "SLAC for hseck9: CANCELLED by an administrator; the device learned it from a fresh authorization and removed it",
			"  hseck9: CANCELLED by an administrator")
		h.fails(smartlic.ENotFound, "tag", odev("slac", "return", "hseck9")...)
	})
}
