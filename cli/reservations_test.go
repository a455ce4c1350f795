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

// lastLine is the code a command printed on its last line.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TestReservationEndToEnd: an air-gapped switch and the manager exchange
// codes through the CLI over real HTTP — request, authorize, install, use,
// confirm, update, return — with the pool's figures checked at each step,
// then a permanent reservation; on both stores.
func TestReservationEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		h := newAcmeHarness(t, open)
		h.ok("deposit", "create", "--order", "O-1", "--license", "network-essentials", "--quantity", "5")
		sw1 := filepath.Join(t.TempDir(), "sw1")
		dev := func(args ...string) []string { return append([]string{"device", "--state-dir", sw1}, args...) }
		res := func(args ...string) []string { return append(dev("license", "smart", "reservation"), args...) }
		h.ok(dev("init", "--pid", "C9300-24T", "--sn", "FOC0001", "--hostname", "sw1")...)

		// The device is air-gapped: it trusts the manager's keys from a file.
		keys := filepath.Join(t.TempDir(), "keys.json")
		ks, err := h.mgr.PublicKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(ks)
		if err := os.WriteFile(keys, b, 0o600); err != nil {
			t.Fatal(err)
		}
		h.fails(smartlic.EConflict, "", res("request")...)
		wantLines(t, h.ok(res("enable", "--keys", keys)...), "License reservation: ENABLED", "Manager Keys Trusted: "+ks.Keys[0].ID)
		req := lastLine(h.ok(res("request")...))
		if !strings.HasPrefix(req, "RQ1-") || len(req) > 160 {
			t.Fatalf("request code %q", req)
		}

		// Bad input on the manager's side changes nothing.
		h.fails(smartlic.EInvalid, "--license", "reservation", "create", "--request", req)
		h.fails(smartlic.EInvalid, "--license", "reservation", "create", "--request", req, "--license", "network-essentials")
		h.fails(smartlic.ECodeInvalid, "--request", "reservation", "create", "--request", req[:len(req)-2], "--license", "network-essentials=1")
		h.fails(smartlic.EInsufficient, "--license", "reservation", "create", "--request", req, "--license", "network-essentials=6")
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "0", "0", "5", "in compliance")

		out := h.ok("reservation", "create", "--request", req, "--license", "network-essentials=2")
		wantLines(t, out, "C9300-24T:FOC0001", "DEFAULT", "specific", "authorized", "network-essentials=2", "Authorization code 1")
		auth := lastLine(out)
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "0", "2", "3", "in compliance")
		id := strings.Fields(strings.Split(h.ok("reservation", "list", "--udi", "C9300-24T:FOC0001"), "\n")[1])[0]

		// Install on the device: another device's code and a typo are refused.
		sw2 := filepath.Join(t.TempDir(), "sw2")
		h.ok("device", "--state-dir", sw2, "init", "--pid", "C9300-24T", "--sn", "FOC0002")
		h.ok("device", "--state-dir", sw2, "license", "smart", "reservation", "enable", "--keys", keys)
		h.ok("device", "--state-dir", sw2, "license", "smart", "reservation", "request")
		h.fails(smartlic.ECodeOtherDevice, "code", "device", "--state-dir", sw2, "license", "smart", "reservation", "install", auth)
		h.fails(smartlic.ECodeInvalid, "code", res("install", strings.Replace(auth, "-", "", 3)[:len(auth)-10])...)
		out = h.ok(res("install", auth)...)
		wantLines(t, out, "Reservation INSTALLED: authorization 1 (specific)", "  network-essentials: 2", "confirmation code")
		confirm := lastLine(out)
		wantLines(t, h.ok(dev("use", "network-essentials", "2")...), "AUTHORIZED - RESERVED", "network-essentials:", "  Count: 2", "  Status: RESERVED")
		h.fails(smartlic.ECodeStale, "code", res("install", auth)...)
		wantRow(t, h.ok("reservation", "confirm", "--code", confirm), id, "C9300-24T:FOC0001", "DEFAULT", "specific", "installed")

		// Update to 1: the 2 stay reserved until the device confirms the new code.
		auth2 := lastLine(h.ok("reservation", "update", id, "--license", "network-essentials=1"))
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "0", "2", "3", "in compliance")
		confirm2 := lastLine(h.ok(res("install", auth2)...))
		h.fails(smartlic.ECodeStale, "--code", "reservation", "confirm", "--code", confirm)
		h.ok("reservation", "confirm", "--code", confirm2)
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "0", "1", "4", "in compliance")
		out = h.ok(dev("show", "license", "summary")...)
		wantLines(t, out, "Status: AUTHORIZED - RESERVED", "License Usage:")
		wantRow(t, out, "network-essentials", "2", "NOT RESERVED")

		// Return: the licenses are back; twice is refused.
		ret := lastLine(h.ok(res("return")...))
		if !strings.HasPrefix(ret, "RR1-") {
			t.Fatalf("return code %q", ret)
		}
		h.fails(smartlic.ECodeStale, "code", res("install", auth2)...)
		wantRow(t, h.ok("reservation", "return", "--code", ret), id, "C9300-24T:FOC0001", "DEFAULT", "specific", "returned")
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "0", "0", "5", "in compliance")
		h.fails(smartlic.EReservationClosed, "", "reservation", "return", "--code", ret)
		wantRow(t, h.ok("reservation", "list", "--status", "closed"), id)

		// Permanent reservation, once the vendor enabled it.
		req2 := lastLine(h.ok(res("request")...))
		h.fails(smartlic.EReservationNotAllowed, "--permanent", "reservation", "create", "--request", req2, "--permanent")
		wantRow(t, h.ok("reservation", "permanent", "enable", "--product", "C9300-24T"), "product C9300-24T", "yes")
		wantRow(t, h.ok("reservation", "permanent", "enable"), "Smart Account acme.com", "yes")
		plr := lastLine(h.ok("reservation", "create", "--request", req2, "--permanent"))
		wantLines(t, h.ok(res("install", plr)...), "authorization 1 (permanent)", "  network-advantage: any number", "  network-essentials: any number")
		wantLines(t, h.ok(dev("use", "network-essentials", "40")...), "network-essentials:", "  Count: 40", "  Status: RESERVED")
		wantRow(t, h.ok("license", "list"), "network-essentials", "5", "0", "0", "5", "in compliance")

		// An administrator cancels without a return code, with a reason.
		id2 := strings.Fields(strings.Split(h.ok("reservation", "list", "--status", "open"), "\n")[1])[0]
		h.fails(smartlic.EInvalid, "--reason", "reservation", "cancel", id2)
		wantRow(t, h.ok("reservation", "cancel", id2, "--reason", "switch lost"), id2, "C9300-24T:FOC0001", "DEFAULT", "permanent", "cancelled")
		var evs struct {
			Items []smartlic.Event `json:"items"`
		}
		h.json(&evs, "events", "list", "--type", "reservation.")
		if len(evs.Items) != 7 { // created, confirmed, updated, confirmed, returned; created (PLR), cancelled
			t.Fatalf("%d reservation events, want 7", len(evs.Items))
		}
	})
}
