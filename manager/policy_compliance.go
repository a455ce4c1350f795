package manager

import (
	"context"
	"slices"

	"github.com/smartlic/smartlic"
)

// maxPolicyInstances bounds the policy-mode instances one overdue
// computation reads per Smart Account. Overdue state depends on each
// instance's own report times and on the policy of its VA, so it is
// computed when read rather than kept in a counter; past this many
// instances the counts and alerts cover the first ones by id.
const maxPolicyInstances = 10_000

// reportingView computes the reporting state of one Smart Account's
// instances: the policy of each VA, and the class of each license type.
type reportingView struct {
	policies policyResolver
	types    map[string]smartlic.LicenseType
	now      smartlic.Clock
}

func (m *Manager) reportingView(ctx context.Context, tx smartlic.Tx, saID string) (reportingView, error) {
	v := reportingView{now: m.clock}
	var err error
	if v.policies, err = m.policies(ctx, tx, saID); err != nil {
		return v, err
	}
	ids := make([]string, 0, len(v.policies.tree.byID))
	for id := range v.policies.tree.byID {
		ids = append(ids, id)
	}
	v.types, err = licenseTypesOf(ctx, tx, ids)
	return v, err
}

// of is the reporting state of a policy-mode instance, nil for others.
func (v reportingView) of(i smartlic.Instance) *smartlic.PolicyReporting {
	if i.Mode != smartlic.ModePolicy {
		return nil
	}
	r := smartlic.ReportingOf(i, v.policies.forVA(i.VirtualAccountID), v.types, v.now.Now())
	return &r
}

// policyFor is the policy in force for an instance: its VA's.
func (m *Manager) policyFor(ctx context.Context, tx smartlic.Tx, inst smartlic.Instance) (smartlic.Policy, error) {
	r, err := m.policies(ctx, tx, inst.SmartAccountID)
	if err != nil {
		return smartlic.Policy{}, err
	}
	return r.forVA(inst.VirtualAccountID), nil
}

// withReporting sets Reporting on the policy-mode instances of list (all
// of one Smart Account); it reads nothing when none is in policy mode.
func (m *Manager) withReporting(ctx context.Context, tx smartlic.Tx, saID string, list []smartlic.Instance) error {
	var v *reportingView
	for i := range list {
		if list[i].Mode != smartlic.ModePolicy {
			continue
		}
		if v == nil {
			rv, err := m.reportingView(ctx, tx, saID)
			if err != nil {
				return err
			}
			v = &rv
		}
		list[i].Reporting = v.of(list[i])
	}
	return nil
}

// withReportingAcross is withReporting for a list that may span Smart
// Accounts (a search): each account's policies are read once.
func (m *Manager) withReportingAcross(ctx context.Context, tx smartlic.Tx, list []smartlic.Instance) error {
	views := map[string]*reportingView{}
	for i := range list {
		if list[i].Mode != smartlic.ModePolicy {
			continue
		}
		v := views[list[i].SmartAccountID]
		if v == nil {
			rv, err := m.reportingView(ctx, tx, list[i].SmartAccountID)
			if err != nil {
				return err
			}
			v = &rv
			views[list[i].SmartAccountID] = v
		}
		list[i].Reporting = v.of(list[i])
	}
	return nil
}

// overduePolicyInstances returns the Smart Account's policy-mode instances
// that are overdue now, with Reporting set.
func (m *Manager) overduePolicyInstances(ctx context.Context, tx smartlic.Tx, saID string) ([]smartlic.Instance, error) {
	insts, err := tx.PolicyInstances(ctx, saID, maxPolicyInstances)
	if err != nil || len(insts) == 0 {
		return nil, err
	}
	v, err := m.reportingView(ctx, tx, saID)
	if err != nil {
		return nil, err
	}
	var out []smartlic.Instance
	for _, i := range insts {
		if i.Reporting = v.of(i); i.Reporting != nil && i.Reporting.Overdue {
			out = append(out, i)
		}
	}
	return out, nil
}

// withOverdue sets OverdueInstances on license view rows: how many
// policy-mode instances in vaIDs that use the row's license type are
// overdue for reporting. Rows are per license type here (one VA, or rolled
// up over vaIDs), so an instance counts once per license type it uses.
func (m *Manager) withOverdue(ctx context.Context, tx smartlic.Tx, saID string, vaIDs []string, pools []smartlic.Pool, err error) ([]smartlic.Pool, error) {
	if err != nil {
		return pools, err
	}
	// Read whether or not there are rows, so that a view runs the same
	// statements however many license types it holds.
	overdue, err := m.overduePolicyInstances(ctx, tx, saID)
	if err != nil || len(overdue) == 0 {
		return pools, err
	}
	inScope := make(map[string]bool, len(vaIDs))
	for _, id := range vaIDs {
		inScope[id] = true
	}
	byType := map[string]int64{}
	for _, i := range overdue {
		if !inScope[i.VirtualAccountID] {
			continue
		}
		for _, u := range i.Usage {
			if u.Count > 0 {
				byType[u.LicenseTypeID]++
			}
		}
	}
	pools = slices.Clone(pools) // a kept view is shared
	for k := range pools {
		pools[k].OverdueInstances = byType[pools[k].LicenseTypeID]
	}
	return pools, nil
}
