package agent

import (
	"maps"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
)

// Mode is how an instance is licensed at a moment.
type Mode string

const (
	ModeEvaluation        Mode = "evaluation"         // not registered, evaluation period left (or not started)
	ModeEvaluationExpired Mode = "evaluation_expired" // not registered, 90 days of evaluation used up
	ModeRegistered        Mode = "registered"         // holds an ID certificate
	ModeReserved          Mode = "reserved"           // not registered, holds an installed reservation
)

// LicenseState is the standing of one license the instance uses.
type LicenseState string

const (
	LicenseAuthorized      LicenseState = "authorized"        // the manager counted it and the pool covers it
	LicenseOutOfCompliance LicenseState = "out_of_compliance" // counted, but the pool is in overage
	LicenseNotAuthorized   LicenseState = "not_authorized"    // refused: enforced pool empty or export control
	// LicensePending: used since the last authorization (or never
	// authorized); the next authorization request will report it.
	LicensePending              LicenseState = "authorization_pending"
	LicenseAuthorizationExpired LicenseState = "authorization_expired" // 90 days without a successful authorization
	LicenseEvaluation           LicenseState = "evaluation"
	// LicenseReserved: covered by the installed reservation;
	// LicenseNotReserved: a reservation is installed but does not cover
	// this license or this many.
	LicenseReserved          LicenseState = "reserved"
	LicenseNotReserved       LicenseState = "not_reserved"
	LicenseEvaluationExpired LicenseState = "evaluation_expired"
)

// Status is an instance's licensing standing at one moment: what `show
// license summary|status|usage` display, and what `-o json` prints.
type Status struct {
	At            time.Time            `json:"at"`
	UDI           smartlic.UDI         `json:"udi"`
	Hostname      string               `json:"hostname,omitempty"`
	Mode          Mode                 `json:"mode"`
	Evaluation    EvaluationStatus     `json:"evaluation"`
	Registration  *RegistrationStatus  `json:"registration,omitempty"`  // nil when not registered
	Authorization *AuthorizationStatus `json:"authorization,omitempty"` // nil when not registered
	Licenses      []License            `json:"licenses"`
	// ManagerKeyIDs are the manager keys the instance trusts (pinned or
	// configured); empty before the first registration.
	ManagerKeyIDs []string `json:"manager_key_ids"`
	LastAttempt   *Attempt `json:"last_attempt,omitempty"`
	// Product is the product's enforcement configuration and throughput.
	Product ProductConfig `json:"product"`
	// SLACs are the export-control authorizations installed; PendingSLACs
	// the offline requests waiting for their authorization code.
	SLACs        []SLACView `json:"slacs"`
	PendingSLACs []string   `json:"pending_slacs,omitempty"` // license tags
	// SLACReturns are the return codes of SLACs removed offline, to be
	// entered in the manager (kept until newer ones push them out).
	SLACReturns []SLACReturnCode `json:"slac_returns,omitempty"`
	// CancelledSLACs are the SLACs the manager said were cancelled by an
	// administrator, removed from the device.
	CancelledSLACs []CancelledSLAC `json:"cancelled_slacs,omitempty"`
	// DroppedUsage are the usage lines the latest authorization request
	// dropped because the manager refused them.
	DroppedUsage []DroppedUsage `json:"dropped_usage,omitempty"`
	// Insufficient names the licenses the last authorization did not fully
	// cover; with soft enforcement, usage cannot grow meanwhile.
	Insufficient []string `json:"insufficient,omitempty"`
	// ClockRollback is set when the clock is behind the latest time the
	// agent saw: timers keep reading that time, so nothing is extended.
	ClockRollback *ClockRollback `json:"clock_rollback,omitempty"`
	// Policy is set in policy mode (Smart Licensing Using Policy).
	Policy *PolicyStatus `json:"policy,omitempty"`
	// Reservation is the installed or requested reservation; nil when
	// reservation is not enabled.
	Reservation *ReservationStatus `json:"reservation,omitempty"`
}

// SLACView is an installed SLAC as the status shows it.
type SLACView struct {
	ID             string    `json:"id"`
	LicenseTag     string    `json:"tag"`
	SmartAccount   string    `json:"smart_account"`
	VirtualAccount string    `json:"virtual_account"`
	IssuedAt       time.Time `json:"issued_at"`
}

// EvaluationStatus is the 90-day evaluation clock.
type EvaluationStatus struct {
	// InUse: the instance is unregistered and has used a license, so the
	// clock is running.
	InUse     bool       `json:"in_use"`
	StartedAt *time.Time `json:"started_at,omitempty"` // first use while unregistered
	// RemainingSeconds and DaysRemaining (rounded up, so the last day shows
	// as 1) are what is left of the period; 0 once expired.
	RemainingSeconds int64 `json:"remaining_seconds"`
	DaysRemaining    int   `json:"days_remaining"`
	// ExpiresAt is when the period runs out if the clock keeps running.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Expired   bool       `json:"expired"`
}

// ReservationStatus describes the license reservation.
type ReservationStatus struct {
	// Status: "none", "requested" (request code made, nothing installed)
	// or "installed".
	Status      string            `json:"status"`
	Kind        string            `json:"kind,omitempty"` // specific or permanent
	Sequence    uint64            `json:"sequence,omitempty"`
	Licenses    []rescode.License `json:"licenses,omitempty"`
	RequestedAt *time.Time        `json:"requested_at,omitempty"`
	InstalledAt *time.Time        `json:"installed_at,omitempty"`
}

// RegistrationStatus describes the ID certificate.
type RegistrationStatus struct {
	InstanceID       string    `json:"instance_id"`
	SmartAccount     string    `json:"smart_account"` // domain
	SmartAccountName string    `json:"smart_account_name"`
	VirtualAccount   string    `json:"virtual_account"`
	RegisteredAt     time.Time `json:"registered_at"`
	IDCertSerial     string    `json:"id_cert_serial"`
	IDCertIssuedAt   time.Time `json:"id_cert_issued_at"`
	IDCertRenewAfter time.Time `json:"id_cert_renew_after"`
	IDCertExpiresAt  time.Time `json:"id_cert_expires_at"`
	// RenewalDue: renew_after (180 days) has passed.
	RenewalDue bool `json:"renewal_due"`
	// Expired: the ID certificate (365 days) ran out without renewal.
	Expired     bool     `json:"expired"`
	LastRenewal *Attempt `json:"last_renewal,omitempty"`
}

// AuthorizationStatus describes the last authorization.
type AuthorizationStatus struct {
	// Status is pending until the first authorization, then authorized,
	// out_of_compliance (some license not authorized) or
	// authorization_expired (90 days without contact).
	Status     smartlic.AuthorizationState `json:"status"`
	IssuedAt   *time.Time                  `json:"issued_at,omitempty"`
	RenewAfter *time.Time                  `json:"renew_after,omitempty"`
	ExpiresAt  *time.Time                  `json:"expires_at,omitempty"`
	// UsageChanged: the usage differs from what was last authorized.
	UsageChanged bool `json:"usage_changed"`
	// RenewalDue: an authorization request is due — never authorized,
	// renew_after (30 days) passed, or the usage changed.
	RenewalDue  bool     `json:"renewal_due"`
	Expired     bool     `json:"expired"`
	LastAttempt *Attempt `json:"last_attempt,omitempty"`
}

// License is one license the instance uses and its standing.
type License struct {
	Tag    string       `json:"tag"`
	Count  int64        `json:"count"`
	Status LicenseState `json:"status"`
	// Enforcement is the license's class as the product knows it, and
	// Decision whether the product may use it now and why.
	Enforcement smartlic.Enforcement `json:"enforcement"`
	Decision    Decision             `json:"decision"`
}

// StatusAt computes the instance's standing at now. It reads only the
// state, so every 30/90/180/365-day timer can be checked for any moment.
func (s State) StatusAt(now time.Time) Status {
	st := Status{
		At: now, UDI: s.UDI, Hostname: s.Hostname,
		Evaluation:    s.Evaluation.statusAt(now, s.Registration == nil && s.Policy == nil && !s.Reservation.Installed()),
		Licenses:      []License{},
		ManagerKeyIDs: keyIDs(s.ManagerKeys),
		LastAttempt:   copyAttempt(s.LastAttempt),
		Product:       s.Product,
		SLACs:         []SLACView{},
		Insufficient:  insufficient(s),
	}
	st.Product.Licenses = maps.Clone(s.Product.Licenses)
	for _, sl := range s.SLACs {
		st.SLACs = append(st.SLACs, SLACView{ID: sl.SLAC.ID, LicenseTag: sl.SLAC.LicenseTag, SmartAccount: sl.SLAC.SmartAccount,
			VirtualAccount: sl.SLAC.VirtualAccount, IssuedAt: sl.SLAC.IssuedAt})
	}
	for _, p := range s.PendingSLACs {
		st.PendingSLACs = append(st.PendingSLACs, p.LicenseTag)
	}
	st.SLACReturns = slices.Clone(s.SLACReturns)
	st.CancelledSLACs = slices.Clone(s.CancelledSLACs)
	st.DroppedUsage = slices.Clone(s.DroppedUsage)
	reserved := s.Reservation.Installed()
	switch {
	case s.Registration != nil:
		st.Mode = ModeRegistered
	case reserved:
		st.Mode = ModeReserved
	case st.Evaluation.Expired && st.Evaluation.StartedAt != nil:
		st.Mode = ModeEvaluationExpired
	default:
		st.Mode = ModeEvaluation
	}

	var auth *AuthorizationStatus
	if r := s.Registration; r != nil {
		c := r.IDCert
		st.Registration = &RegistrationStatus{
			InstanceID: c.InstanceID, SmartAccount: c.SmartAccount, SmartAccountName: c.SmartAccountName,
			VirtualAccount: c.VirtualAccount, RegisteredAt: r.RegisteredAt, IDCertSerial: c.Serial,
			IDCertIssuedAt: c.IssuedAt, IDCertRenewAfter: c.RenewAfter, IDCertExpiresAt: c.ExpiresAt,
			RenewalDue: !now.Before(c.RenewAfter), Expired: !now.Before(c.ExpiresAt),
			LastRenewal: copyAttempt(r.LastRenewal),
		}
		auth = r.authorizationStatusAt(now, s.Usage)
		st.Authorization = auth
	}

	for _, u := range s.Usage {
		l := License{Tag: u.LicenseTag, Count: u.Count, Enforcement: s.Product.enforcement(u.LicenseTag), Decision: decide(s, u.LicenseTag, u.Count, now)}
		switch n, any := s.Reservation.Reserved(u.LicenseTag); {
		case reserved && (any || u.Count <= n):
			l.Status = LicenseReserved
		case reserved && s.Registration == nil:
			l.Status = LicenseNotReserved
		case s.Registration == nil && st.Evaluation.Expired:
			l.Status = LicenseEvaluationExpired
		case s.Registration == nil:
			l.Status = LicenseEvaluation
		case auth.Expired:
			l.Status = LicenseAuthorizationExpired
		default:
			l.Status = LicensePending
			if a := s.Registration.Authorization; a != nil {
				for _, e := range a.Entitlements {
					if e.LicenseTag == u.LicenseTag && e.Count == u.Count {
						l.Status = LicenseState(e.Status)
					}
				}
			}
		}
		st.Licenses = append(st.Licenses, l)
	}
	if s.Policy != nil {
		s.policyStatusAt(&st, now)
	}
	st.Reservation = s.Reservation.statusOf()
	return st
}

func (r *Reservation) statusOf() *ReservationStatus {
	if r == nil || !r.Enabled {
		return nil
	}
	rs := &ReservationStatus{Status: "none", RequestedAt: copyTime(r.RequestedAt), InstalledAt: copyTime(r.InstalledAt)}
	switch {
	case r.Installed():
		a := r.Authorization
		rs.Status, rs.Kind, rs.Sequence, rs.Licenses = "installed", "specific", a.Sequence, slices.Clone(a.Licenses)
		if a.Permanent {
			rs.Kind = "permanent"
		}
	case r.RequestKey != nil:
		rs.Status = "requested"
	}
	return rs
}

func (e Evaluation) statusAt(now time.Time, running bool) EvaluationStatus {
	left := e.remainingAt(now)
	es := EvaluationStatus{
		InUse:     running && e.StartedAt != nil,
		StartedAt: copyTime(e.StartedAt),
	}
	if left <= 0 {
		es.Expired = true
	} else {
		es.RemainingSeconds = int64(left / time.Second)
		es.DaysRemaining = int((left + smartlic.Day - 1) / smartlic.Day)
	}
	if es.InUse && e.RunningSince != nil {
		exp := e.RunningSince.Add(smartlic.EvaluationPeriod - e.used())
		es.ExpiresAt = &exp
	}
	return es
}

func (e Evaluation) used() time.Duration { return time.Duration(e.UsedSeconds) * time.Second }

// remainingAt is what is left of the evaluation period at now.
func (e Evaluation) remainingAt(now time.Time) time.Duration {
	used := e.used()
	if e.RunningSince != nil && now.After(*e.RunningSince) {
		used += now.Sub(*e.RunningSince)
	}
	return smartlic.EvaluationPeriod - used
}

func (r *Registration) authorizationStatusAt(now time.Time, usage []smartlic.Usage) *AuthorizationStatus {
	as := &AuthorizationStatus{Status: smartlic.AuthPending, RenewalDue: true, LastAttempt: copyAttempt(r.LastAuthorization)}
	a := r.Authorization
	if a == nil {
		as.UsageChanged = len(usage) > 0
		return as
	}
	// The instance's standing follows the manager's own rule.
	exp := a.ExpiresAt
	as.Status = smartlic.Instance{AuthExpiresAt: &exp, Usage: a.Entitlements}.AuthorizationAt(now)
	as.IssuedAt, as.RenewAfter, as.ExpiresAt = copyTime(&a.IssuedAt), copyTime(&a.RenewAfter), copyTime(&a.ExpiresAt)
	as.Expired = !now.Before(a.ExpiresAt)
	as.UsageChanged = !sameUsage(usage, a.Entitlements)
	as.RenewalDue = as.UsageChanged || !now.Before(a.RenewAfter)
	return as
}

// sameUsage reports whether the requested lines are exactly those the
// authorization answered, tag for tag and count for count.
func sameUsage(requested, authorized []smartlic.Usage) bool {
	if len(requested) != len(authorized) {
		return false
	}
	counts := make(map[string]int64, len(authorized))
	for _, u := range authorized {
		counts[u.LicenseTag] = u.Count
	}
	for _, u := range requested {
		if c, ok := counts[u.LicenseTag]; !ok || c != u.Count {
			return false
		}
	}
	return true
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func copyAttempt(a *Attempt) *Attempt {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}
