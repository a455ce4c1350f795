package sign

import (
	"bytes"
	"crypto/ed25519"

	"filippo.io/edwards25519"
	"github.com/hdevalence/ed25519consensus"
	"github.com/smartlic/smartlic"
)

// minBatch is the fewest signatures worth a batch verification: below it,
// one at a time is as fast.
const minBatch = 8

// VerifyAll checks each of envs as Verify does, against the key at the
// same index, and returns an error per envelope, nil where it verified.
//
// The signatures are checked together, by batch verification
// (ed25519consensus): about 1.7 times faster per signature than one at a
// time, for the thousands of reports of a usage file. A batch that fails is
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
	v := ed25519consensus.NewBatchVerifier()
	for _, i := range run {
		v.Add(pubs[i], Message(envs[i].Type, envs[i].Payload), envs[i].Sig)
	}
	if !v.Verify() {
		for _, i := range run {
			errs[i] = Verify(envs[i], want, pubs[i])
		}
	}
	return errs
}

// precheck is Verify but for the signature equation: the envelope's shape
// and type, the key's length, and the encodings crypto/ed25519 insists on
// (a canonical S and R, a public key that decodes).
func precheck(env smartlic.Envelope, want string, pub ed25519.PublicKey) error {
	if err := CheckShape(env); err != nil {
		return err
	}
	if env.Type != want {
		return smartlic.Errorf(smartlic.ESignature, "type", "expected a %s document, got %s", want, env.Type)
	}
	if len(pub) != ed25519.PublicKeySize {
		return smartlic.Errorf(smartlic.ESignature, "kid", "no usable public key for key id %q", env.KeyID)
	}
	bad := smartlic.Errorf(smartlic.ESignature, "sig", "signature does not verify: the document was altered or signed by another key")
	if _, err := new(edwards25519.Scalar).SetCanonicalBytes(env.Sig[32:]); err != nil {
		return bad
	}
	// crypto/ed25519 compares R's encoding with the canonical one of the
	// point it computes; ZIP-215 decodes R, non-canonical encodings too.
	if r, err := new(edwards25519.Point).SetBytes(env.Sig[:32]); err != nil || !bytes.Equal(r.Bytes(), env.Sig[:32]) {
		return bad
	}
	if _, err := new(edwards25519.Point).SetBytes(pub); err != nil {
		return bad
	}
	return nil
}
