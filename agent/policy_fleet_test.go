package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestPolicyFleetCountsLikeRegistration runs 50 instances three ways
// through the real HTTP server — registered the classic way, under policy
// online, and under policy offline (one usage file for the whole site,
// uploaded three times) — with the same usage, and checks that the three
// Virtual Accounts' pools count the same, before and after a change.
func TestPolicyFleetCountsLikeRegistration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		const fleet = 50
		clock := smartlic.NewFakeClock(epoch)
		ctx := t.Context()
		mgr, err := manager.New(ctx, open(t), clock)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(httpapi.New(mgr, httpapi.Options{Version: "test", Clock: clock}))
		t.Cleanup(srv.Close)
		op := smartlic.WithActor(ctx, smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
		check := func(_ any, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		check(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
		check(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "network-essentials", Name: "Network Essentials", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
		check(mgr.CreateProduct(op, smartlic.Product{PID: testUDI.PID, Name: "Catalyst 9300", LicenseTypes: []string{"network-advantage", "network-essentials"}}))
		check(mgr.CreateSmartAccount(op, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example", Status: smartlic.SAActive}))
		vas := []string{"Classic", "Online", "Offline"}
		tokens := map[string]string{}
		for _, va := range vas {
			check(mgr.CreateVirtualAccount(op, "acme.example", smartlic.VirtualAccountInput{Name: va}))
			check(mgr.CreateDeposit(op, "acme.example", va, smartlic.DepositInput{OrderNumber: "SO-" + va, License: "network-advantage", Quantity: 60}))
			tok, err := mgr.CreateToken(op, "acme.example", va, smartlic.TokenInput{Description: va, ExpiresInDays: 30})
			if err != nil {
				t.Fatal(err)
			}
			tokens[va] = tok.Secret
		}
		_, key, err := mgr.CreateOperator(ctx, "uploader@example.com")
		if err != nil {
			t.Fatal(err)
		}
		api := client.New(srv.URL, key)

		newAgent := func(sn string, mode agent.Mode) *agent.Agent {
			a, err := agent.New(agent.Options{Server: srv.URL, Clock: clock, Store: agent.MemoryState(),
				UDI: smartlic.UDI{PID: testUDI.PID, SN: sn}, Hostname: "sw-" + sn, Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		use := func(a *agent.Agent, i int, shift int) {
			t.Helper()
			if err := a.SetUsage("network-advantage", int64((i+shift)%3+1)); err != nil {
				t.Fatal(err)
			}
			if err := a.SetUsage("network-essentials", int64((i+shift)%2)); err != nil {
				t.Fatal(err)
			}
		}
		classic, online, offline := make([]*agent.Agent, fleet), make([]*agent.Agent, fleet), make([]*agent.Agent, fleet)
		var udis []smartlic.UDI
		for i := range fleet {
			classic[i] = newAgent(fmt.Sprintf("CL%04d", i), "")
			use(classic[i], i, 0)
			if err := classic[i].Register(ctx, tokens["Classic"], false); err != nil {
				t.Fatal(err)
			}
			if err := classic[i].Authorize(ctx); err != nil {
				t.Fatal(err)
			}
			online[i] = newAgent(fmt.Sprintf("ON%04d", i), agent.ModePolicy)
			use(online[i], i, 0)
			if err := online[i].EstablishTrust(ctx, tokens["Online"], false); err != nil {
				t.Fatal(err)
			}
			offline[i] = newAgent(fmt.Sprintf("OF%04d", i), agent.ModePolicy)
			use(offline[i], i, 0)
			udis = append(udis, offline[i].UDI())
		}
		trustFile, err := api.GenerateTrustFile(ctx, "acme.example", "Offline", udis)
		if err != nil {
			t.Fatal(err)
		}
		trustRaw, _ := json.Marshal(trustFile)
		for _, a := range offline {
			if _, err := a.Import(trustRaw); err != nil {
				t.Fatal(err)
			}
		}

		// roundTrip reports the whole fleet: online instances sync, the
		// offline site saves one file for all, uploads it (three times),
		// and every offline instance imports the ACK file.
		roundTrip := func() {
			t.Helper()
			clock.Advance(time.Hour)
			for _, a := range online {
				if done, err := a.Sync(ctx); err != nil || done.Pending != 0 || len(done.Rejected) != 0 {
					t.Fatalf("sync: %+v, %v", done, err)
				}
			}
			site := smartlic.UsageFile{Type: smartlic.FileTypeUsage, CreatedAt: clock.Now()}
			for _, a := range offline {
				f, err := a.SaveUsage()
				if err != nil {
					t.Fatal(err)
				}
				site.TrustRequests = append(site.TrustRequests, f.TrustRequests...)
				site.Reports = append(site.Reports, f.Reports...)
			}
			raw, _ := json.Marshal(site)
			var ack smartlic.AckFile
			for n := range 3 {
				ack, err = api.UploadUsageFile(ctx, "acme.example", "site.json", raw)
				if err != nil {
					t.Fatal(err)
				}
				if ack.Summary.Rejected != 0 || ack.Summary.Instances != fleet || (n > 0) != (ack.Summary.Duplicates == len(site.Reports)) {
					t.Fatalf("upload %d: %+v %+v", n+1, ack.Summary, ack.Rejections)
				}
				comparePools(t, mgr, op, vas)
			}
			ackRaw, _ := json.Marshal(ack)
			for _, a := range offline {
				if _, err := a.Import(ackRaw); err != nil {
					t.Fatal(err)
				}
				if st := a.Status(); st.Policy.PendingReports != 0 || !st.Policy.TrustBound {
					t.Fatalf("after the ACK: %+v", st.Policy)
				}
			}
		}
		roundTrip()
		if n := inUseOf(t, mgr, op, "Classic", "network-advantage"); n != 99 {
			t.Fatalf("classic in use %d, want 99", n)
		}
		// Everybody changes usage; classic instances authorize again.
		for i := range fleet {
			use(classic[i], i, 1)
			if err := classic[i].Authorize(ctx); err != nil {
				t.Fatal(err)
			}
			use(online[i], i, 1)
			use(offline[i], i, 1)
		}
		roundTrip()
		comparePools(t, mgr, op, vas)
	})
}

func inUseOf(t *testing.T, mgr *manager.Manager, op context.Context, va, tag string) int64 {
	t.Helper()
	pools, err := mgr.ListPools(op, "acme.example", va, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		if p.LicenseTag == tag {
			return p.InUse
		}
	}
	return 0
}

// comparePools fails unless every VA counts what the first one counts.
func comparePools(t *testing.T, mgr *manager.Manager, op context.Context, vas []string) {
	t.Helper()
	for _, tag := range []string{"network-advantage", "network-essentials"} {
		want := inUseOf(t, mgr, op, vas[0], tag)
		for _, va := range vas[1:] {
			if got := inUseOf(t, mgr, op, va, tag); got != want {
				t.Errorf("%s in use: %s %d, %s %d", tag, vas[0], want, va, got)
			}
		}
	}
}
