package smartlic

import (
	"context"
	"time"
)

// Registration is a device registration that has been verified and checked
// against what could be read first (the token, its Virtual Account and
// Smart Account, the product): what is left are the writes that must happen
// together and exactly once, on the rows every registration with the same
// token and account shares.
type Registration struct {
	// Request is the registration's replay record, Answer included: the
	// signed answer is known before the write, so that it is stored by the
	// same statement that claims the request.
	Request SeenRequest
	// TokenID and TokenHash name the token to take one use of.
	TokenID, TokenHash string
	// Instance is the row to insert: not yet authorized, so without usage
	// lines.
	Instance Instance
	// Event is the instance.registered entry, complete but for its place in
	// the chain (Chain, Seq, PrevHash, Hash), which the store assigns.
	Event Event
}

// RegistrationScope is what a registration reads before it writes: its
// token, the token's Virtual Account and Smart Account, and the product
// named by the UDI's PID.
type RegistrationScope struct {
	Token          Token
	VirtualAccount VirtualAccount
	SmartAccount   SmartAccount
	// ProductID is the product whose id, else PID, is the PID asked for;
	// "" when there is none.
	ProductID string
}

// Registrar writes registrations. Store implements it.
type Registrar interface {
	// RegistrationScope reads the scope of a registration with the token
	// of this hash and a UDI with this PID, in one query outside any
	// transaction (the writes check again what can change). A scope may
	// be served again for a moment, so the token's uses may be behind;
	// a change committed through this store is always seen. A token that
	// does not exist is ENotFound.
	RegistrationScope(ctx context.Context, tokenHash, pid string) (RegistrationScope, error)

	// Register writes r as one transaction: it claims the request, takes one
	// use of the token, inserts the instance and appends the event to the
	// chain of the instance's Smart Account. A copy of a request already
	// written writes nothing and returns the stored answer as prior. A token
	// that is unknown, revoked, expired at now or used up is refused with
	// the matching error code (ETokenUnknown, ETokenRevoked, ETokenExpired,
	// ETokenExhausted), a UDI already registered with EConflict on "udi";
	// neither leaves anything behind, token use included.
	Register(ctx context.Context, r Registration, now time.Time) (prior []byte, err error)
}
