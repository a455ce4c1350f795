package sign_test

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

func TestSealOpenRoundTrip(t *testing.T) {
	k, err := sign.NewKey(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	in := smartlic.IDCert{InstanceID: "i1", UDI: smartlic.UDI{PID: "C9300", SN: "FOC1"}}
	env, err := sign.Seal(smartlic.TypeIDCert, k.ID, k.PrivateKey, in)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	parsed, err := sign.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out smartlic.IDCert
	if err := sign.Open(parsed, smartlic.TypeIDCert, sign.NewKeySet([]smartlic.SigningKey{k}), &out); err != nil {
		t.Fatal(err)
	}
	if out.InstanceID != "i1" || out.UDI.SN != "FOC1" {
		t.Fatalf("payload changed in transit: %+v", out)
	}
}

// TestSealJSON: signing bytes already encoded gives the envelope Seal
// gives for the value (Ed25519 is deterministic), and the same refusals.
func TestSealJSON(t *testing.T) {
	k, err := sign.NewKey(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	in := smartlic.UsageAck{InstanceID: "i1", Accepted: []string{"r1"}}
	want, err := sign.Seal(smartlic.TypeUsageAck, k.ID, k.PrivateKey, in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(in)
	got, err := sign.SealJSON(smartlic.TypeUsageAck, k.ID, k.PrivateKey, b)
	if err != nil || string(got.Payload) != string(want.Payload) || string(got.Sig) != string(want.Sig) || got.Type != want.Type || got.KeyID != want.KeyID {
		t.Fatalf("SealJSON = %+v, %v; want %+v", got, err, want)
	}
	var out smartlic.UsageAck
	if err := sign.Open(got, smartlic.TypeUsageAck, sign.NewKeySet([]smartlic.SigningKey{k}), &out); err != nil || out.InstanceID != "i1" {
		t.Fatalf("open: %+v %v", out, err)
	}
	if _, err := sign.SealJSON("not a type", k.ID, k.PrivateKey, b); err == nil {
		t.Error("a bad document type was signed")
	}
	if _, err := sign.SealJSON(smartlic.TypeUsageAck, k.ID, k.PrivateKey[:10], b); err == nil {
		t.Error("a short private key was used")
	}
}

func TestVerifyRejects(t *testing.T) {
	k, _ := sign.NewKey(time.Unix(0, 0))
	other, _ := sign.NewKey(time.Unix(0, 0))
	good, err := sign.Seal(smartlic.TypeAuthorization, k.ID, k.PrivateKey, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	pub := ed25519.PublicKey(k.PublicKey)
	tampered := good
	tampered.Payload = []byte(`{"n":2}`)
	retyped := good
	retyped.Type = smartlic.TypeIDCert
	flipped := good
	flipped.Sig = append([]byte(nil), good.Sig...)
	flipped.Sig[0] ^= 1
	short := good
	short.Sig = good.Sig[:10]
	bidiKid := good
	bidiKid.KeyID = k.ID + "\u202e"
	nulKid := good
	nulKid.KeyID = "a\x00b"
	for name, tc := range map[string]struct {
		env  smartlic.Envelope
		want string
		pub  ed25519.PublicKey
	}{
		"tampered payload":         {tampered, smartlic.TypeAuthorization, pub},
		"replayed as other kind":   {retyped, smartlic.TypeIDCert, pub},
		"wrong expected kind":      {good, smartlic.TypeIDCert, pub},
		"flipped signature bit":    {flipped, smartlic.TypeAuthorization, pub},
		"short signature":          {short, smartlic.TypeAuthorization, pub},
		"kid with a bidi override": {bidiKid, smartlic.TypeAuthorization, pub},
		"kid with a NUL":           {nulKid, smartlic.TypeAuthorization, pub},
		"other key":                {good, smartlic.TypeAuthorization, ed25519.PublicKey(other.PublicKey)},
	} {
		t.Run(name, func(t *testing.T) {
			err := sign.Verify(tc.env, tc.want, tc.pub)
			if smartlic.ErrorCode(err) != smartlic.ESignature {
				t.Fatalf("Verify = %v, want code %s", err, smartlic.ESignature)
			}
		})
	}
	if err := sign.Verify(good, smartlic.TypeAuthorization, pub); err != nil {
		t.Fatalf("good envelope rejected: %v", err)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"not json":      `{`,
		"unknown field": `{"type":"smartlic.id-cert/v1","kid":"k","payload":"e30=","sig":"` + string(make([]byte, 0)) + `","extra":1}`,
		"bad type":      `{"type":"other/v1","kid":"k","payload":"e30=","sig":"AAAA"}`,
		"empty payload": `{"type":"smartlic.id-cert/v1","kid":"k","payload":"","sig":"AAAA"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := sign.Parse([]byte(in)); smartlic.ErrorCode(err) != smartlic.ESignature {
				t.Fatalf("Parse = %v, want %s", err, smartlic.ESignature)
			}
		})
	}
}
