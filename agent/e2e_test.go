package agent_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store/storetest"
)

// manager runs the real HTTP server over the real manager on SQLite, on
// port 0, sharing the fake clock with the agents.
type realManager struct {
	url   string
	mgr   *manager.Manager
	clock *smartlic.FakeClock
	op    context.Context // operator's context for the manager's API
	token string          // registration token for DEFAULT
}

func newRealManager(t *testing.T) *realManager {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	ctx := t.Context()
	mgr, err := manager.New(ctx, storetest.OpenSQLite(t), clock)
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
	must(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
	must(mgr.CreateLicenseType(op, smartlic.LicenseType{Tag: "threat-defense", Name: "Threat Defense", Term: smartlic.TermPerpetual, Enforcement: smartlic.Enforced}))
	must(mgr.CreateProduct(op, smartlic.Product{PID: testUDI.PID, Name: "Catalyst 9300", LicenseTypes: []string{"network-advantage", "threat-defense"}}))
	must(mgr.CreateSmartAccount(op, smartlic.SmartAccount{Name: "Acme Corporation", Domain: "acme.example", Status: smartlic.SAActive}))
	must(mgr.CreateDeposit(op, "acme.example", smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "SO-1", License: "network-advantage", Quantity: 1}))
	tok, err := mgr.CreateToken(op, "acme.example", smartlic.DefaultVAName, smartlic.TokenInput{Description: "e2e", ExpiresInDays: 365})
	if err != nil {
		t.Fatal(err)
	}
	return &realManager{url: srv.URL, mgr: mgr, clock: clock, op: op, token: tok.Secret}
}

func (m *realManager) agent(t *testing.T, sn string) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: agent.MemoryState(), UDI: smartlic.UDI{PID: testUDI.PID, SN: sn}, Hostname: "sw-" + sn})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (m *realManager) inUse(t *testing.T, tag string) int64 {
	t.Helper()
	pools, err := m.mgr.ListPools(m.op, "acme.example", smartlic.DefaultVAName, false)
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

// TestAgentAgainstRealServer runs the whole classic flow through the real
// HTTP server: register, authorize (in compliance, then overage), renew
// both documents as the timers come due, refuse tokens, deregister.
func TestAgentAgainstRealServer(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()

	sw1 := m.agent(t, "FOC0001")
	wantCode(t, sw1.Register(ctx, "slt_not-a-token", false), smartlic.ETokenUnknown)
	if err := sw1.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	if err := sw1.Register(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	if err := sw1.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	st := sw1.Status()
	if st.Mode != agent.ModeRegistered || st.Registration.SmartAccount != "acme.example" || st.Registration.VirtualAccount != smartlic.DefaultVAName ||
		st.Authorization.Status != smartlic.AuthValid || license(t, st, "network-advantage").Status != agent.LicenseAuthorized {
		t.Fatalf("sw1 after registration: %+v", st)
	}
	if n := m.inUse(t, "network-advantage"); n != 1 {
		t.Errorf("pool in use %d, want 1", n)
	}

	// A second switch takes the pool into overage: counted, out of compliance.
	sw2 := m.agent(t, "FOC0002")
	if err := sw2.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	if err := sw2.Register(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	if err := sw2.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if st := sw2.Status(); st.Authorization.Status != smartlic.AuthOOC || license(t, st, "network-advantage").Status != agent.LicenseOutOfCompliance {
		t.Errorf("sw2 in overage: %+v %+v", st.Authorization, st.Licenses)
	}
	// An enforced license with no purchase is refused.
	if err := sw2.SetUsage("threat-defense", 1); err != nil {
		t.Fatal(err)
	}
	if err := sw2.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if l := license(t, sw2.Status(), "threat-defense"); l.Status != agent.LicenseNotAuthorized {
		t.Errorf("enforced license without a purchase: %+v", l)
	}

	// 31 days on: authorization due, not the ID certificate.
	m.clock.Advance(31 * smartlic.Day)
	if done, err := sw1.Renew(ctx); err != nil || done != (agent.Renewed{Authorization: true}) {
		t.Fatalf("Renew at 31 days: %+v, %v", done, err)
	}
	// 181 days on: both.
	m.clock.Advance(150 * smartlic.Day)
	if done, err := sw1.Renew(ctx); err != nil || done != (agent.Renewed{IDCert: true, Authorization: true}) {
		t.Fatalf("Renew at 181 days: %+v, %v", done, err)
	}
	// The pool is in overage since sw2 joined, so sw1 is out of compliance too.
	if st := sw1.Status(); st.Registration.RenewalDue || st.Authorization.RenewalDue || st.Authorization.Status != smartlic.AuthOOC {
		t.Errorf("after renewals: %+v %+v", st.Registration, st.Authorization)
	}

	// Re-registering the same UDI from a second state needs force.
	again := m.agent(t, "FOC0001")
	wantCode(t, again.Register(ctx, m.token, false), smartlic.EConflict)

	if err := sw1.Deregister(ctx); err != nil {
		t.Fatal(err)
	}
	if n := m.inUse(t, "network-advantage"); n != 1 {
		t.Errorf("pool in use %d after sw1 left, want 1 (sw2)", n)
	}
	if st := sw1.Status(); st.Mode != agent.ModeEvaluation || st.Evaluation.DaysRemaining != 90 {
		t.Errorf("sw1 after deregistration: mode %q, evaluation %+v (used no evaluation before registering)", st.Mode, st.Evaluation)
	}
	if err := sw1.Register(ctx, m.token, false); err != nil {
		t.Errorf("registering again after deregistration: %v", err)
	}
}
