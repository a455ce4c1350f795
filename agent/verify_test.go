package agent_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/sign"
)

// rewrite is a misbehaviour: it gets the answer the peer would send and
// returns what it sends instead.
type rewrite = func(smartlic.Envelope) smartlic.Envelope

// tampered changes a payload field after signing.
func (p *peer) tampered(field string, value any) rewrite {
	return func(env smartlic.Envelope) smartlic.Envelope {
		env.Payload = p.editPayload(env.Payload, field, value)
		return env
	}
}

// resigned changes a payload field and signs the result properly: a
// genuine document from the peer that says the wrong thing.
func (p *peer) resigned(field string, value any) rewrite {
	return func(env smartlic.Envelope) smartlic.Envelope {
		return p.seal(env.Type, p.signingKey(), p.editPayload(env.Payload, field, value))
	}
}

// retyped signs the same payload properly as another document type.
func (p *peer) retyped(typ string) rewrite {
	return func(env smartlic.Envelope) smartlic.Envelope { return p.seal(typ, p.signingKey(), env.Payload) }
}

// foreign signs the same document with a key the agent does not trust;
// kid is that key's id, or the trusted key's id when claimKid is set.
func (p *peer) foreign(claimKid bool) rewrite {
	other, err := sign.NewKey(epoch)
	if err != nil {
		p.t.Fatal(err)
	}
	return func(env smartlic.Envelope) smartlic.Envelope {
		out := p.seal(env.Type, other, env.Payload)
		if claimKid {
			out.KeyID = p.signingKey().ID
		}
		return out
	}
}

func (p *peer) editPayload(payload []byte, field string, value any) []byte {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		p.t.Error(err)
	}
	m[field] = value
	b, err := json.Marshal(m)
	if err != nil {
		p.t.Error(err)
	}
	return b
}

func (p *peer) seal(typ string, key smartlic.SigningKey, payload []byte) smartlic.Envelope {
	env, err := sign.Seal(typ, key.ID, ed25519.PrivateKey(key.PrivateKey), json.RawMessage(payload))
	if err != nil {
		p.t.Error(err)
	}
	return env
}

var otherUDI = map[string]string{"pid": "C9300-24T", "sn": "FOC0000ZZZZ"}

// TestRegisterRefusesBadAnswers: an ID certificate is believed only when
// it is signed by the manager's key, is an ID certificate, is about this
// instance and its new key, and was issued now. A refused answer leaves
// the instance unregistered and pins nothing.
func TestRegisterRefusesBadAnswers(t *testing.T) {
	for name, mis := range map[string]func(*peer) rewrite{
		"tampered payload":        func(p *peer) rewrite { return p.tampered("virtual_account", "Other") },
		"wrong type":              func(p *peer) rewrite { return p.retyped(smartlic.TypeAuthorization) },
		"unknown key":             func(p *peer) rewrite { return p.foreign(false) },
		"other key, trusted kid":  func(p *peer) rewrite { return p.foreign(true) },
		"another instance's UDI":  func(p *peer) rewrite { return p.resigned("udi", otherUDI) },
		"another public key":      func(p *peer) rewrite { return p.resigned("public_key", make([]byte, 32)) },
		"issued a day ago":        func(p *peer) rewrite { return p.resigned("issued_at", epoch.Add(-smartlic.Day)) },
		"no instance id":          func(p *peer) rewrite { return p.resigned("instance_id", "") },
		"expires before renewing": func(p *peer) rewrite { return p.resigned("expires_at", epoch) },
	} {
		t.Run(name, func(t *testing.T) {
			clock := smartlic.NewFakeClock(epoch)
			p := newPeer(t, clock)
			a := newAgent(t, p, agent.MemoryState())
			p.misbehave(mis(p))
			err := a.Register(t.Context(), "good-token", false)
			wantCode(t, err, smartlic.ESignature)
			st := a.Status()
			if st.Mode != agent.ModeEvaluation || st.Registration != nil || len(st.ManagerKeyIDs) != 0 {
				t.Errorf("after a refused answer: mode %q, registration %+v, pinned keys %v", st.Mode, st.Registration, st.ManagerKeyIDs)
			}
			if st.LastAttempt == nil || st.LastAttempt.Operation != agent.OpRegister || st.LastAttempt.Code != smartlic.ESignature {
				t.Errorf("last attempt %+v, want a failed register", st.LastAttempt)
			}
		})
	}
}

// TestAuthorizeRefusesBadAnswers: the same for authorizations, including
// a replay of the instance's own earlier authorization. The previous
// authorization stays in force.
func TestAuthorizeRefusesBadAnswers(t *testing.T) {
	for name, mis := range map[string]func(*peer, *agent.Agent) rewrite{
		"tampered payload": func(p *peer, _ *agent.Agent) rewrite { return p.tampered("expires_at", "2099-01-01T00:00:00Z") },
		"wrong type":       func(p *peer, _ *agent.Agent) rewrite { return p.retyped(smartlic.TypeDeregistered) },
		"unknown key":      func(p *peer, _ *agent.Agent) rewrite { return p.foreign(false) },
		"another instance": func(p *peer, _ *agent.Agent) rewrite { return p.resigned("instance_id", "inst-9") },
		"another UDI":      func(p *peer, _ *agent.Agent) rewrite { return p.resigned("udi", otherUDI) },
		"a license not asked for": func(p *peer, _ *agent.Agent) rewrite {
			return p.resigned("entitlements", []smartlic.Usage{
				{LicenseTag: "network-advantage", Count: 2, Status: smartlic.Authorized},
				{LicenseTag: "hseck9", Count: 1, Status: smartlic.Authorized},
			})
		},
		"replayed earlier answer": func(_ *peer, a *agent.Agent) rewrite {
			old := *a.State().Registration.AuthorizationDoc
			return func(smartlic.Envelope) smartlic.Envelope { return old }
		},
	} {
		t.Run(name, func(t *testing.T) {
			p, a := registered(t)
			before := a.Status().Authorization
			p.clock.Advance(31 * smartlic.Day)
			p.misbehave(mis(p, a))
			err := a.Authorize(t.Context())
			wantCode(t, err, smartlic.ESignature)
			st := a.Status()
			if !st.Authorization.IssuedAt.Equal(*before.IssuedAt) || !st.Authorization.RenewalDue {
				t.Errorf("authorization changed to %+v, want the previous one (issued %v), still due", st.Authorization, before.IssuedAt)
			}
			if la := st.Authorization.LastAttempt; la == nil || la.Succeeded() || la.Code != smartlic.ESignature || !la.At.Equal(p.clock.Now()) {
				t.Errorf("last authorization attempt %+v", la)
			}
		})
	}
}

// TestRenewAndDeregisterRefuseBadAnswers: a renewal answer that is not an
// ID certificate for this instance's key changes nothing, and neither does
// a forged deregistration confirmation.
func TestRenewAndDeregisterRefuseBadAnswers(t *testing.T) {
	p, a := registered(t)
	cert := a.Status().Registration
	for name, mis := range map[string]rewrite{
		"wrong type":       p.retyped(smartlic.TypeAuthorization),
		"another key":      p.resigned("public_key", make([]byte, 32)),
		"another instance": p.resigned("instance_id", "inst-9"),
		"tampered":         p.tampered("expires_at", "2099-01-01T00:00:00Z"),
	} {
		p.misbehave(mis)
		err := a.RenewIDCert(t.Context())
		if smartlic.ErrorCode(err) != smartlic.ESignature {
			t.Errorf("%s: RenewIDCert: %v, want signature_invalid", name, err)
		}
		if got := a.Status().Registration; got.IDCertSerial != cert.IDCertSerial || !got.IDCertIssuedAt.Equal(cert.IDCertIssuedAt) {
			t.Errorf("%s: ID certificate changed to %+v", name, got)
		}
	}

	p.misbehave(p.tampered("instance_id", "inst-1 "))
	wantCode(t, a.Deregister(t.Context()), smartlic.ESignature)
	if a.Status().Mode != agent.ModeRegistered {
		t.Fatal("a forged deregistration confirmation dropped the registration")
	}
	p.misbehave(nil)
	if err := a.Deregister(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.Mode != agent.ModeEvaluation || st.Registration != nil {
		t.Errorf("after deregistration: %+v", st)
	}
	wantCode(t, a.Authorize(t.Context()), smartlic.ENotRegistered)
}

// TestServerErrors: the manager's error body arrives as *smartlic.Error
// with its code, field and message; an answer not in that shape still has
// a code; an unreachable manager is recorded as a failed attempt.
func TestServerErrors(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	a := newAgent(t, p, agent.MemoryState())

	p.failWith(http.StatusForbidden, `{"error":{"code":"token_expired","message":"registration token expired at 2026-02-01T00:00:00Z","field":"token"}}`)
	err := a.Register(t.Context(), "good-token", false)
	var e *smartlic.Error
	if !errors.As(err, &e) || e.Code != smartlic.ETokenExpired || e.Field != "token" || e.Message != "registration token expired at 2026-02-01T00:00:00Z" {
		t.Fatalf("Register: %#v, want the server's token_expired error", err)
	}
	if la := a.Status().LastAttempt; la == nil || la.Code != smartlic.ETokenExpired || la.Field != "token" {
		t.Errorf("last attempt %+v", la)
	}

	p.failWith(http.StatusBadGateway, "<html>bad gateway</html>")
	wantCode(t, a.Register(t.Context(), "good-token", false), smartlic.EInternal)

	p.failWith(0, "")
	wantCode(t, a.Register(t.Context(), "wrong-token", false), smartlic.ETokenUnknown)

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	b, err := agent.New(agent.Options{Server: dead.URL, Clock: clock, Store: agent.MemoryState(), UDI: testUDI})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Register(t.Context(), "good-token", false)
	if err == nil {
		t.Fatal("Register against a closed server succeeded")
	}
	if la := b.Status().LastAttempt; la == nil || la.Succeeded() || !strings.Contains(la.Message, strings.TrimPrefix(dead.URL, "http://")) {
		t.Errorf("last attempt %+v, want a failure naming the address", la)
	}
}

// TestTrustOnFirstUse: without configured keys the manager's keys are
// fetched once, at the first registration, and pinned: a manager that
// later signs with another key is not believed.
func TestTrustOnFirstUse(t *testing.T) {
	p, a := registered(t)
	if n := p.callsTo("keys"); n != 1 {
		t.Fatalf("keys fetched %d times, want 1", n)
	}
	if ids := a.Status().ManagerKeyIDs; len(ids) != 1 || ids[0] != p.signingKey().ID {
		t.Errorf("pinned keys %v, want [%s]", ids, p.signingKey().ID)
	}
	if err := a.Register(t.Context(), "good-token", true); err != nil {
		t.Fatal(err)
	}
	if n := p.callsTo("keys"); n != 1 {
		t.Errorf("re-registration fetched the keys again (%d fetches)", n)
	}
	p.rotate()
	err := a.Authorize(t.Context())
	wantCode(t, err, smartlic.ESignature)
	if !strings.Contains(smartlic.ErrorMessage(err), "unknown signing key") {
		t.Errorf("error %q does not say the key is unknown", err)
	}
}

// TestConfiguredKeys: configured keys are used as given; the keys route is
// never asked.
func TestConfiguredKeys(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	other, err := sign.NewKey(epoch)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		keys sign.KeySet
		code string
	}{
		{sign.NewKeySet([]smartlic.SigningKey{other}), smartlic.ESignature},
		{sign.NewKeySet([]smartlic.SigningKey{other, p.signingKey()}), ""},
	} {
		a, err := agent.New(agent.Options{Server: p.url, Clock: clock, Store: agent.MemoryState(), UDI: testUDI, TrustedKeys: c.keys})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, a.Register(t.Context(), "good-token", false), c.code)
		if got := len(a.Status().ManagerKeyIDs); got != len(c.keys) {
			t.Errorf("status shows %d trusted keys, want %d", got, len(c.keys))
		}
	}
	if n := p.callsTo("keys"); n != 0 {
		t.Errorf("keys fetched %d times with configured keys", n)
	}
	_, err = agent.New(agent.Options{Server: p.url, Store: agent.MemoryState(), UDI: testUDI, TrustedKeys: sign.KeySet{}})
	wantCode(t, err, smartlic.EInvalid)
}

// TestRegisterAgain: a registered instance re-registers only with force,
// which makes a new key and a new instance and drops the old authorization.
func TestRegisterAgain(t *testing.T) {
	p, a := registered(t)
	oldKey := a.State().Registration.PrivateKey
	wantCode(t, a.Register(t.Context(), "good-token", false), smartlic.EConflict)
	wantCode(t, a.Register(t.Context(), "  ", true), smartlic.EInvalid)
	p.clock.Advance(smartlic.Day)
	if err := a.Register(t.Context(), "good-token", true); err != nil {
		t.Fatal(err)
	}
	st := a.Status()
	if st.Registration.InstanceID != "inst-2" || !st.Registration.RegisteredAt.Equal(p.clock.Now()) || st.Authorization.Status != smartlic.AuthPending {
		t.Errorf("after forced re-registration: %+v %+v", st.Registration, st.Authorization)
	}
	if a.State().Registration.PrivateKey.Equal(oldKey) {
		t.Error("re-registration kept the old instance key")
	}
	if l := license(t, st, "network-advantage"); l.Status != agent.LicensePending {
		t.Errorf("license after re-registration: %+v, want pending", l)
	}
}

// TestDeregisterUnknownToManager: when the manager no longer knows the
// instance, deregistration still drops the local registration.
func TestDeregisterUnknownToManager(t *testing.T) {
	p, a := registered(t)
	p.failWith(http.StatusForbidden, `{"error":{"code":"not_registered","message":"no registered instance","field":"kid"}}`)
	if err := a.Deregister(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.Registration != nil || st.Mode != agent.ModeEvaluation {
		t.Errorf("after deregistering an instance the manager forgot: %+v", st)
	}
	p2, b := registered(t)
	p2.failWith(http.StatusServiceUnavailable, `{"error":{"code":"internal","message":"down"}}`)
	wantCode(t, b.Deregister(t.Context()), smartlic.EInternal)
	if b.Status().Registration == nil {
		t.Error("a failed deregistration dropped the registration; the manager still counts its licenses")
	}
}

// TestAnswerSizeLimit: an endless answer is cut off, not buffered.
func TestAnswerSizeLimit(t *testing.T) {
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	a := newAgent(t, p, agent.MemoryState())
	p.failWith(http.StatusOK, `{"type":"`+strings.Repeat("a", 2*agent.MaxAnswerBytes)+`"}`)
	err := a.Register(t.Context(), "good-token", false)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Register with a 2 MiB answer: %v, want it refused for its size", err)
	}
	if a.Status().Registration != nil {
		t.Error("registered from an oversized answer")
	}
}
