package smartlic

import (
	"fmt"
	"time"
)

// LicenseClass groups license types by the reporting rules of Smart
// Licensing Using Policy: a policy sets one rule per class.
type LicenseClass string

const (
	ClassUnenforcedPerpetual    LicenseClass = "unenforced_perpetual"
	ClassUnenforcedSubscription LicenseClass = "unenforced_subscription"
	// ClassEnforced and ClassExportControlled hold whatever the term: their
	// use is authorized before it starts, so their rule is about the
	// report that follows, not about permission.
	ClassEnforced         LicenseClass = "enforced"
	ClassExportControlled LicenseClass = "export_controlled"
)

// LicenseClasses lists the classes in the order policies show them.
var LicenseClasses = []LicenseClass{ClassUnenforcedPerpetual, ClassUnenforcedSubscription, ClassEnforced, ClassExportControlled}

// ClassOf is the policy class of a license type.
func ClassOf(lt LicenseType) LicenseClass {
	switch lt.Enforcement {
	case Enforced:
		return ClassEnforced
	case ExportControlled:
		return ClassExportControlled
	}
	if lt.Term == TermSubscription {
		return ClassUnenforcedSubscription
	}
	return ClassUnenforcedPerpetual
}

// ParseLicenseClass checks a class name given by a user.
func ParseLicenseClass(field, s string) (LicenseClass, error) {
	for _, c := range LicenseClasses {
		if string(c) == s {
			return c, nil
		}
	}
	return "", Invalid(field, "must be one of %q, %q, %q or %q (got %q)", ClassUnenforcedPerpetual, ClassUnenforcedSubscription, ClassEnforced, ClassExportControlled, s)
}

// MaxPolicyDays bounds every day count of a policy: ten years is already
// longer than any product stays unreported in practice, and a bound keeps
// deadline arithmetic far from overflow.
const MaxPolicyDays = 3650

// ReportingRule is what a policy asks of one license class. A day count of
// 0 means "no such requirement": a first-report of 0 asks for no report
// after first use, a frequency of 0 asks for no periodic report, an
// after-change of 0 asks for no report after a change. That is how the
// default policy's enforced and export-controlled classes (0/0/0) read:
// their use is authorized beforehand, so reports are not deadlines.
type ReportingRule struct {
	// FirstReportDays: the first report is due this many days after the
	// instance first uses a license of the class.
	FirstReportDays int `json:"first_report_days"`
	// ReportingFrequencyDays: after a report, the next is due this many
	// days later, whether or not usage changed.
	ReportingFrequencyDays int `json:"reporting_frequency_days"`
	// ReportAfterChangeDays: a change in usage must be reported within this
	// many days.
	ReportAfterChangeDays int `json:"report_after_change_days"`
	// AckRequired: a report counts only once the manager has acknowledged
	// it (an offline upload counts when its ACK is issued).
	AckRequired bool `json:"ack_required"`
}

// validate checks the rule's day counts; prefix names the class in errors
// ("classes.enforced").
func (r ReportingRule) validate(prefix string) error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"first_report_days", r.FirstReportDays},
		{"reporting_frequency_days", r.ReportingFrequencyDays},
		{"report_after_change_days", r.ReportAfterChangeDays},
	} {
		if f.v < 0 || f.v > MaxPolicyDays {
			return Invalid(prefix+"."+f.name, "must be between 0 and %d days (got %d)", MaxPolicyDays, f.v)
		}
	}
	return nil
}

// PolicyRules holds one rule per license class. A struct rather than a map,
// so that a policy always has all four and the API schema names them.
type PolicyRules struct {
	UnenforcedPerpetual    ReportingRule `json:"unenforced_perpetual"`
	UnenforcedSubscription ReportingRule `json:"unenforced_subscription"`
	Enforced               ReportingRule `json:"enforced"`
	ExportControlled       ReportingRule `json:"export_controlled"`
}

// For is the rule of class c.
func (r PolicyRules) For(c LicenseClass) ReportingRule {
	if p := r.ptr(c); p != nil {
		return *p
	}
	return ReportingRule{}
}

// Set replaces the rule of class c.
func (r *PolicyRules) Set(c LicenseClass, rule ReportingRule) error {
	p := r.ptr(c)
	if p == nil {
		_, err := ParseLicenseClass("class", string(c))
		return err
	}
	*p = rule
	return nil
}

func (r *PolicyRules) ptr(c LicenseClass) *ReportingRule {
	switch c {
	case ClassUnenforcedPerpetual:
		return &r.UnenforcedPerpetual
	case ClassUnenforcedSubscription:
		return &r.UnenforcedSubscription
	case ClassEnforced:
		return &r.Enforced
	case ClassExportControlled:
		return &r.ExportControlled
	}
	return nil
}

// PolicyScope is where a policy applies.
type PolicyScope string

const (
	// ScopeDefault is the vendor's policy for every account without its
	// own: built in (DefaultPolicy), or the operator's stored edit of it.
	ScopeDefault PolicyScope = "default"
	// ScopeSmartAccount applies to every VA of one Smart Account without a
	// policy of its own.
	ScopeSmartAccount PolicyScope = "smart_account"
	// ScopeVirtualAccount applies to one VA and the VAs below it that have
	// none of their own.
	ScopeVirtualAccount PolicyScope = "virtual_account"
)

// Policy is a set of reporting rules under Smart Licensing Using Policy.
// Policies are versioned: an edit stores a new version, older versions stay
// for audit, and the ACK an instance receives names the version in force.
type Policy struct {
	// ID is stable across versions: it names the policy of one scope.
	ID               string      `json:"id"`
	Name             string      `json:"name"`
	Version          int         `json:"version"`
	Scope            PolicyScope `json:"scope"`
	SmartAccountID   string      `json:"smart_account_id,omitempty"`
	VirtualAccountID string      `json:"virtual_account_id,omitempty"`
	// VirtualAccount is the name of VirtualAccountID, filled when read.
	VirtualAccount string      `json:"virtual_account,omitempty"`
	Rules          PolicyRules `json:"classes"`
	// Deleted marks the version that removed a custom policy (or reset the
	// default to the built-in): the scope falls back from then on, and the
	// versions before it stay for audit.
	Deleted   bool      `json:"deleted,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// DefaultPolicyID names the built-in policy and its stored edits.
const DefaultPolicyID = "default"

// DefaultPolicy is the built-in vendor policy (the values of Cisco's
// default): unenforced perpetual licenses report within 365 days of first
// use and within 90 days of a change, never periodically; unenforced
// subscriptions report within 90 days, every 90 days and within 90 days of
// a change; enforced and export-controlled licenses, authorized before use,
// have no reporting deadline. Every class requires an ACK.
func DefaultPolicy() Policy {
	return Policy{
		ID:      DefaultPolicyID,
		Name:    "Default Policy",
		Version: 1,
		Scope:   ScopeDefault,
		Rules: PolicyRules{
			UnenforcedPerpetual:    ReportingRule{FirstReportDays: 365, ReportingFrequencyDays: 0, ReportAfterChangeDays: 90, AckRequired: true},
			UnenforcedSubscription: ReportingRule{FirstReportDays: 90, ReportingFrequencyDays: 90, ReportAfterChangeDays: 90, AckRequired: true},
			Enforced:               ReportingRule{AckRequired: true},
			ExportControlled:       ReportingRule{AckRequired: true},
		},
	}
}

// Validate checks what a user sets: the name, the scope and its account
// ids, and every day count within 0–MaxPolicyDays. ID, version and times
// are the store's.
func (p Policy) Validate() error {
	if err := ValidateName("name", p.Name, 64); err != nil {
		return err
	}
	switch p.Scope {
	case ScopeDefault:
		if p.SmartAccountID != "" || p.VirtualAccountID != "" {
			return Invalid("scope", "the default policy belongs to no account")
		}
	case ScopeSmartAccount:
		if p.SmartAccountID == "" {
			return Invalid("smart_account_id", "is required for a Smart Account policy")
		}
		if p.VirtualAccountID != "" {
			return Invalid("virtual_account_id", "must be empty for a Smart Account policy")
		}
	case ScopeVirtualAccount:
		if p.SmartAccountID == "" {
			return Invalid("smart_account_id", "is required for a Virtual Account policy")
		}
		if p.VirtualAccountID == "" {
			return Invalid("virtual_account_id", "is required for a Virtual Account policy")
		}
	default:
		return Invalid("scope", "must be %q, %q or %q (got %q)", ScopeDefault, ScopeSmartAccount, ScopeVirtualAccount, p.Scope)
	}
	for _, c := range LicenseClasses {
		if err := p.Rules.For(c).validate("classes." + string(c)); err != nil {
			return err
		}
	}
	return nil
}

// EffectivePolicy picks the policy in force for a Virtual Account: the
// policy of the nearest VA in chain (the VA itself first, then its parent,
// up to the root), else the Smart Account's, else def (the vendor default,
// built in or edited). policies holds the current version of each custom
// policy of the account.
func EffectivePolicy(chain []string, policies []Policy, def Policy) Policy {
	byVA := map[string]Policy{}
	var sa *Policy
	for i, p := range policies {
		switch p.Scope {
		case ScopeVirtualAccount:
			byVA[p.VirtualAccountID] = p
		case ScopeSmartAccount:
			sa = &policies[i]
		}
	}
	for _, va := range chain {
		if p, ok := byVA[va]; ok {
			return p
		}
	}
	if sa != nil {
		return *sa
	}
	return def
}

// ReportReason says which rule sets a report's due date.
type ReportReason string

const (
	ReasonFirstReport ReportReason = "first_report" // no report since first use
	ReasonFrequency   ReportReason = "frequency"    // the periodic report
	ReasonAfterChange ReportReason = "after_change" // usage changed since the last report
)

// ReportingState is what the manager (or a device) knows of an instance's
// reporting. Zero times mean "never".
type ReportingState struct {
	// FirstUseAt is when the instance first used a license under policy.
	FirstUseAt time.Time
	// LastReportAt is the latest report received; LastAckAt the latest
	// report acknowledged. A class that requires an ACK counts only the
	// latter.
	LastReportAt time.Time
	LastAckAt    time.Time
	// LastChangeAt is the latest change in usage. A change at or before
	// FirstUseAt is the first use itself, which the first-report rule
	// covers.
	LastChangeAt time.Time
	// Classes are the license classes the instance uses (or used before
	// its last change).
	Classes []LicenseClass
}

// ReportDue is when an instance's next report is due under a policy.
type ReportDue struct {
	// Due is the earliest deadline over the classes used; nil when the
	// policy asks for no report (no usage, or rules of 0 days).
	Due *time.Time `json:"next_report_due,omitempty"`
	// Reason and Class name the rule that sets Due.
	Reason ReportReason `json:"reason,omitempty"`
	Class  LicenseClass `json:"class,omitempty"`
	// Overdue is true once now is past Due.
	Overdue bool `json:"overdue"`
	// Message says, for a person, what is due or missed.
	Message string `json:"message,omitempty"`
}

// NextReport computes when the instance must report next and whether it is
// overdue at now. For each class used, the deadline is:
//   - never reported (as the class counts reports): first use + first-report
//     days (or, with no first-report rule, first use + frequency days);
//   - reported: last report + frequency days;
//   - and, when usage changed after the last counted report (and after
//     first use), no later than the change + after-change days.
//
// A rule of 0 days sets no deadline. The earliest deadline over the classes
// wins; at equal deadlines the first class in LicenseClasses order does.
func (p Policy) NextReport(s ReportingState, now time.Time) ReportDue {
	var out ReportDue
	consider := func(due time.Time, reason ReportReason, c LicenseClass) {
		if out.Due == nil || due.Before(*out.Due) {
			d := due
			out.Due, out.Reason, out.Class = &d, reason, c
		}
	}
	used := map[LicenseClass]bool{}
	for _, c := range s.Classes {
		used[c] = true
	}
	for _, c := range LicenseClasses {
		if !used[c] || s.FirstUseAt.IsZero() {
			continue
		}
		r := p.Rules.For(c)
		reported := s.LastAckAt
		if !r.AckRequired && s.LastReportAt.After(reported) {
			reported = s.LastReportAt
		}
		switch {
		case reported.IsZero() && r.FirstReportDays > 0:
			consider(s.FirstUseAt.Add(time.Duration(r.FirstReportDays)*Day), ReasonFirstReport, c)
		case reported.IsZero() && r.ReportingFrequencyDays > 0:
			// No first report asked for, but a periodic one is: the first
			// period runs from first use.
			consider(s.FirstUseAt.Add(time.Duration(r.ReportingFrequencyDays)*Day), ReasonFrequency, c)
		case r.ReportingFrequencyDays > 0:
			consider(reported.Add(time.Duration(r.ReportingFrequencyDays)*Day), ReasonFrequency, c)
		}
		changed := s.LastChangeAt.After(s.FirstUseAt) && s.LastChangeAt.After(reported)
		if changed && r.ReportAfterChangeDays > 0 {
			consider(s.LastChangeAt.Add(time.Duration(r.ReportAfterChangeDays)*Day), ReasonAfterChange, c)
		}
	}
	if out.Due == nil {
		return out
	}
	out.Overdue = now.After(*out.Due)
	out.Message = out.describe(p, s, now)
	return out
}

// describe says what is due, or what was missed, in a sentence.
func (d ReportDue) describe(p Policy, s ReportingState, now time.Time) string {
	r := p.Rules.For(d.Class)
	var rule string
	switch d.Reason {
	case ReasonFirstReport:
		rule = fmt.Sprintf("first report within %d days of first use on %s", r.FirstReportDays, s.FirstUseAt.Format(time.DateOnly))
	case ReasonFrequency:
		rule = fmt.Sprintf("a report every %d days", r.ReportingFrequencyDays)
	case ReasonAfterChange:
		rule = fmt.Sprintf("a report within %d days of the usage change on %s", r.ReportAfterChangeDays, s.LastChangeAt.Format(time.DateOnly))
	}
	if d.Overdue {
		return fmt.Sprintf("overdue since %s: %s policy %q requires %s", d.Due.Format(time.DateOnly), d.Class, p.Name, rule)
	}
	return fmt.Sprintf("due by %s (%d days left): %s policy %q requires %s", d.Due.Format(time.DateOnly), DaysLeft(now, *d.Due), d.Class, p.Name, rule)
}
