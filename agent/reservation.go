package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
)

// Reservation is an instance's license reservation (SLR or PLR): licenses
// reserved for it in the manager and installed with paste-able codes, for
// an instance that never talks to the manager.
type Reservation struct {
	// Enabled is set by EnableReservation; codes are refused before.
	Enabled bool `json:"enabled"`
	// RequestKey is the private half of the outstanding request's key:
	// made for each request, it names the request (its fingerprint is in
	// every later code) and signs the return and confirmation codes.
	// Only this instance holds it, which is what makes a return code a
	// proof that the reservation was removed here.
	RequestKey  ed25519.PrivateKey `json:"request_key,omitempty"`
	RequestedAt *time.Time         `json:"requested_at,omitempty"`
	// AuthorizationCode is the installed authorization code as the
	// manager signed it; Authorization its verified content.
	AuthorizationCode string                 `json:"authorization_code,omitempty"`
	Authorization     *rescode.Authorization `json:"authorization,omitempty"`
	InstalledAt       *time.Time             `json:"installed_at,omitempty"`
	// ConfirmationCode is the code that confirms the installed
	// authorization, kept to be shown again; ReturnCode the last return.
	ConfirmationCode string `json:"confirmation_code,omitempty"`
	ReturnCode       string `json:"return_code,omitempty"`
}

// Installed reports whether an authorization code is installed.
func (r *Reservation) Installed() bool { return r != nil && r.Authorization != nil }

// Reserved returns how many licenses of tag the installed reservation
// grants, and whether it grants any number (a permanent reservation).
func (r *Reservation) Reserved(tag string) (count int64, unlimited bool) {
	if !r.Installed() {
		return 0, false
	}
	for _, l := range r.Authorization.Licenses {
		if l.Tag == tag {
			return l.Count, r.Authorization.Permanent
		}
	}
	return 0, false
}

func (r *Reservation) clone() *Reservation {
	if r == nil {
		return nil
	}
	c := *r
	c.RequestKey = slices.Clone(r.RequestKey)
	c.RequestedAt = copyTime(r.RequestedAt)
	c.InstalledAt = copyTime(r.InstalledAt)
	if r.Authorization != nil {
		a := *r.Authorization
		a.Licenses = slices.Clone(r.Authorization.Licenses)
		c.Authorization = &a
	}
	return &c
}

func reservationOff() error {
	return smartlic.Errorf(smartlic.EConflict, "", "license reservation is not enabled on this instance; enable it first")
}

// EnableReservation turns license reservation on. The instance must trust
// the manager's keys to verify authorization codes offline: keys, when
// given, are pinned (an air-gapped instance gets them from a file);
// otherwise configured or pinned keys are used, or, failing both, they are
// fetched once from the manager.
func (a *Agent) EnableReservation(ctx context.Context, keys sign.KeySet) error {
	a.op.Lock()
	defer a.op.Unlock()
	snap := a.State()
	if keys == nil && a.trusted == nil && len(snap.ManagerKeys) == 0 {
		ks, err := a.svc.PublicKeys(ctx)
		if err != nil {
			return err
		}
		keys = sign.NewKeySet(ks.Keys)
	}
	if keys != nil && len(keys) == 0 {
		return smartlic.Invalid("keys", "no usable manager key given")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	next := cloneState(a.st)
	if keys != nil && a.trusted == nil {
		next.ManagerKeys = keys
	}
	if next.Reservation == nil {
		next.Reservation = &Reservation{}
	}
	next.Reservation.Enabled = true
	return a.commit(next)
}

// RequestReservation returns the request code to enter in the manager. A
// request already outstanding is shown again rather than replaced, so a
// code the manager may have acted on stays valid; an installed reservation
// must be returned before a new request.
func (a *Agent) RequestReservation() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.st.Reservation
	switch {
	case r == nil || !r.Enabled:
		return "", reservationOff()
	case r.Installed():
		return "", smartlic.Errorf(smartlic.EConflict, "", "a reservation is installed; return it before requesting another, or ask the manager to update it")
	case r.RequestKey != nil:
		return requestCode(a.st.UDI, r.RequestKey), nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", smartlic.Internal(err, "making a request key")
	}
	next := cloneState(a.st)
	now := a.clock.Now()
	next.Reservation.RequestKey, next.Reservation.RequestedAt = priv, &now
	if err := a.commit(next); err != nil {
		return "", err
	}
	return requestCode(next.UDI, priv), nil
}

func requestCode(udi smartlic.UDI, key ed25519.PrivateKey) string {
	return rescode.Request{UDI: udi, Key: key.Public().(ed25519.PublicKey)}.Encode()
}

// InstallReservation verifies an authorization code and installs it,
// replacing an older one, and returns the confirmation code for the
// manager. It refuses a code not signed by a trusted manager key, for
// another UDI, answering a request this instance no longer has, or not
// newer than the installed one.
func (a *Agent) InstallReservation(code string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.st.Reservation
	if r == nil || !r.Enabled {
		return "", reservationOff()
	}
	keys := a.keysOf(a.st)
	if len(keys) == 0 {
		return "", smartlic.Errorf(smartlic.ESignature, "code", "this instance trusts no manager key; enable reservation with the manager's keys first")
	}
	auth, err := rescode.OpenAuthorization("code", code, keys)
	if err != nil {
		return "", err
	}
	if err := checkAuthorization(auth, a.st.UDI, r); err != nil {
		return "", err
	}
	confirm, err := rescode.SignProof(rescode.TypeConfirmation, rescode.Proof{Fingerprint: auth.Fingerprint, Sequence: auth.Sequence}, r.RequestKey)
	if err != nil {
		return "", err
	}
	next := cloneState(a.st)
	now := a.clock.Now()
	nr := next.Reservation
	nr.AuthorizationCode, nr.Authorization, nr.InstalledAt, nr.ConfirmationCode = code, &auth, &now, confirm
	runEvaluation(&next, now)
	if err := a.commit(next); err != nil {
		return "", err
	}
	return confirm, nil
}

// checkAuthorization checks a verified authorization is for this instance,
// answers its outstanding request and is newer than what is installed.
func checkAuthorization(auth rescode.Authorization, udi smartlic.UDI, r *Reservation) error {
	if auth.UDI != udi {
		return smartlic.Errorf(smartlic.ECodeOtherDevice, "code", "this authorization code is for %s; this instance is %s", auth.UDI, udi)
	}
	if r.RequestKey == nil || auth.Fingerprint != rescode.Fingerprint(r.RequestKey.Public().(ed25519.PublicKey)) {
		return smartlic.Errorf(smartlic.ECodeStale, "code", "this authorization code answers a request this instance no longer has (returned or cancelled); request a new reservation")
	}
	if r.Authorization != nil && auth.Sequence <= r.Authorization.Sequence {
		return smartlic.Errorf(smartlic.ECodeStale, "code", "authorization %d is installed; this code is authorization %d, not newer", r.Authorization.Sequence, auth.Sequence)
	}
	return nil
}

// ReturnReservation removes the reservation — the installed authorization
// and the outstanding request — and returns the return code that proves
// it to the manager, signed with the request's key, which is then
// forgotten: no authorization code of that request can be installed again.
// With nothing installed it returns a request the manager may already have
// authorized (sequence 0).
func (a *Agent) ReturnReservation() (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.st.Reservation
	switch {
	case r == nil || !r.Enabled:
		return "", reservationOff()
	case r.RequestKey == nil:
		return "", smartlic.Errorf(smartlic.EReservationClosed, "", "this instance holds no reservation and no request to return")
	}
	var seq uint64
	if r.Authorization != nil {
		seq = r.Authorization.Sequence
	}
	code, err := rescode.SignProof(rescode.TypeReturn, rescode.Proof{Fingerprint: rescode.Fingerprint(r.RequestKey.Public().(ed25519.PublicKey)), Sequence: seq}, r.RequestKey)
	if err != nil {
		return "", err
	}
	next := cloneState(a.st)
	next.Reservation = &Reservation{Enabled: true, ReturnCode: code}
	runEvaluation(&next, a.clock.Now())
	if err := a.commit(next); err != nil {
		return "", err
	}
	return code, nil
}

// CancelReservationRequest discards an outstanding request that has no
// authorization installed. It returns the same proof as
// ReturnReservation: if the manager already reserved licenses for the
// request, entering it there gives them back.
func (a *Agent) CancelReservationRequest() (string, error) {
	a.mu.Lock()
	r := a.st.Reservation
	installed := r.Installed()
	a.mu.Unlock()
	if installed {
		return "", smartlic.Errorf(smartlic.EConflict, "", "an authorization is installed: return the reservation instead")
	}
	return a.ReturnReservation()
}

// reverifyReservation checks the stored authorization code again, as
// reverify does for the signed documents of a registration.
func (a *Agent) reverifyReservation(st *State) error {
	r := st.Reservation
	if r == nil || r.AuthorizationCode == "" {
		if r != nil {
			r.Authorization = nil
		}
		return nil
	}
	auth, err := rescode.OpenAuthorization("state", r.AuthorizationCode, a.keysOf(*st))
	if err == nil && (r.RequestKey == nil || len(r.RequestKey) != ed25519.PrivateKeySize ||
		auth.UDI != st.UDI || auth.Fingerprint != rescode.Fingerprint(r.RequestKey.Public().(ed25519.PublicKey))) {
		err = smartlic.Invalid("code", "about another instance or request")
	}
	if err != nil {
		return smartlic.Errorf(smartlic.ESignature, "state", "the stored reservation does not verify (%s): the state was altered", smartlic.ErrorMessage(err))
	}
	r.Authorization = &auth
	return nil
}
