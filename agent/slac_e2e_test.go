package agent_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// exportManager is the real manager behind the real HTTP server, with an
// export-controlled license (hseck9, n in DEFAULT), an enforced one
// (dna-advantage, 1) and an unenforced one (network-advantage, 1), on the
// store open gives.
type exportManager struct {
	url    string
	mgr    *manager.Manager
	api    *client.Client // an unauthenticated client: the device routes
	clock  *smartlic.FakeClock
	op     context.Context
	plain  string // token that does not allow export control
	export string // token that does
}

const exportSA = "secure.example"

var exportProduct = agent.ProductConfig{Licenses: map[string]smartlic.Enforcement{
	"hseck9": smartlic.ExportControlled, "dna-advantage": smartlic.Enforced, "network-advantage": smartlic.Unenforced,
}, ThroughputLicense: "hseck9"}

func newExportManager(t *testing.T, st *store.DB, hseck9 int64) *exportManager {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	ctx := t.Context()
	mgr, err := manager.New(ctx, st, clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(mgr, httpapi.Options{Version: "test"}))
	t.Cleanup(srv.Close)
	op := smartlic.WithActor(ctx, smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "hseck9", Name: "HSEC", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled}))
	must(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "dna-advantage", Name: "DNA", Term: smartlic.TermPerpetual, Enforcement: smartlic.Enforced}))
	must(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "network-advantage", Name: "NA", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
	must(mgr.CreateProduct(op, smartlic.Product{PID: "ISR4451", Name: "ISR 4451", LicenseTypes: []string{"hseck9", "dna-advantage", "network-advantage"}}))
	must(mgr.CreateSmartAccount(op, smartlic.SmartAccount{Name: "Secure", Domain: exportSA, Status: smartlic.SAActive}))
	must(mgr.CreateDeposit(op, exportSA, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "SO-1", License: "hseck9", Quantity: hseck9}))
	must(mgr.CreateDeposit(op, exportSA, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "SO-1", License: "dna-advantage", Quantity: 1}))
	must(mgr.CreateDeposit(op, exportSA, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "SO-1", License: "network-advantage", Quantity: 1}))
	plain, err := mgr.CreateToken(op, exportSA, smartlic.DefaultVAName, smartlic.TokenInput{Description: "plain", ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	export, err := mgr.CreateToken(op, exportSA, smartlic.DefaultVAName, smartlic.TokenInput{Description: "export", ExpiresInDays: 30, AllowExportControlled: true})
	if err != nil {
		t.Fatal(err)
	}
	return &exportManager{url: srv.URL, mgr: mgr, api: client.New(srv.URL, ""), clock: clock, op: op, plain: plain.Secret, export: export.Secret}
}

// device makes an agent for ISR4451:sn with the product's enforcement,
// registered with token when it is not empty.
func (m *exportManager) device(t *testing.T, sn, token string) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: agent.MemoryState(), UDI: smartlic.UDI{PID: "ISR4451", SN: sn}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ConfigureProduct(exportProduct); err != nil {
		t.Fatal(err)
	}
	if token != "" {
		if err := a.Register(t.Context(), token, false); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func (m *exportManager) pool(t *testing.T, tag string) smartlic.Pool {
	t.Helper()
	pools, err := m.mgr.ListPools(m.op, exportSA, smartlic.DefaultVAName, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		if p.LicenseTag == tag {
			return p
		}
	}
	t.Fatalf("no pool of %s", tag)
	return smartlic.Pool{}
}

func (m *exportManager) slacs(t *testing.T, status smartlic.SLACStatus) []smartlic.SLAC {
	t.Helper()
	list, _, err := m.mgr.ListSLACs(m.op, exportSA, smartlic.SLACFilter{Status: status}, smartlic.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestSLACOnline runs export control end to end over HTTP on both stores:
// refusals that change nothing (Smart Account not allowed, token without
// export control, no license left), the SLAC taking one license from the
// pool, use of the license and a throughput above 250 Mbps once it is
// installed, and the return giving the license back.
func TestSLACOnline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 1)
		ctx := t.Context()
		r1 := m.device(t, "FOC1", m.export)

		// Before a SLAC: the license and the throughput are refused.
		wantCode(t, r1.SetUsage("hseck9", 1), smartlic.EExportControl)
		wantCode(t, r1.SetThroughput(500), smartlic.EExportControl)
		if err := r1.SetThroughput(250); err != nil {
			t.Fatalf("250 Mbps needs no SLAC: %v", err)
		}
		if d := r1.Decide("hseck9", 1); d.Allowed {
			t.Fatalf("decision without SLAC: %+v", d)
		}

		// The vendor has not allowed the account: refused, nothing changed.
		wantCode(t, r1.RequestSLAC(ctx, "hseck9"), smartlic.EExportControl)
		if p := m.pool(t, "hseck9"); p.InUse != 0 || len(m.slacs(t, "")) != 0 {
			t.Fatalf("after a refusal: in use %d, slacs %v", p.InUse, m.slacs(t, ""))
		}
		if _, err := m.mgr.SetExportControl(m.op, exportSA, true); err != nil {
			t.Fatal(err)
		}
		// Not export-controlled: no SLAC for it.
		wantCode(t, r1.RequestSLAC(ctx, "dna-advantage"), smartlic.EInvalid)
		// A device registered with a token that does not allow export control.
		plain := m.device(t, "FOC2", m.plain)
		wantCode(t, plain.RequestSLAC(ctx, "hseck9"), smartlic.EExportControl)

		if err := r1.RequestSLAC(ctx, "hseck9"); err != nil {
			t.Fatal(err)
		}
		if p := m.pool(t, "hseck9"); p.InUse != 1 || p.Available != 0 {
			t.Fatalf("after the SLAC: %+v", p)
		}
		active := m.slacs(t, smartlic.SLACActive)
		if len(active) != 1 || active[0].UDI.SN != "FOC1" || active[0].Requested != smartlic.SLACOnline || active[0].LicenseTag != "hseck9" {
			t.Fatalf("active SLACs: %+v", active)
		}
		st := r1.Status()
		if len(st.SLACs) != 1 || st.SLACs[0].ID != active[0].ID {
			t.Fatalf("device SLACs: %+v", st.SLACs)
		}
		// Another device: the pool has nothing left.
		r3 := m.device(t, "FOC3", m.export)
		wantCode(t, r3.RequestSLAC(ctx, "hseck9"), smartlic.EInsufficient)
		// The same device asking twice.
		wantCode(t, r1.RequestSLAC(ctx, "hseck9"), smartlic.EConflict)

		// With the SLAC: use the license and the high throughput.
		if err := r1.SetUsage("hseck9", 1); err != nil {
			t.Fatal(err)
		}
		wantCode(t, r1.SetUsage("hseck9", 2), smartlic.EExportControl)
		if err := r1.SetThroughput(500); err != nil {
			t.Fatal(err)
		}
		if err := r1.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		if l := license(t, r1.Status(), "hseck9"); l.Status != agent.LicenseAuthorized || !l.Decision.Allowed {
			t.Fatalf("hseck9 with its SLAC: %+v", l)
		}
		// Covered by the SLAC: the usage adds nothing to the pool.
		if p := m.pool(t, "hseck9"); p.InUse != 1 {
			t.Fatalf("in use %d with the SLAC and the usage, want 1", p.InUse)
		}
		// Removing the instance keeps the SLAC's license held.
		inst, err := m.mgr.GetInstance(m.op, exportSA, smartlic.DefaultVAName, "ISR4451:FOC1")
		if err != nil || inst.Usage[0].Status != smartlic.Authorized {
			t.Fatalf("instance: %+v %v", inst, err)
		}

		// Returning: refused while used, then given back.
		wantCode(t, r1.ReturnSLAC(ctx, "hseck9"), smartlic.EConflict)
		if err := r1.SetUsage("hseck9", 0); err != nil {
			t.Fatal(err)
		}
		wantCode(t, r1.ReturnSLAC(ctx, "hseck9"), smartlic.EConflict) // the throughput needs it
		if err := r1.SetThroughput(100); err != nil {
			t.Fatal(err)
		}
		slac := r1.State().SLACs[0]
		if err := r1.ReturnSLAC(ctx, "hseck9"); err != nil {
			t.Fatal(err)
		}
		if p := m.pool(t, "hseck9"); p.InUse != 0 || p.Available != 1 {
			t.Fatalf("after the return: %+v", p)
		}
		if got := m.slacs(t, smartlic.SLACReturned); len(got) != 1 || got[0].Returned != smartlic.SLACOnline {
			t.Fatalf("returned SLACs: %+v", got)
		}
		wantCode(t, r1.SetThroughput(500), smartlic.EExportControl)

		// Returning it again, with a fresh signed request and the right
		// secret: refused as a replay, nothing changes.
		reg := r1.State().Registration
		again, err := sign.Seal(smartlic.TypeSLACReturnRequest, reg.IDCert.InstanceID, reg.PrivateKey, smartlic.SLACReturnRequest{
			InstanceID: reg.IDCert.InstanceID, UDI: r1.UDI(), SentAt: m.clock.Now(), Nonce: "again", SLACID: slac.SLAC.ID, Secret: slac.Secret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.api.ReturnSLACOnline(ctx, again)
		wantCode(t, err, smartlic.EReplayed)
		// Another device returning r1's SLAC: refused.
		r3reg := r3.State().Registration
		other, _ := sign.Seal(smartlic.TypeSLACReturnRequest, r3reg.IDCert.InstanceID, r3reg.PrivateKey, smartlic.SLACReturnRequest{
			InstanceID: r3reg.IDCert.InstanceID, UDI: r3.UDI(), SentAt: m.clock.Now(), Nonce: "other", SLACID: slac.SLAC.ID, Secret: slac.Secret})
		_, err = m.api.ReturnSLACOnline(ctx, other)
		wantCode(t, err, smartlic.EWrongDevice)
		if p := m.pool(t, "hseck9"); p.InUse != 0 {
			t.Fatalf("after refused returns: %+v", p)
		}

		// The license is back: the other device gets it now.
		if err := r3.RequestSLAC(ctx, "hseck9"); err != nil {
			t.Fatal(err)
		}
		// A request signed by the device, replayed with a new nonce but
		// for another device's serial: refused before anything is read.
		forged, _ := sign.Seal(smartlic.TypeSLACRequest, r3reg.IDCert.InstanceID, r3reg.PrivateKey, smartlic.SLACRequest{
			InstanceID: r3reg.IDCert.InstanceID, UDI: r1.UDI(), SentAt: m.clock.Now(), Nonce: "forged", LicenseTag: "hseck9", ReturnHash: smartlic.ReturnHash(make([]byte, 32))})
		_, err = m.api.RequestSLAC(ctx, forged)
		wantCode(t, err, smartlic.ESignature)

		// The event log has both.
		evs, _, err := m.mgr.ListEvents(m.op, exportSA, smartlic.EventFilter{Type: "slac.issued"}, smartlic.Page{})
		if err != nil || len(evs) != 2 {
			t.Fatalf("slac.issued events: %d %v", len(evs), err)
		}
	})
}

// TestSLACConcurrent: ten registered devices ask at once for a SLAC from a
// pool of three; exactly three get one and the pool never goes over.
func TestSLACConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 3)
		if _, err := m.mgr.SetExportControl(m.op, exportSA, true); err != nil {
			t.Fatal(err)
		}
		var devs []*agent.Agent
		for i := range 10 {
			devs = append(devs, m.device(t, fmt.Sprintf("C%02d", i), m.export))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(devs))
		start := make(chan struct{})
		for i, d := range devs {
			wg.Go(func() {
				<-start
				errs[i] = d.RequestSLAC(t.Context(), "hseck9")
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch smartlic.ErrorCode(err) {
			case "":
				won++
			case smartlic.EInsufficient:
			default:
				t.Errorf("device %d: %v", i, err)
			}
		}
		if p := m.pool(t, "hseck9"); won != 3 || p.InUse != 3 || len(m.slacs(t, smartlic.SLACActive)) != 3 {
			t.Fatalf("%d SLACs issued, pool %+v, want 3 of 3", won, p)
		}
	})
}

// TestSoftEnforcement: with soft enforcement, once the manager answers that
// licenses are insufficient, a change that adds usage is refused with a
// clear message; what runs keeps running, and lowering usage still works.
func TestSoftEnforcement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 1)
		ctx := t.Context()
		cfg := exportProduct
		cfg.SoftEnforcement = true

		// Unregistered: the enforced license needs an authorization first.
		r := m.device(t, "SOFT1", "")
		if err := r.ConfigureProduct(cfg); err != nil {
			t.Fatal(err)
		}
		wantCode(t, r.SetUsage("dna-advantage", 1), smartlic.EForbidden)
		if err := r.SetUsage("network-advantage", 2); err != nil {
			t.Fatalf("unenforced in evaluation: %v", err)
		}
		if err := r.Register(ctx, m.plain, false); err != nil {
			t.Fatal(err)
		}
		if err := r.SetUsage("dna-advantage", 1); err != nil {
			t.Fatalf("enforced once registered: %v", err)
		}
		// Two network-advantage against one purchased: out of compliance.
		if err := r.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		st := r.Status()
		if len(st.Insufficient) != 1 || st.Insufficient[0] != "network-advantage" {
			t.Fatalf("insufficient: %+v", st.Insufficient)
		}
		err := r.SetUsage("dna-advantage", 2)
		wantCode(t, err, smartlic.EInsufficient)
		if msg := smartlic.ErrorMessage(err); !contains(msg, "soft enforcement") || !contains(msg, "network-advantage") {
			t.Fatalf("message %q", msg)
		}
		// What runs keeps running; lowering works.
		if n := license(t, r.Status(), "dna-advantage").Count; n != 1 {
			t.Fatalf("dna-advantage count %d, want 1 (kept)", n)
		}
		if err := r.SetUsage("network-advantage", 1); err != nil {
			t.Fatalf("lowering usage: %v", err)
		}
		if err := r.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		// Back in compliance: adding is allowed again (and the enforced
		// pool of one refuses the second by itself).
		if err := r.SetUsage("network-advantage", 1); err != nil {
			t.Fatal(err)
		}
		if err := r.SetUsage("dna-advantage", 2); err != nil {
			t.Fatalf("adding once compliant: %v", err)
		}
		if err := r.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		if l := license(t, r.Status(), "dna-advantage"); l.Status != agent.LicenseNotAuthorized || l.Decision.Allowed {
			t.Fatalf("enforced over its pool: %+v", l)
		}
	})
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}
