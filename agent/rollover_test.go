package agent_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/sign"
)

// TestAgentFollowsKeyRollover: after the manager rotates its signing key,
// a registered instance verifies the answers signed by the new key by
// itself — it learns the key from the rollover document signed by the key
// it pinned — and keeps it across a restart. After a rotation that retires
// every older key at once (a leak), no key it trusts vouches for the new
// one, and it refuses.
func TestAgentFollowsKeyRollover(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()
	store := agent.MemoryState()
	a, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: store, UDI: smartlic.UDI{PID: testUDI.PID, SN: "ROLL1"}, Hostname: "sw-roll1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Register(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	if err := a.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(a.State().ManagerKeys); n != 1 {
		t.Fatalf("%d keys pinned at registration, want 1", n)
	}

	k2, err := m.mgr.RotateKey(ctx, 400*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m.clock.Advance(time.Minute)
	if err := a.Authorize(ctx); err != nil {
		t.Fatalf("authorization after a rotation: %v", err)
	}
	st := a.State()
	if _, ok := st.ManagerKeys[k2.ID]; !ok {
		t.Fatalf("the rotated-in key %s is not pinned: %v", k2.ID, st.ManagerKeys)
	}
	if kid := st.Registration.AuthorizationDoc.KeyID; kid != k2.ID {
		t.Fatalf("the authorization is signed by %s, want the new key %s", kid, k2.ID)
	}

	// A restart reads the state and verifies what the new key signed.
	b, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: store})
	if err != nil {
		t.Fatalf("restart after the rollover: %v", err)
	}
	m.clock.Advance(time.Minute)
	if err := b.RenewIDCert(ctx); err != nil {
		t.Fatalf("renewal after the restart: %v", err)
	}

	// A leak: every older key retired at once. Nothing this instance
	// trusts signs the new key set.
	if _, err := m.mgr.RotateKey(ctx, 0); err != nil {
		t.Fatal(err)
	}
	m.clock.Advance(time.Minute)
	if err := b.Authorize(ctx); smartlic.ErrorCode(err) != smartlic.ESignature {
		t.Fatalf("authorization after an emergency rotation: %v, want %s", err, smartlic.ESignature)
	}
}

// forger is a server in the middle: it passes requests to the real manager
// but signs the answers with a key of its own, and publishes rollover
// documents for that key — one signed by its own key, one that names the
// manager's pinned key as its signer.
type forger struct {
	smartlic.DeviceService
	kid        string
	priv       ed25519.PrivateKey
	pinnedKid  string
	forgedSeen int
}

func (f *forger) Authorize(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	ans, err := f.DeviceService.Authorize(ctx, req)
	if err != nil {
		return ans, err
	}
	return sign.Seal(ans.Type, f.kid, f.priv, json.RawMessage(ans.Payload))
}

func (f *forger) PublicKeys(ctx context.Context) (smartlic.PublicKeySet, error) {
	f.forgedSeen++
	ks, err := f.DeviceService.PublicKeys(ctx)
	if err != nil {
		return ks, err
	}
	evil := smartlic.SigningKey{ID: f.kid, Algorithm: sign.AlgEd25519, PublicKey: f.priv.Public().(ed25519.PublicKey)}
	doc := smartlic.KeyRollover{Keys: append(ks.Keys, evil), IssuedAt: time.Now()}
	own, err := sign.Seal(smartlic.TypeKeyRollover, f.kid, f.priv, doc)
	if err != nil {
		return ks, err
	}
	claimed, err := sign.Seal(smartlic.TypeKeyRollover, f.pinnedKid, f.priv, doc)
	if err != nil {
		return ks, err
	}
	ks.Keys = append(ks.Keys, evil)
	ks.Rollover = []smartlic.Envelope{own, claimed}
	return ks, nil
}

// TestAgentRefusesForgedRollover: answers signed by a key that no trusted
// key vouches for are refused, whatever rollover documents come with them,
// and the instance pins nothing new.
func TestAgentRefusesForgedRollover(t *testing.T) {
	m := newRealManager(t)
	ctx := t.Context()
	store := agent.MemoryState()
	a, err := agent.New(agent.Options{Server: m.url, Clock: m.clock, Store: store, UDI: smartlic.UDI{PID: testUDI.PID, SN: "ROLL2"}, Hostname: "sw-roll2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Register(ctx, m.token, false); err != nil {
		t.Fatal(err)
	}
	pinned := a.State().ManagerKeys
	var pinnedKid string
	for kid := range pinned {
		pinnedKid = kid
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &forger{DeviceService: client.New(m.url, ""), kid: "mallory", priv: priv, pinnedKid: pinnedKid}
	b, err := agent.New(agent.Options{Service: f, Clock: m.clock, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetUsage("network-advantage", 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Authorize(ctx); smartlic.ErrorCode(err) != smartlic.ESignature {
		t.Fatalf("an answer signed by the forger's key: %v, want %s", err, smartlic.ESignature)
	}
	if f.forgedSeen == 0 {
		t.Fatal("the agent never looked at the rollover documents: the test proved nothing")
	}
	if _, ok := b.State().ManagerKeys["mallory"]; ok || len(b.State().ManagerKeys) != len(pinned) {
		t.Fatalf("the forger's key was pinned: %v", b.State().ManagerKeys)
	}
}
