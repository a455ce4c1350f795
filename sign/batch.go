package sign

import (
	"crypto/ed25519"

	"filippo.io/edwards25519"
	"github.com/smartlic/smartlic"
)

// minBatch is the fewest signatures worth a batch verification: below it,
// one at a time is as fast.
const minBatch = 8

// VerifyAll checks each of envs as Verify does, against the key at the
// same index, and returns an error per envelope, nil where it verified.
//
// The signatures are checked together, by batch verification under
// ZIP-215's rules (batchVerify): about 1.7 times faster per signature than
// one at a time, and about twice that again for the runs of reports one
// device signs. A batch that fails is
// checked again one by one with crypto/ed25519, so a bad signature is
// found and named and costs only its own batch. A batch that passes
// holds signatures that are valid under ZIP-215's rules, which accept a
// few encodings crypto/ed25519 refuses; the encodings are checked as
// crypto/ed25519 checks them first (precheck), so what differs is the
// cofactored equation, which only the
// holder of the signing key can take advantage of, on its own documents.
func VerifyAll(envs []smartlic.Envelope, want string, pubs []ed25519.PublicKey) []error {
	errs := make([]error, len(envs))
	var run []int
	for i, env := range envs {
		if errs[i] = precheck(env, want, pubs[i]); errs[i] == nil {
			run = append(run, i)
		}
	}
	if len(run) < minBatch {
		for _, i := range run {
			errs[i] = Verify(envs[i], want, pubs[i])
		}
		return errs
	}
	payloads := make([][]byte, len(run))
	keys := make([]ed25519.PublicKey, len(run))
	sigs := make([][]byte, len(run))
	for j, i := range run {
		payloads[j], keys[j], sigs[j] = envs[i].Payload, pubs[i], envs[i].Sig
	}
	if !batchVerify(want, payloads, keys, sigs) {
		for _, i := range run {
			errs[i] = Verify(envs[i], want, pubs[i])
		}
	}
	return errs
}

// precheck is Verify but for the signature equation: the envelope's shape
// and type, the key's length, and the encodings crypto/ed25519 insists on
// (a canonical S and R).
func precheck(env smartlic.Envelope, want string, pub ed25519.PublicKey) error {
	if err := checkFor(env, want, pub); err != nil {
		return err
	}
	if _, err := new(edwards25519.Scalar).SetCanonicalBytes(env.Sig[32:]); err != nil {
		return errBadSignature()
	}
	// crypto/ed25519 compares R's encoding with the canonical one of the
	// point it computes; ZIP-215 decodes R, non-canonical encodings too.
	// Points that do not decode at all (R or the key) fail the batch, and
	// crypto/ed25519 then names them.
	if !canonicalPoint(env.Sig[:32]) {
		return errBadSignature()
	}
	return nil
}

// fieldP is 2^255 - 19, little-endian.
var fieldP = [32]byte{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}

// canonicalPoint reports whether b is a point encoding as RFC 8032 writes
// one: y below p, and no sign on an x of zero (the points whose y is 1 or
// p-1). It does not check that b is on the curve: that costs a square
// root, and the batch's own decoding does it.
func canonicalPoint(b []byte) bool {
	var y [32]byte
	copy(y[:], b)
	sign := y[31] >> 7
	y[31] &= 0x7f
	below := false
	for i := 31; i >= 0; i-- {
		if y[i] != fieldP[i] {
			below = y[i] < fieldP[i]
			break
		}
	}
	if !below {
		return false
	}
	if sign == 1 {
		one, minusOne := [32]byte{1}, fieldP
		minusOne[0]--
		if y == one || y == minusOne {
			return false
		}
	}
	return true
}
