package manager

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
)

// Subjects of the vendor's permission for permanent reservations.
const (
	plrProduct      = "product"
	plrSmartAccount = "smart_account"
)

// maxReasonLength bounds an administrator's reason for a cancellation.
const maxReasonLength = 500

// cancelReason trims an administrator's reason for a cancellation and
// refuses an empty one (with missing, which says what to write) or one
// longer than maxReasonLength.
func cancelReason(reason, missing string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", smartlic.Invalid("reason", "%s", missing)
	}
	if len(reason) > maxReasonLength {
		return "", smartlic.Invalid("reason", "must be at most %d characters", maxReasonLength)
	}
	return reason, nil
}

// CreateReservation reserves licenses for the device whose request code is
// in.RequestCode and returns the reservation with its signed authorization
// code. The code is checked before anything is looked up; the quantities
// leave the VA's pool (as reserved) in the same transaction, each pool
// locked before what is available is read, so concurrent reservations
// never take more than the pool holds.
func (m *Manager) CreateReservation(ctx context.Context, saKey string, in smartlic.ReservationInput) (smartlic.Reservation, error) {
	req, err := rescode.DecodeRequest("request_code", in.RequestCode)
	if err != nil {
		return smartlic.Reservation{}, err
	}
	if err := checkLicenseRequests(in.Licenses, in.Permanent); err != nil {
		return smartlic.Reservation{}, err
	}
	vaKey := in.VirtualAccount
	if vaKey == "" {
		vaKey = smartlic.DefaultVAName
	}
	now := m.clock.Now()
	var r smartlic.Reservation
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, va, err := m.getVAAs(ctx, tx, PermLicenseManage, saKey, vaKey)
		if err != nil {
			return err
		}
		if sa.LimitedUse {
			return smartlic.Errorf(smartlic.ELimitedUse, "", "license reservation is not available to a limited-use Smart Account")
		}
		// A replayed request code, then a device that already holds a
		// reservation; the unique indexes stop the same races.
		if _, err := tx.ReservationByFingerprint(ctx, req.Fingerprint()); err == nil {
			return smartlic.Errorf(smartlic.ECodeStale, "request_code", "this request code was already used for a reservation; ask the device for a new one")
		} else if smartlic.ErrorCode(err) != smartlic.ENotFound {
			return err
		}
		if _, held, err := tx.OpenReservationOfUDI(ctx, req.UDI); err != nil {
			return err
		} else if held {
			return smartlic.Errorf(smartlic.EConflict, "request_code", "device %s already holds a reservation; return or cancel it first, or update it", req.UDI)
		}
		prod, err := tx.GetProduct(ctx, req.UDI.PID)
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.Invalid("request_code", "the device's product ID %q is not in the catalogue", req.UDI.PID)
		} else if err != nil {
			return err
		}
		r = smartlic.Reservation{
			ID: newID(), SmartAccountID: sa.ID, VirtualAccountID: va.ID, VirtualAccount: va.Name, UDI: req.UDI,
			Kind: smartlic.ReservationSpecific, Status: smartlic.ReservationAuthorized,
			Fingerprint: req.Fingerprint(), DeviceKey: req.Key, Sequence: 1, CreatedAt: now, UpdatedAt: now,
		}
		if in.Permanent {
			r.Kind = smartlic.ReservationPermanent
			if err := m.checkPermanentAllowed(ctx, tx, sa, prod); err != nil {
				return err
			}
			for _, tag := range prod.LicenseTypes {
				lt, err := tx.GetLicenseType(ctx, tag)
				if err != nil {
					return err
				}
				r.Licenses = append(r.Licenses, smartlic.ReservedLicense{LicenseTypeID: lt.ID, LicenseTag: lt.Tag})
			}
			if len(r.Licenses) > rescode.MaxReservedLicenses {
				return smartlic.Invalid("permanent", "product %s supports %d license types; a reservation code carries at most %d", prod.PID, len(r.Licenses), rescode.MaxReservedLicenses)
			}
		} else if r.Licenses, err = resolveLicenses(ctx, tx, prod, in.Licenses); err != nil {
			return err
		}
		if r.AuthorizationCode, err = m.authorizationCode(r); err != nil {
			return err
		}
		if err := tx.InsertReservation(ctx, r); err != nil {
			return err
		}
		if err := m.moveReserved(ctx, tx, va, smartlic.Reservation{}, r, now); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "reservation.created", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: r.ID,
			Message: fmt.Sprintf("%s reservation for %s in %q: %s (authorization 1)", r.Kind, r.UDI, va.Name, reservedSummary(r)), After: eventData(r)})
	})
	return r, err
}

// checkLicenseRequests checks what a user asked to reserve, before any
// lookup.
func checkLicenseRequests(lines []smartlic.LicenseRequest, permanent bool) error {
	if permanent {
		if len(lines) > 0 {
			return smartlic.Invalid("licenses", "must be empty for a permanent reservation, which holds every license the product supports")
		}
		return nil
	}
	if len(lines) == 0 {
		return smartlic.Invalid("licenses", "choose at least one license type and quantity to reserve")
	}
	if len(lines) > rescode.MaxReservedLicenses {
		return smartlic.Invalid("licenses", "at most %d license types per reservation (got %d)", rescode.MaxReservedLicenses, len(lines))
	}
	seen := map[string]bool{}
	for i, l := range lines {
		field := fmt.Sprintf("licenses[%d]", i)
		if err := smartlic.ValidateTag(field+".tag", l.Tag); err != nil {
			return err
		}
		if seen[l.Tag] {
			return smartlic.Invalid(field+".tag", "license type %q is listed twice", l.Tag)
		}
		seen[l.Tag] = true
		if l.Quantity < 1 || l.Quantity > 1_000_000_000 {
			return smartlic.Invalid(field+".quantity", "must be between 1 and 1000000000 (got %d)", l.Quantity)
		}
	}
	return nil
}

// resolveLicenses turns requested tags into license types the product may
// consume, sorted by tag so that one reservation always encodes the same.
func resolveLicenses(ctx context.Context, tx smartlic.Tx, prod smartlic.Product, lines []smartlic.LicenseRequest) ([]smartlic.ReservedLicense, error) {
	var out []smartlic.ReservedLicense
	for i, l := range lines {
		lt, err := getLicenseType(ctx, tx, l.Tag, fmt.Sprintf("licenses[%d].tag", i))
		if err != nil {
			return nil, err
		}
		if !prod.Allows(lt.Tag) {
			return nil, smartlic.Invalid(fmt.Sprintf("licenses[%d].tag", i), "product %s does not use license type %q", prod.PID, lt.Tag)
		}
		out = append(out, smartlic.ReservedLicense{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: l.Quantity})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LicenseTag < out[j].LicenseTag })
	return out, nil
}

func (m *Manager) checkPermanentAllowed(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, prod smartlic.Product) error {
	okSA, err := tx.PermanentReservationAllowed(ctx, plrSmartAccount, sa.ID)
	if err != nil {
		return err
	}
	if !okSA {
		return smartlic.Errorf(smartlic.EReservationNotAllowed, "permanent", "the vendor has not enabled permanent license reservation for Smart Account %s", sa.Domain)
	}
	okProd, err := tx.PermanentReservationAllowed(ctx, plrProduct, prod.ID)
	if err != nil {
		return err
	}
	if !okProd {
		return smartlic.Errorf(smartlic.EReservationNotAllowed, "permanent", "the vendor has not enabled permanent license reservation for product %s", prod.PID)
	}
	return nil
}

// authorizationCode signs r's current authorization.
func (m *Manager) authorizationCode(r smartlic.Reservation) (string, error) {
	k := m.signer()
	a := rescode.Authorization{
		KeyID: k.ID, Fingerprint: r.Fingerprint, Sequence: uint64(r.Sequence),
		Permanent: r.Kind == smartlic.ReservationPermanent, IssuedAt: r.UpdatedAt, UDI: r.UDI,
	}
	for _, l := range r.Licenses {
		a.Licenses = append(a.Licenses, rescode.License{Tag: l.LicenseTag, Count: l.Quantity})
	}
	code, err := a.Sign(ed25519.PrivateKey(k.PrivateKey))
	if err != nil {
		return "", err
	}
	return code, nil
}

// moveReserved changes the VA's pools from what before held to what after
// holds. A pool that gives more is locked first and must have the licenses
// available (purchased and active, minus in use and reserved).
func (m *Manager) moveReserved(ctx context.Context, tx smartlic.Tx, va smartlic.VirtualAccount, before, after smartlic.Reservation, now time.Time) error {
	tags := map[string]string{}
	for _, l := range append(append([]smartlic.ReservedLicense{}, after.Licenses...), before.Licenses...) {
		tags[l.LicenseTypeID] = l.LicenseTag
	}
	for _, d := range smartlic.HeldDelta(before, after) {
		if d.Delta > 0 {
			inUse, err := tx.LockPool(ctx, va.ID, d.LicenseTypeID)
			if err != nil {
				return err
			}
			lots, err := tx.LicenseLots(ctx, va.ID, d.LicenseTypeID, now)
			if err != nil {
				return err
			}
			var purchased int64
			for _, l := range lots {
				purchased += l.Remaining
			}
			if available := purchased - inUse; d.Delta > available {
				return smartlic.Errorf(smartlic.EInsufficient, "licenses",
					"Virtual Account %q has %d %q licenses available (purchased %d, in use or reserved %d); cannot reserve %d more",
					va.Name, max(available, 0), tags[d.LicenseTypeID], purchased, inUse, d.Delta)
			}
		}
		if err := tx.AddReserved(ctx, va.ID, d.LicenseTypeID, d.Delta, now); err != nil {
			return err
		}
	}
	return nil
}

func reservedSummary(r smartlic.Reservation) string {
	if r.Kind == smartlic.ReservationPermanent {
		return "every license of the product"
	}
	parts := make([]string, len(r.Licenses))
	for i, l := range r.Licenses {
		parts[i] = fmt.Sprintf("%d × %s", l.Quantity, l.LicenseTag)
	}
	return strings.Join(parts, ", ")
}

// UpdateReservation issues a new authorization code with new quantities.
// Until the device's confirmation code for it arrives, the larger of the
// old and new quantity of each license stays reserved: the device may
// still run the old code.
func (m *Manager) UpdateReservation(ctx context.Context, saKey, id string, lines []smartlic.LicenseRequest) (smartlic.Reservation, error) {
	if err := checkLicenseRequests(lines, false); err != nil {
		return smartlic.Reservation{}, err
	}
	now := m.clock.Now()
	var r smartlic.Reservation
	err := m.onOpenReservation(ctx, saKey, m.reservationByID(ctx, PermLicenseManage, id), func(tx smartlic.Tx, sa smartlic.SmartAccount, prev smartlic.Reservation, va smartlic.VirtualAccount) error {
		if prev.Kind == smartlic.ReservationPermanent {
			return smartlic.Errorf(smartlic.EConflict, "licenses", "a permanent reservation holds every license of the product; there is nothing to update")
		}
		prod, err := tx.GetProduct(ctx, prev.UDI.PID)
		if err != nil {
			return err
		}
		r = prev
		if r.Licenses, err = resolveLicenses(ctx, tx, prod, lines); err != nil {
			return err
		}
		// What the device may be running: the last confirmed code, or
		// any issued since and not confirmed.
		r.Previous = mergeMax(prev.Previous, prev.Licenses)
		r.Sequence, r.Status, r.UpdatedAt = prev.Sequence+1, smartlic.ReservationUpdating, now
		if r.AuthorizationCode, err = m.authorizationCode(r); err != nil {
			return err
		}
		if err := m.saveReservation(ctx, tx, va, prev, r, now); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "reservation.updated", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: r.ID,
			Message: fmt.Sprintf("reservation for %s updated to %s (authorization %d); the previous quantities stay reserved until the device confirms", r.UDI, reservedSummary(r), r.Sequence),
			Before:  eventData(prev), After: eventData(r)})
	})
	return r, err
}

func mergeMax(a, b []smartlic.ReservedLicense) []smartlic.ReservedLicense {
	byID := map[string]smartlic.ReservedLicense{}
	for _, l := range append(append([]smartlic.ReservedLicense{}, a...), b...) {
		if cur, ok := byID[l.LicenseTypeID]; !ok || l.Quantity > cur.Quantity {
			byID[l.LicenseTypeID] = l
		}
	}
	out := make([]smartlic.ReservedLicense, 0, len(byID))
	for _, l := range byID {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LicenseTag < out[j].LicenseTag })
	return out
}

// saveReservation stores r over prev, unless a concurrent change won, and
// moves the pools by the difference.
func (m *Manager) saveReservation(ctx context.Context, tx smartlic.Tx, va smartlic.VirtualAccount, prev, r smartlic.Reservation, now time.Time) error {
	ok, err := tx.UpdateReservation(ctx, r, prev)
	if err != nil {
		return err
	}
	if !ok {
		return smartlic.Errorf(smartlic.EConflict, "", "reservation %s changed while this request ran; look at it again and retry", r.ID)
	}
	return m.moveReserved(ctx, tx, va, prev, r, now)
}

func checkOpen(r smartlic.Reservation) error {
	if r.Status.Open() {
		return nil
	}
	at := ""
	if r.ClosedAt != nil {
		at = " on " + r.ClosedAt.UTC().Format(time.DateOnly)
	}
	return smartlic.Errorf(smartlic.EReservationClosed, "", "the reservation for %s was already %s%s", r.UDI, r.Status, at)
}

// reservationAs loads a reservation of sa and refuses the caller unless it
// holds perm on the reservation's VA.
func (m *Manager) reservationAs(ctx context.Context, tx smartlic.Tx, perm Permission, sa smartlic.SmartAccount, id string) (smartlic.Reservation, smartlic.VirtualAccount, error) {
	r, err := tx.GetReservation(ctx, sa.ID, id)
	if err != nil {
		return r, smartlic.VirtualAccount{}, err
	}
	return m.authorizeReservation(ctx, tx, perm, sa, r)
}

func (m *Manager) authorizeReservation(ctx context.Context, tx smartlic.Tx, perm Permission, sa smartlic.SmartAccount, r smartlic.Reservation) (smartlic.Reservation, smartlic.VirtualAccount, error) {
	va, err := tx.GetVirtualAccount(ctx, sa.ID, r.VirtualAccountID)
	if err != nil {
		return r, va, err
	}
	return r, va, m.authorize(ctx, tx, perm, &sa, &va)
}

// reservationOfProof reads a return or confirmation code, finds its
// reservation in sa and verifies the code with the request's key. A code
// of a reservation in another Smart Account is not found here.
func (m *Manager) reservationOfProof(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, typ, code string) (rescode.Proof, smartlic.Reservation, smartlic.VirtualAccount, error) {
	pr, raw, err := rescode.ReadProof("code", typ, code)
	if err != nil {
		return pr, smartlic.Reservation{}, smartlic.VirtualAccount{}, err
	}
	r, err := tx.ReservationByFingerprint(ctx, pr.Fingerprint)
	if smartlic.ErrorCode(err) == smartlic.ENotFound || (err == nil && r.SmartAccountID != sa.ID) {
		return pr, r, smartlic.VirtualAccount{}, smartlic.Errorf(smartlic.ENotFound, "code", "no reservation of Smart Account %s answers this code", sa.Domain)
	} else if err != nil {
		return pr, r, smartlic.VirtualAccount{}, err
	}
	if err := rescode.VerifyProof("code", typ, raw, ed25519.PublicKey(r.DeviceKey)); err != nil {
		return pr, r, smartlic.VirtualAccount{}, err
	}
	r, va, err := m.authorizeReservation(ctx, tx, PermLicenseManage, sa, r)
	return pr, r, va, err
}

// withProof runs fn in a write transaction on the open reservation of sa
// that a return or confirmation code of kind typ proves, with the code
// read. A code that does not parse is refused before any transaction.
func (m *Manager) withProof(ctx context.Context, saKey, typ, code string, fn func(tx smartlic.Tx, sa smartlic.SmartAccount, pr rescode.Proof, prev smartlic.Reservation, va smartlic.VirtualAccount) error) error {
	if _, _, err := rescode.ReadProof("code", typ, code); err != nil {
		return err
	}
	var pr rescode.Proof
	return m.onOpenReservation(ctx, saKey, func(tx smartlic.Tx, sa smartlic.SmartAccount) (r smartlic.Reservation, va smartlic.VirtualAccount, err error) {
		pr, r, va, err = m.reservationOfProof(ctx, tx, sa, typ, code)
		return r, va, err
	}, func(tx smartlic.Tx, sa smartlic.SmartAccount, prev smartlic.Reservation, va smartlic.VirtualAccount) error {
		return fn(tx, sa, pr, prev, va)
	})
}

// onOpenReservation runs fn in a write transaction on the reservation of
// saKey that find names (by id and permission, or by a device's code),
// refusing a closed one first.
func (m *Manager) onOpenReservation(ctx context.Context, saKey string,
	find func(smartlic.Tx, smartlic.SmartAccount) (smartlic.Reservation, smartlic.VirtualAccount, error),
	fn func(tx smartlic.Tx, sa smartlic.SmartAccount, prev smartlic.Reservation, va smartlic.VirtualAccount) error) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		prev, va, err := find(tx, sa)
		if err != nil {
			return err
		}
		if err := checkOpen(prev); err != nil {
			return err
		}
		return fn(tx, sa, prev, va)
	})
}

// reservationByID finds a reservation of the account by id, for a caller holding perm.
func (m *Manager) reservationByID(ctx context.Context, perm Permission, id string) func(smartlic.Tx, smartlic.SmartAccount) (smartlic.Reservation, smartlic.VirtualAccount, error) {
	return func(tx smartlic.Tx, sa smartlic.SmartAccount) (smartlic.Reservation, smartlic.VirtualAccount, error) {
		return m.reservationAs(ctx, tx, perm, sa, id)
	}
}

// ConfirmReservation takes the device's confirmation code: the device
// installed the latest authorization, so quantities held only for older
// codes go back to the pool.
func (m *Manager) ConfirmReservation(ctx context.Context, saKey, code string) (smartlic.Reservation, error) {
	now := m.clock.Now()
	var r smartlic.Reservation
	err := m.withProof(ctx, saKey, rescode.TypeConfirmation, code, func(tx smartlic.Tx, sa smartlic.SmartAccount, pr rescode.Proof, prev smartlic.Reservation, va smartlic.VirtualAccount) error {
		switch seq := int64(pr.Sequence); {
		case seq <= prev.Confirmed:
			return smartlic.Errorf(smartlic.ECodeStale, "code", "authorization %d of %s was already confirmed", seq, prev.UDI)
		case seq != prev.Sequence:
			return smartlic.Errorf(smartlic.ECodeStale, "code", "this code confirms authorization %d, but authorization %d of %s was issued since: install it on the device and enter its confirmation code", seq, prev.Sequence, prev.UDI)
		}
		r = prev
		r.Confirmed, r.Previous, r.Status, r.UpdatedAt = prev.Sequence, nil, smartlic.ReservationInstalled, now
		if err := m.saveReservation(ctx, tx, va, prev, r, now); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "reservation.confirmed", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: r.ID,
			Message: fmt.Sprintf("%s confirmed installing authorization %d: %s", r.UDI, r.Sequence, reservedSummary(r)), Before: eventData(prev), After: eventData(r)})
	})
	return r, err
}

// ReturnReservation takes the device's return code: the device removed the
// reservation, so its licenses go back to the pool. The code is signed
// with the key of the device's request, which only the device holds.
func (m *Manager) ReturnReservation(ctx context.Context, saKey, code string) (smartlic.Reservation, error) {
	now := m.clock.Now()
	var r smartlic.Reservation
	err := m.withProof(ctx, saKey, rescode.TypeReturn, code, func(tx smartlic.Tx, sa smartlic.SmartAccount, pr rescode.Proof, prev smartlic.Reservation, va smartlic.VirtualAccount) error {
		if int64(pr.Sequence) > prev.Sequence {
			return smartlic.Errorf(smartlic.ECodeStale, "code", "this code returns authorization %d, which was never issued", pr.Sequence)
		}
		r = closeReservation(prev, smartlic.ReservationReturned, "", now)
		if err := m.saveReservation(ctx, tx, va, prev, r, now); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "reservation.returned", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: r.ID,
			Message: fmt.Sprintf("%s returned its reservation (it had authorization %d installed): %s back to %q", r.UDI, pr.Sequence, reservedSummary(prev), va.Name),
			Before:  eventData(prev), After: eventData(r)})
	})
	return r, err
}

func closeReservation(prev smartlic.Reservation, status smartlic.ReservationStatus, reason string, now time.Time) smartlic.Reservation {
	r := prev
	r.Status, r.UpdatedAt, r.ClosedAt, r.CloseReason, r.Previous = status, now, &now, reason, nil
	return r
}

// CancelReservation closes a reservation without the device's return code:
// an administrator's decision (the device is lost, say), with a reason that
// goes into the event log. The licenses go back to the pool although the
// device may still hold them, which is why only administrators may.
func (m *Manager) CancelReservation(ctx context.Context, saKey, id, reason string) (smartlic.Reservation, error) {
	reason, err := cancelReason(reason, "say why the reservation is cancelled without a return code; it goes into the event log")
	if err != nil {
		return smartlic.Reservation{}, err
	}
	now := m.clock.Now()
	var r smartlic.Reservation
	// Administrators of the VA (or of the account) hold va.manage.
	err = m.onOpenReservation(ctx, saKey, m.reservationByID(ctx, PermVAManage, id), func(tx smartlic.Tx, sa smartlic.SmartAccount, prev smartlic.Reservation, va smartlic.VirtualAccount) error {
		r = closeReservation(prev, smartlic.ReservationCancelled, reason, now)
		if err := m.saveReservation(ctx, tx, va, prev, r, now); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "reservation.cancelled", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: r.ID,
			Message: fmt.Sprintf("reservation for %s cancelled without a return code: %s", r.UDI, reason), Before: eventData(prev), After: eventData(r)})
	})
	return r, err
}

// GetReservation returns one reservation.
func (m *Manager) GetReservation(ctx context.Context, saKey, id string) (r smartlic.Reservation, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		r, _, err = m.reservationAs(ctx, tx, PermLicenseView, sa, id)
		return err
	})
	return r, err
}

// ListReservations lists a Smart Account's reservations the caller may
// see: all of them with a role on the account, those of the caller's VAs
// (and below) with a VA role.
func (m *Manager) ListReservations(ctx context.Context, saKey string, f smartlic.ReservationFilter, p smartlic.Page) ([]smartlic.Reservation, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	switch f.Status {
	case "", "open", "closed", string(smartlic.ReservationAuthorized), string(smartlic.ReservationUpdating),
		string(smartlic.ReservationInstalled), string(smartlic.ReservationReturned), string(smartlic.ReservationCancelled):
	default:
		return nil, "", smartlic.Invalid("status", "must be open, closed, authorized, updating, installed, returned or cancelled (got %q)", f.Status)
	}
	f.UDI = strings.TrimSpace(f.UDI)
	if len(f.UDI) > 200 {
		return nil, "", smartlic.Invalid("udi", "must be at most 200 characters")
	}
	var out []smartlic.Reservation
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		vaIDs, err := m.visibleVAs(ctx, tx, PermLicenseView, sa)
		if err != nil {
			return err
		}
		out, err = tx.ListReservations(ctx, sa.ID, vaIDs, f, p)
		return err
	})
	out, next := cutPage(p, out, func(r smartlic.Reservation) string { return r.ID })
	return out, next, err
}

// ReservationSettingsOfProduct and the functions below are the vendor's
// switch for permanent reservations.
func (m *Manager) ReservationSettingsOfProduct(ctx context.Context, pid string) (s smartlic.ReservationSettings, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		p, err := tx.GetProduct(ctx, pid)
		if err != nil {
			return err
		}
		s.Permanent, err = tx.PermanentReservationAllowed(ctx, plrProduct, p.ID)
		return err
	})
	return s, err
}

// SetReservationSettingsOfProduct enables or disables PLR for a product.
func (m *Manager) SetReservationSettingsOfProduct(ctx context.Context, pid string, s smartlic.ReservationSettings) (smartlic.ReservationSettings, error) {
	err := m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		p, err := tx.GetProduct(ctx, pid)
		if err != nil {
			return err
		}
		if err := tx.SetPermanentReservationAllowed(ctx, plrProduct, p.ID, s.Permanent); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "product.reservation_settings", Subject: p.ID,
			Message: fmt.Sprintf("permanent license reservation %s for product %s", onOff(s.Permanent), p.PID), After: eventData(s)})
	})
	return s, err
}

// ReservationSettingsOfAccount tells whether PLR is enabled for an SA.
func (m *Manager) ReservationSettingsOfAccount(ctx context.Context, saKey string) (s smartlic.ReservationSettings, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := m.allowedAnywhere(ctx, tx, PermLicenseView, sa); err != nil && !isOperator(ctx) {
			return err
		}
		s.Permanent, err = tx.PermanentReservationAllowed(ctx, plrSmartAccount, sa.ID)
		return err
	})
	return s, err
}

// SetReservationSettingsOfAccount enables or disables PLR for an SA: the
// vendor's decision.
func (m *Manager) SetReservationSettingsOfAccount(ctx context.Context, saKey string, s smartlic.ReservationSettings) (smartlic.ReservationSettings, error) {
	err := m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermAccountApprove, nil, nil); err != nil {
			return err
		}
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := tx.SetPermanentReservationAllowed(ctx, plrSmartAccount, sa.ID, s.Permanent); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "account.reservation_settings", SmartAccountID: sa.ID, Subject: sa.ID,
			Message: fmt.Sprintf("permanent license reservation %s for Smart Account %s", onOff(s.Permanent), sa.Domain), After: eventData(s)})
	})
	return s, err
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}
