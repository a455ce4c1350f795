package rescode_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
)

func fuzzKeys(f *testing.F) (ed25519.PrivateKey, smartlic.SigningKey, sign.KeySet) {
	_, dev, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	k, err := sign.NewKey(time.Unix(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	return dev, k, sign.NewKeySet([]smartlic.SigningKey{k})
}

// FuzzReservationCodes: the readers of request, authorization and proof
// codes never panic, never accept what fails the code's check, and a
// request they accept carries a valid UDI and a whole key.
func FuzzReservationCodes(f *testing.F) {
	dev, k, keys := fuzzKeys(f)
	pub := dev.Public().(ed25519.PublicKey)
	udi := smartlic.UDI{PID: "C9300-24T", SN: "FOC1"}
	f.Add(rescode.Request{UDI: udi, Key: pub}.Encode())
	auth, _ := rescode.Authorization{KeyID: k.ID, Fingerprint: rescode.Fingerprint(pub), Sequence: 3, IssuedAt: time.Unix(1e9, 0), UDI: udi,
		Licenses: []rescode.License{{Tag: "network-advantage", Count: 2}}}.Sign(ed25519.PrivateKey(k.PrivateKey))
	f.Add(auth)
	ret, _ := rescode.SignProof(rescode.TypeReturn, rescode.Proof{Fingerprint: rescode.Fingerprint(pub), Sequence: 3}, dev)
	f.Add(ret)
	f.Add("RA1-00000")
	f.Fuzz(func(t *testing.T, text string) {
		if r, err := rescode.DecodeRequest("c", text); err == nil {
			if r.UDI.Validate("udi") != nil || len(r.Key) != ed25519.PublicKeySize {
				t.Fatalf("accepted request %+v", r)
			}
		} else if c := smartlic.ErrorCode(err); c != smartlic.ECodeInvalid {
			t.Fatalf("request: code %q: %v", c, err)
		}
		if a, err := rescode.OpenAuthorization("c", text, keys); err == nil {
			// Only codes the manager's key signed verify.
			if a.KeyID != k.ID || len(a.Licenses) > rescode.MaxReservedLicenses {
				t.Fatalf("accepted authorization %+v", a)
			}
		} else if c := smartlic.ErrorCode(err); c != smartlic.ECodeInvalid && c != smartlic.ESignature {
			t.Fatalf("authorization: code %q: %v", c, err)
		}
		if _, raw, err := rescode.ReadProof("c", rescode.TypeReturn, text); err == nil {
			if err := rescode.VerifyProof("c", rescode.TypeConfirmation, raw, pub); err == nil {
				t.Fatal("a return code verified as a confirmation")
			}
		} else if c := smartlic.ErrorCode(err); c != smartlic.ECodeInvalid {
			t.Fatalf("proof: code %q: %v", c, err)
		}
	})
}
