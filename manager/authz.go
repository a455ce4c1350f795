package manager

import (
	"context"
	"slices"

	"github.com/smartlic/smartlic"
)

// Permission is one kind of action the role model grants or refuses.
type Permission string

// The permissions every service method checks. Which roles hold which is
// decided in authorize; see the seed's five roles plus the vendor operator.
const (
	PermCatalogManage   Permission = "catalog.manage"   // license types, products, SKU mappings: operator
	PermAccountCreate   Permission = "account.create"   // create (request) a Smart Account
	PermAccountApprove  Permission = "account.approve"  // approve a requested Smart Account: operator
	PermAccountView     Permission = "account.view"     // see the Smart Account and its VA tree
	PermAccountEdit     Permission = "account.edit"     // edit Smart Account properties
	PermUsersView       Permission = "users.view"       // see users, roles and access requests
	PermUsersManage     Permission = "users.manage"     // grant and revoke roles, approve access
	PermEventsView      Permission = "events.view"      // read and verify the event log
	PermVAManage        Permission = "va.manage"        // create, rename, move, delete VAs
	PermLicenseView     Permission = "license.view"     // pools, deposits, tokens, instances, reports, alerts
	PermLicenseManage   Permission = "license.manage"   // tokens, instances, transfers, conversions, reservations
	PermDeposit         Permission = "license.deposit"  // orders, agreements and PAKs entering an account: operator
	PermAgreementAccept Permission = "agreement.accept" // accept agreements for the Smart Account
	PermNotifyManage    Permission = "notify.manage"    // webhooks and notification settings of the account
	PermOperatorManage  Permission = "operator.manage"  // operator keys and OAuth clients of the vendor
	PermPolicyManage    Permission = "policy.manage"    // custom reporting policies of the account or of VAs
	PermPolicyDefault   Permission = "policy.default"   // the vendor's default reporting policy: operator
)

// vendorPerms belong to the vendor operator alone.
var vendorPerms = []Permission{PermCatalogManage, PermAccountApprove, PermDeposit, PermOperatorManage, PermPolicyDefault}

// viewPerms change nothing; an OAuth token with only the read scope holds
// these and no others.
var viewPerms = []Permission{PermAccountView, PermUsersView, PermEventsView, PermLicenseView}

// rolePerms is the seed's description of each role, as permissions. SA
// roles hold them on the Smart Account and every VA in it; VA roles on the
// VA they were granted on and every VA below it, never on the Smart Account
// as a whole (an SA-level check with va nil).
var rolePerms = map[string][]Permission{
	// Edit SA properties, view users and event logs, accept agreements;
	// no license management.
	smartlic.RoleSAApprover: {PermAccountView, PermAccountEdit, PermUsersView, PermEventsView, PermAgreementAccept},
	// Everything for the Smart Account, users and Virtual Accounts included.
	smartlic.RoleSAAdmin: {PermAccountView, PermAccountEdit, PermUsersView, PermUsersManage, PermEventsView, PermVAManage,
		PermLicenseView, PermLicenseManage, PermAgreementAccept, PermNotifyManage, PermPolicyManage},
	// Licensing in every VA; no VA creation, no user management.
	smartlic.RoleSAUser: {PermAccountView, PermLicenseView, PermLicenseManage},
	// Everything for the assigned VAs, their users included.
	smartlic.RoleVAAdmin: {PermAccountView, PermUsersView, PermUsersManage, PermEventsView, PermVAManage,
		PermLicenseView, PermLicenseManage, PermNotifyManage, PermPolicyManage},
	// Licensing in the assigned VAs.
	smartlic.RoleVAUser: {PermAccountView, PermLicenseView, PermLicenseManage},
}

// RoleAllows reports whether role holds perm (on its scope). Exported for
// the documentation test that keeps docs/users.md in step.
func RoleAllows(role string, perm Permission) bool { return slices.Contains(rolePerms[role], perm) }

// authorize refuses the caller unless it holds perm on the Smart Account
// sa (nil for vendor-level actions) and, when va is set, on that Virtual
// Account. It runs inside the transaction that acts, so a role revoked
// concurrently cannot slip through between check and change.
func (m *Manager) authorize(ctx context.Context, tx smartlic.Tx, perm Permission, sa *smartlic.SmartAccount, va *smartlic.VirtualAccount) error {
	a, ok := smartlic.ActorFrom(ctx)
	if !ok {
		return smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	ok, err := m.allowed(ctx, tx, a, perm, sa, va)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden(perm, sa, va)
	}
	return nil
}

func forbidden(perm Permission, sa *smartlic.SmartAccount, va *smartlic.VirtualAccount) error {
	switch {
	case va != nil:
		return smartlic.Errorf(smartlic.EForbidden, "", "your roles do not allow %s on Virtual Account %q", perm, va.Name)
	case sa != nil:
		return smartlic.Errorf(smartlic.EForbidden, "", "your roles do not allow %s on Smart Account %s", perm, sa.Domain)
	}
	return smartlic.Errorf(smartlic.EForbidden, "", "this action needs the vendor operator (%s)", perm)
}

// allowed is authorize's decision without the error.
func (m *Manager) allowed(ctx context.Context, tx smartlic.Tx, a smartlic.Actor, perm Permission, sa *smartlic.SmartAccount, va *smartlic.VirtualAccount) (bool, error) {
	if a.Kind == smartlic.ActorOAuthClient {
		if !scopeAllows(a.Scopes, perm) {
			return false, nil
		}
		if a.Role != smartlic.RoleOperator {
			if ok, err := m.creatorAllows(ctx, tx, a, perm, sa, va); err != nil || !ok {
				return false, err
			}
		}
	}
	if a.Role == smartlic.RoleOperator {
		return true, nil
	}
	if slices.Contains(vendorPerms, perm) {
		return false, nil
	}
	if perm == PermAccountCreate {
		// Anyone may ask for a Smart Account; it waits for the vendor's approval.
		return a.UserID != "", nil
	}
	if sa == nil {
		return false, nil
	}
	if va != nil && va.SmartAccountID != sa.ID {
		return false, nil
	}
	if sa.Status != smartlic.SAActive && perm != PermAccountView && perm != PermEventsView {
		// A requested account waits for the vendor, a denied one stays
		// refused: its requester sees it and reads its event log (where a
		// denial's reason is), nobody works in it.
		return false, nil
	}
	grants, err := m.grantsOf(ctx, tx, a, sa.ID)
	if err != nil {
		return false, err
	}
	var chain []string // va and its ancestors, loaded on first need
	for _, g := range grants {
		if !RoleAllows(g.Role, perm) {
			continue
		}
		if !smartlic.IsVARole(g.Role) {
			return true, nil
		}
		if va == nil {
			// A VA role never acts on the Smart Account as a whole, except
			// to see it: the way into its own Virtual Accounts.
			if perm == PermAccountView {
				return true, nil
			}
			continue
		}
		if chain == nil {
			if chain, err = ancestry(ctx, tx, *va); err != nil {
				return false, err
			}
		}
		if slices.Contains(chain, g.VirtualAccountID) {
			return true, nil
		}
	}
	return false, nil
}

// allowedAnywhere reports whether the caller holds perm on the Smart
// Account or on any of its Virtual Accounts (listing access requests, say,
// which VA administrators answer too).
func (m *Manager) allowedAnywhere(ctx context.Context, tx smartlic.Tx, perm Permission, sa smartlic.SmartAccount) error {
	a, ok := smartlic.ActorFrom(ctx)
	if !ok {
		return smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	if ok, err := m.allowed(ctx, tx, a, perm, &sa, nil); err != nil || ok {
		return err
	}
	if a.Kind != smartlic.ActorOAuthClient {
		grants, err := m.grantsOf(ctx, tx, a, sa.ID)
		if err != nil {
			return err
		}
		for _, g := range grants {
			if smartlic.IsVARole(g.Role) && RoleAllows(g.Role, perm) {
				return nil
			}
		}
	}
	return forbidden(perm, &sa, nil)
}

// visibleVAs is the scope of the account-wide lists (reservations,
// SLACs): nil when the caller holds perm on the whole account, else the
// VAs it holds perm on, each with its sub-VAs (refusing a caller with none).
func (m *Manager) visibleVAs(ctx context.Context, tx smartlic.Tx, perm Permission, sa smartlic.SmartAccount) ([]string, error) {
	if err := m.allowedAnywhere(ctx, tx, perm, sa); err != nil {
		return nil, err
	}
	a, _ := smartlic.ActorFrom(ctx)
	if ok, err := m.allowed(ctx, tx, a, perm, &sa, nil); err != nil || ok {
		return nil, err
	}
	all, err := tx.AllVirtualAccounts(ctx, sa.ID)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, va := range all {
		if ok, err := m.allowed(ctx, tx, a, perm, &sa, &va); err != nil {
			return nil, err
		} else if ok {
			ids = append(ids, va.ID)
		}
	}
	return ids, nil
}

// grantsOf returns the roles the actor holds in one Smart Account: a
// user's assignments, or an OAuth client's one role.
func (m *Manager) grantsOf(ctx context.Context, tx smartlic.Tx, a smartlic.Actor, saID string) ([]smartlic.RoleAssignment, error) {
	switch {
	case a.Kind == smartlic.ActorOAuthClient:
		c, err := tx.GetOAuthClient(ctx, a.Client)
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if c.RevokedAt != nil || c.SmartAccountID != saID {
			return nil, nil
		}
		return []smartlic.RoleAssignment{{Role: c.Role, SmartAccountID: c.SmartAccountID}}, nil
	case a.UserID != "":
		all, err := tx.RolesOfUser(ctx, a.UserID)
		if err != nil {
			return nil, err
		}
		var out []smartlic.RoleAssignment
		for _, g := range all {
			if g.SmartAccountID == saID {
				out = append(out, g)
			}
		}
		return out, nil
	}
	return nil, nil
}

// ancestry returns the ids of va and every VA above it.
func ancestry(ctx context.Context, tx smartlic.Tx, va smartlic.VirtualAccount) ([]string, error) {
	out := []string{va.ID}
	for cur := va; cur.ParentID != "" && len(out) <= smartlic.MaxVADepth; {
		p, err := tx.GetVirtualAccountByID(ctx, cur.ParentID)
		if err != nil {
			return nil, err
		}
		out = append(out, p.ID)
		cur = p
	}
	return out, nil
}

func scopeAllows(scopes []string, perm Permission) bool {
	if slices.Contains(scopes, smartlic.ScopeWrite) {
		return true
	}
	return slices.Contains(scopes, smartlic.ScopeRead) && slices.Contains(viewPerms, perm)
}

// isOperator reports whether ctx carries the vendor operator.
func isOperator(ctx context.Context) bool {
	a, ok := smartlic.ActorFrom(ctx)
	return ok && a.Role == smartlic.RoleOperator
}

// getVAAs resolves a Smart Account and one of its Virtual Accounts, and
// refuses the caller unless it holds perm on that VA.
func (m *Manager) getVAAs(ctx context.Context, tx smartlic.Tx, perm Permission, saKey, vaKey string) (smartlic.SmartAccount, smartlic.VirtualAccount, error) {
	sa, va, err := getVA(ctx, tx, saKey, vaKey)
	if err != nil {
		return sa, va, err
	}
	return sa, va, m.authorize(ctx, tx, perm, &sa, &va)
}

// getSAAs resolves a Smart Account and refuses the caller unless it holds
// perm on the account as a whole.
func (m *Manager) getSAAs(ctx context.Context, tx smartlic.Tx, perm Permission, saKey string) (smartlic.SmartAccount, error) {
	sa, err := getSA(ctx, tx, saKey)
	if err != nil {
		return sa, err
	}
	return sa, m.authorize(ctx, tx, perm, &sa, nil)
}
