package agent

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"slices"
	"sort"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Smart Licensing Using Policy (docs/protocols.md). An instance in policy
// mode uses its licenses at once, with no registration and no evaluation
// period; it records a measurement of each license whenever its use
// changes, signs RUM reports of them with its own key once it holds a
// trust code, and keeps every report until the manager acknowledges it —
// online (Sync) or through files (SaveUsage, then Import of the ACK file).

// ModePolicy is the mode of an instance under Smart Licensing Using Policy.
const ModePolicy Mode = "policy"

// Operations of policy mode in LastAttempt.
const (
	OpTrust      = "trust"
	OpSync       = "sync"
	OpPolicyMode = "policy_mode"
	OpImport     = "import"
)

// EAuthorizationRequired refuses the use of an enforced or export-controlled
// license by a policy-mode instance that holds no authorization for it.
const EAuthorizationRequired = "authorization_required"

// PolicyState is what a policy-mode instance remembers.
type PolicyState struct {
	// PrivateKey signs the reports (and the trust request that binds it).
	PrivateKey ed25519.PrivateKey `json:"private_key"`
	// TrustCodeDoc is the trust code as signed; TrustCode its verified
	// payload. Nil until trust is established or imported.
	TrustCodeDoc *smartlic.Envelope  `json:"trust_code_doc,omitempty"`
	TrustCode    *smartlic.TrustCode `json:"trust_code,omitempty"`
	TrustedAt    *time.Time          `json:"trusted_at,omitempty"`
	// Restricted lists the licenses the product knows to be enforced or
	// export-controlled: they are used only with an authorization.
	Restricted map[string]smartlic.LicenseClass `json:"restricted,omitempty"`
	// Open is the current use of each license since its last change (or
	// since the last report); Closed the intervals that ended since the
	// last report.
	Open   []OpenMeasurement      `json:"open"`
	Closed []smartlic.Measurement `json:"closed"`
	// Pending are the signed reports the manager has not acknowledged.
	Pending []PendingReport `json:"pending"`
	// LastAckDoc is the last ACK as signed; LastAck its verified payload.
	LastAckDoc *smartlic.Envelope `json:"last_ack_doc,omitempty"`
	LastAck    *smartlic.UsageAck `json:"last_ack,omitempty"`
	// Rejected are the reports the manager refused in the last ACK.
	Rejected       []smartlic.ReportRejection `json:"rejected,omitempty"`
	FirstUseAt     *time.Time                 `json:"first_use_at,omitempty"`
	LastChangeAt   *time.Time                 `json:"last_change_at,omitempty"`
	LastReportAt   *time.Time                 `json:"last_report_at,omitempty"`
	LastFileSaveAt *time.Time                 `json:"last_file_save_at,omitempty"`
}

// OpenMeasurement is the use of one license since Since.
type OpenMeasurement struct {
	Tag   string    `json:"tag"`
	Count int64     `json:"count"`
	Since time.Time `json:"since"`
}

// PendingReport is a signed report waiting for its ACK.
type PendingReport struct {
	ID  string            `json:"id"`
	Doc smartlic.Envelope `json:"doc"`
}

// newPolicyState makes the state of a new policy-mode instance.
func newPolicyState(restricted map[string]smartlic.LicenseClass, now time.Time) (*PolicyState, error) {
	key, err := sign.NewKey(now)
	if err != nil {
		return nil, smartlic.Internal(err, "making the instance key")
	}
	for tag, c := range restricted {
		if err := smartlic.ValidateTag("restricted", tag); err != nil {
			return nil, err
		}
		if c != smartlic.ClassEnforced && c != smartlic.ClassExportControlled {
			return nil, smartlic.Invalid("restricted", "license %q: only enforced and export_controlled licenses are restricted (got %q)", tag, c)
		}
	}
	return &PolicyState{PrivateKey: ed25519.PrivateKey(key.PrivateKey), Restricted: restricted, Open: []OpenMeasurement{}, Closed: []smartlic.Measurement{}, Pending: []PendingReport{}}, nil
}

// recordUsage records a change of one license's count in policy mode:
// the running interval closes, a new one opens. A restricted license is
// refused unless coded says an authorization code installed on the
// instance covers count (restrictedCovered).
func (p *PolicyState) recordUsage(tag string, count int64, now time.Time, coded bool) error {
	if c, ok := p.Restricted[tag]; ok && count > 0 && !coded {
		what := "an enforced"
		if c == smartlic.ClassExportControlled {
			what = "an export-controlled"
		}
		return smartlic.Errorf(EAuthorizationRequired, "tag", "%s is %s license: under Smart Licensing Using Policy it is used only with an authorization code installed (reservation or SLAC), and this instance holds none", tag, what)
	}
	i := slices.IndexFunc(p.Open, func(o OpenMeasurement) bool { return o.Tag == tag })
	switch {
	case i >= 0 && p.Open[i].Count == count:
		return nil
	case i >= 0:
		o := p.Open[i]
		if now.After(o.Since) && o.Count > 0 {
			p.Closed = append(p.Closed, smartlic.Measurement{Tag: tag, Count: o.Count, Start: o.Since, End: now})
		}
		p.Open[i] = OpenMeasurement{Tag: tag, Count: count, Since: now}
	case count == 0:
		return nil
	default:
		p.Open = append(p.Open, OpenMeasurement{Tag: tag, Count: count, Since: now})
		sort.Slice(p.Open, func(i, j int) bool { return p.Open[i].Tag < p.Open[j].Tag })
	}
	if count > 0 && p.FirstUseAt == nil {
		p.FirstUseAt = &now
	}
	p.LastChangeAt = &now
	return nil
}

// cutReports turns what was measured since the last report into signed
// reports (several when there are more measurements than one report
// holds) and adds them to Pending. Every report carries the current count
// of every license in use, so the newest report alone says what the
// instance uses; an interval of a license whose use dropped to zero is
// reported once, then forgotten.
func (p *PolicyState) cutReports(udi smartlic.UDI, now time.Time) error {
	if p.TrustCode == nil {
		return smartlic.Errorf(smartlic.ENotTrusted, "trust", "this instance holds no trust code: establish trust with a token (smartlic device license smart trust idtoken TOKEN) or import a trust file")
	}
	ms := slices.Clone(p.Closed)
	open := p.Open[:0:0]
	for _, o := range p.Open {
		ms = append(ms, smartlic.Measurement{Tag: o.Tag, Count: o.Count, Start: o.Since, End: now})
		if o.Count > 0 {
			open = append(open, OpenMeasurement{Tag: o.Tag, Count: o.Count, Since: now})
		}
	}
	for first := true; first || len(ms) > 0; first = false {
		n := min(len(ms), smartlic.MaxMeasurementsPerReport)
		id := newNonce()
		doc, err := sign.Seal(smartlic.TypeRUMReport, p.TrustCode.InstanceID, p.PrivateKey, smartlic.RUMReport{
			ReportID: id, InstanceID: p.TrustCode.InstanceID, UDI: udi, CreatedAt: now, Measurements: ms[:n],
		})
		if err != nil {
			return smartlic.Internal(err, "signing a usage report")
		}
		p.Pending = append(p.Pending, PendingReport{ID: id, Doc: doc})
		ms = ms[n:]
	}
	if extra := len(p.Pending) - smartlic.MaxPendingReports; extra > 0 {
		p.Pending = slices.Clone(p.Pending[extra:])
	}
	p.Open, p.Closed, p.LastReportAt = open, []smartlic.Measurement{}, &now
	return nil
}

// usageFile bundles the pending reports (from index from, at most max)
// and, while the trust code names no key yet, the trust request that
// binds this instance's key to it.
func (p *PolicyState) usageFile(udi smartlic.UDI, hostname string, now time.Time, from, max int) (smartlic.UsageFile, error) {
	f := smartlic.UsageFile{Type: smartlic.FileTypeUsage, CreatedAt: now, Reports: []smartlic.Envelope{}}
	if p.TrustCode != nil && !p.TrustCode.Bound() {
		pub := p.PrivateKey.Public().(ed25519.PublicKey)
		req, err := sign.Seal(smartlic.TypeTrustRequest, base64.RawURLEncoding.EncodeToString(pub), p.PrivateKey, smartlic.TrustRequest{
			UDI: udi, Hostname: hostname, PublicKey: pub, SentAt: now, Nonce: newNonce(), TrustCode: p.TrustCodeDoc,
		})
		if err != nil {
			return f, smartlic.Internal(err, "signing the trust request")
		}
		f.TrustRequests = []smartlic.Envelope{req}
	}
	for _, r := range p.Pending[from:min(len(p.Pending), from+max)] {
		f.Reports = append(f.Reports, r.Doc)
	}
	return f, nil
}

// policyOf returns the policy state of a policy-mode instance.
func policyOf(st State) (*PolicyState, error) {
	if st.Policy == nil {
		return nil, smartlic.Errorf(smartlic.EConflict, "mode", "this instance is not in policy mode (it runs classic Smart Licensing); move it with policy-mode first")
	}
	return st.Policy, nil
}

// EstablishTrust asks the manager for a trust code with a registration
// token (one use of it is consumed). force replaces a trust the manager
// holds for this UDI with another key.
func (a *Agent) EstablishTrust(ctx context.Context, token string, force bool) error {
	a.op.Lock()
	defer a.op.Unlock()
	snap := a.State()
	p, err := policyOf(snap)
	if err != nil {
		return err
	}
	if token == "" {
		return smartlic.Invalid("token", "a registration token is required")
	}
	now := a.clock.Now()
	doc, tc, keys, err := a.exchangeTrust(ctx, snap, p, token, force, now)
	return a.finish(OpTrust, now, err, func(st *State) {
		st.Policy.TrustCodeDoc, st.Policy.TrustCode, st.Policy.TrustedAt = &doc, &tc, &now
		if a.trusted == nil {
			st.ManagerKeys = keys
		}
	})
}

func (a *Agent) exchangeTrust(ctx context.Context, snap State, p *PolicyState, token string, force bool, now time.Time) (smartlic.Envelope, smartlic.TrustCode, sign.KeySet, error) {
	var tc smartlic.TrustCode
	keys, err := a.managerKeys(ctx, snap)
	if err != nil {
		return smartlic.Envelope{}, tc, nil, err
	}
	svc, err := a.usageService()
	if err != nil {
		return smartlic.Envelope{}, tc, nil, err
	}
	pub := p.PrivateKey.Public().(ed25519.PublicKey)
	req, err := sign.Seal(smartlic.TypeTrustRequest, base64.RawURLEncoding.EncodeToString(pub), p.PrivateKey, smartlic.TrustRequest{
		UDI: snap.UDI, Hostname: snap.Hostname, PublicKey: pub, SentAt: now, Nonce: newNonce(), Token: token, Force: force,
	})
	if err != nil {
		return smartlic.Envelope{}, tc, nil, smartlic.Internal(err, "signing the trust request")
	}
	ans, err := svc.RequestTrust(ctx, req)
	if err != nil {
		return ans, tc, nil, err
	}
	tc, err = checkTrustCode(ans, keys, snap.UDI, pub)
	if err == nil {
		err = checkFresh("issued_at", tc.IssuedAt, now)
	}
	return ans, tc, keys, err
}

// managerKeys are the keys answers are verified with: configured, pinned,
// or (trust on first use) fetched now.
func (a *Agent) managerKeys(ctx context.Context, snap State) (sign.KeySet, error) {
	if keys := a.keysOf(snap); keys != nil {
		return keys, nil
	}
	ks, err := a.svc.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	keys := sign.NewKeySet(ks.Keys)
	if len(keys) == 0 {
		return nil, smartlic.Errorf(smartlic.ESignature, "keys", "the manager published no usable verification key")
	}
	return keys, nil
}

// checkTrustCode verifies a trust code and that it is this instance's:
// its UDI, and its key when it names one (pub nil accepts an unbound one).
func checkTrustCode(doc smartlic.Envelope, keys sign.KeySet, udi smartlic.UDI, pub ed25519.PublicKey) (smartlic.TrustCode, error) {
	var tc smartlic.TrustCode
	if err := sign.Open(doc, smartlic.TypeTrustCode, keys, &tc); err != nil {
		return tc, err
	}
	switch {
	case tc.UDI != udi:
		return tc, smartlic.Errorf(smartlic.ESignature, "udi", "the trust code is for %s, not this instance (%s)", tc.UDI, udi)
	case tc.InstanceID == "" || tc.Serial == "":
		return tc, smartlic.Errorf(smartlic.ESignature, "instance_id", "the trust code names no instance")
	case tc.Bound() && pub != nil && !pub.Equal(ed25519.PublicKey(tc.PublicKey)):
		return tc, smartlic.Errorf(smartlic.ESignature, "public_key", "the trust code is bound to another key than this instance's")
	case pub != nil && !tc.Bound():
		return tc, smartlic.Errorf(smartlic.ESignature, "public_key", "the manager answered a trust code bound to no key")
	}
	return tc, nil
}

// usageReporter is the part of the manager's protocol for Using Policy;
// the HTTP client and the manager implement it.
type usageReporter interface {
	RequestTrust(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error)
	ReportUsage(ctx context.Context, f smartlic.UsageFile) (smartlic.AckFile, error)
	MoveToPolicy(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error)
}

func (a *Agent) usageService() (usageReporter, error) {
	svc, ok := a.svc.(usageReporter)
	if !ok {
		return nil, smartlic.Invalid("service", "the configured device service does not speak Smart Licensing Using Policy")
	}
	return svc, nil
}

// Synced says what one Sync did.
type Synced struct {
	Sent     int                        `json:"sent"`
	Accepted int                        `json:"accepted"`
	Rejected []smartlic.ReportRejection `json:"rejected"`
	Pending  int                        `json:"pending"` // still unacknowledged
}

// Sync reports usage online: it cuts a report of what was measured since
// the last one, sends every unacknowledged report (in exchanges of at most
// smartlic.MaxOnlineReports), and keeps the manager's signed ACK. A
// product calls it when its usage changes and on the policy's schedule.
func (a *Agent) Sync(ctx context.Context) (Synced, error) {
	a.op.Lock()
	defer a.op.Unlock()
	var done Synced
	snap := a.State()
	if _, err := policyOf(snap); err != nil {
		return done, err
	}
	now := a.clock.Now()
	next := cloneState(snap)
	if err := next.Policy.cutReports(next.UDI, now); err != nil {
		return done, err
	}
	a.mu.Lock()
	err := a.commit(next)
	a.mu.Unlock()
	if err != nil {
		return done, err
	}
	svc, err := a.usageService()
	if err != nil {
		return done, err
	}
	keys, err := a.managerKeys(ctx, next)
	if err != nil {
		return done, a.finish(OpSync, now, err, func(*State) {})
	}
	for from := 0; from < len(next.Policy.Pending); from += smartlic.MaxOnlineReports {
		f, err := next.Policy.usageFile(next.UDI, next.Hostname, now, from, smartlic.MaxOnlineReports)
		if err != nil {
			return done, err
		}
		done.Sent += len(f.Reports)
		ans, err := svc.ReportUsage(ctx, f)
		if err == nil && len(ans.Acks) == 0 {
			err = refusedAll(ans)
		}
		if err == nil && len(ans.Acks) > 0 {
			a.follow(ctx, ans.Acks[0], next)
			if k := a.keysOf(next); k != nil {
				keys = k
			}
		}
		if err == nil {
			var ackErr error
			a.mu.Lock()
			st := cloneState(a.st)
			ackErr = a.applyAckFile(&st, ans, keys, &done)
			if ackErr == nil {
				if a.trusted == nil && st.ManagerKeys == nil {
					st.ManagerKeys = keys
				}
				ackErr = a.commit(st)
			}
			a.mu.Unlock()
			err = ackErr
		}
		if err != nil {
			return done, a.finish(OpSync, now, err, func(*State) {})
		}
	}
	done.Pending = len(a.State().Policy.Pending)
	return done, a.finish(OpSync, now, nil, func(*State) {})
}

// refusedAll says why the manager answered an exchange without an ACK:
// nothing the instance sent was heard as its own (its key is not the one
// the manager holds for it, or its trust request was refused). The
// trust request's refusal comes first, as the cause of the others.
func refusedAll(ans smartlic.AckFile) error {
	if len(ans.Rejections) == 0 {
		return smartlic.Errorf(smartlic.ENotFound, "acks", "the manager answered without an ACK for this instance")
	}
	r := ans.Rejections[0]
	for _, x := range ans.Rejections {
		if x.Kind == "trust_request" {
			r = x
			break
		}
	}
	return smartlic.Errorf(r.Code, r.Field, "the manager accepted nothing from this instance (%d of its reports refused): %s", ans.Summary.Rejected, r.Message)
}

// applyAckFile verifies the ACKs of a file addressed to this instance
// and applies them: acknowledged and rejected reports leave Pending, the
// ACK is kept, and a trust code the manager bound is installed. An ACK
// file without an ACK for this instance changes nothing.
func (a *Agent) applyAckFile(st *State, f smartlic.AckFile, keys sign.KeySet, done *Synced) error {
	p := st.Policy
	if p.TrustCode == nil {
		return smartlic.Errorf(smartlic.ENotTrusted, "trust", "this instance holds no trust code, so no ACK can be for it")
	}
	found := false
	for _, env := range f.Acks {
		var ack smartlic.UsageAck
		if err := sign.Open(env, smartlic.TypeUsageAck, keys, &ack); err != nil {
			return err
		}
		if ack.InstanceID != p.TrustCode.InstanceID {
			continue // another instance's, in a collector's or a site's file
		}
		if ack.UDI != st.UDI {
			return smartlic.Errorf(smartlic.ESignature, "udi", "the ACK is for %s, not this instance (%s)", ack.UDI, st.UDI)
		}
		if p.LastAck != nil && ack.IssuedAt.Before(p.LastAck.IssuedAt) {
			// An older ACK (a file imported late) still clears the
			// reports it acknowledges, but does not replace the newer one.
			p.removePending(ack)
			found = true
			continue
		}
		if ack.TrustCode != nil {
			tc, err := checkTrustCode(*ack.TrustCode, keys, st.UDI, p.PrivateKey.Public().(ed25519.PublicKey))
			if err != nil {
				return err
			}
			if tc.InstanceID != p.TrustCode.InstanceID {
				return smartlic.Errorf(smartlic.ESignature, "trust_code", "the ACK's trust code is for another instance")
			}
			doc := *ack.TrustCode
			p.TrustCodeDoc, p.TrustCode = &doc, &tc
		}
		accepted, rejected := p.removePending(ack)
		if done != nil {
			done.Accepted += accepted
			done.Rejected = append(done.Rejected, rejected...)
		}
		e := env
		p.LastAckDoc, p.LastAck, p.Rejected = &e, &ack, rejected
		found = true
	}
	if !found {
		return smartlic.Errorf(smartlic.ENotFound, "acks", "the ACK file holds no ACK for this instance (%s)", st.UDI)
	}
	return nil
}

// removePending drops the reports an ACK answered, accepted or rejected
// (a rejected report would be rejected again), and counts them.
func (p *PolicyState) removePending(ack smartlic.UsageAck) (accepted int, rejected []smartlic.ReportRejection) {
	answered := map[string]bool{}
	for _, id := range ack.Accepted {
		answered[id] = true
	}
	for _, r := range ack.Rejected {
		answered[r.ReportID] = true
	}
	kept := p.Pending[:0:0]
	for _, r := range p.Pending {
		if !answered[r.ID] {
			kept = append(kept, r)
		}
	}
	accepted = len(ack.Accepted)
	for _, r := range ack.Rejected {
		if slices.ContainsFunc(p.Pending, func(pr PendingReport) bool { return pr.ID == r.ReportID }) {
			rejected = append(rejected, r)
		}
	}
	p.Pending = kept
	return accepted, rejected
}

// SaveUsage cuts a report of what was measured since the last one and
// returns a usage file with every unacknowledged report, to carry to the
// manager offline (smartlic usage upload, or the portal's Usage Data
// Files page). The reports stay pending until the ACK file is imported.
func (a *Agent) SaveUsage() (smartlic.UsageFile, error) {
	a.op.Lock()
	defer a.op.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := policyOf(a.st); err != nil {
		return smartlic.UsageFile{}, err
	}
	now := a.clock.Now()
	next := cloneState(a.st)
	if err := next.Policy.cutReports(next.UDI, now); err != nil {
		return smartlic.UsageFile{}, err
	}
	f, err := next.Policy.usageFile(next.UDI, next.Hostname, now, 0, smartlic.MaxReportsPerFile)
	if err != nil {
		return f, err
	}
	next.Policy.LastFileSaveAt = &now
	return f, a.commit(next)
}

// Imported says what Import installed.
type Imported struct {
	Kind     string                     `json:"kind"` // smartlic.FileTypeTrust or smartlic.FileTypeAck
	Accepted int                        `json:"accepted,omitempty"`
	Rejected []smartlic.ReportRejection `json:"rejected,omitempty"`
}

// Import installs a file from the manager: a trust file (the trust code
// for this UDI is installed; it binds this instance's key with the next
// usage file or sync) or an ACK file (the acknowledged reports leave the
// pending list). Every document is verified before it is believed; the
// manager keys are the configured or pinned ones, or, for a device that
// never reached the manager, the ones the trust file carries (trust on
// first use, as at the first online exchange).
func (a *Agent) Import(data []byte) (Imported, error) {
	a.op.Lock()
	defer a.op.Unlock()
	var out Imported
	kind, err := smartlic.FileType(data)
	if err != nil {
		return out, err
	}
	out.Kind = kind
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := policyOf(a.st); err != nil {
		return out, err
	}
	now := a.clock.Now()
	next := cloneState(a.st)
	switch kind {
	case smartlic.FileTypeTrust:
		f, err := smartlic.ParseTrustFile(data)
		if err != nil {
			return out, err
		}
		keys := a.keysOf(next)
		if keys == nil {
			keys = sign.NewKeySet(f.Keys.Keys)
			if len(keys) == 0 {
				return out, smartlic.Errorf(smartlic.ESignature, "keys", "the trust file carries no manager key and none is configured")
			}
		}
		var code *smartlic.Envelope
		var tc smartlic.TrustCode
		for i := range f.TrustCodes {
			c, err := checkTrustCode(f.TrustCodes[i], keys, next.UDI, nil)
			if smartlic.ErrorField(err) == "udi" {
				continue
			}
			if err != nil {
				return out, err
			}
			if c.Bound() {
				return out, smartlic.Errorf(smartlic.ESignature, "trust_codes", "an offline trust code names no key; this one does")
			}
			code, tc = &f.TrustCodes[i], c
			break
		}
		if code == nil {
			return out, smartlic.Errorf(smartlic.ENotFound, "trust_codes", "the trust file has no trust code for this instance (%s)", next.UDI)
		}
		if a.trusted == nil && next.ManagerKeys == nil {
			next.ManagerKeys = keys
		}
		next.Policy.TrustCodeDoc, next.Policy.TrustCode, next.Policy.TrustedAt = code, &tc, &now
		// Reports signed for another instance id can never be accepted.
		next.Policy.Pending = slices.DeleteFunc(next.Policy.Pending, func(r PendingReport) bool { return r.Doc.KeyID != tc.InstanceID })
	case smartlic.FileTypeAck:
		f, err := smartlic.ParseAckFile(data)
		if err != nil {
			return out, err
		}
		keys := a.keysOf(next)
		if keys == nil {
			return out, smartlic.Errorf(smartlic.ESignature, "keys", "no manager key is pinned or configured to verify the ACK with; import the trust file first")
		}
		var done Synced
		if err := a.applyAckFile(&next, f, keys, &done); err != nil {
			return out, err
		}
		out.Accepted, out.Rejected = done.Accepted, done.Rejected
	default:
		return out, smartlic.Invalid("type", "a device imports trust files and ACK files, not %s", kind)
	}
	next.LastAttempt = attempt(OpImport, now, nil)
	return out, a.commit(next)
}

// MoveToPolicy moves a classic-registered instance to Smart Licensing
// Using Policy: the manager answers a trust code bound to the key its ID
// certificate names, and the usage it counts stays as it is. The instance
// keeps its key and its usage, now recorded as measurements.
func (a *Agent) MoveToPolicy(ctx context.Context) error {
	a.op.Lock()
	defer a.op.Unlock()
	snap := a.State()
	if snap.Policy != nil {
		return smartlic.Errorf(smartlic.EConflict, "mode", "this instance is already in policy mode")
	}
	if snap.Registration == nil {
		return notRegistered()
	}
	now := a.clock.Now()
	svc, err := a.usageService()
	var tc smartlic.TrustCode
	var ans smartlic.Envelope
	if err == nil {
		var req smartlic.Envelope
		req, err = deviceRequest(smartlic.TypePolicyModeRequest, snap, nil, now)
		if err == nil {
			ans, err = svc.MoveToPolicy(ctx, req)
		}
		if err == nil {
			r := snap.Registration
			tc, err = checkTrustCode(ans, a.keysOf(snap), snap.UDI, r.PrivateKey.Public().(ed25519.PublicKey))
			if err == nil && tc.InstanceID != r.IDCert.InstanceID {
				err = smartlic.Errorf(smartlic.ESignature, "instance_id", "the trust code is for another instance")
			}
		}
	}
	return a.finish(OpPolicyMode, now, err, func(st *State) {
		p := &PolicyState{PrivateKey: st.Registration.PrivateKey, TrustCodeDoc: &ans, TrustCode: &tc, TrustedAt: &now,
			Open: []OpenMeasurement{}, Closed: []smartlic.Measurement{}, Pending: []PendingReport{}}
		for _, u := range st.Usage {
			p.Open = append(p.Open, OpenMeasurement{Tag: u.LicenseTag, Count: u.Count, Since: now})
		}
		if len(p.Open) > 0 {
			// In use under the policy from now: a first report is due,
			// and the manager counts its deadline from now too.
			p.FirstUseAt, p.LastChangeAt = &now, &now
		}
		st.Policy, st.Registration = p, nil
		runEvaluation(st, now)
	})
}
