package agent_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/client"
)

func (m *realManager) policyAgent(t *testing.T, sn string, store agent.StateStore) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: store, UDI: smartlic.UDI{PID: testUDI.PID, SN: sn}, Hostname: "sw-" + sn,
		Mode: agent.ModePolicy, Restricted: map[string]smartlic.LicenseClass{"threat-defense": smartlic.ClassEnforced}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPolicyAgentOnline: a policy-mode instance uses licenses at once,
// refuses an enforced one, establishes trust with a token, syncs, and the
// pool counts its usage; a restart re-verifies what it stored.
func TestPolicyAgentOnline(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()
	store := agent.MemoryState()
	sw := m.policyAgent(t, "POL0001", store)
	if err := sw.SetUsage("network-advantage", 2); err != nil {
		t.Fatal(err)
	}
	wantCode(t, sw.SetUsage("threat-defense", 1), agent.EAuthorizationRequired)
	st := sw.Status()
	if st.Mode != agent.ModePolicy || st.Policy == nil || st.Policy.Trusted || len(st.Licenses) != 1 || st.Licenses[0].Status != agent.LicenseInUse || st.Evaluation.InUse {
		t.Fatalf("before trust: %+v %+v", st, st.Policy)
	}
	_, err := sw.Sync(ctx)
	wantCode(t, err, smartlic.ENotTrusted)

	if err := sw.EstablishTrust(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	m.clock.Advance(time.Hour)
	done, err := sw.Sync(ctx)
	if err != nil || done.Accepted != 1 || done.Pending != 0 {
		t.Fatalf("sync: %+v, %v", done, err)
	}
	if n := m.inUse(t, "network-advantage"); n != 2 {
		t.Fatalf("in use %d, want 2", n)
	}
	st = sw.Status()
	// A reported perpetual license has no periodic deadline (365/0/90).
	if !st.Policy.TrustBound || st.Policy.LastAckAt == nil || st.Policy.Policy == nil || st.Policy.ReportDue || st.Policy.NextReportDue != nil {
		t.Fatalf("after sync: %+v", st.Policy)
	}

	m.clock.Advance(time.Hour)
	if err := sw.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	if st := sw.Status(); !st.Policy.UsageChanged || !st.Policy.ReportDue {
		t.Fatalf("after a change: %+v", st.Policy)
	}
	m.clock.Advance(time.Hour)
	if _, err := sw.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := m.inUse(t, "network-advantage"); n != 1 {
		t.Fatalf("in use %d after the drop, want 1", n)
	}
	// A restart reads the state back and verifies it again.
	again, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if st := again.Status(); st.Mode != agent.ModePolicy || !st.Policy.TrustBound || st.Policy.LastAckID == "" {
		t.Fatalf("after restart: %+v", st.Policy)
	}
}

// TestPolicyAgentOffline: trust file → import → save usage → upload →
// import the ACK file; the pending reports clear and the pool counts.
func TestPolicyAgentOffline(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()
	sw := m.policyAgent(t, "OFF0001", agent.MemoryState())
	if err := sw.SetUsage("network-advantage", 3); err != nil {
		t.Fatal(err)
	}
	tf, err := m.mgr.GenerateTrustFile(m.op, "acme.example", smartlic.DefaultVAName, []smartlic.UDI{sw.UDI()})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(tf)
	if imp, err := sw.Import(raw); err != nil || imp.Kind != smartlic.FileTypeTrust {
		t.Fatalf("import trust file: %+v, %v", imp, err)
	}
	if st := sw.Status(); !st.Policy.Trusted || st.Policy.TrustBound || len(st.ManagerKeyIDs) == 0 {
		t.Fatalf("after trust import: %+v", st.Policy)
	}
	m.clock.Advance(time.Hour)
	uf, err := sw.SaveUsage()
	if err != nil || len(uf.Reports) != 1 || len(uf.TrustRequests) != 1 {
		t.Fatalf("save usage: %d reports, %d trust requests, %v", len(uf.Reports), len(uf.TrustRequests), err)
	}
	data, _ := json.Marshal(uf)
	// The upload goes through the API as an operator would send it.
	_, key, err := m.mgr.CreateOperator(ctx, "ops2@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ackFile, err := client.New(m.url, key).UploadUsageFile(ctx, "acme.example", "usage.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.inUse(t, "network-advantage"); n != 3 {
		t.Fatalf("in use %d, want 3", n)
	}
	ackRaw, _ := json.Marshal(ackFile)
	imp, err := sw.Import(ackRaw)
	if err != nil || imp.Accepted != 1 {
		t.Fatalf("import ACK file: %+v, %v", imp, err)
	}
	st := sw.Status()
	if st.Policy.PendingReports != 0 || !st.Policy.TrustBound || st.Policy.LastAckAt == nil {
		t.Fatalf("after ACK import: %+v", st.Policy)
	}
	// The same ACK file again changes nothing; a trust file is not an ACK.
	if _, err := sw.Import(ackRaw); err != nil {
		t.Errorf("importing the ACK file again: %v", err)
	}
	_, err = sw.Import([]byte(`{"type":"smartlic.usage-file/v1","reports":[]}`))
	wantCode(t, err, smartlic.EInvalid)
	_, err = sw.Import([]byte(`{"type":"smartlic.ack-file/v1","acks":[{"type":"smartlic.usage-ack/v1","kid":"x","payload":"e30=","sig":"AAAA"}]`))
	wantCode(t, err, smartlic.EInvalid)
}

// TestPolicyAgentMigration: a registered instance moves to policy; its
// usage stays counted once through the move and the first report.
func TestPolicyAgentMigration(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()
	sw := m.agent(t, "MIG0001")
	if err := sw.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	if err := sw.Register(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	if err := sw.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sw.MoveToPolicy(ctx); err != nil {
		t.Fatal(err)
	}
	if n := m.inUse(t, "network-advantage"); n != 1 {
		t.Fatalf("in use %d after the move, want 1", n)
	}
	st := sw.Status()
	if st.Mode != agent.ModePolicy || st.Registration != nil || !st.Policy.TrustBound || st.Evaluation.InUse {
		t.Fatalf("after the move: %+v %+v", st, st.Policy)
	}
	// Its licenses are in use under the policy now: a first report is due.
	if !st.Policy.ReportDue || st.Policy.FirstUseAt == nil {
		t.Fatalf("no report due after the move: %+v", st.Policy)
	}
	m.clock.Advance(time.Hour)
	if _, err := sw.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := m.inUse(t, "network-advantage"); n != 1 {
		t.Fatalf("in use %d after the first report, want 1", n)
	}
	wantCode(t, sw.MoveToPolicy(ctx), smartlic.EConflict)
}

// TestPolicyAgentReinstalled: a device re-installed with a new key asks for
// trust again; the manager refuses unless it forces, and then the old key
// is no longer heard: a sync signed with it fails, naming why, instead of
// reporting success with nothing acknowledged.
func TestPolicyAgentReinstalled(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()
	old := m.policyAgent(t, "POL0009", agent.MemoryState())
	if err := old.SetUsage("network-advantage", 2); err != nil {
		t.Fatal(err)
	}
	if err := old.EstablishTrust(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	m.clock.Advance(time.Hour)
	if _, err := old.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	fresh := m.policyAgent(t, "POL0009", agent.MemoryState())
	if err := fresh.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	wantCode(t, fresh.EstablishTrust(ctx, m.token, false), smartlic.EConflict)
	if err := fresh.EstablishTrust(ctx, m.token, true); err != nil {
		t.Fatalf("trust with force: %v", err)
	}
	m.clock.Advance(time.Hour)
	if done, err := fresh.Sync(ctx); err != nil || done.Accepted != 1 {
		t.Fatalf("the re-installed device's sync: %+v, %v", done, err)
	}
	if n := m.inUse(t, "network-advantage"); n != 1 {
		t.Fatalf("in use %d, want the new installation's 1", n)
	}

	m.clock.Advance(time.Hour)
	if err := old.SetUsage("network-advantage", 5); err != nil {
		t.Fatal(err)
	}
	done, err := old.Sync(ctx)
	wantCode(t, err, smartlic.ESignature)
	if done.Accepted != 0 {
		t.Fatalf("the old key's reports were acknowledged: %+v", done)
	}
	if n := m.inUse(t, "network-advantage"); n != 1 {
		t.Fatalf("in use %d after the old key's report, want 1", n)
	}
}
