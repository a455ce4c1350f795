package smartlic

import "time"

// PolicyReporting is an instance's reporting state under Smart Licensing
// Using Policy, derived when the instance is read: the policy in force for
// its Virtual Account applied to the times the manager recorded.
type PolicyReporting struct {
	PolicyID      string `json:"policy_id"`
	PolicyName    string `json:"policy_name"`
	PolicyVersion int    `json:"policy_version"`
	// PolicyScope and PolicyVirtualAccount say where the policy is set.
	PolicyScope          PolicyScope `json:"policy_scope"`
	PolicyVirtualAccount string      `json:"policy_virtual_account,omitempty"`
	FirstUseAt           *time.Time  `json:"first_use_at,omitempty"`
	LastReportAt         *time.Time  `json:"last_report_at,omitempty"`
	LastAckAt            *time.Time  `json:"last_ack_at,omitempty"`
	LastChangeAt         *time.Time  `json:"last_change_at,omitempty"`
	ReportDue
}

// ReportingOf computes the reporting state of a policy-mode instance at
// now under policy p; types maps the instance's license type ids to the
// types, for their classes. A usage line whose type is missing from types
// counts as unenforced perpetual, the class with the loosest deadlines, so
// that a gap in the catalogue never invents an overdue instance.
func ReportingOf(i Instance, p Policy, types map[string]LicenseType, now time.Time) PolicyReporting {
	s := ReportingState{FirstUseAt: timeOr(i.FirstUseAt), LastReportAt: timeOr(i.LastReportAt), LastAckAt: timeOr(i.LastAckAt), LastChangeAt: timeOr(i.UsageChangedAt)}
	for _, u := range i.Usage {
		if u.Count <= 0 {
			continue
		}
		c := ClassUnenforcedPerpetual
		if lt, ok := types[u.LicenseTypeID]; ok {
			c = ClassOf(lt)
		}
		s.Classes = append(s.Classes, c)
	}
	return PolicyReporting{
		PolicyID: p.ID, PolicyName: p.Name, PolicyVersion: p.Version, PolicyScope: p.Scope, PolicyVirtualAccount: p.VirtualAccount,
		FirstUseAt: i.FirstUseAt, LastReportAt: i.LastReportAt, LastAckAt: i.LastAckAt, LastChangeAt: i.UsageChangedAt,
		ReportDue: p.NextReport(s, now),
	}
}

func timeOr(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
