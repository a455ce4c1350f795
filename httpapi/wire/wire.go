// Package wire holds the JSON shapes of the REST API that are not domain
// types: request bodies, list envelopes and the error body. The server
// derives its OpenAPI schemas from these types and the Go client encodes
// and decodes the same types, so the two cannot disagree about a field.
//
// Request bodies exist separately from the root types because the root
// types carry server-set fields (id, created_at, status); a client must not
// be able to send those, and the server rejects unknown fields. The struct
// tags other than json (doc, enum, minimum, maxLength, …) are read by huma
// to document and check the request before any service method runs; they
// repeat the domain's rules, which stay authoritative.
//
// This package imports only the root package, so the client does not pull
// in the server's dependencies.
package wire

import (
	"time"

	"github.com/smartlic/smartlic"
)

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong. Clients branch on Code.
type ErrorBody struct {
	Code    string   `json:"code" doc:"Machine-readable error code, e.g. invalid, not_found, conflict, token_expired"`
	Message string   `json:"message" doc:"Explanation for a person; not stable"`
	Field   string   `json:"field,omitempty" doc:"The input the error is about, when there is one (e.g. quantity, limit)"`
	Tags    []string `json:"tags,omitempty" doc:"License tags the error is about, when it is about some: on a device's authorization request (field usage.tag), the usage lines the manager refuses outright (a license the product may not consume, or one the catalogue does not know)"`
}

// Page is one page of a list. Next is the cursor of the following page
// (pass it as the after query parameter), empty on the last page.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next" doc:"Cursor of the next page (query parameter after); empty on the last page"`
}

// Items is a list that is not paged (pools: one row per license type).
type Items[T any] struct {
	Items []T `json:"items"`
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string `json:"status" enum:"ok"`
}

// LicenseTypeRequest creates a license type.
type LicenseTypeRequest struct {
	Tag         string               `json:"tag" minLength:"1" maxLength:"64" doc:"Entitlement tag: a-z, 0-9, '.', '_' or '-' (e.g. network-advantage)"`
	Name        string               `json:"name" minLength:"1" maxLength:"200"`
	Description string               `json:"description,omitempty" maxLength:"2000"`
	Term        smartlic.Term        `json:"term" enum:"perpetual,subscription"`
	Enforcement smartlic.Enforcement `json:"enforcement,omitempty" enum:"unenforced,enforced,export_controlled" doc:"Defaults to unenforced"`
}

// ProductRequest creates a product.
type ProductRequest struct {
	PID          string   `json:"pid" minLength:"1" maxLength:"40" doc:"Product ID, the first half of every instance's UDI (PID:SN)"`
	Name         string   `json:"name" minLength:"1" maxLength:"200"`
	Description  string   `json:"description,omitempty" maxLength:"2000"`
	LicenseTypes []string `json:"license_types,omitempty" doc:"Tags of the license types this product may consume"`
}

// ProductUpdate changes the fields that are set.
type ProductUpdate struct {
	Name         *string   `json:"name,omitempty" minLength:"1" maxLength:"200"`
	Description  *string   `json:"description,omitempty" maxLength:"2000"`
	LicenseTypes *[]string `json:"license_types,omitempty" doc:"Replaces the whole list"`
}

// SmartAccountRequest creates a Smart Account.
type SmartAccountRequest struct {
	Name       string `json:"name" minLength:"1" maxLength:"200"`
	Domain     string `json:"domain" minLength:"1" maxLength:"253" doc:"The customer's DNS domain, e.g. example.com"`
	LimitedUse bool   `json:"limited_use,omitempty" doc:"For customers with a public e-mail domain: one Virtual Account, fewer features"`
	Approve    bool   `json:"approve,omitempty" doc:"Create the account active instead of awaiting approval"`
}

// DenyRequest refuses a requested Smart Account.
type DenyRequest struct {
	Reason string `json:"reason" maxLength:"500" doc:"Why the request is refused; recorded in the account's event log, which its requester can read"`
}

// SmartAccountUpdate changes the fields that are set.
type SmartAccountUpdate struct {
	Name       *string `json:"name,omitempty" minLength:"1" maxLength:"200"`
	LimitedUse *bool   `json:"limited_use,omitempty"`
}

// VirtualAccountRequest creates a Virtual Account.
type VirtualAccountRequest struct {
	Name        string `json:"name" minLength:"1" maxLength:"100"`
	Description string `json:"description,omitempty" maxLength:"2000"`
	Parent      string `json:"parent,omitempty" doc:"Id or name of the parent Virtual Account; empty for a top-level one"`
}

// VirtualAccountUpdate renames and/or moves a Virtual Account.
type VirtualAccountUpdate struct {
	Name        *string `json:"name,omitempty" minLength:"1" maxLength:"100"`
	Description *string `json:"description,omitempty" maxLength:"2000"`
	Parent      *string `json:"parent,omitempty" doc:"Id or name of the new parent; the empty string moves it to the top level"`
}

// DepositRequest puts licenses into a Virtual Account.
type DepositRequest struct {
	OrderNumber string     `json:"order_number" minLength:"1" maxLength:"64"`
	License     string     `json:"license" minLength:"1" doc:"License type tag or id"`
	Quantity    int64      `json:"quantity" minimum:"1" maximum:"1000000000"`
	StartsAt    *time.Time `json:"starts_at,omitempty" doc:"Defaults to now"`
	EndsAt      *time.Time `json:"ends_at,omitempty" doc:"Required for subscription license types, refused for perpetual ones"`
}

// TokenRequest creates a registration token.
type TokenRequest struct {
	Description           string `json:"description" maxLength:"200" doc:"What the token is for, so that it can be recognised in a list"`
	ExpiresInDays         int    `json:"expires_in_days,omitempty" minimum:"0" maximum:"365" doc:"1-365; required unless expires_in_minutes is given"`
	ExpiresInMinutes      int    `json:"expires_in_minutes,omitempty" minimum:"0" maximum:"525600" doc:"Instead of expires_in_days: a short life for tests and demonstrations"`
	MaxUses               *int64 `json:"max_uses,omitempty" minimum:"1" maximum:"1000000" doc:"Unlimited when absent"`
	AllowExportControlled bool   `json:"allow_export_controlled,omitempty"`
}
