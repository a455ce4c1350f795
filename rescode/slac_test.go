package rescode_test

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
)

func slacSamples(t testing.TB) (rescode.SLACRequest, smartlic.Envelope, rescode.SLACReturn, sign.KeySet) {
	k, err := sign.NewKey(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	udi := smartlic.UDI{PID: "ISR4451-X/K9", SN: "FOC2231A0B1"}
	req := rescode.SLACRequest{UDI: udi, LicenseTag: "hseck9", Nonce: bytes.Repeat([]byte{7}, rescode.SLACNonceBytes), ReturnHash: bytes.Repeat([]byte{9}, 32)}
	env, err := sign.Seal(smartlic.TypeSLAC, k.ID, ed25519.PrivateKey(k.PrivateKey), smartlic.SLACDoc{
		ID: "0193a5b2-7c1e-7d00-8000-000000000001", UDI: udi, SmartAccount: "secure.example", VirtualAccount: "DEFAULT",
		LicenseTag: "hseck9", Request: req.NonceString(), IssuedAt: time.Unix(1.8e9, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	ret := rescode.SLACReturn{UDI: udi, SLACID: "0193a5b2-7c1e-7d00-8000-000000000001", Secret: bytes.Repeat([]byte{5}, smartlic.SLACSecretBytes)}
	return req, env, ret, sign.NewKeySet([]smartlic.SigningKey{k})
}

// TestSLACCodes: each SLAC code reads back what was written, the
// authorization code carries an envelope that still verifies, and a
// mistyped character or a code of another kind is refused as code_invalid.
func TestSLACCodes(t *testing.T) {
	req, env, ret, keys := slacSamples(t)

	rc := req.Encode()
	got, err := rescode.DecodeSLACRequest("request_code", strings.ToLower(rc))
	if err != nil || got.UDI != req.UDI || got.LicenseTag != "hseck9" || !bytes.Equal(got.Nonce, req.Nonce) || !bytes.Equal(got.ReturnHash, req.ReturnHash) {
		t.Fatalf("request round trip: %+v %v", got, err)
	}
	if !strings.HasPrefix(rc, "SQ1-") {
		t.Fatalf("request code %q", rc)
	}

	ac, err := rescode.EncodeSLAC(env)
	if err != nil {
		t.Fatal(err)
	}
	back, err := rescode.DecodeSLAC("code", ac)
	if err != nil {
		t.Fatal(err)
	}
	var doc smartlic.SLACDoc
	if err := sign.Open(back, smartlic.TypeSLAC, keys, &doc); err != nil || doc.Request != req.NonceString() {
		t.Fatalf("the carried SLAC: %+v %v", doc, err)
	}
	t.Logf("authorization code: %d characters", len(ac))

	rt := ret.Encode()
	gr, err := rescode.DecodeSLACReturn("code", rt)
	if err != nil || gr.UDI != ret.UDI || gr.SLACID != ret.SLACID || !bytes.Equal(gr.Secret, ret.Secret) {
		t.Fatalf("return round trip: %+v %v", gr, err)
	}

	// One character changed in the body: the check catches it.
	typo := []byte(rc)
	i := len(typo) - 3
	if typo[i] == 'A' {
		typo[i] = 'B'
	} else {
		typo[i] = 'A'
	}
	_, err = rescode.DecodeSLACRequest("request_code", string(typo))
	if smartlic.ErrorCode(err) != smartlic.ECodeInvalid || smartlic.ErrorField(err) != "request_code" {
		t.Fatalf("mistyped request code: %v", err)
	}
	// A return code pasted where a request code goes.
	if _, err := rescode.DecodeSLACRequest("request_code", rt); smartlic.ErrorCode(err) != smartlic.ECodeInvalid || !strings.Contains(err.Error(), "SR1") {
		t.Fatalf("return code as request: %v", err)
	}
	// A truncated authorization code.
	if _, err := rescode.DecodeSLAC("code", ac[:len(ac)-4]); smartlic.ErrorCode(err) != smartlic.ECodeInvalid {
		t.Fatalf("truncated authorization code: %v", err)
	}
	// A reservation authorization code is not a SLAC.
	if _, err := rescode.DecodeSLAC("code", rescode.Encode(rescode.KindAuthorization, []byte{1})); smartlic.ErrorCode(err) != smartlic.ECodeInvalid {
		t.Fatalf("RA1 as SLAC: %v", err)
	}
	// Only a signed SLAC envelope is encoded.
	if _, err := rescode.EncodeSLAC(smartlic.Envelope{Type: smartlic.TypeAuthorization, Sig: env.Sig}); err == nil {
		t.Fatal("encoded another document type as a SLAC code")
	}
}

// FuzzSLACCodes: the readers of SLAC request, authorization and return
// codes never panic, refuse only with code_invalid, and what they accept
// has the shape the manager and the agent rely on; an authorization code
// opens only if the manager's key signed it.
func FuzzSLACCodes(f *testing.F) {
	req, env, ret, keys := slacSamples(f)
	f.Add(req.Encode())
	ac, err := rescode.EncodeSLAC(env)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ac)
	f.Add(ret.Encode())
	f.Add("SQ1-00000")
	f.Add("sa1 0000")
	f.Fuzz(func(t *testing.T, text string) {
		if r, err := rescode.DecodeSLACRequest("c", text); err == nil {
			if r.UDI.Validate("udi") != nil || smartlic.ValidateTag("t", r.LicenseTag) != nil || len(r.Nonce) != rescode.SLACNonceBytes || len(r.ReturnHash) != 32 {
				t.Fatalf("accepted request %+v", r)
			}
			if again, err := rescode.DecodeSLACRequest("c", r.Encode()); err != nil || again.UDI != r.UDI {
				t.Fatalf("re-encoded request: %v", err)
			}
		} else if c := smartlic.ErrorCode(err); c != smartlic.ECodeInvalid {
			t.Fatalf("request: code %q: %v", c, err)
		}
		if e, err := rescode.DecodeSLAC("c", text); err == nil {
			if e.Type != smartlic.TypeSLAC || len(e.Sig) != ed25519.SignatureSize || e.KeyID == "" {
				t.Fatalf("accepted SLAC %+v", e)
			}
			var doc smartlic.SLACDoc
			if sign.Open(e, smartlic.TypeSLAC, keys, &doc) == nil && !bytes.Equal(e.Payload, env.Payload) {
				t.Fatalf("a SLAC the key never signed verified: %s", e.Payload)
			}
		} else if c := smartlic.ErrorCode(err); c != smartlic.ECodeInvalid {
			t.Fatalf("authorization: code %q: %v", c, err)
		}
		if r, err := rescode.DecodeSLACReturn("c", text); err == nil {
			if r.UDI.Validate("udi") != nil || r.SLACID == "" || len(r.Secret) != smartlic.SLACSecretBytes {
				t.Fatalf("accepted return %+v", r)
			}
		} else if c := smartlic.ErrorCode(err); c != smartlic.ECodeInvalid {
			t.Fatalf("return: code %q: %v", c, err)
		}
	})
}
