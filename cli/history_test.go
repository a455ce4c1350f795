package cli

import (
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
)

// "license history" prints one row per day and the projection's sentence,
// or the same rows as CSV, and names a bad --days.
func TestLicenseHistoryCommand(t *testing.T) {
	h := newHarness(t)
	h.seedCatalog()
	h.ok("account", "create", "--name", "Acme Corp", "--domain", "acme.com", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.com"
	h.ok("deposit", "create", "--va", "DEFAULT", "--order", "PO-1", "--license", "network-essentials", "--quantity", "4")

	out := h.ok("license", "history", "network-essentials", "--days", "3")
	today := h.clock.Now().UTC().Format("2006-01-02")
	wantRow(t, out, "DAY", "PURCHASED", "IN USE", "PEAK IN USE", "AVAILABLE")
	wantRow(t, out, today, "4", "0", "0", "4")
	if !strings.Contains(out, "Usage does not exceed purchases at the current trend") {
		t.Errorf("no projection under the table:\n%s", out)
	}
	csv := h.ok("license", "history", "network-essentials", "--days", "2", "--va", "DEFAULT", "-o", "csv")
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 3 || lines[0] != "day,purchased,in_use,peak_in_use,available" || lines[2] != today+",4,0,0,4" {
		t.Errorf("CSV =\n%s", csv)
	}
	var got smartlic.LicenseHistory
	h.json(&got, "license", "history", "network-essentials")
	if len(got.Points) != smartlic.DefaultHistoryDays || got.Projection.Purchased != 4 {
		t.Errorf("JSON history: %d points, projection %+v", len(got.Points), got.Projection)
	}
	h.fails(smartlic.EInvalid, anyField, "license", "history", "network-essentials", "--days", "1")
	h.fails(smartlic.EInvalid, "TAG", "license", "history")
}
