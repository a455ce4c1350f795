package sign

import (
	"crypto/ed25519"
	"testing"

	"filippo.io/edwards25519"
)

// TestCanonicalPoint: real points' encodings are canonical; y = p + k for a
// small k, and a signed zero x, are not.
func TestCanonicalPoint(t *testing.T) {
	for range 50 {
		pub, _, _ := ed25519.GenerateKey(nil)
		if !canonicalPoint(pub) {
			t.Fatalf("a public key's encoding %x is not canonical", pub)
		}
	}
	if !canonicalPoint(edwards25519.NewIdentityPoint().Bytes()) {
		t.Fatal("the identity's encoding is not canonical")
	}
	withSign := func(b [32]byte) []byte { b[31] |= 0x80; return b[:] }
	plus := func(k byte) [32]byte { b := fieldP; b[0] += k; return b } // p + k, k < 19
	minusOne := fieldP
	minusOne[0]--
	top := [32]byte{}
	for i := range top {
		top[i] = 0xff
	}
	top[31] = 0x7f
	p, p1 := fieldP, plus(1)
	for name, b := range map[string][]byte{
		"y = p":                 p[:],
		"y = p + 1":             p1[:],
		"y = p + 18, signed":    withSign(plus(18)),
		"y = 2^255 - 1":         top[:],
		"signed zero x (y=1)":   withSign([32]byte{1}),
		"signed zero x (y=p-1)": withSign(minusOne),
	} {
		if canonicalPoint(b) {
			t.Errorf("%s (%x) passed as canonical", name, b)
		}
		if pt, err := new(edwards25519.Point).SetBytes(b); err == nil && string(pt.Bytes()) == string(b) {
			t.Errorf("%s: edwards25519 re-encodes it unchanged, so it is canonical after all", name)
		}
	}
	if !canonicalPoint(minusOne[:]) {
		t.Error("y = p - 1 without a sign is canonical")
	}
}
