package smartlic

import "context"

// PolicyService shows and edits Smart Licensing Using Policy policies. A
// custom policy is set on a Smart Account (va "") or on one Virtual
// Account; the vendor operator edits the default. Every edit stores a new
// version; deleting stores a version marked deleted, so history is never
// lost and version numbers never repeat.
type PolicyService interface {
	// ListPolicies lists the default policy in force and the current
	// custom policies of the Smart Account (its own first, then its VAs'
	// by name).
	ListPolicies(ctx context.Context, sa string) ([]Policy, error)
	// GetPolicy returns the custom policy set on the Smart Account (va "")
	// or on the VA itself; not_found when there is none.
	GetPolicy(ctx context.Context, sa, va string) (Policy, error)
	// EffectivePolicy returns the policy in force for a VA and where it is
	// set: the VA, its nearest ancestor with one, the Smart Account, or the
	// default.
	EffectivePolicy(ctx context.Context, sa, va string) (PolicyInForce, error)
	// SetPolicy stores a new version of the custom policy of the Smart
	// Account (va "") or of a VA.
	SetPolicy(ctx context.Context, sa, va string, in PolicyInput) (Policy, error)
	// DeletePolicy removes a custom policy: what it covered falls back to
	// the policy above it.
	DeletePolicy(ctx context.Context, sa, va string) error
	// PolicyHistory lists every version of the policy of the Smart Account
	// (va "") or of a VA, newest first, deleted ones included.
	PolicyHistory(ctx context.Context, sa, va string, p Page) ([]Policy, string, error)

	// GetDefaultPolicy returns the vendor default in force: the operator's
	// latest edit, or the built-in DefaultPolicy.
	GetDefaultPolicy(ctx context.Context) (Policy, error)
	// SetDefaultPolicy stores the operator's new version of the default.
	SetDefaultPolicy(ctx context.Context, in PolicyInput) (Policy, error)
	// ResetDefaultPolicy goes back to the built-in values, as a new version.
	ResetDefaultPolicy(ctx context.Context) (Policy, error)
	// DefaultPolicyHistory lists the stored versions of the default.
	DefaultPolicyHistory(ctx context.Context, p Page) ([]Policy, string, error)
}

// PolicyInput is a policy as a user sets it: a name and the four rules.
type PolicyInput struct {
	Name  string      `json:"name"`
	Rules PolicyRules `json:"classes"`
	// BaseVersion, when not 0, is the version this edit started from. If
	// another edit was stored meanwhile the edit is refused (conflict)
	// instead of silently replacing it: two people editing one form.
	BaseVersion int `json:"base_version,omitempty"`
}

// PolicyInForce is the policy that applies to a Virtual Account, and
// where it comes from.
type PolicyInForce struct {
	Policy Policy `json:"policy"`
	// VirtualAccountID and VirtualAccount name the VA the answer is about.
	VirtualAccountID string `json:"virtual_account_id"`
	VirtualAccount   string `json:"virtual_account"`
	// Inherited is true when the policy is not set on the VA itself
	// (an ancestor's, the Smart Account's or the default).
	Inherited bool `json:"inherited"`
}

// PolicyTx stores policy versions.
type PolicyTx interface {
	// InsertPolicyVersion stores p as a new version of its scope's policy.
	// A version number the scope already has is a conflict, so two
	// concurrent edits can never both become version N.
	InsertPolicyVersion(ctx context.Context, p Policy) error
	// LatestPolicyVersion returns the newest version stored for a scope
	// (see Policy.Subject), deleted or not; not_found when there is none.
	LatestPolicyVersion(ctx context.Context, subject string) (Policy, error)
	// CurrentPolicies returns the newest version of every custom policy of
	// a Smart Account whose newest version is not deleted.
	CurrentPolicies(ctx context.Context, saID string) ([]Policy, error)
	// PolicyVersions lists a scope's versions below version before (0: from
	// the newest), newest first.
	PolicyVersions(ctx context.Context, subject string, before, limit int) ([]Policy, error)
	// PolicyInstances returns up to limit instances of a Smart Account in
	// policy mode, with their usage lines, by id: what overdue state is
	// computed from.
	PolicyInstances(ctx context.Context, saID string, limit int) ([]Instance, error)
}

// Subject is the key of the policy's scope: DefaultPolicyID, the Smart
// Account id, or the Virtual Account id. One scope has one policy, with
// versions 1, 2, 3…
func (p Policy) Subject() string {
	switch p.Scope {
	case ScopeSmartAccount:
		return p.SmartAccountID
	case ScopeVirtualAccount:
		return p.VirtualAccountID
	}
	return DefaultPolicyID
}
