package smartlic

import (
	"context"
	"time"
)

// Export control: a Smart License Authorization Code (SLAC).
//
// Export-controlled licenses (Enforcement ExportControlled) may be used by
// a product only once it holds a SLAC: an authorization, signed by the
// manager, bound to the device's UDI (its serial number) and to one
// export-controlled license type. The manager issues one only when the
// Smart Account is allowed export-controlled functionality (a vendor
// setting) and the Virtual Account has a license of the type available.
//
// A SLAC holds one license of its type in the Virtual Account it was issued
// from, counted in the pool's in_use until it is returned: the pool shows it
// like any other license in use, and the instance's own usage line of that
// type is covered by it and adds nothing more. Deregistering or removing
// the instance does not return the SLAC (it is bound to the serial number,
// not to a registration): the device returns it, online or with a return
// code, and only then does the license go back to the pool.

// SLAC quantities and limits.
const (
	// SLACQuantity is how many licenses one SLAC holds.
	SLACQuantity = 1
	// ThroughputExportLimit is the throughput, in Mbps, above which a
	// product's throughput tiers are export-controlled.
	ThroughputExportLimit = 250
	// SLACSecretBytes is the length of the device's return secret; the
	// request carries its SHA-256, the return the secret itself.
	SLACSecretBytes = 32
)

// Error codes of export control.
const (
	// EWrongDevice refuses a code or document made for another device
	// (serial number), Smart Account or Virtual Account.
	EWrongDevice = "wrong_device"
	// EReplayed refuses a request code, authorization code or return code
	// that was used before, or one older than the last one used.
	EReplayed = "replayed"
	// ESLACClosed refuses cancelling a SLAC that was already returned or
	// cancelled: nothing is held any more.
	ESLACClosed = "slac_closed"
)

// SLACStatus is where a SLAC is in its life.
type SLACStatus string

const (
	SLACActive   SLACStatus = "active"
	SLACReturned SLACStatus = "returned"
	// SLACCancelled is a SLAC an administrator closed without the
	// device's return (the device is lost or destroyed): its license went
	// back to the pool although the device may still hold the document.
	SLACCancelled SLACStatus = "cancelled"
)

// SLACHow says how a SLAC was requested or returned.
type SLACHow string

const (
	SLACOnline  SLACHow = "online"  // a signed device request from a registered instance
	SLACOffline SLACHow = "offline" // a request or return code pasted by a user
	// SLACByAdministrator is how a cancelled SLAC left: an administrator's
	// decision with a reason, no return proof.
	SLACByAdministrator SLACHow = "cancelled"
)

// SLAC is one Smart License Authorization Code as the manager keeps it.
type SLAC struct {
	ID               string `json:"id"`
	SmartAccountID   string `json:"smart_account_id"`
	VirtualAccountID string `json:"virtual_account_id"`
	VirtualAccount   string `json:"virtual_account,omitempty"` // name, filled when read
	LicenseTypeID    string `json:"license_type_id"`
	LicenseTag       string `json:"license_tag"`
	UDI              UDI    `json:"udi"`
	// InstanceID is the registered instance that asked online; empty for
	// an offline request.
	InstanceID string     `json:"instance_id,omitempty"`
	Status     SLACStatus `json:"status"`
	Requested  SLACHow    `json:"requested"`
	// RequestNonce is the nonce of the device's request: a request (or
	// request code) is answered once.
	RequestNonce string `json:"-"`
	// ReturnHash is the SHA-256 of the device's return secret, hex.
	ReturnHash string     `json:"-"`
	IssuedAt   time.Time  `json:"issued_at"`
	ReturnedAt *time.Time `json:"returned_at,omitempty"`
	Returned   SLACHow    `json:"returned,omitempty"`
	// CancelReason is the administrator's reason, for a cancelled SLAC.
	CancelReason string `json:"cancel_reason,omitempty"`
	// Document is the signed SLAC (smartlic.slac/v1) as issued.
	Document Envelope `json:"-"`
	// AuthorizationCode is the paste-able form of Document, set in the
	// answer to an issue.
	AuthorizationCode string `json:"authorization_code,omitempty"`
}

// ExportControl is the vendor's export-control setting of a Smart Account.
type ExportControl struct {
	SmartAccountID string `json:"smart_account_id"`
	SmartAccount   string `json:"smart_account"` // domain
	// Allowed says the Smart Account may use export-controlled
	// functionality: the manager issues SLACs to its devices.
	Allowed   bool       `json:"allowed"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// SLACFilter narrows a list of SLACs.
type SLACFilter struct {
	VA     string     // name or id; empty for the whole Smart Account
	UDI    *UDI       // one device
	Status SLACStatus // "" for every status
}

// SLACService is the manager's export control.
type SLACService interface {
	// GetExportControl and SetExportControl read and change whether a
	// Smart Account may use export-controlled functionality (setting it
	// is the vendor operator's).
	GetExportControl(ctx context.Context, sa string) (ExportControl, error)
	SetExportControl(ctx context.Context, sa string, allowed bool) (ExportControl, error)
	// ListExportControls lists the Smart Accounts allowed export control
	// (operator).
	ListExportControls(ctx context.Context) ([]ExportControl, error)

	ListSLACs(ctx context.Context, sa string, f SLACFilter, p Page) ([]SLAC, string, error)
	GetSLAC(ctx context.Context, sa, id string) (SLAC, error)

	// RequestSLAC and ReturnSLACOnline are the device protocol: a signed
	// smartlic.slac-request/v1 answered by a signed smartlic.slac/v1, a
	// signed smartlic.slac-return-request/v1 answered by a signed
	// smartlic.slac-returned/v1.
	RequestSLAC(ctx context.Context, req Envelope) (Envelope, error)
	ReturnSLACOnline(ctx context.Context, req Envelope) (Envelope, error)

	// IssueSLAC and ReturnSLAC are the offline path: a user of the
	// Virtual Account pastes the device's request code and gets the
	// SLAC with its authorization code (AuthorizationCode); pasting the
	// device's return code gives the license back.
	IssueSLAC(ctx context.Context, sa string, in SLACIssueInput) (SLAC, error)
	ReturnSLAC(ctx context.Context, sa string, returnCode string) (SLAC, error)

	// CancelSLAC closes an active SLAC without the device's return: an
	// administrator's decision (the device is lost or destroyed) with a
	// reason that goes into the event log. Its license goes back to the
	// pool; a SLAC already returned or cancelled is ESLACClosed.
	CancelSLAC(ctx context.Context, sa, id, reason string) (SLAC, error)
}

// SLACIssueInput is an offline SLAC request entered in the manager.
type SLACIssueInput struct {
	// RequestCode is the device's SLAC request code (SQ1-…).
	RequestCode string `json:"request_code"`
	// LicenseTag, when given, must be the license the request code asks
	// for: a check that the user pasted the code they meant.
	LicenseTag string `json:"license,omitempty"`
	// VirtualAccount the license is taken from: by default the device's
	// own when it is registered in the Smart Account, else DEFAULT.
	VirtualAccount string `json:"virtual_account,omitempty"`
}

// SLACTx is the storage of SLACs and export-control settings.
type SLACTx interface {
	// InsertSLAC stores an active SLAC. A second active SLAC of the same
	// UDI and license type, or a request nonce already answered in the
	// Smart Account, is a conflict (Field "udi" or "request").
	InsertSLAC(ctx context.Context, s SLAC) error
	GetSLAC(ctx context.Context, id string) (SLAC, error)
	// SLACByRequest finds the SLAC that answered the request with this
	// nonce in the Smart Account.
	SLACByRequest(ctx context.Context, saID, nonce string) (SLAC, error)
	// ActiveSLACsOf returns the active SLACs of one device, by license type id.
	ActiveSLACsOf(ctx context.Context, udi UDI) ([]SLAC, error)
	// ActiveSLACsOfDevices returns the active SLACs of many devices.
	ActiveSLACsOfDevices(ctx context.Context, udis []UDI) ([]SLAC, error)
	// ListSLACs lists a Smart Account's SLACs in id (creation) order,
	// optionally of some VAs (nil: every VA; empty: none), a device or a
	// status.
	ListSLACs(ctx context.Context, saID string, vaIDs []string, udi *UDI, status SLACStatus, p Page) ([]SLAC, error)
	// ReturnSLAC marks an active SLAC returned, in one conditional update;
	// ok is false when it was not active.
	ReturnSLAC(ctx context.Context, id string, at time.Time, how SLACHow) (ok bool, err error)
	// CancelSLAC marks an active SLAC cancelled with the reason, in one
	// conditional update; ok is false when it was not active.
	CancelSLAC(ctx context.Context, id string, at time.Time, reason string) (ok bool, err error)

	GetExportControl(ctx context.Context, saID string) (ExportControl, error)
	SetExportControl(ctx context.Context, e ExportControl) error
	ListExportControls(ctx context.Context) ([]ExportControl, error)
}
