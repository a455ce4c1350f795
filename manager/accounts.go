package manager

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/smartlic/smartlic"
)

// CreateSmartAccount creates a Smart Account with its DEFAULT Virtual
// Account. It starts as requested unless the operator creates it active.
func (m *Manager) CreateSmartAccount(ctx context.Context, sa smartlic.SmartAccount) (smartlic.SmartAccount, error) {
	if sa.Status == "" {
		sa.Status = smartlic.SARequested
	}
	if sa.Status == smartlic.SADenied {
		return sa, smartlic.Invalid("status", "must be %q or %q: an account is denied after its request, with a reason", smartlic.SARequested, smartlic.SAActive)
	}
	if err := sa.Validate(); err != nil {
		return sa, err
	}
	sa.Domain, _ = smartlic.NormalizeDomain("domain", sa.Domain)
	now := m.clock.Now()
	sa.ID, sa.CreatedAt = newID(), now
	def := smartlic.VirtualAccount{
		ID: newID(), SmartAccountID: sa.ID, Name: smartlic.DefaultVAName,
		Description: "Default Virtual Account", Depth: 1, CreatedAt: now,
	}
	err := m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermAccountCreate, nil, nil); err != nil {
			return err
		}
		if sa.Status == smartlic.SAActive {
			if err := m.authorize(ctx, tx, PermAccountApprove, nil, nil); err != nil {
				return err
			}
		}
		if err := tx.InsertSmartAccount(ctx, sa); err != nil {
			return err
		}
		if err := tx.InsertVirtualAccount(ctx, def); err != nil {
			return err
		}
		if err := m.grantCreator(ctx, tx, sa); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "account.created", SmartAccountID: sa.ID, Subject: sa.ID,
			Message: fmt.Sprintf("Smart Account %s (%s) created, %s", sa.Name, sa.Domain, sa.Status), After: eventData(sa)})
	})
	return sa, err
}

// GetSmartAccount finds a Smart Account by id or domain.
func (m *Manager) GetSmartAccount(ctx context.Context, key string) (sa smartlic.SmartAccount, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err = m.getSAAs(ctx, tx, PermAccountView, key)
		return err
	})
	return sa, err
}

// ListSmartAccounts lists the Smart Accounts the caller can see.
func (m *Manager) ListSmartAccounts(ctx context.Context, f smartlic.SmartAccountFilter, p smartlic.Page) ([]smartlic.SmartAccount, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	if f.Status, err = smartlic.ParseSmartAccountStatus("status", string(f.Status)); err != nil {
		return nil, "", err
	}
	var out []smartlic.SmartAccount
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		if !isOperator(ctx) {
			out, err = m.visibleSmartAccounts(ctx, tx, f, p)
			return err
		}
		out, err = tx.ListSmartAccounts(ctx, f.Status, p)
		return err
	})
	out, next := cutPage(p, out, func(sa smartlic.SmartAccount) string { return sa.ID })
	return out, next, err
}

// UpdateSmartAccount renames a Smart Account or changes its limited-use flag.
func (m *Manager) UpdateSmartAccount(ctx context.Context, key string, u smartlic.SmartAccountUpdate) (sa smartlic.SmartAccount, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if sa, err = m.getSAAs(ctx, tx, PermAccountEdit, key); err != nil {
			return err
		}
		before := sa
		if u.Name != nil {
			sa.Name = *u.Name
		}
		if u.LimitedUse != nil && *u.LimitedUse != sa.LimitedUse {
			// Limited use is the vendor's call (public e-mail domains).
			if err := m.authorize(ctx, tx, PermAccountApprove, nil, nil); err != nil {
				return err
			}
			if *u.LimitedUse {
				// Limited use means a single VA; an account that already
				// outgrew that cannot shrink back silently.
				vas, err := tx.AllVirtualAccounts(ctx, sa.ID)
				if err != nil {
					return err
				}
				if len(vas) > 1 {
					return smartlic.Errorf(smartlic.EConflict, "limited_use", "the account has %d Virtual Accounts; a limited-use account has only %s", len(vas), smartlic.DefaultVAName)
				}
			}
			sa.LimitedUse = *u.LimitedUse
		}
		if err := sa.Validate(); err != nil {
			return err
		}
		if err := tx.UpdateSmartAccount(ctx, sa); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "account.updated", SmartAccountID: sa.ID, Subject: sa.ID,
			Message: fmt.Sprintf("Smart Account %s updated", sa.Domain), Before: eventData(before), After: eventData(sa)})
	})
	return sa, err
}

// ApproveSmartAccount activates a requested Smart Account, or one denied
// earlier when the vendor reconsiders.
func (m *Manager) ApproveSmartAccount(ctx context.Context, key string) (sa smartlic.SmartAccount, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if sa, err = m.getSAAs(ctx, tx, PermAccountApprove, key); err != nil {
			return err
		}
		if sa.Status == smartlic.SAActive {
			return nil
		}
		before := sa
		sa.Status = smartlic.SAActive
		if err := tx.UpdateSmartAccount(ctx, sa); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "account.approved", SmartAccountID: sa.ID, Subject: sa.ID,
			Message: fmt.Sprintf("Smart Account %s approved", sa.Domain), Before: eventData(before), After: eventData(sa)})
	})
	return sa, err
}

// DenySmartAccount refuses a requested Smart Account. Only a request can
// be denied: an active account holds licenses and instances, and taking it
// away is not a refusal. Denying twice answers the account as it is, so a
// retried request is harmless.
func (m *Manager) DenySmartAccount(ctx context.Context, key, reason string) (sa smartlic.SmartAccount, err error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return sa, smartlic.Invalid("reason", "is required: the requester reads it in the account's event log")
	}
	if err := smartlic.ValidateText("reason", reason); err != nil {
		return sa, err
	}
	if n := utf8.RuneCountInString(reason); n > smartlic.MaxDenyReason {
		return sa, smartlic.Invalid("reason", "must be at most %d characters (got %d)", smartlic.MaxDenyReason, n)
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if sa, err = m.getSAAs(ctx, tx, PermAccountApprove, key); err != nil {
			return err
		}
		switch sa.Status {
		case smartlic.SADenied:
			return nil
		case smartlic.SAActive:
			return smartlic.Errorf(smartlic.EConflict, "status", "Smart Account %s is active: only a request waiting for approval can be denied", sa.Domain)
		}
		before := sa
		sa.Status = smartlic.SADenied
		if err := tx.UpdateSmartAccount(ctx, sa); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "account.denied", SmartAccountID: sa.ID, Subject: sa.ID,
			Message: fmt.Sprintf("Smart Account %s denied: %s", sa.Domain, reason), Before: eventData(before), After: eventData(sa)})
	})
	return sa, err
}

// CreateVirtualAccount adds a VA under in.Parent (or at the top level).
func (m *Manager) CreateVirtualAccount(ctx context.Context, saKey string, in smartlic.VirtualAccountInput) (va smartlic.VirtualAccount, err error) {
	if err := smartlic.ValidateVAName("name", in.Name); err != nil {
		return va, err
	}
	if len(in.Description) > 2000 {
		return va, smartlic.Invalid("description", "must be at most 2000 characters")
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if sa.LimitedUse {
			return smartlic.Errorf(smartlic.ELimitedUse, "", "a limited-use Smart Account has a single Virtual Account (%s)", smartlic.DefaultVAName)
		}
		if err := tx.LockSmartAccount(ctx, sa.ID); err != nil {
			return err
		}
		va = smartlic.VirtualAccount{ID: newID(), SmartAccountID: sa.ID, Name: in.Name, Description: in.Description, Depth: 1, CreatedAt: m.clock.Now()}
		if in.Parent == "" {
			if err := m.authorize(ctx, tx, PermVAManage, &sa, nil); err != nil {
				return err
			}
		} else {
			parent, err := getVAIn(ctx, tx, sa, in.Parent, "parent")
			if err != nil {
				return err
			}
			if err := m.authorize(ctx, tx, PermVAManage, &sa, &parent); err != nil {
				return err
			}
			va.ParentID, va.Depth = parent.ID, parent.Depth+1
			if va.Depth > smartlic.MaxVADepth {
				return smartlic.Errorf(smartlic.EDepthExceeded, "parent", "Virtual Accounts nest at most %d levels; %q is already at level %d", smartlic.MaxVADepth, parent.Name, parent.Depth)
			}
		}
		if err := tx.InsertVirtualAccount(ctx, va); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "va.created", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: va.ID,
			Message: fmt.Sprintf("Virtual Account %q created", va.Name), After: eventData(va)})
	})
	return va, err
}

// GetVirtualAccount finds a VA by id or name.
func (m *Manager) GetVirtualAccount(ctx context.Context, saKey, vaKey string) (va smartlic.VirtualAccount, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, va, err = m.getVAAs(ctx, tx, PermAccountView, saKey, vaKey)
		return err
	})
	return va, err
}

// ListVirtualAccounts lists the VAs of a Smart Account.
func (m *Manager) ListVirtualAccounts(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.VirtualAccount, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.VirtualAccount
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := m.getSAAs(ctx, tx, PermAccountView, saKey)
		if err != nil {
			return err
		}
		out, err = tx.ListVirtualAccounts(ctx, sa.ID, p)
		return err
	})
	out, next := cutPage(p, out, func(va smartlic.VirtualAccount) string { return va.ID })
	return out, next, err
}

// UpdateVirtualAccount renames, re-describes and/or moves a VA.
func (m *Manager) UpdateVirtualAccount(ctx context.Context, saKey, vaKey string, u smartlic.VirtualAccountUpdate) (va smartlic.VirtualAccount, err error) {
	if u.Name != nil {
		if err := smartlic.ValidateVAName("name", *u.Name); err != nil {
			return va, err
		}
	}
	if u.Description != nil && len(*u.Description) > 2000 {
		return va, smartlic.Invalid("description", "must be at most 2000 characters")
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := tx.LockSmartAccount(ctx, sa.ID); err != nil {
			return err
		}
		if va, err = getVAIn(ctx, tx, sa, vaKey, "va"); err != nil {
			return err
		}
		if err := m.authorize(ctx, tx, PermVAManage, &sa, &va); err != nil {
			return err
		}
		before := va
		isDefault := va.Name == smartlic.DefaultVAName && va.ParentID == ""
		if u.Name != nil && *u.Name != va.Name {
			if isDefault {
				return smartlic.Invalid("name", "the %s Virtual Account cannot be renamed", smartlic.DefaultVAName)
			}
			va.Name = *u.Name
		}
		if u.Description != nil {
			va.Description = *u.Description
		}
		if u.Parent != nil {
			if isDefault && *u.Parent != "" {
				return smartlic.Invalid("parent", "the %s Virtual Account stays at the top level", smartlic.DefaultVAName)
			}
			if err := m.move(ctx, tx, sa, &va, *u.Parent); err != nil {
				return err
			}
		}
		if err := tx.UpdateVirtualAccount(ctx, va); err != nil {
			return err
		}
		typ := "va.updated"
		if va.ParentID != before.ParentID {
			typ = "va.moved"
		}
		return m.record(ctx, tx, smartlic.Event{Type: typ, SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: va.ID,
			Message: fmt.Sprintf("Virtual Account %q updated", va.Name), Before: eventData(before), After: eventData(va)})
	})
	return va, err
}

// move re-parents va (and re-levels its subtree) under parentKey, "" for
// the top level. The caller holds the Smart Account lock.
func (m *Manager) move(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, va *smartlic.VirtualAccount, parentKey string) error {
	all, err := tx.AllVirtualAccounts(ctx, sa.ID)
	if err != nil {
		return err
	}
	tree := newVATree(all)
	newParentID, newDepth := "", 1
	if parentKey == "" && va.ParentID != "" {
		if err := m.authorize(ctx, tx, PermVAManage, &sa, nil); err != nil {
			return err
		}
	}
	if parentKey != "" {
		parent, err := getVAIn(ctx, tx, sa, parentKey, "parent")
		if err != nil {
			return err
		}
		if err := m.authorize(ctx, tx, PermVAManage, &sa, &parent); err != nil {
			return err
		}
		if parent.ID == va.ID || tree.isDescendant(parent.ID, va.ID) {
			return smartlic.Errorf(smartlic.ECycle, "parent", "cannot move %q under %q: it is %s", va.Name, parent.Name, map[bool]string{true: "itself", false: "one of its own descendants"}[parent.ID == va.ID])
		}
		newParentID, newDepth = parent.ID, parent.Depth+1
	}
	if newParentID == va.ParentID {
		return nil
	}
	height := tree.height(va.ID) // levels below va
	if newDepth+height > smartlic.MaxVADepth {
		return smartlic.Errorf(smartlic.EDepthExceeded, "parent", "moving %q there would put its deepest descendant at level %d; Virtual Accounts nest at most %d levels", va.Name, newDepth+height, smartlic.MaxVADepth)
	}
	shift := newDepth - va.Depth
	va.ParentID, va.Depth = newParentID, newDepth
	if shift == 0 {
		return nil
	}
	for _, d := range tree.descendants(va.ID) {
		d.Depth += shift
		if err := tx.UpdateVirtualAccount(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// DeleteVirtualAccount deletes an empty VA.
func (m *Manager) DeleteVirtualAccount(ctx context.Context, saKey, vaKey string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := tx.LockSmartAccount(ctx, sa.ID); err != nil {
			return err
		}
		va, err := getVAIn(ctx, tx, sa, vaKey, "va")
		if err != nil {
			return err
		}
		if err := m.authorize(ctx, tx, PermVAManage, &sa, &va); err != nil {
			return err
		}
		if va.Name == smartlic.DefaultVAName && va.ParentID == "" {
			return smartlic.Errorf(smartlic.EConflict, "va", "the %s Virtual Account cannot be deleted", smartlic.DefaultVAName)
		}
		c, err := tx.VirtualAccountContents(ctx, va.ID, m.clock.Now())
		if err != nil {
			return err
		}
		if !c.Empty() {
			var what []string
			for _, x := range []struct {
				n    int64
				name string
			}{{c.Children, "child Virtual Accounts"}, {c.Deposits, "deposits"}, {c.Instances, "product instances"}, {c.Tokens, "active tokens"}} {
				if x.n > 0 {
					what = append(what, fmt.Sprintf("%d %s", x.n, x.name))
				}
			}
			return smartlic.Errorf(smartlic.ENotEmpty, "va", "Virtual Account %q still holds %s; move, transfer or revoke them first", va.Name, strings.Join(what, ", "))
		}
		if err := tx.DeleteVirtualAccount(ctx, va.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "va.deleted", SmartAccountID: sa.ID, VirtualAccountID: va.ID, Subject: va.ID,
			Message: fmt.Sprintf("Virtual Account %q deleted", va.Name), Before: eventData(va)})
	})
}

func getSA(ctx context.Context, tx smartlic.Tx, key string) (smartlic.SmartAccount, error) {
	if strings.TrimSpace(key) == "" {
		return smartlic.SmartAccount{}, smartlic.Invalid("sa", "a Smart Account id or domain is required")
	}
	sa, err := tx.GetSmartAccount(ctx, strings.ToLower(key))
	if smartlic.ErrorCode(err) == smartlic.ENotFound && key != strings.ToLower(key) {
		sa, err = tx.GetSmartAccount(ctx, key)
	}
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		// The key is the caller's input (a path's {sa}, the CLI's --account):
		// naming it lets a typo be told from a missing account.
		return sa, smartlic.Errorf(smartlic.ENotFound, "sa", "Smart Account %q not found", key)
	}
	return sa, err
}

// getVA resolves a Smart Account and one of its VAs.
func getVA(ctx context.Context, tx smartlic.Tx, saKey, vaKey string) (smartlic.SmartAccount, smartlic.VirtualAccount, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return sa, smartlic.VirtualAccount{}, err
	}
	va, err := getVAIn(ctx, tx, sa, vaKey, "va")
	return sa, va, err
}

func getVAIn(ctx context.Context, tx smartlic.Tx, sa smartlic.SmartAccount, key, field string) (smartlic.VirtualAccount, error) {
	if strings.TrimSpace(key) == "" {
		return smartlic.VirtualAccount{}, smartlic.Invalid(field, "a Virtual Account id or name is required")
	}
	va, err := tx.GetVirtualAccount(ctx, sa.ID, key)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return va, smartlic.Errorf(smartlic.ENotFound, field, "Virtual Account %q not found in Smart Account %s", key, sa.Domain)
	}
	return va, err
}

// vaTree indexes one Smart Account's VAs by parent.
type vaTree struct {
	byID     map[string]smartlic.VirtualAccount
	children map[string][]string
}

func newVATree(vas []smartlic.VirtualAccount) vaTree {
	t := vaTree{byID: map[string]smartlic.VirtualAccount{}, children: map[string][]string{}}
	for _, v := range vas {
		t.byID[v.ID] = v
		t.children[v.ParentID] = append(t.children[v.ParentID], v.ID)
	}
	return t
}

// descendants returns every VA below id, parents before children.
func (t vaTree) descendants(id string) []smartlic.VirtualAccount {
	var out []smartlic.VirtualAccount
	queue := append([]string(nil), t.children[id]...)
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		out = append(out, t.byID[c])
		queue = append(queue, t.children[c]...)
	}
	return out
}

// subtree returns id and its descendants.
func (t vaTree) subtree(id string) []smartlic.VirtualAccount {
	return append([]smartlic.VirtualAccount{t.byID[id]}, t.descendants(id)...)
}

func (t vaTree) isDescendant(id, ancestor string) bool {
	for cur := t.byID[id]; cur.ParentID != ""; cur = t.byID[cur.ParentID] {
		if cur.ParentID == ancestor {
			return true
		}
	}
	return false
}

// height is how many levels lie below id (0 for a leaf).
func (t vaTree) height(id string) int {
	base, max := t.byID[id].Depth, 0
	for _, d := range t.descendants(id) {
		if d.Depth-base > max {
			max = d.Depth - base
		}
	}
	return max
}
