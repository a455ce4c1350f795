// Package smartlic holds the nouns and verbs of smart software licensing:
// catalogue, Smart and Virtual Accounts, deposits, pools, registration
// tokens and product instances. It does no I/O; the store, the signing
// package, the HTTP layer and the agent adapt it to the world.
package smartlic

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status; clients and the CLI
// branch on the code, never on the message.
const (
	EInvalid        = "invalid"         // input breaks a rule; Field names the input
	ENotFound       = "not_found"       // the addressed thing does not exist (or is not visible)
	EConflict       = "conflict"        // unique name/domain/UDI already taken, or state forbids it
	EUnauthorized   = "unauthorized"    // no or unknown credentials
	EForbidden      = "forbidden"       // credentials valid, action not allowed
	EInternal       = "internal"        // a bug or an outage; details are logged, not returned
	ETokenUnknown   = "token_unknown"   // registration token does not exist
	ETokenExpired   = "token_expired"   // registration token past its expiry
	ETokenRevoked   = "token_revoked"   // registration token revoked by a user
	ETokenExhausted = "token_exhausted" // registration token used max_uses times
	EDepthExceeded  = "va_depth_exceeded"
	ECycle          = "va_cycle"
	ENotEmpty       = "va_not_empty"
	ESignature      = "signature_invalid" // a signed document failed verification
	EUnsupportedMT  = "unsupported_media_type"
	ETooLarge       = "body_too_large"
	ENotRegistered  = "not_registered" // device call from an instance the manager does not know
	ESchemaTooNew   = "schema_too_new" // database written by a newer smartlic
	ELimitedUse     = "limited_use"    // feature not available to a limited-use Smart Account
	EExportControl  = "export_controlled"

	// EAlreadyConverted refuses converting classic PAK units a second time.
	EAlreadyConverted = "already_converted"

	// EInsufficient refuses a transfer of more than the source pool has
	// available (purchased and active, minus in use).
	EInsufficient = "insufficient_licenses"
)

// Error is the error every layer returns. Stores turn driver errors into it
// at their boundary; the HTTP layer maps Code to a status in one table.
type Error struct {
	Code    string
	Field   string // the input it is about, when there is one
	Message string // for a person
	// Tags are the license tags the error is about, when it is about
	// some: the usage lines a device may not report (Field "usage.tag").
	// Programs act on them instead of reading Message.
	Tags []string
	Err  error // cause, kept for logs and errors.Is; never shown to clients
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil && e.Code == EInternal {
		return fmt.Sprintf("%s: %s: %v", e.Code, msg, e.Err)
	}
	return e.Code + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code; field may be empty.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for an EInvalid error about one field.
func Invalid(field, format string, args ...any) *Error {
	return Errorf(EInvalid, field, format, args...)
}

// NotFound is shorthand for an ENotFound error.
func NotFound(format string, args ...any) *Error {
	return Errorf(ENotFound, "", format, args...)
}

// Internal wraps an unexpected error. Its message is generic so that nothing
// about the cause (a DSN, a query) reaches a client.
func Internal(err error, what string) *Error {
	return &Error{Code: EInternal, Message: "internal error while " + what, Err: err}
}

// ErrorCode returns the code of err, EInternal for foreign errors and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorField returns the field of err when it is an *Error.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
