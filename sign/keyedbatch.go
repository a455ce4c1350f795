package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// batchVerify checks that every (pubs[i], message i, sigs[i]) is a valid
// Ed25519 signature under ZIP-215's rules, the rules of
// ed25519consensus.BatchVerifier: true only if all are (or, with
// probability 2^-128, by chance).
//
// It differs from that verifier in one way, for speed, not in what it
// accepts: signatures made by the same key share that key's term of the
// batch equation,
//
//	[8]( [-Σ z_i s_i]B + Σ [z_i]R_i + Σ_A [Σ_{i: A_i = A} z_i k_i]A ) = 0,
//
// which is the same group element as the sum of one term per signature,
// so the same check, with the same random z_i per signature. A device
// sends its reports in runs (the ten pending ones of an exchange, the
// hundreds of a usage file), and a key's term (its decoding, a square
// root, and a full-width scalar multiplication) is then paid once per run
// rather than once per report: about half of a batch's work.
//
// The message of signature i is typ, a zero byte and payloads[i] (Message),
// hashed from its parts rather than copied into one.
func batchVerify(typ string, payloads [][]byte, pubs []ed25519.PublicKey, sigs [][]byte) bool {
	n := len(sigs)
	if n == 0 || len(pubs) != n || len(payloads) != n {
		return false
	}
	zs := make([]byte, 16*n)
	if _, err := rand.Read(zs); err != nil {
		return false
	}
	keyIndex := make(map[[ed25519.PublicKeySize]byte]int, n)
	// points and scalars: B first, then the signatures' R, then one A per
	// distinct key.
	points := make([]*edwards25519.Point, 1, 1+2*n)
	scalars := make([]*edwards25519.Scalar, 1, 1+2*n)
	points[0] = edwards25519.NewGeneratorPoint()
	bCoeff := edwards25519.NewScalar()
	scalars[0] = bCoeff
	var aCoeffs []*edwards25519.Scalar
	var aPoints []*edwards25519.Point
	rPoints := make([]edwards25519.Point, n)
	rCoeffs := make([]edwards25519.Scalar, n)
	var s, k, zk edwards25519.Scalar
	var digest [64]byte
	h := sha512.New()
	var zbuf [32]byte
	for i := range n {
		pub, sig := pubs[i], sigs[i]
		if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return false
		}
		var key [ed25519.PublicKeySize]byte
		copy(key[:], pub)
		ai, ok := keyIndex[key]
		if !ok {
			// ZIP-215: SetBytes accepts non-canonical encodings.
			a, err := new(edwards25519.Point).SetBytes(pub)
			if err != nil {
				return false
			}
			ai = len(aPoints)
			keyIndex[key] = ai
			aPoints = append(aPoints, a)
			aCoeffs = append(aCoeffs, edwards25519.NewScalar())
		}
		if _, err := rPoints[i].SetBytes(sig[:32]); err != nil {
			return false
		}
		if _, err := s.SetCanonicalBytes(sig[32:]); err != nil {
			return false
		}
		copy(zbuf[:16], zs[16*i:16*i+16])
		z := &rCoeffs[i]
		if _, err := z.SetCanonicalBytes(zbuf[:]); err != nil {
			return false
		}
		h.Reset()
		h.Write(sig[:32])
		h.Write(pub)
		h.Write([]byte(typ))
		h.Write([]byte{0})
		h.Write(payloads[i])
		h.Sum(digest[:0])
		if _, err := k.SetUniformBytes(digest[:]); err != nil {
			return false
		}
		bCoeff.MultiplyAdd(z, &s, bCoeff)
		zk.Multiply(z, &k)
		aCoeffs[ai].Add(aCoeffs[ai], &zk)
		points = append(points, &rPoints[i])
		scalars = append(scalars, z)
	}
	bCoeff.Negate(bCoeff)
	points = append(points, aPoints...)
	scalars = append(scalars, aCoeffs...)
	check := new(edwards25519.Point).VarTimeMultiScalarMult(scalars, points)
	check.MultByCofactor(check)
	return check.Equal(edwards25519.NewIdentityPoint()) == 1
}
