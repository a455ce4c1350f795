package manager

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/smartlic/smartlic"
)

// Transfer moves licenses or product instances between two Virtual
// Accounts of one Smart Account, in one transaction: all of it happens or
// none of it.
//
// Both pools of every license type involved are locked (in VA id order, so
// that opposite transfers cannot deadlock) before anything is read, so two
// transfers out of one pool take turns, and what one of them sees as
// available is what is available when it commits. A pool therefore never
// goes negative through transfers, on SQLite or PostgreSQL.
func (m *Manager) Transfer(ctx context.Context, saKey string, in smartlic.TransferInput) (tr smartlic.Transfer, err error) {
	licenses := in.License != "" || in.Quantity != 0 || in.Deposit != ""
	switch {
	case len(in.Instances) > 0 && licenses:
		return tr, smartlic.Invalid("instances", "a transfer moves either licenses (license, quantity) or instances, not both")
	case len(in.Instances) > smartlic.MaxTransferInstances:
		return tr, smartlic.Invalid("instances", "at most %d instances per transfer (got %d)", smartlic.MaxTransferInstances, len(in.Instances))
	case len(in.Instances) == 0 && !licenses:
		return tr, smartlic.Invalid("license", "say what to transfer: license and quantity, or instances")
	case licenses && (in.Quantity < 1 || in.Quantity > 1_000_000_000):
		return tr, smartlic.Invalid("quantity", "must be between 1 and 1000000000 (got %d)", in.Quantity)
	}
	now := m.clock.Now()
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		from, err := getVAIn(ctx, tx, sa, in.From, "from")
		if err != nil {
			return err
		}
		to, err := getVAIn(ctx, tx, sa, in.To, "to")
		if err != nil {
			return err
		}
		if from.ID == to.ID {
			return smartlic.Invalid("to", "must be another Virtual Account than from (both are %q)", from.Name)
		}
		if err := m.authorize(ctx, tx, PermLicenseManage, &sa, &from); err != nil {
			return err
		}
		if err := m.authorize(ctx, tx, PermLicenseManage, &sa, &to); err != nil {
			return err
		}
		tr = smartlic.Transfer{
			ID: newID(), SmartAccountID: sa.ID, FromID: from.ID, FromName: from.Name, ToID: to.ID, ToName: to.Name, CreatedAt: now,
		}
		if a, ok := smartlic.ActorFrom(ctx); ok {
			tr.ActorEmail = a.Email
		}
		var what string
		if len(in.Instances) > 0 {
			what, err = m.transferInstances(ctx, tx, &tr, from, to, in.Instances)
		} else {
			what, err = m.transferLicenses(ctx, tx, &tr, from, to, in)
		}
		if err != nil {
			return err
		}
		// One entry on each side, so each VA's log tells the whole story.
		after := eventData(tr)
		if err := m.record(ctx, tx, smartlic.Event{Type: "transfer.out", SmartAccountID: sa.ID, VirtualAccountID: from.ID, Subject: tr.ID,
			Message: fmt.Sprintf("%s transferred from %q to %q", what, from.Name, to.Name), After: after}); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "transfer.in", SmartAccountID: sa.ID, VirtualAccountID: to.ID, Subject: tr.ID,
			Message: fmt.Sprintf("%s transferred to %q from %q", what, to.Name, from.Name), After: after})
	})
	if err != nil {
		return smartlic.Transfer{}, err
	}
	return tr, nil
}

// transferLicenses moves in.Quantity licenses of one type, drawn from the
// source's active lots in smartlic.OrderLotsForTransfer order (or from the
// one lot in.Deposit names). Each lot drawn on becomes a pair of deposit
// rows: minus in the source, tied to the lot, and plus in the destination,
// a new lot with the same end date, starting now.
func (m *Manager) transferLicenses(ctx context.Context, tx smartlic.Tx, tr *smartlic.Transfer, from, to smartlic.VirtualAccount, in smartlic.TransferInput) (string, error) {
	lt, err := getLicenseType(ctx, tx, in.License, "license")
	if err != nil {
		return "", err
	}
	var inUse int64
	for _, vaID := range sortedPair(from.ID, to.ID) {
		n, err := tx.LockPool(ctx, vaID, lt.ID)
		if err != nil {
			return "", err
		}
		if vaID == from.ID {
			inUse = n
		}
	}
	now := tr.CreatedAt
	lots, err := tx.LicenseLots(ctx, from.ID, lt.ID, now)
	if err != nil {
		return "", err
	}
	var purchased int64
	for _, l := range lots {
		purchased += l.Remaining
	}
	available := purchased - inUse
	if in.Quantity > available {
		return "", smartlic.Errorf(smartlic.EInsufficient, "quantity",
			"Virtual Account %q has %d %q licenses available (purchased %d, in use %d); cannot transfer %d",
			from.Name, max(available, 0), lt.Tag, purchased, inUse, in.Quantity)
	}
	if in.Deposit != "" {
		var only []smartlic.LicenseLot
		for _, l := range lots {
			if l.DepositID == in.Deposit {
				only = append(only, l)
			}
		}
		if len(only) == 0 {
			return "", smartlic.Invalid("deposit", "no active %q licenses left in deposit %q of Virtual Account %q", lt.Tag, in.Deposit, from.Name)
		}
		if only[0].Remaining < in.Quantity {
			return "", smartlic.Errorf(smartlic.EInsufficient, "quantity", "deposit %q has %d %q licenses left; cannot transfer %d",
				in.Deposit, only[0].Remaining, lt.Tag, in.Quantity)
		}
		lots = only
	}
	smartlic.OrderLotsForTransfer(lots)
	tr.Kind, tr.LicenseTypeID, tr.LicenseTag, tr.Quantity = smartlic.TransferLicenses, lt.ID, lt.Tag, in.Quantity
	left := in.Quantity
	for _, l := range lots {
		if left == 0 {
			break
		}
		q := min(l.Remaining, left)
		left -= q
		tr.Lots = append(tr.Lots, smartlic.TransferLot{FromDeposit: l.DepositID, Quantity: q, EndsAt: l.EndsAt})
	}
	if err := tx.InsertTransfer(ctx, *tr); err != nil {
		return "", err
	}
	order := "transfer/" + tr.ID
	for _, l := range tr.Lots {
		starts := now
		out := smartlic.Deposit{ID: newID(), VirtualAccountID: from.ID, OrderNumber: order, LicenseTypeID: lt.ID, LicenseTag: lt.Tag,
			Quantity: -l.Quantity, StartsAt: starts, EndsAt: l.EndsAt, CreatedAt: now}
		if err := tx.InsertTransferDeposit(ctx, out, tr.ID, l.FromDeposit); err != nil {
			return "", err
		}
		into := out
		into.ID, into.VirtualAccountID, into.Quantity = newID(), to.ID, l.Quantity
		if err := tx.InsertTransferDeposit(ctx, into, tr.ID, ""); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d %q licenses", in.Quantity, lt.Tag), nil
}

// transferInstances moves instances and their counted usage. Enforced
// license types must be covered in the destination, as a registration
// there would have to be; unenforced ones may go into overage there, and
// their lines then read out of compliance until the pool is topped up.
func (m *Manager) transferInstances(ctx context.Context, tx smartlic.Tx, tr *smartlic.Transfer, from, to smartlic.VirtualAccount, keys []string) (string, error) {
	seen := map[string]bool{}
	var ids []string
	for _, key := range keys {
		inst, err := instanceIn(ctx, tx, from, strings.TrimSpace(key))
		if err != nil {
			return "", err
		}
		if seen[inst.ID] {
			return "", smartlic.Invalid("instances", "instance %q is listed twice", key)
		}
		seen[inst.ID] = true
		ids = append(ids, inst.ID)
	}
	// Lock the instances (in id order, so overlapping transfers cannot
	// deadlock), then read them again: what moves, and the usage the
	// counters move by, is what they hold now, not what a concurrent
	// authorization changed a moment ago.
	sort.Strings(ids)
	var insts []smartlic.Instance
	moved := map[string]int64{} // license type id → counted usage moving
	for _, id := range ids {
		if err := tx.LockInstance(ctx, id); err != nil {
			return "", err
		}
		inst, err := tx.GetInstance(ctx, id)
		if err != nil {
			return "", err
		}
		if inst.VirtualAccountID != from.ID {
			return "", smartlic.NotFound("instance %q not found in Virtual Account %q", inst.UDI.String(), from.Name)
		}
		insts = append(insts, inst)
		// Lines covered by a SLAC count nothing here: the SLAC's license
		// stays in the VA it was issued from.
		cover, err := slacCover(ctx, tx, inst.UDI)
		if err != nil {
			return "", err
		}
		for _, u := range inst.Usage {
			if n := countedIn(u, cover); n != 0 {
				moved[u.LicenseTypeID] += n
			}
		}
	}
	ltIDs := make([]string, 0, len(moved))
	for id := range moved {
		ltIDs = append(ltIDs, id)
	}
	sort.Strings(ltIDs)
	for _, vaID := range sortedPair(from.ID, to.ID) {
		for _, id := range ltIDs {
			if _, err := tx.LockPool(ctx, vaID, id); err != nil {
				return "", err
			}
		}
	}
	purchased, inUse, err := m.poolState(ctx, tx, to.ID, ltIDs)
	if err != nil {
		return "", err
	}
	types := map[string]smartlic.LicenseType{}
	for _, id := range ltIDs {
		lt, err := tx.GetLicenseType(ctx, id)
		if err != nil {
			return "", err
		}
		types[id] = lt
		if lt.Enforcement != smartlic.Unenforced && inUse[id]+moved[id] > purchased[id] {
			return "", smartlic.Errorf(smartlic.EInsufficient, "to",
				"Virtual Account %q has %d %q licenses available; the instances use %d of this enforced license",
				to.Name, max(purchased[id]-inUse[id], 0), lt.Tag, moved[id])
		}
	}
	for _, id := range ltIDs {
		if err := tx.AddInUse(ctx, from.ID, id, -moved[id], tr.CreatedAt); err != nil {
			return "", err
		}
		if err := tx.AddInUse(ctx, to.ID, id, moved[id], tr.CreatedAt); err != nil {
			return "", err
		}
		inUse[id] += moved[id]
	}
	for _, inst := range insts {
		inst.VirtualAccountID = to.ID
		if err := tx.UpdateInstance(ctx, inst); err != nil {
			return "", err
		}
		changed := false
		for i, u := range inst.Usage {
			if countedOf(u) == 0 || types[u.LicenseTypeID].Enforcement != smartlic.Unenforced {
				continue
			}
			status := smartlic.Authorized
			if inUse[u.LicenseTypeID] > purchased[u.LicenseTypeID] {
				status = smartlic.OutOfCompliance
			}
			if status != u.Status {
				inst.Usage[i].Status, changed = status, true
			}
		}
		if changed {
			if err := tx.SetUsage(ctx, inst.ID, inst.Usage); err != nil {
				return "", err
			}
		}
		tr.Instances = append(tr.Instances, smartlic.TransferredInst{ID: inst.ID, UDI: inst.UDI.String()})
	}
	tr.Kind, tr.Quantity = smartlic.TransferInstances, int64(len(insts))
	if err := tx.InsertTransfer(ctx, *tr); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d product instances", len(insts)), nil
}

// instanceIn finds an instance of va by id or UDI.
func instanceIn(ctx context.Context, tx smartlic.Tx, va smartlic.VirtualAccount, key string) (smartlic.Instance, error) {
	var (
		inst smartlic.Instance
		err  error
	)
	if strings.Contains(key, ":") {
		udi, perr := smartlic.ParseUDI("instances", key)
		if perr != nil {
			return inst, perr
		}
		inst, err = tx.GetInstanceByUDI(ctx, udi)
	} else if key != "" {
		inst, err = tx.GetInstance(ctx, key)
	} else {
		return inst, smartlic.Invalid("instances", "an instance id or UDI is empty")
	}
	if smartlic.ErrorCode(err) == smartlic.ENotFound || (err == nil && inst.VirtualAccountID != va.ID) {
		return smartlic.Instance{}, smartlic.NotFound("instance %q not found in Virtual Account %q", key, va.Name)
	}
	return inst, err
}

// sortedPair returns two VA ids in the order their pools are locked.
func sortedPair(a, b string) []string {
	if b < a {
		return []string{b, a}
	}
	return []string{a, b}
}

// ListTransfers lists a Smart Account's transfers, oldest first.
func (m *Manager) ListTransfers(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.Transfer, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.Transfer
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermLicenseView, saKey)
		if err != nil {
			return err
		}
		out, err = tx.ListTransfers(ctx, sa.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(t smartlic.Transfer) string { return t.ID })
	return out, next, err
}
