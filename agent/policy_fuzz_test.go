package agent_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/sign"
)

// FuzzImport feeds a policy-mode agent arbitrary files as "import": it
// must never panic, and a file it refuses changes nothing.
func FuzzImport(f *testing.F) {
	key, err := sign.NewKey(epoch)
	if err != nil {
		f.Fatal(err)
	}
	udi := smartlic.UDI{PID: "C9300-24T", SN: "FUZZ1"}
	code, _ := sign.Seal(smartlic.TypeTrustCode, key.ID, key.PrivateKey, smartlic.TrustCode{Serial: "s", InstanceID: "i", UDI: udi, IssuedAt: epoch})
	trust, _ := json.Marshal(smartlic.TrustFile{Type: smartlic.FileTypeTrust, TrustCodes: []smartlic.Envelope{code},
		Keys: smartlic.PublicKeySet{Keys: []smartlic.SigningKey{{ID: key.ID, Algorithm: sign.AlgEd25519, PublicKey: key.PublicKey}}}})
	ack, _ := sign.Seal(smartlic.TypeUsageAck, key.ID, key.PrivateKey, smartlic.UsageAck{AckID: "a", InstanceID: "i", UDI: udi, IssuedAt: epoch.Add(time.Hour), Accepted: []string{"r"}})
	ackFile, _ := json.Marshal(smartlic.AckFile{Type: smartlic.FileTypeAck, Acks: []smartlic.Envelope{ack}})
	f.Add(trust)
	f.Add(ackFile)
	f.Add([]byte(`{"type":"smartlic.ack-file/v1","acks":[{"type":"smartlic.usage-ack/v1","kid":"x","payload":"e30=","sig":"AAAA"}]}`))
	f.Add([]byte(`{"type":"smartlic.trust-file/v1","trust_codes":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		store := agent.MemoryState()
		a, err := agent.New(agent.Options{Server: "http://127.0.0.1:1", Clock: smartlic.NewFakeClock(epoch), Store: store, UDI: udi, Mode: agent.ModePolicy})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SetUsage("network-advantage", 1); err != nil {
			t.Fatal(err)
		}
		before, _ := json.Marshal(a.State())
		if _, err := a.Import(data); err != nil {
			if after, _ := json.Marshal(a.State()); string(after) != string(before) {
				t.Fatalf("a refused import changed the state: %v", err)
			}
			return
		}
		// Whatever was accepted must still load and verify.
		if _, err := agent.New(agent.Options{Server: "http://127.0.0.1:1", Clock: smartlic.NewFakeClock(epoch), Store: store}); err != nil {
			t.Fatalf("the state an import left does not load: %v", err)
		}
	})
}
