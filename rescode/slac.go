package rescode

import (
	"crypto/ed25519"
	"encoding/base64"

	"github.com/smartlic/smartlic"
)

// Kinds of the export-control codes (SLAC offline). docs/protocols.md
// ("Export control (SLAC)", "Offline") documents their payloads.
const (
	KindSLACRequest       Kind = "SQ1" // device → manager: UDI, license, nonce, return hash
	KindSLACAuthorization Kind = "SA1" // manager → device: the signed SLAC
	KindSLACReturn        Kind = "SR1" // device → manager: the return secret
)

// Sizes of the fixed fields of SLAC codes.
const (
	// SLACNonceBytes is the length of an offline request's nonce; the
	// manager names the request by its URL-safe base64 (22 characters),
	// the same form an online request's nonce has.
	SLACNonceBytes = 16
	slacHashBytes  = 32
	maxSLACIDBytes = 64
	maxKeyIDBytes  = 64
)

// SLACRequest is what an air-gapped device asks for: a SLAC for one
// export-controlled license, bound to its UDI. The nonce names the request
// (the SLAC carries it back, and it is answered once); ReturnHash is the
// SHA-256 of the secret the device reveals to return the SLAC.
type SLACRequest struct {
	UDI        smartlic.UDI
	LicenseTag string
	Nonce      []byte // SLACNonceBytes
	ReturnHash []byte // 32 bytes
}

// NonceString is the nonce as the manager and the SLAC document name it.
func (r SLACRequest) NonceString() string { return base64.RawURLEncoding.EncodeToString(r.Nonce) }

// Encode returns the request code.
func (r SLACRequest) Encode() string {
	var w Writer
	w.String(r.UDI.PID)
	w.String(r.UDI.SN)
	w.String(r.LicenseTag)
	w.Fixed(r.Nonce)
	w.Fixed(r.ReturnHash)
	return Encode(KindSLACRequest, w.Payload())
}

// DecodeSLACRequest reads a SLAC request code; field names the input in
// errors. Only the shape is checked here: the license and the device are
// the manager's to look up.
func DecodeSLACRequest(field, text string) (SLACRequest, error) {
	p, err := Decode(field, KindSLACRequest, text)
	if err != nil {
		return SLACRequest{}, err
	}
	rd := NewReader(p)
	r := SLACRequest{UDI: smartlic.UDI{PID: rd.String("product ID", maxPIDBytes), SN: rd.String("serial number", maxSNBytes)}}
	r.LicenseTag = rd.String("license tag", maxTagBytes)
	r.Nonce = rd.Fixed("nonce", SLACNonceBytes)
	r.ReturnHash = rd.Fixed("return hash", slacHashBytes)
	if err := rd.Done(); err != nil {
		return SLACRequest{}, withField(err, field)
	}
	if err := r.UDI.Validate(field); err != nil {
		return SLACRequest{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "carries an invalid UDI: %s", smartlic.ErrorMessage(err))
	}
	if err := smartlic.ValidateTag(field, r.LicenseTag); err != nil {
		return SLACRequest{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "carries an invalid license tag: %s", smartlic.ErrorMessage(err))
	}
	return r, nil
}

// EncodeSLAC returns the authorization code that carries a signed SLAC
// (smartlic.slac/v1): the very envelope the manager signed and keeps, in
// a form a person can paste. The type is implied by the kind, so only
// the key id, the payload and the signature travel.
func EncodeSLAC(env smartlic.Envelope) (string, error) {
	if env.Type != smartlic.TypeSLAC || len(env.Sig) != ed25519.SignatureSize || len(env.KeyID) > maxKeyIDBytes {
		return "", smartlic.Internal(nil, "encoding a SLAC authorization code (not a signed SLAC)")
	}
	var w Writer
	w.String(env.KeyID)
	w.Bytes(env.Payload)
	w.Fixed(env.Sig)
	if len(w.Payload()) > MaxPayload {
		return "", smartlic.Internal(nil, "encoding a SLAC authorization code (the SLAC is too long)")
	}
	return Encode(KindSLACAuthorization, w.Payload()), nil
}

// DecodeSLAC reads a SLAC authorization code into the signed envelope it
// carries. Nothing in it is trusted yet: the caller opens the envelope
// with the manager's keys (sign.Open) before reading its payload.
func DecodeSLAC(field, text string) (smartlic.Envelope, error) {
	p, err := Decode(field, KindSLACAuthorization, text)
	if err != nil {
		return smartlic.Envelope{}, err
	}
	rd := NewReader(p)
	env := smartlic.Envelope{Type: smartlic.TypeSLAC, KeyID: rd.String("key id", maxKeyIDBytes)}
	env.Payload = rd.Bytes("SLAC", MaxPayload)
	env.Sig = rd.Fixed("signature", ed25519.SignatureSize)
	if err := rd.Done(); err != nil {
		return smartlic.Envelope{}, withField(err, field)
	}
	if env.KeyID == "" || len(env.Payload) == 0 {
		return smartlic.Envelope{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "carries no key id or no SLAC")
	}
	return env, nil
}

// SLACReturn is a device's proof that it removed a SLAC: the return secret
// whose SHA-256 its request carried. Only the device that asked holds it.
type SLACReturn struct {
	UDI    smartlic.UDI
	SLACID string
	Secret []byte // smartlic.SLACSecretBytes
}

// Encode returns the return code.
func (r SLACReturn) Encode() string {
	var w Writer
	w.String(r.UDI.PID)
	w.String(r.UDI.SN)
	w.String(r.SLACID)
	w.Fixed(r.Secret)
	return Encode(KindSLACReturn, w.Payload())
}

// DecodeSLACReturn reads a SLAC return code; field names the input in
// errors. The secret is checked by the manager against the SLAC's hash.
func DecodeSLACReturn(field, text string) (SLACReturn, error) {
	p, err := Decode(field, KindSLACReturn, text)
	if err != nil {
		return SLACReturn{}, err
	}
	rd := NewReader(p)
	r := SLACReturn{UDI: smartlic.UDI{PID: rd.String("product ID", maxPIDBytes), SN: rd.String("serial number", maxSNBytes)}}
	r.SLACID = rd.String("SLAC id", maxSLACIDBytes)
	r.Secret = rd.Fixed("return secret", smartlic.SLACSecretBytes)
	if err := rd.Done(); err != nil {
		return SLACReturn{}, withField(err, field)
	}
	if err := r.UDI.Validate(field); err != nil {
		return SLACReturn{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "carries an invalid UDI: %s", smartlic.ErrorMessage(err))
	}
	if r.SLACID == "" {
		return SLACReturn{}, smartlic.Errorf(smartlic.ECodeInvalid, field, "names no SLAC")
	}
	return r, nil
}
