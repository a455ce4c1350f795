// Package agent is the library a product embeds to take part in classic
// Smart Licensing (docs/protocols.md): it registers the product instance
// with a token, asks for authorization of the licenses the product uses,
// renews both before they lapse, deregisters, and reports the instance's
// standing the way IOS-XE's `show license` commands do.
//
// Every answer from the manager is a signed document; the agent verifies
// its signature, type and subject (this instance) before reading any of
// it. The manager's verification keys are either given (Options.TrustedKeys,
// the safer choice: ship them with the product) or fetched from
// GET /device/v1/keys at the first registration and pinned in the state from
// then on (trust on first use: the first connection must reach the real
// manager; every later answer signed by another key is refused).
//
// Every timer — the 90-day evaluation, the 30-day authorization renewal,
// the 90-day authorization expiry, the 180-day ID certificate renewal —
// reads the Clock in Options, so tests move time instead of waiting.
package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/sign"
)

// DefaultTimeout bounds one exchange with the manager when Options gives no
// HTTP client, so a manager that accepts connections but never answers does
// not hang the product.
const DefaultTimeout = time.Minute

// MaxUsageLines is how many licenses one instance may report.
const MaxUsageLines = 200

// maxCount is the largest count of one license the manager accepts.
const maxCount = 1_000_000

// Options configure an Agent.
type Options struct {
	// Server is the manager's base URL, e.g. "https://licensing.example.com".
	Server string
	// HTTPClient sends the requests (TLS, proxies, timeouts). Default: a
	// client with DefaultTimeout.
	HTTPClient *http.Client
	// Service, when set, replaces Server and HTTPClient: the agent speaks
	// the device protocol to it directly (an in-process manager, a test).
	Service smartlic.DeviceService
	// Clock tells the time. Default: the system clock.
	Clock smartlic.Clock
	// Store keeps the state between runs (FileState, MemoryState). Required.
	Store StateStore
	// UDI identifies the instance. Required when Store holds no state yet
	// (the state is then created); when it does, it must match or be empty.
	UDI smartlic.UDI
	// Hostname is reported at registration; when set it replaces the
	// stored one.
	Hostname string
	// TrustedKeys are the manager's verification keys. When nil, the keys
	// are fetched at the first registration and pinned in the state.
	TrustedKeys sign.KeySet
	// Mode, when the state is created, chooses classic Smart Licensing
	// (the default) or ModePolicy: Smart Licensing Using Policy.
	Mode Mode
	// Restricted lists, for a policy-mode instance, the licenses of the
	// product that are enforced or export-controlled: it refuses to use
	// them without an authorization. Used when the state is created.
	Restricted map[string]smartlic.LicenseClass
}

// Agent is one product instance's licensing. Safe for concurrent use;
// exchanges with the manager run one at a time.
type Agent struct {
	svc     smartlic.DeviceService
	clock   smartlic.Clock
	store   StateStore
	trusted sign.KeySet // configured keys; nil means use the pinned ones

	op sync.Mutex // serialises exchanges with the manager
	mu sync.Mutex // guards st
	st State

	km      sync.Mutex  // guards learned
	learned sign.KeySet // manager keys learned by rollover (rollover.go)
}

// New opens the instance's state in opts.Store, creating it when there is
// none and opts.UDI is set. Stored signed documents are verified again, so
// a state file edited by hand is refused rather than believed.
func New(opts Options) (*Agent, error) {
	a := &Agent{svc: opts.Service, clock: opts.Clock, store: opts.Store, trusted: opts.TrustedKeys}
	if a.store == nil {
		return nil, smartlic.Invalid("store", "a state store is required")
	}
	if a.clock == nil {
		a.clock = smartlic.SystemClock{}
	}
	if a.svc == nil {
		u, err := url.Parse(opts.Server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, smartlic.Invalid("server", "must be an http:// or https:// URL of the license manager (got %q)", opts.Server)
		}
		hc := opts.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: DefaultTimeout}
		}
		a.svc = client.New(strings.TrimRight(opts.Server, "/"), "", client.WithHTTPClient(limitAnswers(hc)))
	}
	if opts.TrustedKeys != nil && len(opts.TrustedKeys) == 0 {
		return nil, smartlic.Invalid("trusted_keys", "an empty key set would refuse every answer; pass nil to pin the manager's keys at registration")
	}
	if err := smartlic.ValidateHostname("hostname", opts.Hostname); err != nil {
		return nil, err
	}

	st, err := a.store.Load()
	switch {
	case errors.Is(err, ErrNoState):
		if opts.UDI == (smartlic.UDI{}) {
			return nil, err
		}
		if err := opts.UDI.Validate("udi"); err != nil {
			return nil, err
		}
		st = State{Version: StateVersion, UDI: opts.UDI, Hostname: opts.Hostname, CreatedAt: a.clock.Now(), Usage: []smartlic.Usage{}}
		switch opts.Mode {
		case "", ModeRegistered, ModeEvaluation:
		case ModePolicy:
			if st.Policy, err = newPolicyState(opts.Restricted, st.CreatedAt); err != nil {
				return nil, err
			}
		default:
			return nil, smartlic.Invalid("mode", "must be %q or %q (got %q)", ModeRegistered, ModePolicy, opts.Mode)
		}
		if err := a.store.Save(st); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if opts.UDI != (smartlic.UDI{}) && opts.UDI != st.UDI {
			return nil, smartlic.Errorf(smartlic.EConflict, "udi", "the state belongs to %s, not %s", st.UDI, opts.UDI)
		}
		if err := a.reverify(&st); err != nil {
			return nil, err
		}
		if opts.Hostname != "" && opts.Hostname != st.Hostname {
			st.Hostname = opts.Hostname
			if err := a.store.Save(st); err != nil {
				return nil, err
			}
		}
	}
	a.st = st
	return a, nil
}

// MaxAnswerBytes bounds what the agent reads of one answer. A signed
// document is at most sign.MaxEnvelopeBytes of JSON, base64 included; the
// bound keeps a hostile or broken peer from streaming the product out of
// memory before any signature is checked.
const MaxAnswerBytes = 1 << 20

// limitAnswers returns a copy of hc whose answers fail once they exceed
// MaxAnswerBytes; the caller's client is left as it was.
func limitAnswers(hc *http.Client) *http.Client {
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = limitedTransport{next: next}
	return &c
}

type limitedTransport struct{ next http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: MaxAnswerBytes}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("the answer is larger than %d bytes", MaxAnswerBytes)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// reverify checks the stored signed documents and replaces their decoded
// copies with what the signatures cover.
func (a *Agent) reverify(st *State) error {
	if st.UDI.Validate("udi") != nil {
		return smartlic.Invalid("state", "the state's UDI %q is not valid", st.UDI)
	}
	if st.Usage == nil {
		st.Usage = []smartlic.Usage{}
	}
	if err := a.reverifySLACs(st); err != nil {
		return err
	}
	if err := a.reverifyPolicy(st); err != nil {
		return err
	}
	if err := a.reverifyReservation(st); err != nil {
		return err
	}
	r := st.Registration
	if r == nil {
		return nil
	}
	bad := func(what string, err error) error {
		return smartlic.Errorf(smartlic.ESignature, "state", "the stored %s does not verify (%s): the state was altered or the manager's keys changed; set the instance up again with a new state", what, smartlic.ErrorMessage(err))
	}
	if len(r.PrivateKey) != ed25519.PrivateKeySize {
		return bad("instance key", smartlic.Invalid("private_key", "wrong length"))
	}
	keys := a.keysOf(*st)
	var cert smartlic.IDCert
	if err := sign.Open(r.IDCertDoc, smartlic.TypeIDCert, keys, &cert); err != nil {
		return bad("ID certificate", err)
	}
	if err := checkCert(cert, st.UDI, r.PrivateKey.Public().(ed25519.PublicKey), ""); err != nil {
		return bad("ID certificate", err)
	}
	r.IDCert = cert
	r.Authorization = nil
	if r.AuthorizationDoc != nil {
		var auth smartlic.Authorization
		if err := sign.Open(*r.AuthorizationDoc, smartlic.TypeAuthorization, keys, &auth); err != nil {
			return bad("authorization", err)
		}
		if auth.InstanceID != cert.InstanceID || auth.UDI != st.UDI {
			return bad("authorization", smartlic.Invalid("instance_id", "about another instance"))
		}
		r.Authorization = &auth
	}
	return nil
}

// keysOf is the key set answers are verified with: the configured or
// pinned keys, and those learned from them by rollover.
func (a *Agent) keysOf(st State) sign.KeySet {
	if a.trusted != nil {
		return a.withLearned(a.trusted)
	}
	return a.withLearned(st.ManagerKeys)
}

// State returns a copy of the instance's state, for inspection.
func (a *Agent) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return cloneState(a.st)
}

// Status is the instance's standing now, by the agent's clock.
func (a *Agent) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	clock := a.clock.Now()
	st := a.st.StatusAt(effectiveNow(a.st, clock))
	st.ClockRollback = rollbackAt(a.st, clock)
	if a.trusted != nil {
		st.ManagerKeyIDs = keyIDs(a.trusted)
	}
	return st
}

// now is the time the agent's timers read: the later of the clock and the
// checkpoint (see State.Checkpoint).
func (a *Agent) now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return effectiveNow(a.st, a.clock.Now())
}

// usedOf is the count of tag in usage.
func usedOf(usage []smartlic.Usage, tag string) int64 {
	for _, u := range usage {
		if u.LicenseTag == tag {
			return u.Count
		}
	}
	return 0
}

// UDI is the instance's unique device identifier.
func (a *Agent) UDI() smartlic.UDI {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st.UDI
}

// SetUsage records that the product uses count licenses of tag; count 0
// stops using it. It only changes local state: Authorize (or Renew, which
// notices the change) reports it to the manager. Using a license while
// unregistered starts the evaluation clock.
func (a *Agent) SetUsage(tag string, count int64) error {
	if err := smartlic.ValidateTag("tag", tag); err != nil {
		return err
	}
	if count < 0 || count > maxCount {
		return smartlic.Invalid("count", "must be between 0 and %d (got %d)", maxCount, count)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	usage := slices.Clone(a.st.Usage)
	i := slices.IndexFunc(usage, func(u smartlic.Usage) bool { return u.LicenseTag == tag })
	switch {
	case i >= 0 && count == 0:
		usage = slices.Delete(usage, i, i+1)
	case i >= 0:
		usage[i].Count = count
	case count == 0:
		return nil
	case len(usage) >= MaxUsageLines:
		return smartlic.Invalid("tag", "an instance reports at most %d licenses", MaxUsageLines)
	default:
		usage = append(usage, smartlic.Usage{LicenseTag: tag, Count: count})
		sort.Slice(usage, func(i, j int) bool { return usage[i].LicenseTag < usage[j].LicenseTag })
	}
	now := effectiveNow(a.st, a.clock.Now())
	if err := checkUsage(a.st, tag, usedOf(a.st.Usage, tag), count, now); err != nil {
		return err
	}
	next := cloneState(a.st)
	next.Usage = usage
	if next.Policy != nil {
		if err := next.Policy.recordUsage(tag, count, now, restrictedCovered(next, tag, count)); err != nil {
			return err
		}
	}
	runEvaluation(&next, now)
	return a.commit(next)
}

// commit saves next and makes it the current state, moving the clock
// checkpoint forward (never back). Callers hold a.mu.
func (a *Agent) commit(next State) error {
	if now := a.clock.Now(); now.After(next.Checkpoint) {
		next.Checkpoint = now
	}
	if a.trusted == nil && next.ManagerKeys != nil {
		// Pin what rollover taught, so that a restart keeps it.
		next.ManagerKeys = a.withLearned(next.ManagerKeys)
	}
	if err := a.store.Save(next); err != nil {
		return err
	}
	a.st = next
	return nil
}

// runEvaluation starts or resumes the evaluation clock when the instance
// is unregistered and uses a license, and stops it when registered.
func runEvaluation(st *State, now time.Time) {
	ev := &st.Evaluation
	// A registered, policy-mode or reserved instance is licensed: the clock stops.
	if st.Registration != nil || st.Policy != nil || st.Reservation.Installed() {
		if ev.RunningSince != nil {
			if d := now.Sub(*ev.RunningSince); d > 0 {
				ev.UsedSeconds += int64(d / time.Second)
			}
			ev.RunningSince = nil
		}
		return
	}
	if ev.StartedAt == nil && len(st.Usage) > 0 {
		ev.StartedAt = &now
	}
	if ev.StartedAt != nil && ev.RunningSince == nil {
		ev.RunningSince = &now
	}
}

// Register registers the instance with a registration token: it makes a
// fresh key pair, proves possession of it, and stores the signed ID
// certificate the manager answers. An instance already registered is
// refused unless force is set; force also asks the manager to replace an
// existing registration of this UDI. The authorization of the usage is a
// separate step (Authorize).
func (a *Agent) Register(ctx context.Context, token string, force bool) error {
	token = strings.TrimSpace(token)
	if token == "" {
		return smartlic.Invalid("token", "a registration token is required")
	}
	a.op.Lock()
	defer a.op.Unlock()

	snap := a.State()
	if r := snap.Registration; r != nil && !force {
		return smartlic.Errorf(smartlic.EConflict, "force", "this instance is already registered (Smart Account %s, Virtual Account %s); deregister it first or register with force",
			r.IDCert.SmartAccount, r.IDCert.VirtualAccount)
	}
	now := a.now()
	reg, keys, err := a.register(ctx, snap, token, force, now)
	return a.finish(OpRegister, now, err, func(st *State) {
		st.Registration = reg
		if a.trusted == nil {
			st.ManagerKeys = keys
		}
		runEvaluation(st, now)
	})
}

func (a *Agent) register(ctx context.Context, snap State, token string, force bool, now time.Time) (*Registration, sign.KeySet, error) {
	keys := a.keysOf(snap)
	if keys == nil {
		ks, err := a.svc.PublicKeys(ctx)
		if err != nil {
			return nil, nil, err
		}
		keys = sign.NewKeySet(ks.Keys)
		if len(keys) == 0 {
			return nil, nil, smartlic.Errorf(smartlic.ESignature, "keys", "the manager published no usable verification key")
		}
	}
	key, err := sign.NewKey(now)
	if err != nil {
		return nil, nil, smartlic.Internal(err, "making the instance key")
	}
	priv := ed25519.PrivateKey(key.PrivateKey)
	pub := ed25519.PublicKey(key.PublicKey)
	// The kid of a registration request is the new public key itself: the
	// manager knows no instance id yet, and can check the signature before
	// it reads the payload.
	req, err := sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(pub), priv, smartlic.RegisterRequest{
		Token: token, UDI: snap.UDI, Hostname: snap.Hostname, PublicKey: pub, Force: force, SentAt: now, Nonce: newNonce(),
	})
	if err != nil {
		return nil, nil, smartlic.Internal(err, "signing the registration request")
	}
	ans, err := a.svc.Register(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	var cert smartlic.IDCert
	if err := sign.Open(ans, smartlic.TypeIDCert, keys, &cert); err != nil {
		return nil, nil, err
	}
	if err := checkCert(cert, snap.UDI, pub, ""); err != nil {
		return nil, nil, err
	}
	if err := checkFresh("issued_at", cert.IssuedAt, now); err != nil {
		return nil, nil, err
	}
	return &Registration{PrivateKey: priv, RegisteredAt: now, IDCertDoc: ans, IDCert: cert}, keys, nil
}

// checkCert checks an ID certificate is about this instance and its key
// (and, when renewing, keeps its instance id).
func checkCert(c smartlic.IDCert, udi smartlic.UDI, pub ed25519.PublicKey, instanceID string) error {
	switch {
	case c.UDI != udi:
		return smartlic.Errorf(smartlic.ESignature, "udi", "the ID certificate is for %s, not this instance (%s)", c.UDI, udi)
	case !pub.Equal(ed25519.PublicKey(c.PublicKey)):
		return smartlic.Errorf(smartlic.ESignature, "public_key", "the ID certificate certifies another key than this instance's")
	case c.InstanceID == "":
		return smartlic.Errorf(smartlic.ESignature, "instance_id", "the ID certificate names no instance")
	case instanceID != "" && c.InstanceID != instanceID:
		return smartlic.Errorf(smartlic.ESignature, "instance_id", "the ID certificate is for instance %q, not %q", c.InstanceID, instanceID)
	case !c.RenewAfter.After(c.IssuedAt) || c.ExpiresAt.Before(c.RenewAfter):
		return smartlic.Errorf(smartlic.ESignature, "expires_at", "the ID certificate's validity is inconsistent")
	}
	return nil
}

// checkFresh refuses an answer not issued during this exchange: the
// manager only answers requests whose sent_at is within its clock skew, so
// anything older is a replay of a captured answer.
func checkFresh(field string, issued, sent time.Time) error {
	if d := issued.Sub(sent); d > smartlic.DeviceClockSkew || d < -smartlic.DeviceClockSkew {
		return smartlic.Errorf(smartlic.ESignature, field, "the answer was issued at %s, not during this request (%s): a stale or replayed answer",
			issued.UTC().Format(time.RFC3339), sent.UTC().Format(time.RFC3339))
	}
	return nil
}

// finish records the attempt and, when err is nil, applies the change; the
// result is saved either way, so the status shows failed attempts too.
func (a *Agent) finish(op string, now time.Time, err error, apply func(*State)) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := cloneState(a.st)
	at := attempt(op, now, err)
	next.LastAttempt = at
	if err == nil {
		apply(&next)
	}
	if r := next.Registration; r != nil {
		switch op {
		case OpAuthorize:
			r.LastAuthorization = copyAttempt(at)
		case OpRenewID:
			r.LastRenewal = copyAttempt(at)
		}
	}
	if serr := a.commit(next); serr != nil {
		if err != nil {
			return errors.Join(err, serr)
		}
		return serr
	}
	return err
}

// deviceRequest signs a request of type typ about the registered instance.
func deviceRequest(typ string, snap State, usage []smartlic.Usage, now time.Time) (smartlic.Envelope, error) {
	r := snap.Registration
	env, err := sign.Seal(typ, r.IDCert.InstanceID, r.PrivateKey, smartlic.DeviceRequest{
		InstanceID: r.IDCert.InstanceID, UDI: snap.UDI, SentAt: now, Nonce: newNonce(), Usage: usage,
	})
	if err != nil {
		return env, smartlic.Internal(err, "signing the request")
	}
	return env, nil
}

// newNonce makes each request unique even when the clock repeats a
// sent_at: the manager answers a second copy of a signed request with the
// first answer and does not act on it again, so two requests with the same
// content and time would count as one.
func newNonce() string {
	b := make([]byte, 16)
	// Since Go 1.24 crypto/rand.Read never fails (it aborts instead).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func notRegistered() error {
	return smartlic.Errorf(smartlic.ENotRegistered, "", "this instance is not registered; register it with a token first")
}

// Authorize reports the current usage and stores the manager's signed
// authorization of each license (authorized, out of compliance or not
// authorized), valid 90 days and renewed every 30.
func (a *Agent) Authorize(ctx context.Context) error {
	a.op.Lock()
	defer a.op.Unlock()
	return a.authorize(ctx)
}

func (a *Agent) authorize(ctx context.Context) error {
	snap := a.State()
	if snap.Registration == nil {
		return notRegistered()
	}
	now := a.now()
	doc, auth, err := a.exchangeAuthorization(ctx, snap, now)
	// A line the manager refuses outright is dropped and the request made
	// again without it (see DroppedUsage); each round drops the lines the
	// refusal names, and a round drops at least one, so this ends.
	var dropped []DroppedUsage
	for len(snap.Usage) > 0 {
		refused := refusedLines(err, snap.Usage)
		if len(refused) == 0 {
			break
		}
		for _, u := range refused {
			dropped = append(dropped, DroppedUsage{LicenseTag: u.LicenseTag, Count: u.Count, Reason: smartlic.ErrorMessage(err), At: now})
		}
		snap.Usage = slices.DeleteFunc(slices.Clone(snap.Usage), func(v smartlic.Usage) bool {
			return slices.ContainsFunc(refused, func(u smartlic.Usage) bool { return u.LicenseTag == v.LicenseTag })
		})
		doc, auth, err = a.exchangeAuthorization(ctx, snap, now)
	}
	if dropped != nil || len(snap.DroppedUsage) > 0 {
		if derr := a.dropUsage(dropped); derr != nil {
			return errors.Join(err, derr)
		}
	}
	return a.finish(OpAuthorize, now, err, func(st *State) {
		// A re-registration in between would make this answer about a
		// registration the instance no longer holds.
		if st.Registration != nil && st.Registration.IDCert.InstanceID == auth.InstanceID {
			st.Registration.AuthorizationDoc, st.Registration.Authorization = &doc, &auth
			dropCancelledSLACs(st, auth.CancelledSLACs, auth.IssuedAt)
		}
	})
}

func (a *Agent) exchangeAuthorization(ctx context.Context, snap State, now time.Time) (smartlic.Envelope, smartlic.Authorization, error) {
	var auth smartlic.Authorization
	usage := make([]smartlic.Usage, 0, len(snap.Usage))
	asked := map[string]bool{}
	for _, u := range snap.Usage {
		usage = append(usage, smartlic.Usage{LicenseTag: u.LicenseTag, Count: u.Count})
		asked[u.LicenseTag] = true
	}
	req, err := deviceRequest(smartlic.TypeAuthRequest, snap, usage, now)
	if err != nil {
		return req, auth, err
	}
	ans, err := a.svc.Authorize(ctx, req)
	if err != nil {
		return ans, auth, err
	}
	a.follow(ctx, ans, snap)
	if err := sign.Open(ans, smartlic.TypeAuthorization, a.keysOf(snap), &auth); err != nil {
		return ans, auth, err
	}
	if err := checkAbout(auth.InstanceID, auth.UDI, snap); err != nil {
		return ans, auth, err
	}
	if err := checkFresh("issued_at", auth.IssuedAt, now); err != nil {
		return ans, auth, err
	}
	if !auth.RenewAfter.After(auth.IssuedAt) || auth.ExpiresAt.Before(auth.RenewAfter) {
		return ans, auth, smartlic.Errorf(smartlic.ESignature, "expires_at", "the authorization's validity is inconsistent")
	}
	for _, e := range auth.Entitlements {
		if !asked[e.LicenseTag] {
			return ans, auth, smartlic.Errorf(smartlic.ESignature, "entitlements", "the authorization names license %q, which this instance did not ask for", e.LicenseTag)
		}
	}
	return ans, auth, nil
}

// checkAbout refuses an answer about another instance than this one.
func checkAbout(instanceID string, udi smartlic.UDI, snap State) error {
	if instanceID != snap.Registration.IDCert.InstanceID || udi != snap.UDI {
		return smartlic.Errorf(smartlic.ESignature, "instance_id", "the answer is about instance %q (%s), not this one (%q, %s)",
			instanceID, udi, snap.Registration.IDCert.InstanceID, snap.UDI)
	}
	return nil
}

// RenewIDCert asks for a fresh ID certificate now, whether or not it is due.
func (a *Agent) RenewIDCert(ctx context.Context) error {
	a.op.Lock()
	defer a.op.Unlock()
	return a.renewIDCert(ctx)
}

func (a *Agent) renewIDCert(ctx context.Context) error {
	snap := a.State()
	if snap.Registration == nil {
		return notRegistered()
	}
	now := a.now()
	doc, cert, err := a.exchangeIDCert(ctx, snap, now)
	return a.finish(OpRenewID, now, err, func(st *State) {
		if st.Registration != nil && st.Registration.IDCert.InstanceID == cert.InstanceID {
			st.Registration.IDCertDoc, st.Registration.IDCert = doc, cert
		}
	})
}

func (a *Agent) exchangeIDCert(ctx context.Context, snap State, now time.Time) (smartlic.Envelope, smartlic.IDCert, error) {
	var cert smartlic.IDCert
	req, err := deviceRequest(smartlic.TypeRenewRequest, snap, nil, now)
	if err != nil {
		return req, cert, err
	}
	ans, err := a.svc.RenewID(ctx, req)
	if err != nil {
		return ans, cert, err
	}
	a.follow(ctx, ans, snap)
	r := snap.Registration
	if err := sign.Open(ans, smartlic.TypeIDCert, a.keysOf(snap), &cert); err != nil {
		return ans, cert, err
	}
	if err := checkCert(cert, snap.UDI, r.PrivateKey.Public().(ed25519.PublicKey), r.IDCert.InstanceID); err != nil {
		return ans, cert, err
	}
	if err := checkFresh("issued_at", cert.IssuedAt, now); err != nil {
		return ans, cert, err
	}
	return ans, cert, nil
}

// Renewed says what Renew renewed.
type Renewed struct {
	IDCert        bool `json:"id_cert"`
	Authorization bool `json:"authorization"`
}

// Renew renews whatever is due: the ID certificate once its renew_after
// (180 days) has passed, and the authorization once its renew_after (30
// days) has passed, when it never happened, or when the usage changed
// since. A product calls it periodically (daily is plenty). Both are
// attempted even if the first fails; the errors are joined.
func (a *Agent) Renew(ctx context.Context) (Renewed, error) {
	a.op.Lock()
	defer a.op.Unlock()
	var done Renewed
	st := a.Status()
	if st.Registration == nil {
		return done, notRegistered()
	}
	var errs []error
	if st.Registration.RenewalDue {
		if err := a.renewIDCert(ctx); err != nil {
			errs = append(errs, err)
		} else {
			done.IDCert = true
		}
	}
	if st.Authorization.RenewalDue {
		if err := a.authorize(ctx); err != nil {
			errs = append(errs, err)
		} else {
			done.Authorization = true
		}
	}
	return done, errors.Join(errs...)
}

// Deregister tells the manager the instance leaves, releasing its licenses,
// and forgets the registration. The evaluation clock resumes where it
// stopped (it is never reset). When the manager no longer knows the
// instance (not_registered), the local registration is dropped as well.
func (a *Agent) Deregister(ctx context.Context) error {
	a.op.Lock()
	defer a.op.Unlock()
	snap := a.State()
	if snap.Registration == nil {
		return notRegistered()
	}
	now := a.now()
	err := a.exchangeDeregister(ctx, snap, now)
	if smartlic.ErrorCode(err) == smartlic.ENotRegistered {
		err = nil
	}
	return a.finish(OpDeregister, now, err, func(st *State) {
		st.Registration = nil
		runEvaluation(st, now)
	})
}

func (a *Agent) exchangeDeregister(ctx context.Context, snap State, now time.Time) error {
	req, err := deviceRequest(smartlic.TypeDeregisterRequest, snap, nil, now)
	if err != nil {
		return err
	}
	ans, err := a.svc.Deregister(ctx, req)
	if err != nil {
		return err
	}
	a.follow(ctx, ans, snap)
	var done smartlic.Deregistered
	if err := sign.Open(ans, smartlic.TypeDeregistered, a.keysOf(snap), &done); err != nil {
		return err
	}
	if err := checkAbout(done.InstanceID, done.UDI, snap); err != nil {
		return err
	}
	return checkFresh("at", done.At, now)
}

// cloneState copies st deeply enough that changing the copy never changes
// st: slices, maps and pointed-to values are copied.
func cloneState(st State) State {
	c := st
	c.Usage = slices.Clone(st.Usage)
	if c.Usage == nil {
		c.Usage = []smartlic.Usage{}
	}
	c.DroppedUsage = slices.Clone(st.DroppedUsage)
	if st.ManagerKeys != nil {
		c.ManagerKeys = make(sign.KeySet, len(st.ManagerKeys))
		for k, v := range st.ManagerKeys {
			c.ManagerKeys[k] = slices.Clone(v)
		}
	}
	c.Evaluation.StartedAt = copyTime(st.Evaluation.StartedAt)
	c.Evaluation.RunningSince = copyTime(st.Evaluation.RunningSince)
	c.LastAttempt = copyAttempt(st.LastAttempt)
	c.Reservation = st.Reservation.clone()
	if r := st.Registration; r != nil {
		rc := *r
		rc.PrivateKey = slices.Clone(r.PrivateKey)
		rc.IDCert.PublicKey = slices.Clone(r.IDCert.PublicKey)
		if r.AuthorizationDoc != nil {
			d := *r.AuthorizationDoc
			rc.AuthorizationDoc = &d
		}
		if r.Authorization != nil {
			au := *r.Authorization
			au.Entitlements = slices.Clone(r.Authorization.Entitlements)
			rc.Authorization = &au
		}
		rc.LastRenewal = copyAttempt(r.LastRenewal)
		rc.LastAuthorization = copyAttempt(r.LastAuthorization)
		c.Registration = &rc
	}
	cloneEnforcement(&c, st)
	if st.Policy != nil {
		c.Policy = clonePolicy(st.Policy)
	}
	return c
}

func keyIDs(ks sign.KeySet) []string {
	ids := make([]string, 0, len(ks))
	for id := range ks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
