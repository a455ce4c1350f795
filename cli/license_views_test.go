package cli

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestLicenseViewsSayWhatIsShort: the account-wide and rolled-up rows
// name the VA that makes them insufficient while other VAs have spare; a
// pool whose licenses were all transferred away reads empty, with no
// expiry of a lot it no longer holds; and one deposit shows the same days
// left in an alert and in the expiring report.
func TestLicenseViewsSayWhatIsShort(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("va", "create", "Campus")
		h.ok("va", "create", "Building A", "--parent", "Campus")
		h.ok("va", "create", "Lab")
		h.ok("deposit", "create", "--va", "Building A", "--order", "O-1", "--license", "network-essentials", "--quantity", "1")
		h.ok("deposit", "create", "--va", "Lab", "--order", "O-2", "--license", "network-essentials", "--quantity", "20")
		ends := h.clock.Now().Add(20 * smartlic.Day).Format(time.DateOnly)
		h.ok("deposit", "create", "--va", "Building A", "--order", "O-3", "--license", "network-advantage", "--quantity", "4", "--ends", ends)
		h.ok("deposit", "create", "--va", "Lab", "--order", "O-4", "--license", "network-advantage", "--quantity", "2", "--ends", ends)

		secret := tokenSecret(t, h.ok("token", "create", "--va", "Building A", "--description", "switches"))
		for _, sn := range []string{"FOC0001", "FOC0002"} {
			dir := filepath.Join(t.TempDir(), sn)
			dev := func(args ...string) []string { return append([]string{"device", "--state-dir", dir}, args...) }
			h.ok(dev("init", "--pid", "C9300-24T", "--sn", sn)...)
			h.ok(dev("register", "--token", secret)...)
			h.ok(dev("use", "network-essentials", "1")...)
		}

		// 21 purchased, 2 in use, 19 available, and yet insufficient: the
		// row says where.
		out, errOut, err := h.run("license", "list")
		if err != nil {
			t.Fatal(err)
		}
		wantRow(t, out, "LICENSE", "PURCHASED", "IN USE", "RESERVED", "AVAILABLE", "STATUS", "NEXT EXPIRY", "SHORT IN")
		wantRow(t, out, "network-essentials", "21", "2", "0", "19", "insufficient", "-", "1: Building A")
		if !strings.Contains(errOut, `Building A is short: smartlic license list --va "Building A"`) {
			t.Errorf("no drill-down hint on stderr:\n%s", errOut)
		}
		wantRow(t, h.ok("license", "list", "--va", "Campus", "--rollup"), "network-essentials", "1", "2", "0", "-1", "insufficient", "-", "1: Building A")
		var pools listJSON[smartlic.Pool]
		h.json(&pools, "license", "list")
		for _, p := range pools.Items {
			if p.LicenseTag == "network-essentials" && (len(p.ShortVirtualAccounts) != 1 || p.ShortVirtualAccounts[0] != "Building A") {
				t.Errorf("JSON row %+v lacks short_virtual_accounts [Building A]", p)
			}
		}

		// Every network-advantage license of Building A goes to Campus.
		h.ok("transfer", "licenses", "--from", "Building A", "--to", "Campus", "--license", "network-advantage", "--quantity", "4")
		wantRow(t, h.ok("license", "list", "--va", "Building A"), "network-advantage", "0", "0", "0", "0", "empty", "-")
		wantRow(t, h.ok("license", "list", "--va", "Campus"), "network-advantage", "4", "0", "0", "4", "expiring", ends)

		// One deposit, one number of days.
		var alerts listJSON[smartlic.Alert]
		h.json(&alerts, "alert", "list")
		var report smartlic.ExpiringReport
		h.json(&report, "report", "expiring")
		days := map[string]int{}
		for _, r := range report.Items {
			days[r.VirtualAccount] = r.DaysLeft
		}
		if len(days) != 2 || days["Campus"] == 0 || days["Campus"] != days["Lab"] {
			t.Fatalf("expiring report = %+v, want Campus and Lab", report.Items)
		}
		inDays := regexp.MustCompile(`\((\d+) days\)`)
		n := 0
		for _, a := range alerts.Items {
			if a.LicenseTag != "network-advantage" {
				continue
			}
			if a.VirtualAccount == "Building A" {
				t.Errorf("alert about a pool that holds nothing: %+v", a)
			}
			m := inDays.FindStringSubmatch(a.Message)
			if m == nil || m[1] != fmt.Sprint(days[a.VirtualAccount]) {
				t.Errorf("alert %q, but the expiring report says %d days left in %s", a.Message, days[a.VirtualAccount], a.VirtualAccount)
			}
			n++
		}
		if n != 2 {
			t.Errorf("%d expiry alerts, want Campus and Lab: %+v", n, alerts.Items)
		}
	})
}

// TestInstancePoolNow: an instance authorized out of compliance keeps that
// answer until it renews; beside it, the pool's status now shows that a
// deposit made up the shortage.
func TestInstancePoolNow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("deposit", "create", "--order", "O-1", "--license", "network-essentials", "--quantity", "1")
		secret := tokenSecret(t, h.ok("token", "create", "--description", "switches"))
		for _, sn := range []string{"FOC0001", "FOC0002"} {
			dir := filepath.Join(t.TempDir(), sn)
			h.ok("device", "--state-dir", dir, "init", "--pid", "C9300-24T", "--sn", sn)
			h.ok("device", "--state-dir", dir, "register", "--token", secret)
			h.ok("device", "--state-dir", dir, "use", "network-essentials", "1")
		}
		// The second switch was answered out of compliance.
		wantRow(t, h.ok("instance", "list"), "C9300-24T:FOC0002", "-", "registered", "out of compliance", "insufficient")

		h.ok("deposit", "create", "--order", "O-2", "--license", "network-essentials", "--quantity", "5")
		out := h.ok("instance", "list")
		wantRow(t, out, "UDI", "HOSTNAME", "MODE", "AUTHORIZATION", "POOL NOW", "LAST CONTACT", "ID")
		wantRow(t, out, "C9300-24T:FOC0002", "-", "registered", "out of compliance", "in compliance")
		wantRow(t, h.ok("instance", "get", "C9300-24T:FOC0002"), "network-essentials", "1", "out of compliance", "in compliance")
		var inst smartlic.Instance
		h.json(&inst, "instance", "get", "C9300-24T:FOC0002")
		if inst.PoolStatus != smartlic.InCompliance || len(inst.Usage) != 1 || inst.Usage[0].PoolStatus != smartlic.InCompliance {
			t.Errorf("instance = %+v, want pool_status in_compliance on it and its line", inst)
		}
	})
}
