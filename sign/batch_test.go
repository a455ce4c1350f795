package sign_test

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// TestVerifyAll: a batch of good signatures verifies; each kind of bad
// envelope in a batch is refused alone, with the error Verify gives it,
// and the others of its batch still verify; a batch too small to batch
// answers the same.
func TestVerifyAll(t *testing.T) {
	const n = 40
	envs := make([]smartlic.Envelope, n)
	pubs := make([]ed25519.PublicKey, n)
	for i := range envs {
		k, err := sign.NewKey(time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if envs[i], err = sign.Seal(smartlic.TypeRUMReport, fmt.Sprint("inst-", i), k.PrivateKey, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
		pubs[i] = ed25519.PublicKey(k.PublicKey)
	}
	for _, size := range []int{n, 3} {
		for i, err := range sign.VerifyAll(envs[:size], smartlic.TypeRUMReport, pubs[:size]) {
			if err != nil {
				t.Fatalf("good envelope %d of %d: %v", i, size, err)
			}
		}
	}

	bad := map[int]func(e *smartlic.Envelope, pub *ed25519.PublicKey){
		1:  func(e *smartlic.Envelope, _ *ed25519.PublicKey) { e.Payload = []byte(`{"n":1000}`) },
		5:  func(e *smartlic.Envelope, _ *ed25519.PublicKey) { e.Sig = append([]byte(nil), e.Sig...); e.Sig[0] ^= 1 },
		9:  func(e *smartlic.Envelope, pub *ed25519.PublicKey) { *pub = pubs[10] },            // another instance's key
		13: func(e *smartlic.Envelope, _ *ed25519.PublicKey) { e.Type = smartlic.TypeIDCert }, // replayed as another kind
		17: func(e *smartlic.Envelope, _ *ed25519.PublicKey) { // S not canonical: S + L
			e.Sig = append([]byte(nil), e.Sig...)
			sign.AddL(e.Sig[32:])
		},
		21: func(e *smartlic.Envelope, _ *ed25519.PublicKey) { e.Sig = e.Sig[:10] },
	}
	tampered := append([]smartlic.Envelope(nil), envs...)
	keys := append([]ed25519.PublicKey(nil), pubs...)
	for i, f := range bad {
		f(&tampered[i], &keys[i])
	}
	errs := sign.VerifyAll(tampered, smartlic.TypeRUMReport, keys)
	for i, err := range errs {
		_, isBad := bad[i]
		switch {
		case isBad && smartlic.ErrorCode(err) != smartlic.ESignature:
			t.Errorf("bad envelope %d: %v, want %s", i, err, smartlic.ESignature)
		case isBad && err.Error() != sign.Verify(tampered[i], smartlic.TypeRUMReport, keys[i]).Error():
			t.Errorf("bad envelope %d: %v, Verify says %v", i, err, sign.Verify(tampered[i], smartlic.TypeRUMReport, keys[i]))
		case !isBad && err != nil:
			t.Errorf("good envelope %d refused beside bad ones: %v", i, err)
		}
	}
}
