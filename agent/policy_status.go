package agent

import (
	"time"

	"github.com/smartlic/smartlic"
)

// LicenseInUse is a license a policy-mode instance uses: under Smart
// Licensing Using Policy, use comes first and the report follows.
const LicenseInUse LicenseState = "in_use"

// PolicyStatus is the standing of a policy-mode instance: trust, the
// policy of the last ACK, and reporting.
type PolicyStatus struct {
	// Trust: the trust code installed, if any. TrustBound is false while
	// an offline trust code waits for the first report to bind the key.
	Trusted          bool       `json:"trusted"`
	TrustBound       bool       `json:"trust_bound"`
	TrustSerial      string     `json:"trust_serial,omitempty"`
	InstanceID       string     `json:"instance_id,omitempty"`
	SmartAccount     string     `json:"smart_account,omitempty"`
	SmartAccountName string     `json:"smart_account_name,omitempty"`
	VirtualAccount   string     `json:"virtual_account,omitempty"`
	TrustInstalledAt *time.Time `json:"trust_installed_at,omitempty"`
	// Policy is the policy of the last ACK; nil before the first ACK,
	// when the product follows the default policy.
	Policy *smartlic.Policy `json:"policy,omitempty"`
	// LastAckAt and NextReportDue come from the last ACK.
	LastAckAt     *time.Time `json:"last_ack_at,omitempty"`
	LastAckID     string     `json:"last_ack_id,omitempty"`
	NextReportDue *time.Time `json:"next_report_due,omitempty"`
	// UsageChanged: the usage changed since the last report was made.
	UsageChanged bool `json:"usage_changed"`
	// ReportDue: a report should go out now — usage changed, reports wait
	// for their ACK, or the next report is due.
	ReportDue      bool                       `json:"report_due"`
	PendingReports int                        `json:"pending_reports"`
	LastReportAt   *time.Time                 `json:"last_report_at,omitempty"`
	LastFileSaveAt *time.Time                 `json:"last_file_save_at,omitempty"`
	FirstUseAt     *time.Time                 `json:"first_use_at,omitempty"`
	Rejected       []smartlic.ReportRejection `json:"rejected,omitempty"`
	// Restricted are the enforced and export-controlled licenses, used
	// only with an authorization.
	Restricted map[string]smartlic.LicenseClass `json:"restricted,omitempty"`
}

// policyStatusAt fills the policy-mode parts of st.
func (s State) policyStatusAt(st *Status, now time.Time) {
	p := s.Policy
	ps := &PolicyStatus{
		PendingReports: len(p.Pending), LastReportAt: copyTime(p.LastReportAt), LastFileSaveAt: copyTime(p.LastFileSaveAt),
		FirstUseAt: copyTime(p.FirstUseAt), Restricted: p.Restricted, TrustInstalledAt: copyTime(p.TrustedAt),
		Rejected: p.Rejected,
	}
	if tc := p.TrustCode; tc != nil {
		ps.Trusted, ps.TrustBound, ps.TrustSerial, ps.InstanceID = true, tc.Bound(), tc.Serial, tc.InstanceID
		ps.SmartAccount, ps.SmartAccountName, ps.VirtualAccount = tc.SmartAccount, tc.SmartAccountName, tc.VirtualAccount
	}
	if a := p.LastAck; a != nil {
		pol := a.Policy
		ps.Policy, ps.LastAckAt, ps.LastAckID, ps.NextReportDue = &pol, copyTime(&a.IssuedAt), a.AckID, copyTime(a.NextReportDue)
	}
	ps.UsageChanged = len(p.Closed) > 0 || p.LastChangeAt != nil && (p.LastReportAt == nil || p.LastChangeAt.After(*p.LastReportAt))
	ps.ReportDue = ps.UsageChanged || ps.PendingReports > 0 || (ps.NextReportDue != nil && !now.Before(*ps.NextReportDue))
	st.Policy = ps
	st.Mode = ModePolicy
	for i := range st.Licenses {
		st.Licenses[i].Status = LicenseInUse
	}
}
