package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
)

// readCSV parses a CSV answer and checks its header row.
func readCSV(t *testing.T, a answer, header ...string) [][]string {
	t.Helper()
	wantStatus(t, a, http.StatusOK)
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type = %q, want text/csv", ct)
	}
	recs, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV %q does not parse: %v", a.body, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		t.Fatalf("CSV header = %v, want %v", recs, header)
	}
	return recs[1:]
}

func TestTransfersAndReportsOverHTTP(t *testing.T) {
	e := newEnv(t)
	ctx := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
	for _, lt := range []smartlic.LicenseType{
		{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced},
		{Tag: "network-essentials", Name: "Network Essentials", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced},
	} {
		if _, err := e.mgr.CreateLicenseType(ctx, lt); err != nil {
			t.Fatal(err)
		}
	}
	sa := e.account("acme.example").Domain
	for _, n := range []string{"A", "B"} {
		if _, err := e.mgr.CreateVirtualAccount(ctx, sa, smartlic.VirtualAccountInput{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	end := epoch.Add(60 * smartlic.Day)
	if _, err := e.mgr.CreateDeposit(ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-advantage", Quantity: 5, EndsAt: &end}); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/accounts/" + sa

	// More than available: 409, nothing moves.
	a := e.do(request{method: "POST", path: base + "/transfers", body: `{"from":"A","to":"B","license":"network-advantage","quantity":6}`})
	wantError(t, a, http.StatusConflict, smartlic.EInsufficient, "quantity")
	a = e.do(request{method: "POST", path: base + "/transfers", body: `{"from":"A","to":"B","license":"network-advantage","quantity":2}`})
	wantStatus(t, a, http.StatusCreated)
	var tr smartlic.Transfer
	a.decode(t, &tr)
	if tr.Quantity != 2 || tr.FromName != "A" || tr.ToName != "B" || len(tr.Lots) != 1 {
		t.Fatalf("transfer = %+v", tr)
	}

	// The Go client sees the same.
	c := client.New(e.url, e.key)
	trs, _, err := c.ListTransfers(context.Background(), sa, smartlic.Page{})
	if err != nil || len(trs) != 1 || trs[0].ID != tr.ID {
		t.Fatalf("ListTransfers = %+v, %v", trs, err)
	}
	if _, err := c.Transfer(context.Background(), sa, smartlic.TransferInput{From: "B", To: "A", License: "network-advantage", Quantity: 3}); smartlic.ErrorCode(err) != smartlic.EInsufficient {
		t.Fatalf("client over-transfer: %v", err)
	}
	u, err := c.UsageReport(context.Background(), sa, smartlic.UsageQuery{})
	if err != nil || len(u.Items) != 2 || u.Items[0].VirtualAccount != "A" || u.Items[0].Purchased != 3 || u.Items[1].Purchased != 2 {
		t.Fatalf("usage report = %+v, %v", u, err)
	}

	// Reports as CSV parse, with a header row.
	rows := readCSV(t, e.do(request{method: "GET", path: base + "/reports/usage?format=csv"}),
		"virtual_account", "license", "purchased", "in_use", "reserved", "available", "overage", "status")
	if len(rows) != 2 || rows[0][0] != "A" || rows[0][2] != "3" || rows[1][0] != "B" || rows[1][2] != "2" {
		t.Fatalf("usage CSV rows = %v", rows)
	}
	rows = readCSV(t, e.do(request{method: "GET", path: base + "/reports/usage?format=csv&va=B&at=" + epoch.Add(-smartlic.Day).Format("2006-01-02")}),
		"virtual_account", "license", "purchased", "in_use", "reserved", "available", "overage", "status")
	if len(rows) != 0 {
		t.Fatalf("usage of B before anything = %v", rows)
	}
	rows = readCSV(t, e.do(request{method: "GET", path: base + "/reports/expiring?format=csv&days=90"}),
		"virtual_account", "license", "quantity", "ends_at", "days_left")
	if len(rows) != 2 || rows[0][4] != "60" {
		t.Fatalf("expiring CSV rows = %v", rows)
	}
	e.clock.Advance(smartlic.Day)
	rows = readCSV(t, e.do(request{method: "GET", path: base + "/reports/true-up?format=csv&from=" + epoch.Format("2006-01-02") + "&to=2030-01-01"}),
		"virtual_account", "license", "purchased", "peak_in_use", "peak_in_use_at", "peak_overage", "peak_overage_at", "purchased_at_peak")
	if len(rows) != 2 {
		t.Fatalf("true-up CSV rows = %v", rows)
	}
	readCSV(t, e.do(request{method: "GET", path: base + "/reports/instances?format=csv"}),
		"virtual_account", "udi", "hostname", "mode", "authorization", "last_contact_at", "auth_expires_at", "usage", "id")
	a = e.do(request{method: "GET", path: base + "/reports/expiring"})
	wantStatus(t, a, http.StatusOK)
	var ex smartlic.ExpiringReport
	a.decode(t, &ex)
	if ex.Days != 90 || len(ex.Items) != 2 {
		t.Fatalf("expiring JSON = %s", a.body)
	}

	// Bad report input.
	wantError(t, e.do(request{method: "GET", path: base + "/reports/usage?at=yesterday"}), http.StatusBadRequest, smartlic.EInvalid, "at")
	wantError(t, e.do(request{method: "GET", path: base + "/reports/true-up?to=2026-02-01"}), http.StatusBadRequest, smartlic.EInvalid, "from")
	wantError(t, e.do(request{method: "GET", path: base + "/reports/usage?format=xml"}), http.StatusBadRequest, smartlic.EInvalid, "format")

	// Agreements: create, list, true-forward.
	a = e.do(request{method: "POST", path: base + "/virtual-accounts/B/agreements",
		body: `{"number":"EA-1","ends_at":"2027-01-01T00:00:00Z","lines":[{"license":"network-essentials","quantity":2}]}`})
	wantStatus(t, a, http.StatusCreated)
	var ag smartlic.Agreement
	a.decode(t, &ag)
	list, _, err := c.ListAgreements(context.Background(), sa, "B", smartlic.Page{})
	if err != nil || len(list) != 1 || list[0].Lines[0].Quantity != 2 {
		t.Fatalf("agreements = %+v, %v", list, err)
	}
	e.clock.Advance(smartlic.Day)
	tf, err := c.TrueForward(context.Background(), sa, ag.ID)
	if err != nil || len(tf.Lines) != 1 || tf.Lines[0].LicenseTag != "network-essentials" || tf.Lines[0].Purchased != 2 {
		t.Fatalf("true-forward = %+v, %v", tf, err)
	}
	readCSV(t, e.do(request{method: "GET", path: base + "/agreements/" + ag.ID + "/true-forward?format=csv"}),
		"virtual_account", "license", "purchased", "peak_in_use", "peak_in_use_at", "peak_overage", "peak_overage_at", "purchased_at_peak")
	csvBytes, err := c.ReportCSV(context.Background(), sa, "usage", nil)
	if err != nil || !strings.HasPrefix(string(csvBytes), "virtual_account,") {
		t.Fatalf("ReportCSV = %q, %v", csvBytes, err)
	}
}
