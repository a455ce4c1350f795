package smartlic

import (
	"context"
	"encoding/base64"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// Envelope is the one shape of every signed artifact: ID certificates,
// authorizations, device requests. The signature covers the type and the
// payload bytes (see sign.Message), so one kind can never be replayed as
// another.
type Envelope struct {
	Type    string `json:"type"`    // "smartlic.<kind>/v1"
	KeyID   string `json:"kid"`     // signer's key id; for device requests the instance id
	Payload []byte `json:"payload"` // JSON, base64 on the wire
	Sig     []byte `json:"sig"`     // base64 on the wire
}

// Signed document types.
const (
	TypeRegisterRequest   = "smartlic.register-request/v1"
	TypeIDCert            = "smartlic.id-cert/v1"
	TypeAuthRequest       = "smartlic.auth-request/v1"
	TypeAuthorization     = "smartlic.authorization/v1"
	TypeRenewRequest      = "smartlic.renew-request/v1"
	TypeDeregisterRequest = "smartlic.deregister-request/v1"
	TypeDeregistered      = "smartlic.deregistered/v1"
	TypeKeyRollover       = "smartlic.key-rollover/v1"
)

// RegisterRequest is signed by the instance's new key (kid "self"): it
// proves the instance holds the private half of PublicKey.
type RegisterRequest struct {
	Token     string    `json:"token"`
	UDI       UDI       `json:"udi"`
	Hostname  string    `json:"hostname"`
	PublicKey []byte    `json:"public_key"` // Ed25519, 32 bytes
	Force     bool      `json:"force"`      // replace an existing registration of this UDI
	SentAt    time.Time `json:"sent_at"`
	Nonce     string    `json:"nonce,omitempty"` // random, unique per request (see DeviceRequest)
}

// IDCert is the manager's statement of who the instance is.
type IDCert struct {
	Serial           string    `json:"serial"`
	InstanceID       string    `json:"instance_id"`
	UDI              UDI       `json:"udi"`
	SmartAccount     string    `json:"smart_account"` // domain
	SmartAccountName string    `json:"smart_account_name"`
	VirtualAccount   string    `json:"virtual_account"` // name
	PublicKey        []byte    `json:"public_key"`
	IssuedAt         time.Time `json:"issued_at"`
	RenewAfter       time.Time `json:"renew_after"`
	ExpiresAt        time.Time `json:"expires_at"`
}

// DeviceRequest is the payload of auth, renew and deregister requests,
// signed with the instance's key (kid = instance id).
type DeviceRequest struct {
	InstanceID string    `json:"instance_id"`
	UDI        UDI       `json:"udi"`
	SentAt     time.Time `json:"sent_at"`
	// Nonce makes two requests with the same content and sent_at two
	// requests: the manager treats every signed request as single-use and
	// answers a second copy of one with the first answer, without acting
	// on it again. Optional; the agent sends 16 random bytes.
	Nonce string  `json:"nonce,omitempty"`
	Usage []Usage `json:"usage,omitempty"` // auth requests only: tag and count
}

// Authorization is the manager's answer to an auth request.
type Authorization struct {
	InstanceID   string    `json:"instance_id"`
	UDI          UDI       `json:"udi"`
	IssuedAt     time.Time `json:"issued_at"`
	RenewAfter   time.Time `json:"renew_after"`
	ExpiresAt    time.Time `json:"expires_at"`
	Entitlements []Usage   `json:"entitlements"` // tag, count, status
	// CancelledSLACs are the ids of this device's SLACs an administrator
	// cancelled (the device was thought lost): their licenses are back in
	// the pool, and the device removes them. Listed for instances whose
	// registration allows export-controlled licenses.
	CancelledSLACs []string `json:"cancelled_slacs,omitempty"`
}

// Deregistered confirms a deregistration.
type Deregistered struct {
	InstanceID string    `json:"instance_id"`
	UDI        UDI       `json:"udi"`
	At         time.Time `json:"at"`
}

// PublicKeySet lists the manager's verification keys.
type PublicKeySet struct {
	Keys []SigningKey `json:"keys"`
	// Rollover holds the same key list as a KeyRollover document signed
	// by each key listed: an instance that pinned an older key verifies
	// the one its key signed and so learns a rotated-in key by itself.
	Rollover []Envelope `json:"rollover,omitempty"`
}

// KeyRollover is the manager's signed statement of its verification keys
// (TypeKeyRollover). Signed by a key an instance already trusts, it vouches
// for the others.
type KeyRollover struct {
	Keys     []SigningKey `json:"keys"`
	IssuedAt time.Time    `json:"issued_at"`
}

// DecodePayload unmarshals an envelope's payload strictly.
func DecodePayload(env Envelope, v any) error {
	// encoding/json/v2's decoder: several times faster than v1's on the
	// thousands of reports of one usage file, and stricter where strict
	// is wanted (a member named twice, invalid UTF-8 and names that match
	// only when case is ignored are refused, not guessed at).
	if err := jsonv2.Unmarshal(env.Payload, v); err != nil {
		field := jsonErrorField(err, "")
		if field != "" {
			field = " (" + field + ")"
		}
		return Errorf(ESignature, "payload", "payload is not valid %s JSON%s: %s", env.Type, field, jsonProblem(err))
	}
	return nil
}

// ParseEnvelope decodes a device's signed request strictly, in one pass:
// no unknown or repeated members; type and kid text, checked first so
// that a bad byte is named where it is; type, kid, payload and sig
// present; payload and sig base64. Nothing in it is trusted yet: its
// signature is checked where its signer is known.
func ParseEnvelope(data []byte) (Envelope, error) {
	var raw struct {
		Type    string `json:"type"`
		KeyID   string `json:"kid"`
		Payload string `json:"payload"`
		Sig     string `json:"sig"`
	}
	if err := jsonv2.Unmarshal(data, &raw, jsonv2.RejectUnknownMembers(true)); err != nil {
		return Envelope{}, Invalid(jsonErrorField(err, "body"), "not a valid signed document: %s", jsonProblem(err))
	}
	fields := []struct{ name, value string }{{"type", raw.Type}, {"kid", raw.KeyID}, {"payload", raw.Payload}, {"sig", raw.Sig}}
	for _, f := range fields {
		if err := ValidateText(f.name, f.value); err != nil {
			return Envelope{}, err
		}
	}
	for _, f := range fields {
		if f.value == "" {
			return Envelope{}, Invalid(f.name, "is required")
		}
	}
	env := Envelope{Type: raw.Type, KeyID: raw.KeyID}
	var err error
	if env.Payload, err = base64.StdEncoding.DecodeString(raw.Payload); err != nil {
		return Envelope{}, Invalid("payload", "must be base64: %v", err)
	}
	if env.Sig, err = base64.StdEncoding.DecodeString(raw.Sig); err != nil {
		return Envelope{}, Invalid("sig", "must be base64: %v", err)
	}
	return env, nil
}

// MaxNonceLength bounds a device request's nonce.
const MaxNonceLength = 100

// SeenRequest is a device request the manager accepted, remembered by the
// hash of what it signed until ExpiresAt, when it could no longer pass the
// freshness check: a second copy of it gets Answer and changes nothing.
// The store keys it by (SentAt, Hash), so that new requests go to the end
// of its index instead of a random page: SentAt must be the one the signed
// payload says, which Hash covers, so every copy has the same.
type SeenRequest struct {
	Hash       string
	InstanceID string    // "" for registrations
	SentAt     time.Time // as signed: part of the request's key
	ExpiresAt  time.Time
	Answer     []byte // the signed answer (an Envelope as JSON); nil until given
}

// DeviceRequestTx is the storage that makes device requests single-use.
type DeviceRequestTx interface {
	// ClaimDeviceRequest records r (with its Answer, when the caller has
	// it already), unless a request with its hash was recorded before:
	// then ok is false and prior is that record. A copy racing the
	// transaction that records the same hash waits for it.
	ClaimDeviceRequest(ctx context.Context, r SeenRequest) (prior SeenRequest, ok bool, err error)
	// AnswerDeviceRequest stores r.Answer as the answer of the claimed
	// request r (known by its hash and sent_at).
	AnswerDeviceRequest(ctx context.Context, r SeenRequest) error
	// NewerDeviceRequest reports whether the instance had a request
	// accepted that was sent after sentAt (and is still remembered).
	NewerDeviceRequest(ctx context.Context, instanceID string, sentAt time.Time) (bool, error)
	// ForgetDeviceRequests deletes up to limit requests that expired
	// before now and returns how many it deleted.
	ForgetDeviceRequests(ctx context.Context, now time.Time, limit int) (int64, error)
}
