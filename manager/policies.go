package manager

import (
	"context"
	"fmt"
	"strconv"

	"github.com/smartlic/smartlic"
)

var _ smartlic.PolicyService = (*Manager)(nil)

// ListPolicies lists the default in force and the account's custom
// policies the caller may see: all of them with license.view on the Smart
// Account, those of the VAs it may view with a VA role.
func (m *Manager) ListPolicies(ctx context.Context, saKey string) (out []smartlic.Policy, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := m.allowedAnywhere(ctx, tx, PermLicenseView, sa); err != nil {
			return err
		}
		a, _ := smartlic.ActorFrom(ctx)
		whole, err := m.allowed(ctx, tx, a, PermLicenseView, &sa, nil)
		if err != nil {
			return err
		}
		def, err := m.defaultPolicy(ctx, tx)
		if err != nil {
			return err
		}
		custom, err := tx.CurrentPolicies(ctx, sa.ID)
		if err != nil {
			return err
		}
		out = append(out, def)
		for _, p := range custom {
			if !whole {
				if p.Scope != smartlic.ScopeVirtualAccount {
					continue
				}
				va, err := tx.GetVirtualAccountByID(ctx, p.VirtualAccountID)
				if err != nil {
					return err
				}
				if ok, err := m.allowed(ctx, tx, a, PermLicenseView, &sa, &va); err != nil || !ok {
					if err != nil {
						return err
					}
					continue
				}
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// policyScope resolves the scope a request addresses: the Smart Account
// (vaKey "") or one of its VAs, and checks perm on it.
func (m *Manager) policyScope(ctx context.Context, tx smartlic.Tx, perm Permission, saKey, vaKey string) (smartlic.SmartAccount, *smartlic.VirtualAccount, smartlic.Policy, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return sa, nil, smartlic.Policy{}, err
	}
	scope := smartlic.Policy{Scope: smartlic.ScopeSmartAccount, SmartAccountID: sa.ID}
	var va *smartlic.VirtualAccount
	if vaKey != "" {
		v, err := getVAIn(ctx, tx, sa, vaKey, "va")
		if err != nil {
			return sa, nil, scope, err
		}
		va = &v
		scope.Scope, scope.VirtualAccountID, scope.VirtualAccount = smartlic.ScopeVirtualAccount, v.ID, v.Name
	}
	return sa, va, scope, m.authorize(ctx, tx, perm, &sa, va)
}

// GetPolicy returns the custom policy set on the Smart Account or VA.
func (m *Manager) GetPolicy(ctx context.Context, saKey, vaKey string) (p smartlic.Policy, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, _, scope, err := m.policyScope(ctx, tx, PermLicenseView, saKey, vaKey)
		if err != nil {
			return err
		}
		p, err = currentPolicy(ctx, tx, scope)
		return err
	})
	return p, err
}

// currentPolicy is the scope's custom policy, not_found when none is set
// (never was, or deleted).
func currentPolicy(ctx context.Context, tx smartlic.Tx, scope smartlic.Policy) (smartlic.Policy, error) {
	p, err := tx.LatestPolicyVersion(ctx, scope.Subject())
	if err == nil && p.Deleted {
		err = smartlic.NotFound("")
	}
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		where := "the Smart Account"
		if scope.Scope == smartlic.ScopeVirtualAccount {
			where = fmt.Sprintf("Virtual Account %q", scope.VirtualAccount)
		}
		return p, smartlic.NotFound("no custom policy is set on %s: the one above it applies", where)
	}
	return p, err
}

// EffectivePolicy returns the policy in force for a VA.
func (m *Manager) EffectivePolicy(ctx context.Context, saKey, vaKey string) (out smartlic.PolicyInForce, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		sa, va, err := m.getVAAs(ctx, tx, PermLicenseView, saKey, vaKey)
		if err != nil {
			return err
		}
		r, err := m.policies(ctx, tx, sa.ID)
		if err != nil {
			return err
		}
		out = r.inForce(va.ID)
		return nil
	})
	return out, err
}

// SetPolicy stores a new version of the custom policy of the Smart Account
// (vaKey "") or of a VA. The Smart Account is locked first, so concurrent
// edits of its policies queue and each gets the next version number; the
// store's key on (scope, version) stands behind that.
func (m *Manager) SetPolicy(ctx context.Context, saKey, vaKey string, in smartlic.PolicyInput) (p smartlic.Policy, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := tx.LockSmartAccount(ctx, sa.ID); err != nil {
			return err
		}
		_, va, scope, err := m.policyScope(ctx, tx, PermPolicyManage, saKey, vaKey)
		if err != nil {
			return err
		}
		p, err = m.storePolicyVersion(ctx, tx, scope, in, false)
		if err != nil {
			return err
		}
		return m.record(ctx, tx, policyEvent(sa.ID, va, "policy.set", p, fmt.Sprintf("policy %q version %d set on %s", p.Name, p.Version, scopeName(sa, va))))
	})
	return p, err
}

// DeletePolicy removes the custom policy of the Smart Account or VA: a
// version marked deleted, so the history stays.
func (m *Manager) DeletePolicy(ctx context.Context, saKey, vaKey string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		sa, err := getSA(ctx, tx, saKey)
		if err != nil {
			return err
		}
		if err := tx.LockSmartAccount(ctx, sa.ID); err != nil {
			return err
		}
		_, va, scope, err := m.policyScope(ctx, tx, PermPolicyManage, saKey, vaKey)
		if err != nil {
			return err
		}
		cur, err := currentPolicy(ctx, tx, scope)
		if err != nil {
			return err
		}
		gone := cur
		gone.Version, gone.Deleted, gone.CreatedAt, gone.CreatedBy = cur.Version+1, true, m.clock.Now(), actorEmail(ctx)
		if err := tx.InsertPolicyVersion(ctx, gone); err != nil {
			return err
		}
		e := policyEvent(sa.ID, va, "policy.deleted", gone, fmt.Sprintf("policy %q deleted from %s (version %d)", cur.Name, scopeName(sa, va), gone.Version))
		e.Before, e.After = eventData(cur), nil
		return m.record(ctx, tx, e)
	})
}

// PolicyHistory lists the versions of the policy of the Smart Account or a
// VA, newest first; the cursor is a version number.
func (m *Manager) PolicyHistory(ctx context.Context, saKey, vaKey string, p smartlic.Page) (out []smartlic.Policy, next string, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		_, _, scope, err := m.policyScope(ctx, tx, PermLicenseView, saKey, vaKey)
		if err != nil {
			return err
		}
		out, next, err = policyVersions(ctx, tx, scope.Subject(), p)
		return err
	})
	return out, next, err
}

func policyVersions(ctx context.Context, tx smartlic.Tx, subject string, p smartlic.Page) ([]smartlic.Policy, string, error) {
	p, err := fetchSeqPage(p)
	if err != nil {
		return nil, "", err
	}
	before, _ := strconv.Atoi(p.After) // "" (the first page) is 0: from the newest
	if p.After != "" && before == 0 {
		return nil, "", nil // nothing lies below version 0
	}
	list, err := tx.PolicyVersions(ctx, subject, before, p.Limit)
	if err != nil {
		return nil, "", err
	}
	list, next := cutPage(p, list, func(v smartlic.Policy) string { return strconv.Itoa(v.Version) })
	return list, next, nil
}

// GetDefaultPolicy returns the vendor default in force. Anyone signed in
// may read it: it is what every account without its own policy gets.
func (m *Manager) GetDefaultPolicy(ctx context.Context) (p smartlic.Policy, err error) {
	if _, ok := smartlic.ActorFrom(ctx); !ok {
		return p, smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		p, err = m.defaultPolicy(ctx, tx)
		return err
	})
	return p, err
}

// SetDefaultPolicy stores the operator's edit of the default.
func (m *Manager) SetDefaultPolicy(ctx context.Context, in smartlic.PolicyInput) (p smartlic.Policy, err error) {
	return m.writeDefault(ctx, in, false)
}

// ResetDefaultPolicy goes back to the built-in default, as a new version.
func (m *Manager) ResetDefaultPolicy(ctx context.Context) (smartlic.Policy, error) {
	d := smartlic.DefaultPolicy()
	return m.writeDefault(ctx, smartlic.PolicyInput{Name: d.Name, Rules: d.Rules}, true)
}

func (m *Manager) writeDefault(ctx context.Context, in smartlic.PolicyInput, reset bool) (p smartlic.Policy, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermPolicyDefault, nil, nil); err != nil {
			return err
		}
		before, err := m.defaultPolicy(ctx, tx)
		if err != nil {
			return err
		}
		p, err = m.storePolicyVersion(ctx, tx, smartlic.Policy{Scope: smartlic.ScopeDefault}, in, reset)
		if err != nil {
			return err
		}
		typ, msg := "policy.default_set", fmt.Sprintf("default policy %q version %d set", p.Name, p.Version)
		if reset {
			typ, msg = "policy.default_reset", fmt.Sprintf("default policy reset to the built-in values (version %d)", p.Version)
		}
		return m.record(ctx, tx, smartlic.Event{Type: typ, Subject: smartlic.DefaultPolicyID, Message: msg,
			Before: eventData(before), After: eventData(p)})
	})
	return p, err
}

// DefaultPolicyHistory lists the stored versions of the default, newest
// first. Version 1, the built-in, is not stored.
func (m *Manager) DefaultPolicyHistory(ctx context.Context, p smartlic.Page) (out []smartlic.Policy, next string, err error) {
	if _, ok := smartlic.ActorFrom(ctx); !ok {
		return nil, "", smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		out, next, err = policyVersions(ctx, tx, smartlic.DefaultPolicyID, p)
		return err
	})
	return out, next, err
}

// storePolicyVersion validates in for scope and stores it as the scope's
// next version. deleted marks the default's reset to the built-in.
func (m *Manager) storePolicyVersion(ctx context.Context, tx smartlic.Tx, scope smartlic.Policy, in smartlic.PolicyInput, deleted bool) (smartlic.Policy, error) {
	p := scope
	p.Name, p.Rules, p.Deleted = in.Name, in.Rules, deleted
	if err := p.Validate(); err != nil {
		return p, err
	}
	if in.BaseVersion < 0 {
		return p, smartlic.Invalid("base_version", "must be 0 (no check) or a version number (got %d)", in.BaseVersion)
	}
	latest, err := tx.LatestPolicyVersion(ctx, p.Subject())
	switch {
	case smartlic.ErrorCode(err) == smartlic.ENotFound:
		p.ID, p.Version = newID(), 1
		if p.Scope == smartlic.ScopeDefault {
			// Version 1 is the built-in: the first edit is version 2.
			p.ID, p.Version = smartlic.DefaultPolicyID, 2
		}
	case err != nil:
		return p, err
	default:
		p.ID, p.Version = latest.ID, latest.Version+1
	}
	switch current := p.Version - 1; {
	case in.BaseVersion == 0 || in.BaseVersion == current:
	case in.BaseVersion > current && current == 0:
		return p, smartlic.Invalid("base_version", "there is no version %d to edit: this scope has no policy of its own yet (send 0, or leave it out)", in.BaseVersion)
	case in.BaseVersion > current:
		return p, smartlic.Invalid("base_version", "there is no version %d to edit: the latest is version %d", in.BaseVersion, current)
	default:
		return p, smartlic.Errorf(smartlic.EConflict, "base_version",
			"the policy was edited meanwhile: you edited version %d, the latest is version %d; reload it and edit again", in.BaseVersion, current)
	}
	p.CreatedAt, p.CreatedBy = m.clock.Now(), actorEmail(ctx)
	if err := tx.InsertPolicyVersion(ctx, p); err != nil {
		return p, err
	}
	return p, nil
}

// defaultPolicy is the vendor default in force: the latest stored version,
// or the built-in. A reset version reads as the built-in values, so a
// release that changes them changes reset defaults too.
func (m *Manager) defaultPolicy(ctx context.Context, tx smartlic.Tx) (smartlic.Policy, error) {
	p, err := tx.LatestPolicyVersion(ctx, smartlic.DefaultPolicyID)
	if smartlic.ErrorCode(err) == smartlic.ENotFound {
		return smartlic.DefaultPolicy(), nil
	}
	if err != nil {
		return p, err
	}
	if p.Deleted {
		d := smartlic.DefaultPolicy()
		d.Version, d.CreatedAt, d.CreatedBy = p.Version, p.CreatedAt, p.CreatedBy
		return d, nil
	}
	return p, nil
}

// policyResolver answers "which policy applies to this VA" for one Smart
// Account from one read of its tree and policies.
type policyResolver struct {
	def    smartlic.Policy
	custom []smartlic.Policy
	tree   vaTree
}

// policies loads what a policyResolver needs for one Smart Account.
func (m *Manager) policies(ctx context.Context, tx smartlic.Tx, saID string) (policyResolver, error) {
	var r policyResolver
	var err error
	if r.def, err = m.defaultPolicy(ctx, tx); err != nil {
		return r, err
	}
	if r.custom, err = tx.CurrentPolicies(ctx, saID); err != nil {
		return r, err
	}
	all, err := tx.AllVirtualAccounts(ctx, saID)
	if err != nil {
		return r, err
	}
	r.tree = newVATree(all)
	return r, nil
}

// chain is vaID and its ancestors, nearest first.
func (r policyResolver) chain(vaID string) []string {
	out := []string{vaID}
	for cur := r.tree.byID[vaID]; cur.ParentID != "" && len(out) <= smartlic.MaxVADepth; cur = r.tree.byID[cur.ParentID] {
		out = append(out, cur.ParentID)
	}
	return out
}

func (r policyResolver) forVA(vaID string) smartlic.Policy {
	return smartlic.EffectivePolicy(r.chain(vaID), r.custom, r.def)
}

func (r policyResolver) inForce(vaID string) smartlic.PolicyInForce {
	p := r.forVA(vaID)
	return smartlic.PolicyInForce{Policy: p, VirtualAccountID: vaID, VirtualAccount: r.tree.byID[vaID].Name,
		Inherited: p.Scope != smartlic.ScopeVirtualAccount || p.VirtualAccountID != vaID}
}

func policyEvent(saID string, va *smartlic.VirtualAccount, typ string, p smartlic.Policy, msg string) smartlic.Event {
	e := smartlic.Event{Type: typ, SmartAccountID: saID, Subject: p.ID, Message: msg, After: eventData(p)}
	if va != nil {
		e.VirtualAccountID = va.ID
	}
	return e
}

func scopeName(sa smartlic.SmartAccount, va *smartlic.VirtualAccount) string {
	if va != nil {
		return fmt.Sprintf("Virtual Account %q", va.Name)
	}
	return "Smart Account " + sa.Domain
}

func actorEmail(ctx context.Context) string {
	a, _ := smartlic.ActorFrom(ctx)
	return a.Email
}
