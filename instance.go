package smartlic

import (
	"slices"
	"strings"
	"time"
)

// Registration timers of classic Smart Licensing.
const (
	IDCertValidity   = 365 * Day // an ID certificate lives a year…
	IDCertRenewAfter = 180 * Day // …and is renewed after six months
	AuthValidity     = 90 * Day  // an authorization lives 90 days without contact…
	AuthRenewAfter   = 30 * Day  // …and is renewed every 30
	EvaluationPeriod = 90 * Day  // unregistered instances run this long
	DeviceClockSkew  = 10 * time.Minute
)

// InstanceMode is how an instance is licensed.
type InstanceMode string

const (
	ModeRegistered InstanceMode = "registered" // classic registration with a token
	ModePolicy     InstanceMode = "policy"     // Smart Licensing Using Policy
	ModeReserved   InstanceMode = "reserved"   // SLR/PLR
)

// AuthStatus is the authorization of one usage line.
type AuthStatus string

const (
	Authorized      AuthStatus = "authorized"
	OutOfCompliance AuthStatus = "out_of_compliance" // counted, but the pool is in overage
	NotAuthorized   AuthStatus = "not_authorized"    // refused: enforced pool empty or export control
)

// Usage is one license type an instance consumes.
type Usage struct {
	LicenseTypeID string     `json:"license_type_id,omitempty"`
	LicenseTag    string     `json:"tag"`
	Count         int64      `json:"count"`
	Status        AuthStatus `json:"status,omitempty"` // in the last authorization the instance received
	// PoolStatus is the status of the VA's pool of this license now, set
	// when the instance is read: an instance authorized "out of compliance"
	// keeps that answer until it renews (up to 30 days), while a deposit or
	// a transfer may have made up the shortage meanwhile.
	PoolStatus PoolStatus `json:"pool_status,omitempty"`
}

// Instance is a registered product instance.
type Instance struct {
	ID                    string       `json:"id"`
	SmartAccountID        string       `json:"smart_account_id"`
	VirtualAccountID      string       `json:"virtual_account_id"`
	UDI                   UDI          `json:"udi"`
	Hostname              string       `json:"hostname"`
	ProductID             string       `json:"product_id"`
	Mode                  InstanceMode `json:"mode"`
	AllowExportControlled bool         `json:"allow_export_controlled"`
	PublicKey             []byte       `json:"-"`
	RegisteredAt          time.Time    `json:"registered_at"`
	LastContactAt         time.Time    `json:"last_contact_at"`
	AuthorizedAt          *time.Time   `json:"authorized_at,omitempty"`
	AuthExpiresAt         *time.Time   `json:"auth_expires_at,omitempty"`
	// IDCertExpiresAt is zero for an instance trusted under Using Policy
	// without a registration (it holds no ID certificate): omitted then.
	IDCertExpiresAt time.Time `json:"id_cert_expires_at,omitzero"`
	// Smart Licensing Using Policy (mode policy; see protocol_policy.go).
	// TrustSerial is the serial of the trust code in force; PublicKey is
	// nil while an offline trust code waits for its first report to bind
	// the instance's key.
	TrustSerial string     `json:"trust_serial,omitempty"`
	TrustedAt   *time.Time `json:"trusted_at,omitempty"`
	// FirstUseAt is the start of the earliest measurement the instance
	// reported; LastReportAt when the manager last accepted a report from
	// it; LastAckAt when it last issued the instance an ACK;
	// UsageChangedAt the start of the newest measurement that changed the
	// instance's counted usage. Overdue state is computed from these.
	FirstUseAt     *time.Time `json:"first_use_at,omitempty"`
	LastReportAt   *time.Time `json:"last_report_at,omitempty"`
	LastAckAt      *time.Time `json:"last_ack_at,omitempty"`
	UsageChangedAt *time.Time `json:"usage_changed_at,omitempty"`
	// Reporting is derived for a policy-mode instance when it is read:
	// next report due and whether it is overdue (ReportingOf).
	Reporting *PolicyReporting `json:"reporting,omitempty"`
	Usage     []Usage          `json:"usage"`
	// Authorization is derived (AuthorizationAt) when the instance is read.
	Authorization AuthorizationState `json:"authorization"`
	// PoolStatus is the most severe current status of the pools its usage
	// lines draw on (see WithPools), beside Authorization, which is as of
	// the last authorization.
	PoolStatus PoolStatus `json:"pool_status,omitempty"`
}

// WithPools sets the current PoolStatus of each usage line, and of the
// instance, from the pools of the instance's Virtual Account.
func (i *Instance) WithPools(pools []Pool) {
	byType := map[string]PoolStatus{}
	for _, p := range pools {
		if p.VirtualAccountID == i.VirtualAccountID {
			byType[p.LicenseTypeID] = p.Status
		}
	}
	i.PoolStatus = ""
	for k := range i.Usage {
		u := &i.Usage[k]
		u.PoolStatus = byType[u.LicenseTypeID]
		if u.PoolStatus != "" && (i.PoolStatus == "" || slices.Index(PoolStatuses, u.PoolStatus) < slices.Index(PoolStatuses, i.PoolStatus)) {
			i.PoolStatus = u.PoolStatus
		}
	}
}

// AuthorizationState is an instance's standing at a moment.
type AuthorizationState string

const (
	AuthPending AuthorizationState = "pending"    // registered, never asked for authorization
	AuthValid   AuthorizationState = "authorized" // every line authorized, not expired
	AuthOOC     AuthorizationState = "out_of_compliance"
	AuthExpired AuthorizationState = "authorization_expired" // no contact for 90 days
	// AuthNotReported: under Using Policy, no usage report accepted since
	// the instance entered policy mode, so no ACK says its compliance.
	AuthNotReported AuthorizationState = "not_reported"
)

// AuthorizationAt summarises the instance's authorization at now. Under
// Using Policy nothing asks for authorization: the standing is the
// compliance the last accepted report gave each usage line (what its ACK
// said), and before one there is none — whatever a classic authorization
// said before the instance moved to policy mode.
func (i Instance) AuthorizationAt(now time.Time) AuthorizationState {
	if i.Mode == ModePolicy {
		if i.LastReportAt == nil {
			return AuthNotReported
		}
		return complianceOf(i.Usage)
	}
	if i.AuthExpiresAt == nil {
		return AuthPending
	}
	if !now.Before(*i.AuthExpiresAt) {
		return AuthExpired
	}
	return complianceOf(i.Usage)
}

// complianceOf is AuthValid when every usage line is authorized, else
// AuthOOC.
func complianceOf(usage []Usage) AuthorizationState {
	for _, u := range usage {
		if u.Status != Authorized {
			return AuthOOC
		}
	}
	return AuthValid
}

// UDI is a Unique Device Identifier: product ID and serial number.
type UDI struct {
	PID string `json:"pid"`
	SN  string `json:"sn"`
}

func (u UDI) String() string { return u.PID + ":" + u.SN }

// ParseUDI parses "PID:SN".
func ParseUDI(field, s string) (UDI, error) {
	pid, sn, ok := strings.Cut(s, ":")
	if !ok {
		return UDI{}, Invalid(field, "must be PID:SN, e.g. C9300-24T:FOC2231X0AB (got %q)", s)
	}
	u := UDI{PID: pid, SN: sn}
	return u, u.Validate(field)
}

// Validate checks both halves of a UDI.
func (u UDI) Validate(field string) error {
	if err := ValidatePID(field, u.PID); err != nil {
		return Invalid(field, "product ID: %s", err.(*Error).Message)
	}
	if !isSN(u.SN) {
		return Invalid(field, "serial number must be 1-40 characters of A-Z, a-z, 0-9, '.', '_' or '-' (got %q)", u.SN)
	}
	return nil
}

// ValidateHostname checks an instance's host name (RFC 1123 labels, or
// empty).
func ValidateHostname(field, h string) error {
	if h == "" {
		return nil
	}
	if len(h) > 253 {
		return Invalid(field, "must be at most 253 characters")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return Invalid(field, "must be a host name of letters, digits and '-' labels (got %q)", h)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return Invalid(field, "must be a host name of letters, digits and '-' labels (got %q)", h)
			}
		}
	}
	return nil
}
