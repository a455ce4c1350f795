// Package sign makes and checks the signed-document envelope every
// smartlic artifact travels in. Parse, verify, then trust: nothing reads a
// payload before Verify has returned nil.
package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// AlgEd25519 is the only algorithm today; the field exists so that keys
// can change algorithm the way they change id.
const AlgEd25519 = "Ed25519"

// MaxEnvelopeBytes bounds what Parse accepts.
const MaxEnvelopeBytes = 64 << 10

// isDocType matches a document type: smartlic.[a-z0-9-]{1,40}/v[0-9]{1,3}.
// Every envelope's type is checked, twice on the way to its signature,
// so by hand rather than by a regular expression (a few times slower).
func isDocType(t string) bool {
	rest, ok := strings.CutPrefix(t, "smartlic.")
	if !ok {
		return false
	}
	name, version, ok := strings.Cut(rest, "/v")
	if !ok || len(name) < 1 || len(name) > 40 || len(version) < 1 || len(version) > 3 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(version); i++ {
		if c := version[i]; c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Message is the byte string a signature covers: the type, a zero byte,
// then the payload. The zero byte cannot occur in a type, so no (type,
// payload) pair can collide with another.
func Message(typ string, payload []byte) []byte {
	m := make([]byte, 0, len(typ)+1+len(payload))
	m = append(m, typ...)
	m = append(m, 0)
	return append(m, payload...)
}

// NewKey makes a fresh Ed25519 signing key with an id derived from its
// public half.
func NewKey(now time.Time) (smartlic.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return smartlic.SigningKey{}, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return smartlic.SigningKey{ID: KeyID(pub), Algorithm: AlgEd25519, PublicKey: pub, PrivateKey: priv, CreatedAt: now}, nil
}

// KeyID is the id of a public key: the first 12 bytes of its SHA-256, in
// URL-safe base64.
func KeyID(pub []byte) string {
	h := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(h[:12])
}

// Seal marshals payload and signs it as document type typ with priv.
func Seal(typ, kid string, priv ed25519.PrivateKey, payload any) (smartlic.Envelope, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return smartlic.Envelope{}, fmt.Errorf("sign: marshal %s: %w", typ, err)
	}
	return SealJSON(typ, kid, priv, b)
}

// SealJSON signs a payload already encoded by json.Marshal, such as one
// a transaction stored, without encoding it again (Seal of a
// json.RawMessage would scan, compact and copy it first). The bytes are
// the caller's encoding and are not checked again.
func SealJSON(typ, kid string, priv ed25519.PrivateKey, payload []byte) (smartlic.Envelope, error) {
	if !isDocType(typ) {
		return smartlic.Envelope{}, fmt.Errorf("sign: bad document type %q", typ)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return smartlic.Envelope{}, fmt.Errorf("sign: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	return smartlic.Envelope{Type: typ, KeyID: kid, Payload: payload, Sig: ed25519.Sign(priv, Message(typ, payload))}, nil
}

// Parse decodes an envelope from JSON, strictly, without trusting it.
func Parse(data []byte) (smartlic.Envelope, error) {
	var env smartlic.Envelope
	if len(data) > MaxEnvelopeBytes {
		return env, smartlic.Errorf(smartlic.ESignature, "envelope", "signed document larger than %d bytes", MaxEnvelopeBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return env, smartlic.Errorf(smartlic.ESignature, "envelope", "not a signed document: %v", err)
	}
	return env, CheckShape(env)
}

// CheckShape checks the envelope's fields are present and well formed.
func CheckShape(env smartlic.Envelope) error {
	switch {
	case !isDocType(env.Type):
		return smartlic.Errorf(smartlic.ESignature, "type", "unknown signed document type %q", env.Type)
	case env.KeyID == "" || len(env.KeyID) > 100:
		return smartlic.Errorf(smartlic.ESignature, "kid", "key id is missing or too long")
	case len(env.Payload) == 0:
		return smartlic.Errorf(smartlic.ESignature, "payload", "payload is empty")
	case len(env.Sig) != ed25519.SignatureSize:
		return smartlic.Errorf(smartlic.ESignature, "sig", "signature must be %d bytes (got %d)", ed25519.SignatureSize, len(env.Sig))
	}
	// A kid is echoed in rejections and kept in stored ACK files, and a
	// file's kids reach the manager unchecked by the request body's text
	// check (httpapi takes a usage file as it is).
	if err := smartlic.ValidateIdentifier("kid", env.KeyID); err != nil {
		return smartlic.Errorf(smartlic.ESignature, "kid", "key id %s", smartlic.ErrorMessage(err))
	}
	return nil
}

// checkFor is what Verify checks before the signature: the envelope's
// shape, its type, the key's length.
func checkFor(env smartlic.Envelope, want string, pub ed25519.PublicKey) error {
	if err := CheckShape(env); err != nil {
		return err
	}
	if env.Type != want {
		return smartlic.Errorf(smartlic.ESignature, "type", "expected a %s document, got %s", want, env.Type)
	}
	if len(pub) != ed25519.PublicKeySize {
		return smartlic.Errorf(smartlic.ESignature, "kid", "no usable public key for key id %q", env.KeyID)
	}
	return nil
}

func errBadSignature() error {
	return smartlic.Errorf(smartlic.ESignature, "sig", "signature does not verify: the document was altered or signed by another key")
}

// Verify checks that env is a document of type want signed by pub. Only
// after it returns nil may the payload be read.
func Verify(env smartlic.Envelope, want string, pub ed25519.PublicKey) error {
	if err := checkFor(env, want, pub); err != nil {
		return err
	}
	if !ed25519.Verify(pub, Message(env.Type, env.Payload), env.Sig) {
		return errBadSignature()
	}
	return nil
}

// Open verifies env against the key set and decodes its payload into v.
func Open(env smartlic.Envelope, want string, keys KeySet, v any) error {
	pub, ok := keys.Lookup(env.KeyID)
	if !ok {
		return smartlic.Errorf(smartlic.ESignature, "kid", "unknown signing key %q", env.KeyID)
	}
	if err := Verify(env, want, pub); err != nil {
		return err
	}
	return smartlic.DecodePayload(env, v)
}

// KeySet maps key ids to public keys.
type KeySet map[string]ed25519.PublicKey

// Lookup returns the public key with id kid.
func (s KeySet) Lookup(kid string) (ed25519.PublicKey, bool) {
	k, ok := s[kid]
	return k, ok
}

// NewKeySet builds a KeySet from signing keys (only public halves are used).
func NewKeySet(keys []smartlic.SigningKey) KeySet {
	s := KeySet{}
	for _, k := range keys {
		if k.Algorithm == AlgEd25519 && len(k.PublicKey) == ed25519.PublicKeySize {
			s[k.ID] = ed25519.PublicKey(k.PublicKey)
		}
	}
	return s
}
