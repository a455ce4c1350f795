package cli

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
)

func TestTransferAndReportCommands(t *testing.T) {
	h := newHarness(t)
	ctx := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
	if _, err := h.mgr.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "network-essentials", Name: "NE", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}); err != nil {
		t.Fatal(err)
	}
	h.ok("account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
	h.env["SMARTLIC_ACCOUNT"] = "acme.example"
	h.ok("va", "create", "A")
	h.ok("va", "create", "B")
	h.ok("deposit", "create", "--va", "A", "--order", "PO-1", "--license", "network-essentials", "--quantity", "4")

	h.fails(smartlic.EInsufficient, "--quantity", "transfer", "licenses", "--from", "A", "--to", "B", "--license", "network-essentials", "--quantity", "5")
	h.fails(smartlic.EInvalid, "--quantity", "transfer", "licenses", "--from", "A", "--to", "B", "--license", "network-essentials")
	out := h.ok("transfer", "licenses", "--from", "A", "--to", "B", "--license", "network-essentials", "--quantity", "3")
	if !strings.Contains(out, "licenses") || !strings.Contains(out, "network-essentials") {
		t.Fatalf("transfer output:\n%s", out)
	}
	var list struct{ Items []smartlic.Transfer }
	h.json(&list, "transfer", "list")
	if len(list.Items) != 1 || list.Items[0].Quantity != 3 {
		t.Fatalf("transfer list = %+v", list)
	}
	h.fails(smartlic.EInvalid, "ID|UDI", "transfer", "instances", "--from", "A", "--to", "B")
	h.fails(smartlic.ENotFound, anyField, "transfer", "instances", "--from", "A", "--to", "B", "C9300-24T:NOPE")

	// Reports in the three formats.
	csvOut := h.ok("report", "usage", "-o", "csv")
	recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "virtual_account" || recs[1][0] != "A" || recs[1][2] != "1" || recs[2][2] != "3" {
		t.Fatalf("usage CSV = %q, %v", csvOut, err)
	}
	var u smartlic.UsageReport
	h.json(&u, "report", "usage", "--va", "B")
	if len(u.Items) != 1 || u.Items[0].Purchased != 3 {
		t.Fatalf("usage JSON = %+v", u)
	}
	if out := h.ok("report", "usage"); !strings.Contains(out, "PURCHASED") {
		t.Fatalf("usage table:\n%s", out)
	}
	h.clock.Advance(smartlic.Day)
	h.ok("report", "true-up", "--from", h.clock.Now().Add(-2*smartlic.Day).Format("2006-01-02"), "--to", "2100-01-01", "-o", "csv")
	h.fails(smartlic.EInvalid, "--from", "report", "true-up", "--to", "2100-01-01")
	h.ok("report", "expiring", "--days", "30")
	h.ok("report", "instances", "-o", "csv")

	// Agreements.
	h.ok("agreement", "create", "--va", "B", "--number", "EA-1", "--ends", h.clock.Now().AddDate(1, 0, 0).Format("2006-01-02"),
		"--license", "network-essentials=10")
	var ags struct{ Items []smartlic.Agreement }
	h.json(&ags, "agreement", "list", "--va", "B")
	if len(ags.Items) != 1 || ags.Items[0].Lines[0].Quantity != 10 {
		t.Fatalf("agreements = %+v", ags)
	}
	h.clock.Advance(smartlic.Day)
	tf := h.ok("agreement", "true-forward", ags.Items[0].ID, "-o", "csv")
	if !strings.HasPrefix(tf, "virtual_account,license,purchased,") {
		t.Fatalf("true-forward CSV:\n%s", tf)
	}
	h.fails(smartlic.EInvalid, "--license", "agreement", "create", "--number", "EA-2", "--ends", "2100-01-01", "--license", "oops")
	if out := h.ok("agreement", "accept", ags.Items[0].ID); !strings.Contains(out, "by ops@example.com") {
		t.Fatalf("agreement accept:\n%s", out)
	}
	h.fails(smartlic.EConflict, "agreement", "agreement", "accept", ags.Items[0].ID)
}
