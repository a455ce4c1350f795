package agent

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
)

// Operations of export control in LastAttempt.
const (
	OpRequestSLAC = "request_slac"
	OpReturnSLAC  = "return_slac"
)

// InstalledSLAC is a Smart License Authorization Code the device holds:
// the signed document, its verified payload, and the secret whose reveal
// returns it.
type InstalledSLAC struct {
	Doc    smartlic.Envelope `json:"doc"`
	SLAC   smartlic.SLACDoc  `json:"slac"`
	Secret []byte            `json:"secret"`
}

// PendingSLAC is an offline request waiting for its authorization code.
// Only the newest request of a license is kept: the code of an older one
// is refused (a reordered or replayed code).
type PendingSLAC struct {
	LicenseTag  string    `json:"tag"`
	Nonce       string    `json:"nonce"`
	Secret      []byte    `json:"secret"`
	RequestedAt time.Time `json:"requested_at"`
}

// SLACReturnCode is the return code of a SLAC removed offline.
type SLACReturnCode struct {
	LicenseTag string    `json:"tag"`
	SLACID     string    `json:"slac_id"`
	Code       string    `json:"code"`
	ReturnedAt time.Time `json:"returned_at"`
}

// maxSLACReturns is how many return codes the state keeps.
const maxSLACReturns = 10

// CancelledSLAC is a SLAC the manager said was cancelled by an
// administrator: the device removed it and may no longer use its license.
type CancelledSLAC struct {
	LicenseTag string    `json:"tag"`
	SLACID     string    `json:"slac_id"`
	LearnedAt  time.Time `json:"learned_at"` // the authorization that said so
}

// dropCancelledSLACs removes the installed SLACs the manager's (verified)
// authorization names as cancelled. The license is back in the manager's
// pool, so keeping it would use a license twice; a new SLAC must be asked
// for. Usage already configured stays, but adding usage of the license, or
// throughput above the limit, is refused from now on.
func dropCancelledSLACs(st *State, cancelled []string, at time.Time) {
	if len(cancelled) == 0 {
		return
	}
	st.SLACs = slices.DeleteFunc(st.SLACs, func(x InstalledSLAC) bool {
		if !slices.Contains(cancelled, x.SLAC.ID) {
			return false
		}
		st.CancelledSLACs = append(st.CancelledSLACs, CancelledSLAC{LicenseTag: x.SLAC.LicenseTag, SLACID: x.SLAC.ID, LearnedAt: at})
		return true
	})
	if n := len(st.CancelledSLACs); n > maxSLACReturns {
		st.CancelledSLACs = slices.Delete(st.CancelledSLACs, 0, n-maxSLACReturns)
	}
}

// slacService is the part of the manager's device protocol that issues
// and takes back SLACs; the HTTP client and the manager implement it.
type slacService interface {
	RequestSLAC(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error)
	ReturnSLACOnline(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error)
}

func newSecret() []byte {
	b := make([]byte, smartlic.SLACSecretBytes)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return b
}

// RequestSLAC asks the manager online for a SLAC for the export-controlled
// license tag. The instance must be registered with a token that allows
// export-controlled licenses, its Smart Account allowed export control by
// the vendor, and its Virtual Account must hold a license of the type.
// The answer is verified (signed by a trusted key, for this device and
// this request, issued now) before it is installed.
func (a *Agent) RequestSLAC(ctx context.Context, tag string) error {
	if err := smartlic.ValidateTag("tag", tag); err != nil {
		return err
	}
	a.op.Lock()
	defer a.op.Unlock()
	snap := a.State()
	if snap.Registration == nil {
		return smartlic.Errorf(smartlic.ENotRegistered, "", "this instance is not registered: ask for the SLAC offline with a request code, or register first")
	}
	if s := slacFor(snap, tag); s != nil {
		return smartlic.Errorf(smartlic.EConflict, "tag", "SLAC %s for %s is already installed", s.SLAC.ID, tag)
	}
	now := a.now()
	installed, err := a.exchangeSLAC(ctx, snap, tag, now)
	return a.finish(OpRequestSLAC, now, err, func(st *State) {
		st.SLACs = append(st.SLACs, installed)
		st.PendingSLACs = slices.DeleteFunc(st.PendingSLACs, func(p PendingSLAC) bool { return p.LicenseTag == tag })
	})
}

func (a *Agent) exchangeSLAC(ctx context.Context, snap State, tag string, now time.Time) (InstalledSLAC, error) {
	var out InstalledSLAC
	svc, ok := a.svc.(slacService)
	if !ok {
		return out, smartlic.Invalid("service", "the configured device service cannot issue SLACs")
	}
	r := snap.Registration
	secret, nonce := newSecret(), newNonce()
	req, err := sign.Seal(smartlic.TypeSLACRequest, r.IDCert.InstanceID, r.PrivateKey, smartlic.SLACRequest{
		InstanceID: r.IDCert.InstanceID, UDI: snap.UDI, SentAt: now, Nonce: nonce, LicenseTag: tag, ReturnHash: smartlic.ReturnHash(secret),
	})
	if err != nil {
		return out, smartlic.Internal(err, "signing the SLAC request")
	}
	ans, err := svc.RequestSLAC(ctx, req)
	if err != nil {
		return out, err
	}
	a.follow(ctx, ans, snap)
	doc, err := a.verifySLAC(snap, ans, tag, nonce)
	if err != nil {
		return out, err
	}
	if err := checkFresh("at", doc.IssuedAt, now); err != nil {
		return out, err
	}
	if doc.SmartAccount != r.IDCert.SmartAccount {
		return out, smartlic.Errorf(smartlic.EWrongDevice, "sa", "the SLAC is for Smart Account %s, not this instance's %s", doc.SmartAccount, r.IDCert.SmartAccount)
	}
	return InstalledSLAC{Doc: ans, SLAC: doc, Secret: secret}, nil
}

// verifySLAC checks a SLAC: signed by a trusted manager key, for this
// device, for the license and request it answers.
func (a *Agent) verifySLAC(snap State, env smartlic.Envelope, tag, nonce string) (smartlic.SLACDoc, error) {
	var doc smartlic.SLACDoc
	keys := a.keysOf(snap)
	if len(keys) == 0 {
		return doc, smartlic.Errorf(smartlic.ESignature, "keys", "no manager key is trusted yet: register once, or configure the manager's keys, to verify a SLAC")
	}
	if err := sign.Open(env, smartlic.TypeSLAC, keys, &doc); err != nil {
		return doc, err
	}
	switch {
	case doc.UDI != snap.UDI:
		return doc, smartlic.Errorf(smartlic.EWrongDevice, "udi", "the SLAC is for %s, not this device (%s)", doc.UDI, snap.UDI)
	case doc.LicenseTag != tag:
		return doc, smartlic.Errorf(smartlic.EWrongDevice, "tag", "the SLAC is for license %q, not %q", doc.LicenseTag, tag)
	case doc.Request != nonce:
		return doc, smartlic.Errorf(smartlic.EReplayed, "request", "the SLAC answers another request than the last one this device made for %s: an old or reordered code", tag)
	case doc.ID == "":
		return doc, smartlic.Errorf(smartlic.ESignature, "id", "the SLAC has no id")
	}
	return doc, nil
}

// ReturnSLAC returns the SLAC of tag online: the license goes back to the
// Virtual Account's pool and the device may no longer use the license (it
// must stop using it first). The manager checks the return secret against
// the hash the request carried.
func (a *Agent) ReturnSLAC(ctx context.Context, tag string) error {
	a.op.Lock()
	defer a.op.Unlock()
	snap := a.State()
	s := slacFor(snap, tag)
	if s == nil {
		return smartlic.Errorf(smartlic.ENotFound, "tag", "no SLAC for %s is installed", tag)
	}
	if err := stillUsed(snap, tag); err != nil {
		return err
	}
	if snap.Registration == nil {
		return smartlic.Errorf(smartlic.ENotRegistered, "", "this instance is not registered: return the SLAC offline with a return code")
	}
	now := a.now()
	err := a.exchangeSLACReturn(ctx, snap, *s, now)
	id := s.SLAC.ID
	return a.finish(OpReturnSLAC, now, err, func(st *State) {
		st.SLACs = slices.DeleteFunc(st.SLACs, func(x InstalledSLAC) bool { return x.SLAC.ID == id })
	})
}

// stillUsed refuses to give up a SLAC the product still depends on.
func stillUsed(st State, tag string) error {
	if n := usedOf(st.Usage, tag); n > 0 {
		return smartlic.Errorf(smartlic.EConflict, "tag", "%s is still in use (%d); stop using it before returning its SLAC", tag, n)
	}
	if throughputSLAC(st) != nil && st.Product.ThroughputMbps > smartlic.ThroughputExportLimit {
		rest := cloneState(st)
		rest.SLACs = slices.DeleteFunc(rest.SLACs, func(x InstalledSLAC) bool { return x.SLAC.LicenseTag == tag })
		if throughputSLAC(rest) == nil {
			return smartlic.Errorf(smartlic.EConflict, "tag", "the throughput (%d Mbps) needs this SLAC; lower it to %d Mbps or less first",
				st.Product.ThroughputMbps, smartlic.ThroughputExportLimit)
		}
	}
	return nil
}

func (a *Agent) exchangeSLACReturn(ctx context.Context, snap State, s InstalledSLAC, now time.Time) error {
	svc, ok := a.svc.(slacService)
	if !ok {
		return smartlic.Invalid("service", "the configured device service cannot take back SLACs")
	}
	r := snap.Registration
	req, err := sign.Seal(smartlic.TypeSLACReturnRequest, r.IDCert.InstanceID, r.PrivateKey, smartlic.SLACReturnRequest{
		InstanceID: r.IDCert.InstanceID, UDI: snap.UDI, SentAt: now, Nonce: newNonce(), SLACID: s.SLAC.ID, Secret: s.Secret,
	})
	if err != nil {
		return smartlic.Internal(err, "signing the SLAC return")
	}
	ans, err := svc.ReturnSLACOnline(ctx, req)
	if err != nil {
		return err
	}
	a.follow(ctx, ans, snap)
	var done smartlic.SLACReturnedDoc
	if err := sign.Open(ans, smartlic.TypeSLACReturned, a.keysOf(snap), &done); err != nil {
		return err
	}
	if done.SLACID != s.SLAC.ID || done.UDI != snap.UDI {
		return smartlic.Errorf(smartlic.ESignature, "slac_id", "the confirmation is about SLAC %s of %s, not %s", done.SLACID, done.UDI, s.SLAC.ID)
	}
	return checkFresh("at", done.ReturnedAt, now)
}

// reverifySLACs checks the stored SLACs again when a state is loaded.
func (a *Agent) reverifySLACs(st *State) error {
	for i, s := range st.SLACs {
		doc, err := a.verifySLAC(*st, s.Doc, s.SLAC.LicenseTag, s.SLAC.Request)
		if err != nil {
			return smartlic.Errorf(smartlic.ESignature, "state", "the stored SLAC for %s does not verify (%s): the state was altered or the manager's keys changed",
				s.SLAC.LicenseTag, smartlic.ErrorMessage(err))
		}
		if len(s.Secret) != smartlic.SLACSecretBytes {
			return smartlic.Errorf(smartlic.ESignature, "state", "the stored SLAC for %s has no return secret", s.SLAC.LicenseTag)
		}
		st.SLACs[i].SLAC = doc
	}
	return nil
}

// RequestSLACCode starts an offline SLAC request for the export-controlled
// license tag and returns the request code a user enters in the manager.
// The request's nonce and return secret stay on the device; only the
// newest request of a license is kept, so the authorization code of an
// older one is refused as stale.
func (a *Agent) RequestSLACCode(tag string) (string, error) {
	if err := smartlic.ValidateTag("tag", tag); err != nil {
		return "", err
	}
	a.op.Lock()
	defer a.op.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := slacFor(a.st, tag); s != nil {
		return "", smartlic.Errorf(smartlic.EConflict, "tag", "SLAC %s for %s is already installed", s.SLAC.ID, tag)
	}
	secret, nonce := newSecret(), make([]byte, rescode.SLACNonceBytes)
	_, _ = rand.Read(nonce) // never fails since Go 1.24
	hash := sha256.Sum256(secret)
	req := rescode.SLACRequest{UDI: a.st.UDI, LicenseTag: tag, Nonce: nonce, ReturnHash: hash[:]}
	next := cloneState(a.st)
	next.PendingSLACs = slices.DeleteFunc(next.PendingSLACs, func(p PendingSLAC) bool { return p.LicenseTag == tag })
	next.PendingSLACs = append(next.PendingSLACs, PendingSLAC{LicenseTag: tag, Nonce: req.NonceString(), Secret: secret, RequestedAt: a.clock.Now()})
	if err := a.commit(next); err != nil {
		return "", err
	}
	return req.Encode(), nil
}

// InstallSLAC installs the SLAC an authorization code carries. It is
// verified first (signed by a trusted manager key, for this device's UDI,
// answering the outstanding request for its license, and for this
// instance's Smart Account when it is registered); a code for another
// device, an altered one, a second install of the same code or the code of
// an older request is refused and changes nothing. It returns the SLAC.
func (a *Agent) InstallSLAC(code string) (smartlic.SLACDoc, error) {
	return a.InstallSLACWith(code, SLACInstallOptions{})
}

// SLACInstallOptions are the choices of InstallSLACWith.
type SLACInstallOptions struct {
	// Keys are the manager's public keys (GET /device/v1/keys, saved to a
	// file and carried to the device), for an air-gapped instance that
	// trusts none yet: it never registered nor enabled reservation. The
	// code must verify with one of them; then they are trusted from then
	// on, beside any the instance trusted already. A key id the instance
	// trusts with another key is refused. Nil verifies with the keys the
	// instance trusts.
	Keys sign.KeySet
}

// InstallSLACWith is InstallSLAC with options; with opts.Keys, a code that
// does not verify with them is refused and changes nothing, keys included.
func (a *Agent) InstallSLACWith(code string, opts SLACInstallOptions) (smartlic.SLACDoc, error) {
	env, err := rescode.DecodeSLAC("code", code)
	if err != nil {
		return smartlic.SLACDoc{}, err
	}
	if opts.Keys != nil && len(opts.Keys) == 0 {
		return smartlic.SLACDoc{}, smartlic.Invalid("keys", "no usable manager key given")
	}
	a.op.Lock()
	defer a.op.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	next := cloneState(a.st)
	keys := a.keysOf(a.st)
	if opts.Keys != nil {
		if a.trusted != nil {
			return smartlic.SLACDoc{}, smartlic.Invalid("keys", "this instance's manager keys are set by its product (Options.TrustedKeys); it takes no others")
		}
		for kid, pub := range opts.Keys {
			if old, ok := next.ManagerKeys[kid]; ok && !old.Equal(pub) {
				return smartlic.SLACDoc{}, smartlic.Invalid("keys", "manager key %s differs from the key of that id this instance trusts", kid)
			}
		}
		// Only the given keys vouch for this code: a person who names a
		// key file means the code to come from that manager.
		keys = opts.Keys
	}
	if len(keys) == 0 {
		return smartlic.SLACDoc{}, smartlic.Errorf(smartlic.ESignature, "code", "this instance trusts no manager key yet: give the manager's keys, register once, or enable reservation with them, to verify a SLAC")
	}
	var doc smartlic.SLACDoc
	if err := sign.Open(env, smartlic.TypeSLAC, keys, &doc); err != nil {
		if opts.Keys != nil {
			return doc, smartlic.Errorf(smartlic.ErrorCode(err), "keys", "the code does not verify with the manager keys given (%s): %s", strings.Join(keyIDs(opts.Keys), ", "), smartlic.ErrorMessage(err))
		}
		return doc, fieldOf(err, "code")
	}
	if opts.Keys != nil {
		if next.ManagerKeys == nil {
			next.ManagerKeys = sign.KeySet{}
		}
		for kid, pub := range opts.Keys {
			next.ManagerKeys[kid] = slices.Clone(pub)
		}
	}
	if doc.UDI != a.st.UDI {
		return doc, smartlic.Errorf(smartlic.EWrongDevice, "code", "this SLAC is for %s, not this device (%s)", doc.UDI, a.st.UDI)
	}
	if s := slacFor(a.st, doc.LicenseTag); s != nil && s.SLAC.ID == doc.ID {
		return doc, smartlic.Errorf(smartlic.EReplayed, "code", "SLAC %s is already installed", doc.ID)
	}
	i := slices.IndexFunc(a.st.PendingSLACs, func(p PendingSLAC) bool { return p.LicenseTag == doc.LicenseTag })
	if i < 0 {
		return doc, smartlic.Errorf(smartlic.EReplayed, "code", "this device has no outstanding SLAC request for %s: the code was installed or returned before, or answers a request made elsewhere", doc.LicenseTag)
	}
	p := a.st.PendingSLACs[i]
	if doc, err = a.verifySLAC(next, env, doc.LicenseTag, p.Nonce); err != nil {
		return doc, fieldOf(err, "code")
	}
	if r := a.st.Registration; r != nil && doc.SmartAccount != r.IDCert.SmartAccount {
		return doc, smartlic.Errorf(smartlic.EWrongDevice, "code", "this SLAC was issued by Smart Account %s; this instance is registered in %s", doc.SmartAccount, r.IDCert.SmartAccount)
	}
	next.PendingSLACs = slices.Delete(next.PendingSLACs, i, i+1)
	next.SLACs = append(next.SLACs, InstalledSLAC{Doc: env, SLAC: doc, Secret: slices.Clone(p.Secret)})
	return doc, a.commit(next)
}

// ReturnSLACCode removes the SLAC of tag from the device and returns the
// return code that gives its license back in the manager. The product must
// stop using what the SLAC allows first. The code carries the return
// secret, so it is the only proof of the return: keep it until the
// manager accepted it.
func (a *Agent) ReturnSLACCode(tag string) (string, error) {
	a.op.Lock()
	defer a.op.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	s := slacFor(a.st, tag)
	if s == nil {
		return "", smartlic.Errorf(smartlic.ENotFound, "tag", "no SLAC for %s is installed", tag)
	}
	if err := stillUsed(a.st, tag); err != nil {
		return "", err
	}
	code := rescode.SLACReturn{UDI: a.st.UDI, SLACID: s.SLAC.ID, Secret: s.Secret}.Encode()
	id := s.SLAC.ID
	next := cloneState(a.st)
	next.SLACs = slices.DeleteFunc(next.SLACs, func(x InstalledSLAC) bool { return x.SLAC.ID == id })
	next.SLACReturns = append(next.SLACReturns, SLACReturnCode{LicenseTag: tag, SLACID: id, Code: code, ReturnedAt: a.clock.Now()})
	if n := len(next.SLACReturns); n > maxSLACReturns {
		next.SLACReturns = slices.Delete(next.SLACReturns, 0, n-maxSLACReturns)
	}
	if err := a.commit(next); err != nil {
		return "", err
	}
	return code, nil
}

// fieldOf names the input an error is about when it names none.
func fieldOf(err error, field string) error {
	var e *smartlic.Error
	if errors.As(err, &e) && e.Field == "" {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
