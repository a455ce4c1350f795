package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/smartlic/smartlic"
)

// CancelSLAC closes an active SLAC without the device's return: an
// administrator's decision (the device is lost or destroyed), with a reason
// that goes into the event log. The license goes back to the pool in the
// same transaction although the device may still hold the signed SLAC,
// which is why only administrators may — the same rule, permission and
// reason as CancelReservation. A SLAC already returned or cancelled is
// ESLACClosed and nothing changes.
func (m *Manager) CancelSLAC(ctx context.Context, saKey, id, reason string) (smartlic.SLAC, error) {
	reason, err := cancelReason(reason, "say why the SLAC is cancelled without a return; it goes into the event log")
	if err != nil {
		return smartlic.SLAC{}, err
	}
	now := m.clock.Now()
	var s smartlic.SLAC
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		// Administrators of the VA (or of the account) hold va.manage; the
		// lookup answers another account's SLAC as GetSLAC does.
		prev, err := m.getSLACAs(ctx, tx, PermVAManage, saKey, id)
		if err != nil {
			return err
		}
		if prev.Status != smartlic.SLACActive {
			return slacClosed(prev)
		}
		ok, err := tx.CancelSLAC(ctx, prev.ID, now, reason)
		if err != nil {
			return err
		}
		if !ok {
			// Returned or cancelled between the read and the update.
			return smartlic.Errorf(smartlic.ESLACClosed, "", "SLAC %s was already closed", prev.ID)
		}
		if err := releaseSLAC(ctx, tx, prev, now); err != nil {
			return err
		}
		if s, err = tx.GetSLAC(ctx, prev.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "slac.cancelled", SmartAccountID: s.SmartAccountID, VirtualAccountID: s.VirtualAccountID, Subject: s.ID,
			Message: fmt.Sprintf("SLAC for %q of %s cancelled without a return; its license went back to the pool: %s", s.LicenseTag, s.UDI, reason),
			Before:  eventData(prev), After: eventData(s)})
	})
	return s, err
}

// slacClosed is the refusal to act on a SLAC that holds nothing any more.
func slacClosed(s smartlic.SLAC) error {
	at := ""
	if s.ReturnedAt != nil {
		at = " on " + s.ReturnedAt.UTC().Format(time.DateOnly)
	}
	return smartlic.Errorf(smartlic.ESLACClosed, "", "the SLAC for %q of %s was already %s%s", s.LicenseTag, s.UDI, s.Status, at)
}

// maxCancelledSLACs bounds the cancelled SLACs one authorization names.
const maxCancelledSLACs = 100

// cancelledSLACsOf names the device's cancelled SLACs in its authorization,
// so that a device thought lost learns at its next contact that its SLACs
// no longer hold a license. Only an instance registered with a token that
// allows export-controlled licenses can hold an online SLAC, so the others
// cost no query on this hot path.
func cancelledSLACsOf(ctx context.Context, tx smartlic.Tx, inst smartlic.Instance) ([]string, error) {
	if !inst.AllowExportControlled {
		return nil, nil
	}
	list, err := tx.ListSLACs(ctx, inst.SmartAccountID, nil, &inst.UDI, smartlic.SLACCancelled, smartlic.Page{Limit: maxCancelledSLACs})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids, nil
}
