package smartlic

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Signed document types of export control (docs/protocols.md, "Export
// control (SLAC)").
const (
	// TypeSLACRequest is a registered instance asking for a SLAC online.
	TypeSLACRequest = "smartlic.slac-request/v1"
	// TypeSLAC is the Smart License Authorization Code itself.
	TypeSLAC = "smartlic.slac/v1"
	// TypeSLACReturnRequest is a registered instance returning a SLAC online.
	TypeSLACReturnRequest = "smartlic.slac-return-request/v1"
	// TypeSLACReturned confirms a return.
	TypeSLACReturned = "smartlic.slac-returned/v1"
)

// SLACRequest is the payload of an online SLAC request, signed with the
// instance's key (kid = instance id) like every device request.
type SLACRequest struct {
	InstanceID string    `json:"instance_id"`
	UDI        UDI       `json:"udi"`
	SentAt     time.Time `json:"sent_at"`
	Nonce      string    `json:"nonce"` // required: the SLAC names it, and it is answered once
	LicenseTag string    `json:"tag"`
	// ReturnHash is the SHA-256 (hex) of a secret the device keeps; the
	// device reveals the secret to return the SLAC, which proves the
	// return came from the device that holds it.
	ReturnHash string `json:"return_hash"`
}

// SLACDoc is the payload of a SLAC (TypeSLAC), signed by the manager.
type SLACDoc struct {
	ID             string    `json:"id"`
	UDI            UDI       `json:"udi"`
	SmartAccount   string    `json:"sa"` // domain
	VirtualAccount string    `json:"va"` // name
	LicenseTag     string    `json:"tag"`
	Request        string    `json:"req"` // the nonce of the request it answers
	IssuedAt       time.Time `json:"at"`
}

// SLACReturnRequest is the payload of an online return, signed with the
// instance's key.
type SLACReturnRequest struct {
	InstanceID string    `json:"instance_id"`
	UDI        UDI       `json:"udi"`
	SentAt     time.Time `json:"sent_at"`
	Nonce      string    `json:"nonce,omitempty"`
	SLACID     string    `json:"slac_id"`
	Secret     []byte    `json:"secret"` // the return secret whose hash the request carried
}

// SLACReturnedDoc is the payload of the manager's confirmation of a return.
type SLACReturnedDoc struct {
	SLACID     string    `json:"slac_id"`
	UDI        UDI       `json:"udi"`
	LicenseTag string    `json:"tag"`
	ReturnedAt time.Time `json:"at"`
}

// ReturnHash is the hash of a return secret a request carries.
func ReturnHash(secret []byte) string {
	h := sha256.Sum256(secret)
	return hex.EncodeToString(h[:])
}
