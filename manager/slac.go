package manager

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
)

// Export control (SLAC): see the comment at the top of the root package's
// slac.go for the model, and docs/protocols.md for the wire.

// GetExportControl says whether a Smart Account may use export-controlled
// functionality. Anyone who may see the account may see this.
func (m *Manager) GetExportControl(ctx context.Context, saKey string) (e smartlic.ExportControl, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermAccountView, saKey)
		if err != nil {
			return err
		}
		e, err = tx.GetExportControl(ctx, sa.ID)
		e.SmartAccountID, e.SmartAccount = sa.ID, sa.Domain
		return err
	})
	return e, err
}

// SetExportControl allows or forbids a Smart Account export-controlled
// functionality. It is the vendor's decision (the operator's), recorded in
// the account's event log. Forbidding it issues no more SLACs; the ones
// already issued stay until returned.
func (m *Manager) SetExportControl(ctx context.Context, saKey string, allowed bool) (e smartlic.ExportControl, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := m.authorize(ctx, tx, PermAccountApprove, nil, nil); err != nil {
			return err
		}
		before, err := tx.GetExportControl(ctx, sa.ID)
		if err != nil {
			return err
		}
		now := m.clock.Now()
		e = smartlic.ExportControl{SmartAccountID: sa.ID, SmartAccount: sa.Domain, Allowed: allowed, UpdatedAt: &now}
		if err := tx.SetExportControl(ctx, e); err != nil {
			return err
		}
		if before.Allowed == allowed && before.UpdatedAt != nil {
			return nil
		}
		verb := "forbidden"
		if allowed {
			verb = "allowed"
		}
		return m.record(ctx, tx, smartlic.Event{Type: "account.export_control", SmartAccountID: sa.ID, Subject: sa.ID,
			Message: fmt.Sprintf("export-controlled functionality %s for %s by the vendor", verb, sa.Domain), Before: eventData(before), After: eventData(e)})
	})
	return e, err
}

// ListExportControls lists the Smart Accounts allowed export-controlled
// functionality (operator only).
func (m *Manager) ListExportControls(ctx context.Context) (out []smartlic.ExportControl, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermAccountApprove, nil, nil); err != nil {
			return err
		}
		out, err = tx.ListExportControls(ctx)
		return err
	})
	return out, err
}

// ListSLACs lists a Smart Account's SLACs: of one Virtual Account, or of
// every one the caller may see (the whole account for SA roles),
// optionally of one device (f.UDI) or status.
func (m *Manager) ListSLACs(ctx context.Context, saKey string, f smartlic.SLACFilter, p smartlic.Page) ([]smartlic.SLAC, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	switch f.Status {
	case "", smartlic.SLACActive, smartlic.SLACReturned, smartlic.SLACCancelled:
	default:
		return nil, "", smartlic.Invalid("status", "must be %q, %q or %q (got %q)", smartlic.SLACActive, smartlic.SLACReturned, smartlic.SLACCancelled, f.Status)
	}
	if f.UDI != nil {
		if err := f.UDI.Validate("udi"); err != nil {
			return nil, "", err
		}
	}
	var out []smartlic.SLAC
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		var sa smartlic.SmartAccount
		var vaIDs []string
		if f.VA != "" {
			s, va, err := m.getVAAs(ctx, tx, PermLicenseView, saKey, f.VA)
			if err != nil {
				return err
			}
			sa, vaIDs = s, []string{va.ID}
		} else {
			if sa, err = getSA(ctx, tx, saKey); err != nil {
				return err
			}
			// As reservations: VA roles see every VA they hold a role
			// in, with its sub-VAs, not the first one only.
			if vaIDs, err = m.visibleVAs(ctx, tx, PermLicenseView, sa); err != nil {
				return err
			}
		}
		out, err = tx.ListSLACs(ctx, sa.ID, vaIDs, f.UDI, f.Status, p)
		return err
	})
	out, next := cutPage(p, out, func(s smartlic.SLAC) string { return s.ID })
	return out, next, err
}

// GetSLAC finds one SLAC of a Smart Account (by id).
func (m *Manager) GetSLAC(ctx context.Context, saKey, id string) (s smartlic.SLAC, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		s, err = m.getSLACAs(ctx, tx, PermLicenseView, saKey, id)
		return err
	})
	if err == nil && s.Requested == smartlic.SLACOffline && s.Status == smartlic.SLACActive {
		// Shown again until returned: the user who issued it may not
		// have carried it to the device yet. It holds no secret — the
		// device's nonce and return secret never leave it.
		s.AuthorizationCode, err = rescode.EncodeSLAC(s.Document)
	}
	return s, err
}

func (m *Manager) getSLACAs(ctx context.Context, tx smartlic.Tx, perm Permission, saKey, id string) (smartlic.SLAC, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return smartlic.SLAC{}, err
	}
	s, err := tx.GetSLAC(ctx, id)
	if err == nil && s.SmartAccountID != sa.ID {
		err = smartlic.NotFound("SLAC %q not found in Smart Account %s", id, sa.Domain)
	}
	if err != nil {
		return s, err
	}
	va, err := tx.GetVirtualAccountByID(ctx, s.VirtualAccountID)
	if err != nil {
		return s, err
	}
	return s, m.authorize(ctx, tx, perm, &sa, &va)
}

// RequestSLAC is the online path: a registered instance asks for a SLAC
// for one export-controlled license; the SLAC comes from its own Virtual
// Account. A copy of the same request (the device retrying) gets the same
// SLAC; the request's nonce is answered once.
func (m *Manager) RequestSLAC(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	return m.deviceCall(ctx, env, smartlic.TypeSLACRequest, smartlic.TypeSLAC, func(tx smartlic.Tx, inst smartlic.Instance, _ smartlic.DeviceRequest, now time.Time) (any, error) {
		// deviceCall verified the signature and the common fields; the
		// SLAC fields are read only now.
		var req smartlic.SLACRequest
		if err := smartlic.DecodePayload(env, &req); err != nil {
			return nil, err
		}
		if req.Nonce == "" {
			return nil, smartlic.Invalid("nonce", "is required: a SLAC names the request it answers")
		}
		if !inst.AllowExportControlled {
			return nil, smartlic.Errorf(smartlic.EExportControl, "token",
				"%s registered with a token that does not allow export-controlled licenses; register again with one that does", inst.UDI)
		}
		sa, err := tx.GetSmartAccount(ctx, inst.SmartAccountID)
		if err != nil {
			return nil, err
		}
		va, err := tx.GetVirtualAccountByID(ctx, inst.VirtualAccountID)
		if err != nil {
			return nil, err
		}
		s, err := m.issueSLAC(deviceActor(ctx, inst), tx, slacIssue{
			sa: sa, va: va, udi: inst.UDI, tag: req.LicenseTag, nonce: req.Nonce, returnHash: req.ReturnHash,
			instanceID: inst.ID, how: smartlic.SLACOnline, now: now,
		})
		if err != nil {
			return nil, err
		}
		// Sealed again by deviceCall, the payload gives the very envelope
		// stored: Ed25519 signatures are deterministic.
		return json.RawMessage(s.Document.Payload), nil
	})
}

// ReturnSLACOnline is a registered instance returning a SLAC it holds: it
// reveals the return secret whose hash its request carried.
func (m *Manager) ReturnSLACOnline(ctx context.Context, env smartlic.Envelope) (smartlic.Envelope, error) {
	return m.deviceCall(ctx, env, smartlic.TypeSLACReturnRequest, smartlic.TypeSLACReturned, func(tx smartlic.Tx, inst smartlic.Instance, _ smartlic.DeviceRequest, now time.Time) (any, error) {
		var req smartlic.SLACReturnRequest
		if err := smartlic.DecodePayload(env, &req); err != nil {
			return nil, err
		}
		s, err := tx.GetSLAC(ctx, req.SLACID)
		if smartlic.ErrorCode(err) == smartlic.ENotFound || (err == nil && s.SmartAccountID != inst.SmartAccountID) {
			return nil, smartlic.Errorf(smartlic.ENotFound, "slac_id", "no SLAC %q in this instance's Smart Account", req.SLACID)
		}
		if err != nil {
			return nil, err
		}
		if s.UDI != inst.UDI {
			return nil, smartlic.Errorf(smartlic.EWrongDevice, "slac_id", "SLAC %s belongs to %s, not %s", s.ID, s.UDI, inst.UDI)
		}
		if err := m.returnSLAC(deviceActor(ctx, inst), tx, s, req.Secret, smartlic.SLACOnline, now); err != nil {
			return nil, err
		}
		return smartlic.SLACReturnedDoc{SLACID: s.ID, UDI: s.UDI, LicenseTag: s.LicenseTag, ReturnedAt: now}, nil
	})
}

// slacIssue is what issueSLAC needs, online or offline.
type slacIssue struct {
	sa         smartlic.SmartAccount
	va         smartlic.VirtualAccount
	udi        smartlic.UDI
	tag        string
	nonce      string
	returnHash string
	instanceID string // "" offline
	how        smartlic.SLACHow
	now        time.Time
}

var returnHashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// issueSLAC checks every condition, takes one license from the VA's pool
// and stores and signs the SLAC, inside tx. Nothing is written unless all
// of it succeeds (the caller's transaction rolls back).
func (m *Manager) issueSLAC(ctx context.Context, tx smartlic.Tx, in slacIssue) (smartlic.SLAC, error) {
	var s smartlic.SLAC
	if err := checkNonce(in.nonce); err != nil {
		return s, err
	}
	if !returnHashRE.MatchString(in.returnHash) {
		return s, smartlic.Invalid("return_hash", "must be the SHA-256 of the device's return secret, 64 lower-case hex digits")
	}
	if err := smartlic.ValidateTag("tag", in.tag); err != nil {
		return s, err
	}
	if in.sa.Status != smartlic.SAActive {
		return s, smartlic.Errorf(smartlic.EForbidden, "sa", "Smart Account %s is awaiting approval", in.sa.Domain)
	}
	lt, err := getLicenseType(ctx, tx, in.tag, "tag")
	if err != nil {
		return s, err
	}
	if lt.Enforcement != smartlic.ExportControlled {
		return s, smartlic.Invalid("tag", "license %q is %s, not export-controlled: it needs no SLAC", lt.Tag, lt.Enforcement)
	}
	product, err := tx.GetProduct(ctx, in.udi.PID)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return s, smartlic.Invalid("udi", "product ID %q is not in the catalogue", in.udi.PID)
	}
	if err != nil {
		return s, err
	}
	if !product.Allows(lt.Tag) {
		return s, smartlic.Invalid("tag", "product %s may not consume license %q", product.PID, lt.Tag)
	}
	ec, err := tx.GetExportControl(ctx, in.sa.ID)
	if err != nil {
		return s, err
	}
	if !ec.Allowed {
		return s, smartlic.Errorf(smartlic.EExportControl, "sa",
			"Smart Account %s is not allowed export-controlled functionality; the vendor must allow it first", in.sa.Domain)
	}
	// The same request (or request code) answered before: a replay.
	if prior, err := tx.SLACByRequest(ctx, in.sa.ID, in.nonce); err == nil {
		return s, smartlic.Errorf(smartlic.EReplayed, "request", "this request was answered on %s with SLAC %s; make a new request",
			prior.IssuedAt.Format(time.RFC3339), prior.ID)
	} else if smartlic.ErrorCode(err) != smartlic.ENotFound {
		return s, err
	}
	active, err := tx.ActiveSLACsOf(ctx, in.udi)
	if err != nil {
		return s, err
	}
	for _, a := range active {
		if a.LicenseTypeID == lt.ID {
			return s, smartlic.Errorf(smartlic.EConflict, "udi", "%s already holds SLAC %s for %q; return it before asking for another", in.udi, a.ID, lt.Tag)
		}
	}

	// The pool is locked before it is read, so concurrent requests for
	// the last license are served one after another and only one wins.
	inUse, err := tx.LockPool(ctx, in.va.ID, lt.ID)
	if err != nil {
		return s, err
	}
	inst, err := tx.GetInstanceByUDI(ctx, in.udi)
	switch {
	case smartlic.ErrorCode(err) == smartlic.ENotFound:
		inst = smartlic.Instance{}
	case err != nil:
		return s, err
	case inst.SmartAccountID != in.sa.ID:
		return s, smartlic.Errorf(smartlic.EWrongDevice, "udi", "%s is registered in another Smart Account", in.udi)
	}
	// The instance's own usage line of this type becomes covered by the
	// SLAC: what it counted is released first, so the SLAC's license is
	// not counted twice.
	released := int64(0)
	if inst.ID != "" {
		usage := append([]smartlic.Usage(nil), inst.Usage...)
		for i, u := range usage {
			if u.LicenseTypeID != lt.ID {
				continue
			}
			released = countedOf(u)
			if released != 0 {
				if err := tx.AddInUse(ctx, inst.VirtualAccountID, lt.ID, -released, in.now); err != nil {
					return s, err
				}
				if inst.VirtualAccountID == in.va.ID {
					inUse -= released
				}
			}
			usage[i].Status = smartlic.Authorized
			if u.Count > smartlic.SLACQuantity {
				usage[i].Status = smartlic.NotAuthorized
			}
			if err := tx.SetUsage(ctx, inst.ID, usage); err != nil {
				return s, err
			}
		}
	}
	purchased, _, err := m.poolState(ctx, tx, in.va.ID, []string{lt.ID})
	if err != nil {
		return s, err
	}
	if avail := purchased[lt.ID] - inUse; avail < smartlic.SLACQuantity {
		return s, smartlic.Errorf(smartlic.EInsufficient, "va", "Virtual Account %q has no %q license available for a SLAC (purchased %d, in use %d)",
			in.va.Name, lt.Tag, purchased[lt.ID], inUse)
	}
	if err := tx.AddInUse(ctx, in.va.ID, lt.ID, smartlic.SLACQuantity, in.now); err != nil {
		return s, err
	}

	s = smartlic.SLAC{
		ID: newID(), SmartAccountID: in.sa.ID, VirtualAccountID: in.va.ID, VirtualAccount: in.va.Name,
		LicenseTypeID: lt.ID, LicenseTag: lt.Tag, UDI: in.udi, InstanceID: in.instanceID,
		Status: smartlic.SLACActive, Requested: in.how, RequestNonce: in.nonce, ReturnHash: in.returnHash, IssuedAt: in.now,
	}
	s.Document, err = m.seal(smartlic.TypeSLAC, smartlic.SLACDoc{
		ID: s.ID, UDI: s.UDI, SmartAccount: in.sa.Domain, VirtualAccount: in.va.Name, LicenseTag: lt.Tag, Request: in.nonce, IssuedAt: in.now,
	})
	if err != nil {
		return s, err
	}
	if err := tx.InsertSLAC(ctx, s); err != nil {
		return s, err
	}
	return s, m.record(ctx, tx, smartlic.Event{Type: "slac.issued", SmartAccountID: in.sa.ID, VirtualAccountID: in.va.ID, Subject: s.ID,
		Message: fmt.Sprintf("SLAC for %q issued to %s (%s request); one license held from the pool", lt.Tag, in.udi, in.how), After: eventData(s)})
}

// returnSLAC checks the device's return secret against the hash its
// request carried, marks the SLAC returned and gives the license back.
func (m *Manager) returnSLAC(ctx context.Context, tx smartlic.Tx, s smartlic.SLAC, secret []byte, how smartlic.SLACHow, now time.Time) error {
	want, err := hex.DecodeString(s.ReturnHash)
	got := sha256.Sum256(secret)
	if err != nil || len(secret) != smartlic.SLACSecretBytes || subtle.ConstantTimeCompare(want, got[:]) != 1 {
		return smartlic.Errorf(smartlic.ESignature, "secret", "the return proof does not match SLAC %s: it was made by another device or for another SLAC", s.ID)
	}
	if s.Status == smartlic.SLACCancelled {
		// The device still holds what an administrator cancelled (it was
		// thought lost): its return has nothing left to give back.
		return smartlic.Errorf(smartlic.ESLACClosed, "slac_id", "SLAC %s was cancelled by an administrator on %s (%s); its license is already back in the pool: remove it from the device",
			s.ID, s.ReturnedAt.Format(time.RFC3339), s.CancelReason)
	}
	if s.Status != smartlic.SLACActive {
		return smartlic.Errorf(smartlic.EReplayed, "slac_id", "SLAC %s was already returned on %s", s.ID, s.ReturnedAt.Format(time.RFC3339))
	}
	ok, err := tx.ReturnSLAC(ctx, s.ID, now, how)
	if err != nil {
		return err
	}
	if !ok {
		return smartlic.Errorf(smartlic.EReplayed, "slac_id", "SLAC %s was already returned", s.ID)
	}
	if err := releaseSLAC(ctx, tx, s, now); err != nil {
		return err
	}
	s.Status, s.ReturnedAt, s.Returned = smartlic.SLACReturned, &now, how
	return m.record(ctx, tx, smartlic.Event{Type: "slac.returned", SmartAccountID: s.SmartAccountID, VirtualAccountID: s.VirtualAccountID, Subject: s.ID,
		Message: fmt.Sprintf("SLAC for %q returned by %s (%s); its license went back to the pool", s.LicenseTag, s.UDI, how), After: eventData(s)})
}

// releaseSLAC gives a closed SLAC's license back to its pool and uncovers
// the device's usage line of its type, in the caller's transaction.
func releaseSLAC(ctx context.Context, tx smartlic.Tx, s smartlic.SLAC, now time.Time) error {
	if err := tx.AddInUse(ctx, s.VirtualAccountID, s.LicenseTypeID, -smartlic.SLACQuantity, now); err != nil {
		return err
	}
	// The instance's usage line was covered (counted nothing); uncovered
	// it is not authorized until its next authorization request, which
	// counts it again by the rules without a SLAC.
	inst, err := tx.GetInstanceByUDI(ctx, s.UDI)
	switch {
	case smartlic.ErrorCode(err) == smartlic.ENotFound:
	case err != nil:
		return err
	default:
		usage := append([]smartlic.Usage(nil), inst.Usage...)
		for i, u := range usage {
			if u.LicenseTypeID == s.LicenseTypeID && u.Status != smartlic.NotAuthorized {
				usage[i].Status = smartlic.NotAuthorized
				if err := tx.SetUsage(ctx, inst.ID, usage); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// slacCover returns the license type ids a device's active SLACs cover:
// its usage lines of those types are held by the SLAC and count nothing
// more in the pool.
func slacCover(ctx context.Context, tx smartlic.Tx, udi smartlic.UDI) (map[string]bool, error) {
	active, err := tx.ActiveSLACsOf(ctx, udi)
	if err != nil {
		return nil, err
	}
	cover := map[string]bool{}
	for _, s := range active {
		cover[s.LicenseTypeID] = true
	}
	return cover, nil
}

// countedIn is what a stored usage line adds to its pool, given the
// device's SLAC cover.
func countedIn(u smartlic.Usage, cover map[string]bool) int64 {
	if cover[u.LicenseTypeID] {
		return 0
	}
	return countedOf(u)
}
