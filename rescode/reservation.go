package rescode

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Kinds of the reservation codes (SLR and PLR). docs/protocols.md
// ("Reservation") documents their payloads.
const (
	KindRequest       Kind = "RQ1" // device → manager: UDI and the request's key
	KindAuthorization Kind = "RA1" // manager → device: signed reservation
	KindReturn        Kind = "RR1" // device → manager: signed proof of removal
	KindConfirmation  Kind = "RC1" // device → manager: signed proof of installation
)

// The types a reservation code's signature covers (with sign.Message), so
// that a signature made for one kind never verifies as another, nor as an
// envelope of the device protocol.
const (
	TypeAuthorization = "smartlic.reservation-authorization/v1"
	TypeReturn        = "smartlic.reservation-return/v1"
	TypeConfirmation  = "smartlic.reservation-confirmation/v1"
)

// Field bounds of reservation codes: the catalogue's own limits, so that
// any code the manager writes reads back.
const (
	maxPIDBytes     = 64
	maxSNBytes      = 64
	maxTagBytes     = 64
	maxLicenseLines = 20
	keyIDBytes      = 12 // sign.KeyID is 12 bytes of SHA-256, base64url
	fingerprintSize = 8
)

// MaxReservedLicenses is how many license types one authorization code
// carries: enough for a product, short enough to paste.
const MaxReservedLicenses = maxLicenseLines

// Request is what a device asks to reserve for: its UDI and the public key
// it made for this request. The key is the request's nonce — a new one for
// every request — and later verifies the device's return and
// confirmation codes: only the device holds the private half.
type Request struct {
	UDI smartlic.UDI
	Key ed25519.PublicKey
}

// Fingerprint names a request in the other codes: 8 bytes of the SHA-256
// of its key, in hex (16 characters).
func (r Request) Fingerprint() string { return Fingerprint(r.Key) }

// Fingerprint is the fingerprint of a request key.
func Fingerprint(key ed25519.PublicKey) string {
	h := sha256.Sum256(key)
	return hex.EncodeToString(h[:fingerprintSize])
}

// Encode returns the request code.
func (r Request) Encode() string {
	var w Writer
	w.String(r.UDI.PID)
	w.String(r.UDI.SN)
	w.Fixed(r.Key)
	return Encode(KindRequest, w.Payload())
}

// DecodeRequest reads a request code; field names the input in errors.
func DecodeRequest(field, text string) (Request, error) {
	p, err := Decode(field, KindRequest, text)
	if err != nil {
		return Request{}, err
	}
	rd := NewReader(p)
	r := Request{UDI: smartlic.UDI{PID: rd.String("product ID", maxPIDBytes), SN: rd.String("serial number", maxSNBytes)}}
	r.Key = ed25519.PublicKey(rd.Fixed("key", ed25519.PublicKeySize))
	if err := rd.Done(); err != nil {
		return Request{}, withField(err, field)
	}
	if err := r.UDI.Validate(field); err != nil {
		return Request{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "carries an invalid UDI: %s", smartlic.ErrorMessage(err))
	}
	return r, nil
}

// License is one reserved license type; Count 0 in a permanent
// reservation means "as many as the product uses".
type License struct {
	Tag   string `json:"tag"`
	Count int64  `json:"count"`
}

// Authorization is the manager's signed reservation for one request.
type Authorization struct {
	KeyID       string       `json:"kid"`         // the manager key that signed it
	Fingerprint string       `json:"fingerprint"` // of the request it answers
	Sequence    uint64       `json:"sequence"`    // 1 for the first code, +1 for every update
	Permanent   bool         `json:"permanent"`   // PLR: every license the product supports, no expiry
	IssuedAt    time.Time    `json:"issued_at"`
	UDI         smartlic.UDI `json:"udi"`
	Licenses    []License    `json:"licenses"`
}

func (a Authorization) body() ([]byte, error) {
	kid, err := base64.RawURLEncoding.DecodeString(a.KeyID)
	if err != nil || len(kid) != keyIDBytes {
		return nil, smartlic.Internal(err, "encoding an authorization code: bad key id")
	}
	fp, err := hex.DecodeString(a.Fingerprint)
	if err != nil || len(fp) != fingerprintSize {
		return nil, smartlic.Internal(err, "encoding an authorization code: bad fingerprint")
	}
	if len(a.Licenses) > maxLicenseLines {
		return nil, smartlic.Invalid("licenses", "an authorization code carries at most %d license types", maxLicenseLines)
	}
	var w Writer
	w.Fixed(kid)
	w.Fixed(fp)
	w.Uint(a.Sequence)
	flags := uint64(0)
	if a.Permanent {
		flags |= 1
	}
	w.Uint(flags)
	w.Uint(uint64(a.IssuedAt.Unix()))
	w.String(a.UDI.PID)
	w.String(a.UDI.SN)
	w.Uint(uint64(len(a.Licenses)))
	for _, l := range a.Licenses {
		w.String(l.Tag)
		w.Uint(uint64(l.Count))
	}
	return w.Payload(), nil
}

// Sign returns the authorization code, signed with priv (whose id is
// a.KeyID). The signature covers TypeAuthorization and every byte before
// it.
func (a Authorization) Sign(priv ed25519.PrivateKey) (string, error) {
	b, err := a.body()
	if err != nil {
		return "", err
	}
	b = append(b, ed25519.Sign(priv, sign.Message(TypeAuthorization, b))...)
	return Encode(KindAuthorization, b), nil
}

// OpenAuthorization reads an authorization code and verifies its signature
// with keys before reading anything but the key id; field names the input
// in errors. The caller still checks the UDI, fingerprint and sequence.
func OpenAuthorization(field, text string, keys sign.KeySet) (Authorization, error) {
	p, err := Decode(field, KindAuthorization, text)
	if err != nil {
		return Authorization{}, err
	}
	if len(p) < keyIDBytes+ed25519.SignatureSize {
		return Authorization{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "is too short to be an authorization code")
	}
	body, sig := p[:len(p)-ed25519.SignatureSize], p[len(p)-ed25519.SignatureSize:]
	kid := base64.RawURLEncoding.EncodeToString(body[:keyIDBytes])
	pub, ok := keys.Lookup(kid)
	if !ok {
		return Authorization{}, smartlic.Errorf(smartlic.ESignature, field, "was signed by key %q, which this device does not trust", kid)
	}
	if !ed25519.Verify(pub, sign.Message(TypeAuthorization, body), sig) {
		return Authorization{}, smartlic.Errorf(smartlic.ESignature, field, "signature does not verify: the code was altered or not issued by the license manager")
	}
	rd := NewReader(body[keyIDBytes:])
	a := Authorization{KeyID: kid, Fingerprint: hex.EncodeToString(rd.Fixed("fingerprint", fingerprintSize))}
	a.Sequence = rd.Uint("sequence")
	flags := rd.Uint("flags")
	a.Permanent = flags&1 != 0
	issued := rd.Uint("issued at")
	a.UDI.PID = rd.String("product ID", maxPIDBytes)
	a.UDI.SN = rd.String("serial number", maxSNBytes)
	n := rd.Uint("license count")
	if n > maxLicenseLines {
		return Authorization{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "carries %d license types, more than %d", n, maxLicenseLines)
	}
	for range n {
		l := License{Tag: rd.String("license tag", maxTagBytes)}
		c := rd.Uint("license count")
		if c > 1_000_000_000 {
			return Authorization{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "carries a count above 1000000000")
		}
		l.Count = int64(c)
		a.Licenses = append(a.Licenses, l)
	}
	if err := rd.Done(); err != nil {
		return Authorization{}, withField(err, field)
	}
	if flags > 1 || issued > 1<<40 {
		return Authorization{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "has flags or a date this version does not know")
	}
	a.IssuedAt = time.Unix(int64(issued), 0).UTC()
	return a, nil
}

// Proof is a device's signed statement about the reservation of one
// request: in a return code, that it removed the reservation (Sequence is
// the authorization it had installed, 0 for none); in a confirmation
// code, that it installed authorization Sequence.
type Proof struct {
	Fingerprint string
	Sequence    uint64
}

func proofKind(typ string) Kind {
	if typ == TypeReturn {
		return KindReturn
	}
	return KindConfirmation
}

// SignProof returns the return (typ TypeReturn) or confirmation
// (TypeConfirmation) code of p, signed with the request's private key.
func SignProof(typ string, p Proof, priv ed25519.PrivateKey) (string, error) {
	fp, err := hex.DecodeString(p.Fingerprint)
	if err != nil || len(fp) != fingerprintSize {
		return "", smartlic.Internal(err, "encoding a reservation proof: bad fingerprint")
	}
	var w Writer
	w.Fixed(fp)
	w.Uint(p.Sequence)
	b := w.Payload()
	b = append(b, ed25519.Sign(priv, sign.Message(typ, b))...)
	return Encode(proofKind(typ), b), nil
}

// ReadProof reads a return or confirmation code without trusting it: the
// caller looks the request up by Fingerprint and must then call
// VerifyProof with the request's key before acting on Sequence.
func ReadProof(field, typ, text string) (Proof, []byte, error) {
	p, err := Decode(field, proofKind(typ), text)
	if err != nil {
		return Proof{}, nil, err
	}
	rd := NewReader(p)
	pr := Proof{Fingerprint: hex.EncodeToString(rd.Fixed("fingerprint", fingerprintSize))}
	pr.Sequence = rd.Uint("sequence")
	rd.Fixed("signature", ed25519.SignatureSize)
	if err := rd.Done(); err != nil {
		return Proof{}, nil, withField(err, field)
	}
	return pr, p, nil
}

// VerifyProof checks the signature of a proof read by ReadProof against
// the request's key.
func VerifyProof(field, typ string, raw []byte, key ed25519.PublicKey) error {
	if len(key) != ed25519.PublicKeySize || len(raw) < ed25519.SignatureSize {
		return smartlic.Errorf(smartlic.ESignature, field, "cannot be verified")
	}
	body, sig := raw[:len(raw)-ed25519.SignatureSize], raw[len(raw)-ed25519.SignatureSize:]
	if !ed25519.Verify(key, sign.Message(typ, body), sig) {
		return smartlic.Errorf(smartlic.ESignature, field, "signature does not verify: the code was altered or not made by the device that requested this reservation")
	}
	return nil
}

func withField(err error, field string) error {
	if e, ok := err.(*smartlic.Error); ok && e.Field == "" {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
