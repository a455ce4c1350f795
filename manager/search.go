package manager

import (
	"context"

	"github.com/smartlic/smartlic"
)

// maxSearchAccounts bounds how many Smart Accounts one search looks in
// for a user; the vendor operator's search is not narrowed by account.
const maxSearchAccounts = smartlic.MaxPageLimit

// Search finds product instances, registration tokens and deposits by
// UDI, serial, host name, PID, description or order number, in the
// Virtual Accounts whose licensing the caller may view (the role check of
// ListInstances, ListTokens and ListDeposits).
func (m *Manager) Search(ctx context.Context, q smartlic.SearchQuery) (smartlic.SearchResults, error) {
	res := smartlic.SearchResults{Instances: []smartlic.InstanceHit{}, Tokens: []smartlic.TokenHit{}, Deposits: []smartlic.DepositHit{}}
	q, err := q.Normalize()
	if err != nil {
		return res, err
	}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		scope, where, err := m.searchScope(ctx, tx, q)
		if err != nil {
			return err
		}
		if q.License != "" {
			lt, err := tx.GetLicenseType(ctx, q.License)
			if smartlic.ErrorCode(err) == smartlic.ENotFound {
				return smartlic.Errorf(smartlic.ENotFound, "license", "license type %q not found", q.License)
			}
			if err != nil {
				return err
			}
			scope.LicenseTypeID = lt.ID
		}
		want := func(kind string) bool { return q.Kind == "" || q.Kind == kind }
		if want(smartlic.SearchInstances) {
			list, err := tx.SearchInstances(ctx, scope, q.Q, q.After, q.Limit+1)
			if err != nil {
				return err
			}
			list, res.MoreInstances = cut(list, q.Limit)
			if err := m.withReportingAcross(ctx, tx, list); err != nil {
				return err
			}
			now := m.clock.Now()
			for _, i := range list {
				i.Authorization = i.AuthorizationAt(now)
				w, err := where(i.VirtualAccountID)
				if err != nil {
					return err
				}
				res.Instances = append(res.Instances, smartlic.InstanceHit{Where: w, Instance: i})
			}
			if res.MoreInstances && q.Kind != "" {
				res.Next = list[len(list)-1].ID
			}
		}
		if want(smartlic.SearchTokens) {
			list, err := tx.SearchTokens(ctx, scope, q.Q, q.After, q.Limit+1)
			if err != nil {
				return err
			}
			list, res.MoreTokens = cut(list, q.Limit)
			for _, t := range list {
				t.Hash = ""
				w, err := where(t.VirtualAccountID)
				if err != nil {
					return err
				}
				res.Tokens = append(res.Tokens, smartlic.TokenHit{Where: w, Token: t})
			}
			if res.MoreTokens && q.Kind != "" {
				res.Next = list[len(list)-1].ID
			}
		}
		if want(smartlic.SearchDeposits) {
			list, err := tx.SearchDeposits(ctx, scope, q.Q, q.After, q.Limit+1)
			if err != nil {
				return err
			}
			list, res.MoreDeposits = cut(list, q.Limit)
			for _, d := range list {
				w, err := where(d.VirtualAccountID)
				if err != nil {
					return err
				}
				res.Deposits = append(res.Deposits, smartlic.DepositHit{Where: w, Deposit: d})
			}
			if res.MoreDeposits && q.Kind != "" {
				res.Next = list[len(list)-1].ID
			}
		}
		return nil
	})
	return res, err
}

func cut[T any](list []T, n int) ([]T, bool) {
	if len(list) > n {
		return list[:n], true
	}
	return list, false
}

// searchScope decides which Virtual Accounts a search looks in, and
// returns how to name the account a result lives in. A named VA must be
// viewable (the 403 of ListInstances otherwise); across accounts, VAs the
// caller may not view are simply left out.
func (m *Manager) searchScope(ctx context.Context, tx smartlic.Tx, q smartlic.SearchQuery) (smartlic.SearchScope, func(vaID string) (smartlic.Where, error), error) {
	var scope smartlic.SearchScope
	known := map[string]smartlic.Where{}
	add := func(sa smartlic.SmartAccount, vas ...smartlic.VirtualAccount) {
		for _, v := range vas {
			scope.VAIDs = append(scope.VAIDs, v.ID)
			known[v.ID] = smartlic.Where{SmartAccountID: sa.ID, SmartAccount: sa.Domain, VirtualAccountID: v.ID, VirtualAccount: v.Name}
		}
	}
	// where names a result's account; only the operator's unnarrowed
	// search finds VAs it has not loaded.
	where := func(vaID string) (smartlic.Where, error) {
		if w, ok := known[vaID]; ok {
			return w, nil
		}
		va, err := tx.GetVirtualAccountByID(ctx, vaID)
		if err != nil {
			return smartlic.Where{}, err
		}
		sa, err := tx.GetSmartAccount(ctx, va.SmartAccountID)
		if err != nil {
			return smartlic.Where{}, err
		}
		add(sa, va)
		return known[vaID], nil
	}
	a, ok := smartlic.ActorFrom(ctx)
	if !ok {
		return scope, nil, smartlic.Errorf(smartlic.EUnauthorized, "", "no credentials")
	}
	if q.VA != "" {
		sa, va, err := m.getVAAs(ctx, tx, PermLicenseView, q.SA, q.VA)
		if err != nil {
			return scope, nil, err
		}
		if !q.Rollup {
			add(sa, va)
			return scope, where, nil
		}
		all, err := tx.AllVirtualAccounts(ctx, sa.ID)
		if err != nil {
			return scope, nil, err
		}
		// Roles reach down the tree, so every VA below a viewable one is
		// viewable too.
		add(sa, newVATree(all).subtree(va.ID)...)
		return scope, where, nil
	}
	var accounts []smartlic.SmartAccount
	switch {
	case q.SA != "":
		sa, err := getSA(ctx, tx, q.SA)
		if err != nil {
			return scope, nil, err
		}
		if err := m.allowedAnywhere(ctx, tx, PermLicenseView, sa); err != nil {
			return scope, nil, err
		}
		accounts = []smartlic.SmartAccount{sa}
	case a.Role == smartlic.RoleOperator:
		scope.All = true
		return scope, where, nil
	default:
		var err error
		if accounts, err = m.visibleSmartAccounts(ctx, tx, smartlic.SmartAccountFilter{}, smartlic.Page{Limit: maxSearchAccounts}); err != nil {
			return scope, nil, err
		}
	}
	for _, sa := range accounts {
		all, err := tx.AllVirtualAccounts(ctx, sa.ID)
		if err != nil {
			return scope, nil, err
		}
		whole, err := m.allowed(ctx, tx, a, PermLicenseView, &sa, nil)
		if err != nil {
			return scope, nil, err
		}
		for _, va := range all {
			ok := whole
			if !ok {
				if ok, err = m.allowed(ctx, tx, a, PermLicenseView, &sa, &va); err != nil {
					return scope, nil, err
				}
			}
			if ok {
				add(sa, va)
			}
		}
	}
	return scope, where, nil
}
