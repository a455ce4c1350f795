package client_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestLicenseHistoryAPI reads a license type's history through the REST
// API, as JSON with the Go client and as CSV.
func TestLicenseHistoryAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		ctx := t.Context()
		c := f.c
		must[smartlic.LicenseType](t)(c.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "dna-advantage", Name: "DNA Advantage", Term: smartlic.TermPerpetual}))
		sa := must[smartlic.SmartAccount](t)(c.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example", Status: smartlic.SAActive}))
		must[smartlic.VirtualAccount](t)(c.CreateVirtualAccount(ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Lab"}))
		must[smartlic.Deposit](t)(c.CreateDeposit(ctx, sa.Domain, "Lab", smartlic.DepositInput{OrderNumber: "PO-1", License: "dna-advantage", Quantity: 7}))
		f.clock.Set(epoch.Add(smartlic.Day))

		h := must[smartlic.LicenseHistory](t)(c.LicenseHistory(ctx, sa.Domain, "dna-advantage", smartlic.HistoryQuery{VA: "Lab", Days: 3}))
		if len(h.Points) != 3 || h.VirtualAccount != "Lab" || h.LicenseName != "DNA Advantage" {
			t.Fatalf("history = %+v", h)
		}
		if h.Points[0].Purchased != 0 || h.Points[1].Purchased != 7 || h.Points[2].Purchased != 7 || h.Points[2].InUse != 0 {
			t.Errorf("points = %+v, want 0, 7, 7 purchased", h.Points)
		}
		if h.Projection.State != smartlic.ProjectionNone || h.Projection.Purchased != 7 {
			t.Errorf("projection = %+v, want none at 7 purchased", h.Projection)
		}

		_, err := c.LicenseHistory(ctx, sa.Domain, "dna-advantage", smartlic.HistoryQuery{Days: 400})
		if smartlic.ErrorCode(err) != smartlic.EInvalid || !strings.Contains(smartlic.ErrorMessage(err)+smartlic.ErrorField(err), "days") {
			t.Errorf("days=400: %v, want invalid days", err)
		}
		_, err = c.LicenseHistory(ctx, sa.Domain, "no-such", smartlic.HistoryQuery{})
		wantErr(t, err, smartlic.ENotFound, "")
		_, err = c.LicenseHistory(ctx, sa.Domain, "dna-advantage", smartlic.HistoryQuery{VA: "Nowhere"})
		wantErr(t, err, smartlic.ENotFound, "va")

		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"/api/v1/accounts/acme.example/licenses/dna-advantage/history?days=2&format=csv", nil)
		req.Header.Set("Authorization", "Bearer "+f.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		want := "day,purchased,in_use,peak_in_use,available\n2026-01-05,7,0,0,7\n2026-01-06,7,0,0,7\n"
		if resp.StatusCode != http.StatusOK || string(body) != want || !strings.Contains(resp.Header.Get("Content-Disposition"), "history-dna-advantage.csv") {
			t.Errorf("CSV = %d %q (%s), want %q", resp.StatusCode, body, resp.Header.Get("Content-Disposition"), want)
		}
	})
}
