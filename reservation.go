package smartlic

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// ECodeInvalid refuses a paste-able code (request, authorization, return,
// confirmation, SLAC) that is not well formed: a character outside the
// alphabet, a missing or extra character, a failed check, or a code of
// another kind. It is found before any lookup, so it says nothing about
// whether such a reservation exists.
const ECodeInvalid = "code_invalid"

// Errors of reservations (SLR and PLR).
const (
	// ECodeOtherDevice refuses an authorization code issued for another
	// UDI.
	ECodeOtherDevice = "code_other_device"
	// ECodeStale refuses a code that was already used or that an
	// exchange since has superseded: a replayed request code, an older
	// authorization code, a confirmation of a sequence not outstanding.
	ECodeStale = "code_stale"
	// EReservationClosed refuses acting on a reservation already
	// returned or cancelled (returning twice, for one).
	EReservationClosed = "reservation_closed"
	// EReservationNotAllowed refuses a permanent reservation for a
	// product or Smart Account the vendor has not enabled for it.
	EReservationNotAllowed = "reservation_not_allowed"
)

// ReservationKind says what a reservation holds.
type ReservationKind string

const (
	// Specific License Reservation: the license types and quantities
	// chosen, taken from the VA's pool.
	ReservationSpecific ReservationKind = "specific"
	// Permanent License Reservation: every license type the product
	// supports, in any quantity, with no expiry; granted by the vendor
	// per product and Smart Account rather than drawn from pools.
	ReservationPermanent ReservationKind = "permanent"
)

// ReservationStatus is where a reservation stands.
type ReservationStatus string

const (
	// ReservationAuthorized: an authorization code was issued and the
	// device has not confirmed installing it yet.
	ReservationAuthorized ReservationStatus = "authorized"
	// ReservationUpdating: installed once, an updated code was issued;
	// the larger of the old and new quantities stays reserved until the
	// device's confirmation code arrives.
	ReservationUpdating ReservationStatus = "updating"
	// ReservationInstalled: the device confirmed the current code.
	ReservationInstalled ReservationStatus = "installed"
	ReservationReturned  ReservationStatus = "returned"
	ReservationCancelled ReservationStatus = "cancelled"
)

// Open reports whether the reservation still holds licenses.
func (s ReservationStatus) Open() bool {
	return s == ReservationAuthorized || s == ReservationUpdating || s == ReservationInstalled
}

// ReservedLicense is one license type of a reservation.
type ReservedLicense struct {
	LicenseTypeID string `json:"license_type_id"`
	LicenseTag    string `json:"license_tag"`
	Quantity      int64  `json:"quantity"`
}

// Reservation is licenses reserved for one air-gapped product instance,
// identified by the request code's key fingerprint.
type Reservation struct {
	ID               string            `json:"id"`
	SmartAccountID   string            `json:"smart_account_id"`
	VirtualAccountID string            `json:"virtual_account_id"`
	VirtualAccount   string            `json:"virtual_account"` // name, for lists
	UDI              UDI               `json:"udi"`
	Kind             ReservationKind   `json:"kind"`
	Status           ReservationStatus `json:"status"`
	// Fingerprint names the request (8 bytes of SHA-256 of its key, hex);
	// every later code carries it.
	Fingerprint string `json:"fingerprint"`
	DeviceKey   []byte `json:"-"` // the request's Ed25519 public key
	// Sequence is the sequence of the latest authorization code;
	// Confirmed the latest the device confirmed installing (0: none).
	Sequence  int64 `json:"sequence"`
	Confirmed int64 `json:"confirmed"`
	// Licenses is what the latest authorization code grants; Previous,
	// while updating, what the installed code granted, still reserved
	// until the device confirms the update.
	Licenses          []ReservedLicense `json:"licenses"`
	Previous          []ReservedLicense `json:"previous,omitempty"`
	AuthorizationCode string            `json:"authorization_code,omitempty"`
	CreatedAt         time.Time         `json:"created_at"`
	UpdatedAt         time.Time         `json:"updated_at"`
	ClosedAt          *time.Time        `json:"closed_at,omitempty"`
	CloseReason       string            `json:"close_reason,omitempty"`
}

// Held is what the reservation takes from its pool now, per license type
// id: the larger of the current and previous quantity (none once closed,
// none for a permanent reservation).
func (r Reservation) Held() map[string]int64 {
	out := map[string]int64{}
	if !r.Status.Open() || r.Kind == ReservationPermanent {
		return out
	}
	for _, l := range r.Licenses {
		out[l.LicenseTypeID] = max(out[l.LicenseTypeID], l.Quantity)
	}
	for _, l := range r.Previous {
		out[l.LicenseTypeID] = max(out[l.LicenseTypeID], l.Quantity)
	}
	return out
}

// HeldDelta is what going from before to after takes from (positive) or
// gives back to (negative) each pool, by license type id, sorted so that
// pools are always locked in one order.
func HeldDelta(before, after Reservation) []PoolDelta {
	b, a := before.Held(), after.Held()
	for id := range b {
		if _, ok := a[id]; !ok {
			a[id] = 0
		}
	}
	var out []PoolDelta
	for id, q := range a {
		if d := q - b[id]; d != 0 {
			out = append(out, PoolDelta{LicenseTypeID: id, Delta: d})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LicenseTypeID < out[j].LicenseTypeID })
	return out
}

// PoolDelta is a change of one pool's reserved count.
type PoolDelta struct {
	LicenseTypeID string
	Delta         int64
}

// LicenseRequest is one license type and quantity a user asks to reserve.
type LicenseRequest struct {
	Tag      string `json:"tag"`
	Quantity int64  `json:"quantity"`
}

// ReservationInput creates a reservation from a device's request code.
type ReservationInput struct {
	VirtualAccount string           `json:"virtual_account,omitempty"` // name or id; default DEFAULT
	RequestCode    string           `json:"request_code"`
	Licenses       []LicenseRequest `json:"licenses,omitempty"`
	Permanent      bool             `json:"permanent,omitempty"`
}

// ReservationFilter narrows a list of reservations.
type ReservationFilter struct {
	UDI    string // exact PID:SN, or a prefix of it
	Status string // open, closed, pending (authorized or updating), or one status; "" for all
}

// ReservationSettings are the vendor's permission for permanent
// reservations, per product and per Smart Account: a PLR needs both.
type ReservationSettings struct {
	Permanent bool `json:"permanent"`
}

// ReservationTx is the storage of reservations.
type ReservationTx interface {
	InsertReservation(ctx context.Context, r Reservation) error
	// UpdateReservation replaces the reservation's mutable fields if its
	// sequence and status are still those in prev; ok is false otherwise
	// (a concurrent change won).
	UpdateReservation(ctx context.Context, r Reservation, prev Reservation) (ok bool, err error)
	GetReservation(ctx context.Context, saID, id string) (Reservation, error)
	// ReservationByFingerprint finds the reservation of a request.
	ReservationByFingerprint(ctx context.Context, fingerprint string) (Reservation, error)
	// OpenReservationOfUDI returns the open reservation of a UDI, if any.
	OpenReservationOfUDI(ctx context.Context, udi UDI) (Reservation, bool, error)
	ListReservations(ctx context.Context, saID string, vaIDs []string, f ReservationFilter, p Page) ([]Reservation, error)
	// AddReserved moves a pool's reserved count, and its in-use count
	// with it (reserved licenses are consumed), by delta.
	AddReserved(ctx context.Context, vaID, licenseTypeID string, delta int64, at time.Time) error
	PermanentReservationAllowed(ctx context.Context, subject, id string) (bool, error)
	SetPermanentReservationAllowed(ctx context.Context, subject, id string, allowed bool) error
}

// ReservationService reserves licenses for air-gapped instances (SLR and
// PLR) with paste-able codes (see docs/protocols.md).
type ReservationService interface {
	// CreateReservation turns a device's request code into a signed
	// authorization code, taking the licenses from the VA's pool.
	CreateReservation(ctx context.Context, sa string, in ReservationInput) (Reservation, error)
	// UpdateReservation issues a new authorization code with new
	// quantities; the old ones are released on ConfirmReservation.
	UpdateReservation(ctx context.Context, sa, id string, licenses []LicenseRequest) (Reservation, error)
	// ConfirmReservation takes the device's confirmation code.
	ConfirmReservation(ctx context.Context, sa, code string) (Reservation, error)
	// ReturnReservation takes the device's return code and gives the
	// licenses back.
	ReturnReservation(ctx context.Context, sa, code string) (Reservation, error)
	// CancelReservation closes a reservation without a return code: an
	// administrator's decision, with a reason for the event log.
	CancelReservation(ctx context.Context, sa, id, reason string) (Reservation, error)
	GetReservation(ctx context.Context, sa, id string) (Reservation, error)
	ListReservations(ctx context.Context, sa string, f ReservationFilter, p Page) ([]Reservation, string, error)
	// Permanent reservation (PLR) is the vendor's to enable, per product
	// and per Smart Account.
	ReservationSettingsOfProduct(ctx context.Context, pid string) (ReservationSettings, error)
	SetReservationSettingsOfProduct(ctx context.Context, pid string, s ReservationSettings) (ReservationSettings, error)
	ReservationSettingsOfAccount(ctx context.Context, sa string) (ReservationSettings, error)
	SetReservationSettingsOfAccount(ctx context.Context, sa string, s ReservationSettings) (ReservationSettings, error)
}

// ReservationPendingAfter is how long an authorization code may wait for
// the device's confirmation code before the reservation is an alert: the
// licenses are reserved, but nobody knows the device runs them.
const ReservationPendingAfter = 7 * Day

// ReservationAlerts is the reservation.pending alert of r at now, if any.
func ReservationAlerts(now time.Time, va VirtualAccount, r Reservation) []Alert {
	if r.Status != ReservationAuthorized && r.Status != ReservationUpdating {
		return nil
	}
	due := r.UpdatedAt.Add(ReservationPendingAfter)
	if now.Before(due) {
		return nil
	}
	return []Alert{{
		Key: AlertKey(AlertReservationPending, r.ID), Type: AlertReservationPending, Severity: SeverityWarning,
		SmartAccountID: r.SmartAccountID, VirtualAccountID: va.ID, VirtualAccount: va.Name, UDI: r.UDI.String(), DueAt: &due,
		Message: fmt.Sprintf("Authorization code %d for %s in %s was issued on %s and its installation was never confirmed: enter the device's confirmation code, or its return code",
			r.Sequence, r.UDI, va.Name, r.UpdatedAt.Format(time.DateOnly)),
	}}
}
