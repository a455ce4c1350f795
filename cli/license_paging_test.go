package cli

import (
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestLicenseListPagesAndFilters: license list pages with --limit and
// --after, filters by --status and --search, says how many rows there are,
// and license summary counts the same rows by status.
func TestLicenseListPagesAndFilters(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newAcmeHarness(t, open)
		h.ok("va", "create", "Lab")
		h.ok("deposit", "create", "--va", "Lab", "--order", "O-1", "--license", "network-essentials", "--quantity", "5")
		ends := h.clock.Now().Add(20 * smartlic.Day).Format("2006-01-02")
		h.ok("deposit", "create", "--va", "Lab", "--order", "O-2", "--license", "network-advantage", "--quantity", "3", "--ends", ends)

		out, errOut, err := h.run("license", "list", "--limit", "1")
		if err != nil {
			t.Fatal(err)
		}
		wantRow(t, out, "network-advantage", "3", "0", "0", "3", "expiring", ends)
		if strings.Contains(out, "network-essentials") {
			t.Errorf("a page of 1 shows two rows:\n%s", out)
		}
		i := strings.Index(errOut, "more: --after ")
		if !strings.Contains(errOut, "1 of 2 license types") || i < 0 {
			t.Fatalf("no count and cursor on stderr:\n%s", errOut)
		}
		cursor := strings.TrimSpace(errOut[i+len("more: --after "):])
		out = h.ok("license", "list", "--limit", "1", "--after", cursor)
		wantRow(t, out, "network-essentials", "5", "0", "0", "5", "in compliance")
		if strings.Contains(out, "network-advantage") {
			t.Errorf("the second page repeats the first:\n%s", out)
		}

		var page smartlic.PoolPage
		h.json(&page, "license", "list", "--status", "expiring")
		if page.Total != 1 || len(page.Items) != 1 || page.Items[0].LicenseTag != "network-advantage" {
			t.Errorf("--status expiring = %+v, want network-advantage alone", page)
		}
		h.json(&page, "license", "list", "--va", "Lab", "--search", "ESSENTIALS")
		if page.Total != 1 || len(page.Items) != 1 || page.Items[0].LicenseTag != "network-essentials" {
			t.Errorf("--search ESSENTIALS = %+v, want network-essentials alone", page)
		}
		h.json(&page, "license", "list", "--limit", "1", "--all")
		if page.Total != 2 || len(page.Items) != 2 || page.Next != "" {
			t.Errorf("--all = %+v, want both rows and no cursor", page)
		}

		wantRow(t, h.ok("license", "summary"), "2", "0", "0", "1", "1", "0", "0", "0")
		var sum smartlic.PoolSummary
		h.json(&sum, "license", "summary", "--va", "Lab")
		if sum.LicenseTypes != 2 || sum.ByStatus.Expiring != 1 || sum.ByStatus.InCompliance != 1 || sum.Purchased != 8 {
			t.Errorf("summary of Lab = %+v", sum)
		}

		h.fails(smartlic.EInvalid, "--status", "license", "list", "--status", "short")
		h.fails(smartlic.EInvalid, "--sort", "license", "list", "--sort", "price")
		h.fails(smartlic.EInvalid, "--after", "license", "list", "--after", "tag:0")
		h.fails(smartlic.EInvalid, "--limit", "license", "list", "--limit", "0")
		h.fails(smartlic.EInvalid, "--rollup", "license", "summary", "--rollup")
	})
}
