package manager_test

import (
	"context"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestIngestionSeesCatalogChanges: what ingestion keeps of the catalogue
// and the policies between rounds never hides a change made through the
// manager: the very next report is judged by the new policy, may use a
// license type just added to its product, and is refused one just taken
// away.
func TestIngestionSeesCatalogChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		must[smartlic.LicenseType](t)(f.mgr.CreateLicenseType(f.ctx, smartlic.LicenseType{Tag: "dna-advantage", Name: "DNA Advantage",
			Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced}))
		sa := f.account("acme.example")
		d := newDevice(t, "KEPT1")
		f.trust(d, f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{}))
		n := 0
		send := func(tag string) smartlic.UsageAck {
			t.Helper()
			n++
			start := f.clock.Now()
			f.clock.Advance(time.Minute)
			r := d.report(t, "r"+string(rune('a'+n)), f.clock.Now(), measure(tag, int64(n), start, f.clock.Now()))
			return f.openAck(must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), usageFile(r))))
		}
		// Rounds that find everything kept.
		for range 2 {
			if ack := send("network-advantage"); len(ack.Accepted) != 1 || ack.Policy.Name != smartlic.DefaultPolicy().Name {
				t.Fatalf("before the changes: %+v", ack)
			}
		}

		must[smartlic.Policy](t)(f.mgr.SetPolicy(f.ctx, sa.Domain, "", policyInput("Acme weekly", 7)))
		if ack := send("network-advantage"); ack.Policy.Name != "Acme weekly" || ack.Policy.Rules.UnenforcedSubscription.ReportingFrequencyDays != 7 {
			t.Fatalf("the report after a policy change got %q (%+v)", ack.Policy.Name, ack.Policy.Rules.UnenforcedSubscription)
		}

		if ack := send("dna-advantage"); len(ack.Rejected) != 1 {
			t.Fatalf("a tag the product does not have was accepted: %+v", ack)
		}
		types := []string{"network-advantage", "network-essentials", "threat-defense", "hseck9", "dna-advantage"}
		must[smartlic.Product](t)(f.mgr.UpdateProduct(f.ctx, "C9300-24T", smartlic.ProductUpdate{LicenseTypes: &types}))
		if ack := send("dna-advantage"); len(ack.Accepted) != 1 {
			t.Fatalf("a tag just added to the product was refused: %+v", ack)
		}
		types = types[:4]
		must[smartlic.Product](t)(f.mgr.UpdateProduct(f.ctx, "C9300-24T", smartlic.ProductUpdate{LicenseTypes: &types}))
		if ack := send("dna-advantage"); len(ack.Rejected) != 1 {
			t.Fatalf("a tag just taken from the product was accepted: %+v", ack)
		}
	})
}
