package agent

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
)

// Enforcement on the product (docs/protocols.md, "Enforcement on the
// product"). The manager counts and answers; the product decides what runs.
// The agent decides for it, from the product's own description of its
// licenses (ProductConfig) and the signed documents it holds:
//
//   - unenforced licenses are used freely and reported;
//   - enforced licenses need an authorization first: a registration (the
//     manager's authorization answers), a reservation or a policy;
//   - export-controlled licenses need a SLAC for the license, installed on
//     this device, and so do throughput tiers above 250 Mbps;
//   - with soft enforcement, while licenses are insufficient (the last
//     authorization has a license out of compliance or not authorized), a
//     change that adds usage is refused; what runs keeps running.

// ProductConfig is what the product knows of its own licenses.
type ProductConfig struct {
	// Licenses maps entitlement tags to their enforcement class. A tag not
	// listed is treated as unenforced, as before enforcement existed.
	Licenses map[string]smartlic.Enforcement `json:"licenses,omitempty"`
	// SoftEnforcement refuses new configuration that adds usage while
	// licenses are insufficient.
	SoftEnforcement bool `json:"soft_enforcement,omitempty"`
	// ThroughputLicense is the export-controlled license whose SLAC
	// unlocks throughput above smartlic.ThroughputExportLimit; empty means
	// a SLAC of any export-controlled license does.
	ThroughputLicense string `json:"throughput_license,omitempty"`
	// ThroughputMbps is the configured throughput; 0 when not set.
	ThroughputMbps int64 `json:"throughput_mbps,omitempty"`
}

// MaxThroughputMbps bounds the throughput setting.
const MaxThroughputMbps = 100_000

// rollbackTolerance is how far back the clock may step (an NTP correction)
// before the agent calls it a rollback.
const rollbackTolerance = time.Minute

// Validate checks the configuration.
func (c ProductConfig) Validate() error {
	for tag, e := range c.Licenses {
		if err := smartlic.ValidateTag("licenses", tag); err != nil {
			return err
		}
		switch e {
		case smartlic.Unenforced, smartlic.Enforced, smartlic.ExportControlled:
		default:
			return smartlic.Invalid("licenses", "license %q: enforcement must be %q, %q or %q (got %q)", tag,
				smartlic.Unenforced, smartlic.Enforced, smartlic.ExportControlled, e)
		}
	}
	if c.ThroughputLicense != "" && c.Licenses[c.ThroughputLicense] != smartlic.ExportControlled {
		return smartlic.Invalid("throughput_license", "license %q is not an export-controlled license of the product", c.ThroughputLicense)
	}
	if c.ThroughputMbps < 0 || c.ThroughputMbps > MaxThroughputMbps {
		return smartlic.Invalid("throughput", "must be between 0 and %d Mbps (got %d)", MaxThroughputMbps, c.ThroughputMbps)
	}
	return nil
}

func (c ProductConfig) enforcement(tag string) smartlic.Enforcement {
	if e, ok := c.Licenses[tag]; ok {
		return e
	}
	return smartlic.Unenforced
}

// Decision is whether the product may use a license now, and why.
type Decision struct {
	Allowed bool `json:"allowed"`
	// Reason says what allows or blocks it, for a person.
	Reason string `json:"reason"`
}

// ClockRollback reports a clock that went back behind the checkpoint.
type ClockRollback struct {
	Checkpoint time.Time `json:"checkpoint"` // the latest time the agent had seen
	Clock      time.Time `json:"clock"`      // what the clock says now
}

// now is the time every timer reads: the later of the clock and the
// checkpoint, so a clock set back extends nothing. Callers hold a.mu or
// read a snapshot.
func effectiveNow(st State, clock time.Time) time.Time {
	if clock.Before(st.Checkpoint) {
		return st.Checkpoint
	}
	return clock
}

// rollbackAt reports whether clock is behind the checkpoint by more than
// the tolerance.
func rollbackAt(st State, clock time.Time) *ClockRollback {
	if st.Checkpoint.IsZero() || !clock.Before(st.Checkpoint.Add(-rollbackTolerance)) {
		return nil
	}
	return &ClockRollback{Checkpoint: st.Checkpoint, Clock: clock}
}

// insufficient names the licenses the last authorization did not fully
// cover (out of compliance or not authorized), sorted.
func insufficient(st State) []string {
	r := st.Registration
	if r == nil || r.Authorization == nil {
		return nil
	}
	var out []string
	for _, e := range r.Authorization.Entitlements {
		if e.Status == smartlic.OutOfCompliance || e.Status == smartlic.NotAuthorized {
			out = append(out, e.LicenseTag)
		}
	}
	slices.Sort(out)
	return out
}

// slacFor returns the installed SLAC of tag, if any.
func slacFor(st State, tag string) *InstalledSLAC {
	for i := range st.SLACs {
		if st.SLACs[i].SLAC.LicenseTag == tag {
			return &st.SLACs[i]
		}
	}
	return nil
}

// throughputSLAC returns the SLAC that unlocks high throughput, if any.
func throughputSLAC(st State) *InstalledSLAC {
	for i := range st.SLACs {
		if st.Product.ThroughputLicense == "" || st.SLACs[i].SLAC.LicenseTag == st.Product.ThroughputLicense {
			return &st.SLACs[i]
		}
	}
	return nil
}

// decide is the rule for one license at count, at now.
func decide(st State, tag string, count int64, now time.Time) Decision {
	switch st.Product.enforcement(tag) {
	case smartlic.ExportControlled:
		s := slacFor(st, tag)
		switch {
		case s == nil:
			return Decision{Reason: "export-controlled: needs a SLAC for this device (request one online, or offline with a request code)"}
		case count > smartlic.SLACQuantity:
			return Decision{Reason: fmt.Sprintf("export-controlled: the SLAC covers %d, not %d", smartlic.SLACQuantity, count)}
		}
		return Decision{Allowed: true, Reason: "export-controlled: SLAC " + s.SLAC.ID + " installed on " + s.SLAC.IssuedAt.UTC().Format(time.DateOnly)}
	case smartlic.Enforced:
		return decideEnforced(st, tag, count, now)
	}
	return Decision{Allowed: true, Reason: "unenforced: used freely and reported"}
}

// decideEnforced is the rule of an enforced license: it needs an
// authorization, and any of the three the product can hold gives one — a
// registration (the manager's authorization answers), an installed
// reservation that covers the count (SLR, or PLR for any count), or Smart
// Licensing Using Policy (a trust code the manager signed; its ACKs then
// say whether the license is counted). The first that allows wins; when
// none does, the refusal of the one the instance holds says why.
func decideEnforced(st State, tag string, count int64, now time.Time) Decision {
	var refusals []Decision
	if r := st.Reservation; r.Installed() {
		d := decideReserved(r, tag, count)
		if d.Allowed {
			return d
		}
		refusals = append(refusals, d)
	}
	if st.Registration != nil {
		d := decideRegistered(st.Registration, tag, count, now)
		if d.Allowed {
			return d
		}
		refusals = append(refusals, d)
	}
	if st.Policy != nil {
		d := decidePolicy(st.Policy, tag, count)
		if d.Allowed {
			return d
		}
		refusals = append(refusals, d)
	}
	if len(refusals) > 0 {
		return refusals[0]
	}
	return Decision{Reason: "enforced: needs an authorization; register the instance, install a reservation or establish trust under Smart Licensing Using Policy"}
}

func decideReserved(r *Reservation, tag string, count int64) Decision {
	n, permanent := r.Reserved(tag)
	a := r.Authorization
	switch {
	case permanent:
		return Decision{Allowed: true, Reason: fmt.Sprintf("enforced: permanently reserved (authorization %d)", a.Sequence)}
	case n == 0:
		return Decision{Reason: fmt.Sprintf("enforced: the installed reservation (authorization %d) does not include it", a.Sequence)}
	case count > n:
		return Decision{Reason: fmt.Sprintf("enforced: %d reserved (authorization %d), not %d", n, a.Sequence, count)}
	}
	return Decision{Allowed: true, Reason: fmt.Sprintf("enforced: %d reserved (authorization %d)", n, a.Sequence)}
}

func decideRegistered(r *Registration, tag string, count int64, now time.Time) Decision {
	switch {
	case !now.Before(r.IDCert.ExpiresAt):
		return Decision{Reason: "enforced: the registration expired; register again"}
	case r.Authorization == nil:
		return Decision{Allowed: true, Reason: "enforced: registered, authorization pending (the next authorization request reports it)"}
	case !now.Before(r.Authorization.ExpiresAt):
		return Decision{Reason: "enforced: the authorization expired on " + r.Authorization.ExpiresAt.UTC().Format(time.DateOnly) + "; renew it"}
	}
	for _, e := range r.Authorization.Entitlements {
		if e.LicenseTag != tag {
			continue
		}
		if e.Status == smartlic.NotAuthorized {
			return Decision{Reason: "enforced: the manager did not authorize it (no license available in the Virtual Account)"}
		}
		if count > e.Count {
			return Decision{Allowed: true, Reason: fmt.Sprintf("enforced: %d authorized, %d pending authorization", e.Count, count-e.Count)}
		}
		return Decision{Allowed: true, Reason: "enforced: authorized by the manager on " + r.Authorization.IssuedAt.UTC().Format(time.DateOnly)}
	}
	return Decision{Allowed: true, Reason: "enforced: registered, authorization pending (the next authorization request reports it)"}
}

// decidePolicy: under Smart Licensing Using Policy the trust code is the
// manager's authorization of the instance, and its ACKs say, per license,
// what the manager counted. Before trust is established nothing enforced
// runs; a license the last ACK answered not_authorized is refused until a
// later ACK says otherwise.
func decidePolicy(p *PolicyState, tag string, count int64) Decision {
	if p.TrustCode == nil {
		return Decision{Reason: "enforced: Smart Licensing Using Policy without a trust code; establish trust (smartlic device license smart trust) first"}
	}
	if ack := p.LastAck; ack != nil {
		for _, u := range ack.Usage {
			if u.LicenseTag != tag {
				continue
			}
			if u.Status == smartlic.NotAuthorized {
				return Decision{Reason: "enforced: the manager's ACK of " + ack.IssuedAt.UTC().Format(time.DateOnly) + " did not authorize it (no license available)"}
			}
			if count > u.Count {
				return Decision{Allowed: true, Reason: fmt.Sprintf("enforced: %d acknowledged under policy, %d reported in the next report", u.Count, count-u.Count)}
			}
			return Decision{Allowed: true, Reason: "enforced: authorized by policy (ACK of " + ack.IssuedAt.UTC().Format(time.DateOnly) + ")"}
		}
	}
	return Decision{Allowed: true, Reason: "enforced: authorized by policy (trust code of " + p.TrustCode.IssuedAt.UTC().Format(time.DateOnly) + "); the next report's ACK counts it"}
}

// restrictedCovered reports whether an authorization code installed on
// the instance covers count of a license that Smart Licensing Using Policy
// restricts: a reservation for an enforced one, a SLAC for an
// export-controlled one.
func restrictedCovered(st State, tag string, count int64) bool {
	if st.Policy == nil {
		return false
	}
	switch st.Policy.Restricted[tag] {
	case smartlic.ClassEnforced:
		n, permanent := st.Reservation.Reserved(tag)
		return permanent || count <= n
	case smartlic.ClassExportControlled:
		return slacFor(st, tag) != nil && count <= smartlic.SLACQuantity
	}
	return false
}

// checkUsage refuses a change of usage the enforcement rules forbid: only
// an increase can be refused; stopping or lowering always works.
func checkUsage(st State, tag string, from, to int64, now time.Time) error {
	if to <= from {
		return nil
	}
	if st.Product.SoftEnforcement {
		if short := insufficient(st); len(short) > 0 {
			return smartlic.Errorf(smartlic.EInsufficient, "count",
				"soft enforcement: licenses are insufficient (%v); new configuration that adds usage is refused until licenses are available, what runs keeps running", short)
		}
	}
	d := decide(st, tag, to, now)
	if d.Allowed {
		return nil
	}
	code := smartlic.EForbidden
	if st.Product.enforcement(tag) == smartlic.ExportControlled {
		code = smartlic.EExportControl
	}
	return smartlic.Errorf(code, "tag", "%s %s", tag, d.Reason)
}

// checkThroughput refuses a throughput above the export limit without the
// SLAC that unlocks it.
func checkThroughput(st State, mbps int64) error {
	if mbps < 0 || mbps > MaxThroughputMbps {
		return smartlic.Invalid("throughput", "must be between 0 and %d Mbps (got %d)", MaxThroughputMbps, mbps)
	}
	if mbps <= smartlic.ThroughputExportLimit || mbps <= st.Product.ThroughputMbps && throughputSLAC(st) != nil {
		return nil
	}
	if throughputSLAC(st) == nil {
		which := "an export-controlled license"
		if st.Product.ThroughputLicense != "" {
			which = st.Product.ThroughputLicense
		}
		return smartlic.Errorf(smartlic.EExportControl, "throughput",
			"throughput above %d Mbps is export-controlled: it needs a SLAC for %s on this device (got %d Mbps)", smartlic.ThroughputExportLimit, which, mbps)
	}
	if st.Product.SoftEnforcement {
		if short := insufficient(st); len(short) > 0 && mbps > st.Product.ThroughputMbps {
			return smartlic.Errorf(smartlic.EInsufficient, "throughput",
				"soft enforcement: licenses are insufficient (%v); a higher throughput is refused until licenses are available", short)
		}
	}
	return nil
}

// ConfigureProduct replaces the product's enforcement configuration (not
// its throughput, which SetThroughput changes under the rules).
func (a *Agent) ConfigureProduct(c ProductConfig) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c.ThroughputMbps = a.st.Product.ThroughputMbps
	if err := c.Validate(); err != nil {
		return err
	}
	next := cloneState(a.st)
	next.Product = c
	next.Product.Licenses = maps.Clone(c.Licenses)
	return a.commit(next)
}

// SetThroughput sets the product's throughput in Mbps. Above 250 Mbps it
// needs a SLAC (see ProductConfig.ThroughputLicense); lowering it always
// works.
func (a *Agent) SetThroughput(mbps int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := checkThroughput(a.st, mbps); err != nil {
		return err
	}
	next := cloneState(a.st)
	next.Product.ThroughputMbps = mbps
	return a.commit(next)
}

// Decide says whether the product may use count licenses of tag now, and
// why: what a product asks before it enables a feature.
func (a *Agent) Decide(tag string, count int64) Decision {
	a.mu.Lock()
	defer a.mu.Unlock()
	return decide(a.st, tag, count, effectiveNow(a.st, a.clock.Now()))
}

func cloneEnforcement(c *State, st State) {
	c.Product.Licenses = maps.Clone(st.Product.Licenses)
	c.SLACs = slices.Clone(st.SLACs)
	for i := range c.SLACs {
		c.SLACs[i].Secret = slices.Clone(st.SLACs[i].Secret)
	}
	c.SLACReturns = slices.Clone(st.SLACReturns)
	c.CancelledSLACs = slices.Clone(st.CancelledSLACs)
	c.PendingSLACs = slices.Clone(st.PendingSLACs)
	for i := range c.PendingSLACs {
		c.PendingSLACs[i].Secret = slices.Clone(st.PendingSLACs[i].Secret)
	}
}
