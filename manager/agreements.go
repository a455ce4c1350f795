package manager

import (
	"context"
	"fmt"

	"github.com/smartlic/smartlic"
)

// CreateAgreement deposits an Enterprise Agreement's suite into a VA: one
// deposit per license type, valid for the agreement's term, tied to the
// agreement. Consumption above those counts is soft (as for every
// unenforced license) and measured by TrueForward.
func (m *Manager) CreateAgreement(ctx context.Context, saKey, vaKey string, in smartlic.AgreementInput) (a smartlic.Agreement, err error) {
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, va, err := m.getVAAs(ctx, tx, PermDeposit, saKey, vaKey)
		if err != nil {
			return err
		}
		a = smartlic.Agreement{ID: newID(), SmartAccountID: sa.ID, VirtualAccountID: va.ID, Number: in.Number,
			StartsAt: now, EndsAt: in.EndsAt.UTC(), CreatedAt: now}
		if in.StartsAt != nil {
			a.StartsAt = in.StartsAt.UTC()
		}
		if len(in.Lines) > smartlic.MaxAgreementLines {
			return smartlic.Invalid("lines", "at most %d license types (got %d)", smartlic.MaxAgreementLines, len(in.Lines))
		}
		seen := map[string]bool{}
		for _, l := range in.Lines {
			lt, err := getLicenseType(ctx, tx, l.LicenseTag, "lines.license")
			if err != nil {
				return err
			}
			if seen[lt.ID] {
				return smartlic.Invalid("lines.license", "license %q is listed twice", lt.Tag)
			}
			seen[lt.ID] = true
			a.Lines = append(a.Lines, smartlic.AgreementLine{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: l.Quantity})
		}
		if err := a.Validate(); err != nil {
			return err
		}
		deposits := make([]smartlic.Deposit, len(a.Lines))
		for i, l := range a.Lines {
			end := a.EndsAt
			deposits[i] = smartlic.Deposit{ID: newID(), VirtualAccountID: va.ID, OrderNumber: "EA " + a.Number,
				LicenseTypeID: l.LicenseTypeID, LicenseTag: l.LicenseTag, Quantity: l.Quantity, StartsAt: a.StartsAt, EndsAt: &end, CreatedAt: now}
		}
		if err := tx.InsertAgreement(ctx, a, deposits); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "agreement.created", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: a.ID,
			Message: fmt.Sprintf("Enterprise Agreement %q deposited into %q: %d license types until %s", a.Number, va.Name, len(a.Lines), a.EndsAt.Format("2006-01-02")),
			After:   eventData(a)})
	})
	if err != nil {
		return smartlic.Agreement{}, err
	}
	return a, nil
}

// ListAgreements lists the agreements deposited into a VA.
func (m *Manager) ListAgreements(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Agreement, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.Agreement
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, va, err := getVA(ctx, tx, saKey, vaKey)
		if err != nil {
			return err
		}
		if err := m.authorizeAgreementView(ctx, tx, &sa, &va); err != nil {
			return err
		}
		out, err = tx.ListAgreements(ctx, va.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(a smartlic.Agreement) string { return a.ID })
	return out, next, err
}

// TrueForward measures an agreement's term so far: per license type of the
// suite, the peak in use in the agreement's VA and the peak above what the
// pool had purchased at that moment (the agreement's licenses plus any
// other deposit there).
func (m *Manager) TrueForward(ctx context.Context, saKey, id string) (r smartlic.TrueForward, err error) {
	now := m.clock.Now()
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		a, err := agreementIn(ctx, tx, sa, id)
		if err != nil {
			return err
		}
		va, err := tx.GetVirtualAccountByID(ctx, a.VirtualAccountID)
		if err != nil {
			return err
		}
		if err := m.authorizeAgreementView(ctx, tx, &sa, &va); err != nil {
			return err
		}
		from, to := a.StartsAt, minTime(a.EndsAt, now)
		r = smartlic.TrueForward{Agreement: a, From: from, To: to, Lines: []smartlic.TrueUpLine{}}
		only := map[string]bool{}
		for _, l := range a.Lines {
			only[l.LicenseTypeID] = true
		}
		if to.After(from) {
			if r.Lines, err = m.measure(ctx, tx, []smartlic.VirtualAccount{va}, from, to, only); err != nil {
				return err
			}
		}
		// Every line of the suite appears, measured or not yet.
		have := map[string]bool{}
		for _, l := range r.Lines {
			have[l.LicenseTypeID] = true
		}
		for _, l := range a.Lines {
			if !have[l.LicenseTypeID] {
				r.Lines = append(r.Lines, smartlic.TrueUpLine{VirtualAccountID: va.ID, VirtualAccount: va.Name,
					LicenseTypeID: l.LicenseTypeID, LicenseTag: l.LicenseTag, Purchased: l.Quantity, PurchasedAtPeak: l.Quantity})
			}
		}
		sortRows(r.Lines, func(l smartlic.TrueUpLine) (string, string) { return l.VirtualAccount, l.LicenseTag })
		return nil
	})
	return r, err
}

// AcceptAgreement records that the caller accepts an agreement's terms for
// the Smart Account. Accepting is the customer's act (agreement.accept: SA
// approver or administrator); an agreement is accepted once, which the
// store's conditional update guarantees however many try at once.
func (m *Manager) AcceptAgreement(ctx context.Context, saKey, id string) (a smartlic.Agreement, err error) {
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermAgreementAccept, saKey)
		if err != nil {
			return err
		}
		if a, err = agreementIn(ctx, tx, sa, id); err != nil {
			return err
		}
		if a.AcceptedAt != nil {
			return alreadyAccepted(a)
		}
		actor, _ := smartlic.ActorFrom(ctx)
		ok, err := tx.AcceptAgreement(ctx, a.ID, actor.Email, now)
		if err != nil {
			return err
		}
		if !ok {
			if a, err = tx.GetAgreement(ctx, a.ID); err != nil {
				return err
			}
			return alreadyAccepted(a)
		}
		before := a
		a.AcceptedAt, a.AcceptedBy = &now, actor.Email
		return m.record(ctx, tx, smartlic.Event{Type: "agreement.accepted", SmartAccountID: sa.ID, VirtualAccountID: a.VirtualAccountID, Subject: a.ID,
			Message: fmt.Sprintf("Enterprise Agreement %q accepted by %s", a.Number, actor.Email), Before: eventData(before), After: eventData(a)})
	})
	if err != nil {
		return smartlic.Agreement{}, err
	}
	return a, nil
}

func alreadyAccepted(a smartlic.Agreement) error {
	by := a.AcceptedBy
	if by == "" {
		by = "someone"
	}
	return smartlic.Errorf(smartlic.EConflict, "agreement", "Enterprise Agreement %q was accepted already, by %s", a.Number, by)
}

// agreementIn finds an agreement of the Smart Account sa; one of another
// account is not found, as if it did not exist.
func agreementIn(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, id string) (smartlic.Agreement, error) {
	a, err := tx.GetAgreement(ctx, id)
	if err != nil || a.SmartAccountID != sa.ID {
		if err == nil || smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.Agreement{}, smartlic.NotFound("agreement %q not found in Smart Account %q", id, sa.Domain)
		}
		return smartlic.Agreement{}, err
	}
	return a, nil
}

// authorizeAgreementView lets in who sees the licenses of the agreement's
// VA, and who accepts agreements for the account: an approver reads what
// it accepts, though it holds no license.view.
func (m *Manager) authorizeAgreementView(ctx context.Context, tx smartlic.Tx, sa *smartlic.SmartAccount, va *smartlic.VirtualAccount) error {
	if a, ok := smartlic.ActorFrom(ctx); ok {
		if yes, err := m.allowed(ctx, tx, a, PermAgreementAccept, sa, va); err != nil || yes {
			return err
		}
	}
	return m.authorize(ctx, tx, PermLicenseView, sa, va)
}
