package wire

import "github.com/smartlic/smartlic"

// ReportingRuleRequest is one license class's rule in a policy request. The
// bounds repeat smartlic.MaxPolicyDays so that the OpenAPI document shows
// them; the domain checks them again.
type ReportingRuleRequest struct {
	FirstReportDays        int  `json:"first_report_days" minimum:"0" maximum:"3650" doc:"Days after first use by which the first report is due; 0: no first-report deadline"`
	ReportingFrequencyDays int  `json:"reporting_frequency_days" minimum:"0" maximum:"3650" doc:"Days between periodic reports; 0: no periodic report"`
	ReportAfterChangeDays  int  `json:"report_after_change_days" minimum:"0" maximum:"3650" doc:"Days after a usage change by which it must be reported; 0: no deadline"`
	AckRequired            bool `json:"ack_required" doc:"A report counts only once the manager has acknowledged it"`
}

// PolicyRulesRequest holds one rule per license class; all four are required.
type PolicyRulesRequest struct {
	UnenforcedPerpetual    ReportingRuleRequest `json:"unenforced_perpetual"`
	UnenforcedSubscription ReportingRuleRequest `json:"unenforced_subscription"`
	Enforced               ReportingRuleRequest `json:"enforced"`
	ExportControlled       ReportingRuleRequest `json:"export_controlled"`
}

// PolicyRequest sets a policy.
type PolicyRequest struct {
	Name        string             `json:"name" minLength:"1" maxLength:"64" doc:"A name people recognise the policy by"`
	Classes     PolicyRulesRequest `json:"classes"`
	BaseVersion int                `json:"base_version,omitempty" minimum:"0" doc:"The version this edit started from: refused with 409 if another edit was stored since; 0 or absent: no check"`
}

func (r ReportingRuleRequest) rule() smartlic.ReportingRule {
	return smartlic.ReportingRule{FirstReportDays: r.FirstReportDays, ReportingFrequencyDays: r.ReportingFrequencyDays,
		ReportAfterChangeDays: r.ReportAfterChangeDays, AckRequired: r.AckRequired}
}

func fromRule(r smartlic.ReportingRule) ReportingRuleRequest {
	return ReportingRuleRequest{FirstReportDays: r.FirstReportDays, ReportingFrequencyDays: r.ReportingFrequencyDays,
		ReportAfterChangeDays: r.ReportAfterChangeDays, AckRequired: r.AckRequired}
}

// Input returns the service input.
func (r PolicyRequest) Input() smartlic.PolicyInput {
	c := r.Classes
	return smartlic.PolicyInput{Name: r.Name, BaseVersion: r.BaseVersion, Rules: smartlic.PolicyRules{
		UnenforcedPerpetual: c.UnenforcedPerpetual.rule(), UnenforcedSubscription: c.UnenforcedSubscription.rule(),
		Enforced: c.Enforced.rule(), ExportControlled: c.ExportControlled.rule(),
	}}
}

// FromPolicyInput is the request body of in.
func FromPolicyInput(in smartlic.PolicyInput) PolicyRequest {
	c := in.Rules
	return PolicyRequest{Name: in.Name, BaseVersion: in.BaseVersion, Classes: PolicyRulesRequest{
		UnenforcedPerpetual: fromRule(c.UnenforcedPerpetual), UnenforcedSubscription: fromRule(c.UnenforcedSubscription),
		Enforced: fromRule(c.Enforced), ExportControlled: fromRule(c.ExportControlled),
	}}
}
