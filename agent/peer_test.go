package agent_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/agent"
	"github.com/smartlic/smartlic/sign"
)

var epoch = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

var testUDI = smartlic.UDI{PID: "C9300-24T", SN: "FOC2231X0AB"}

// peer is a manager reached over real HTTP that speaks the device protocol
// with its own signing key. It checks every request the way the manager
// does (signature by the claimed key, subject), so the agent's requests are
// tested too, and it can be told to misbehave: that is the real peer the
// agent must not believe.
type peer struct {
	t     *testing.T
	clock *smartlic.FakeClock
	key   smartlic.SigningKey // publishes and signs with this key
	url   string

	mu        sync.Mutex
	instances map[string]ed25519.PublicKey // instance id → key
	calls     map[string]int               // route → calls
	next      int
	// outOfCompliance lists tags answered out_of_compliance.
	outOfCompliance map[string]bool
	// answer, when set, replaces the signed answer to the next request:
	// it gets the answer the peer would send and returns what is sent.
	answer func(smartlic.Envelope) smartlic.Envelope
	// fail, when set, is sent instead of an answer: status and error body.
	failStatus int
	failBody   string
	// refuse, when set, is the refusal of an authorization request whose
	// usage has a line of one of the tags it lists: the peer's error.
	refuse func(tags []string) *smartlic.Error
}

func newPeer(t *testing.T, clock *smartlic.FakeClock) *peer {
	t.Helper()
	key, err := sign.NewKey(clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, clock: clock, key: key, instances: map[string]ed25519.PublicKey{}, calls: map[string]int{}, outOfCompliance: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /device/v1/keys", func(w http.ResponseWriter, r *http.Request) {
		p.count("keys")
		pub := p.signingKey()
		pub.PrivateKey = nil
		writeJSON(w, http.StatusOK, smartlic.PublicKeySet{Keys: []smartlic.SigningKey{pub}})
	})
	mux.HandleFunc("POST /device/v1/register", p.device("register", p.register))
	mux.HandleFunc("POST /device/v1/authorize", p.device("authorize", p.authorize))
	mux.HandleFunc("POST /device/v1/renew", p.device("renew", p.renew))
	mux.HandleFunc("POST /device/v1/deregister", p.device("deregister", p.deregister))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, field, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "field": field, "message": msg}})
}

func (p *peer) count(route string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[route]++
}

func (p *peer) callsTo(route string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[route]
}

func (p *peer) signingKey() smartlic.SigningKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.key
}

// rotate makes the peer publish and sign with a new key.
func (p *peer) rotate() {
	key, err := sign.NewKey(p.clock.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.key = key
}

// setOutOfCompliance makes the peer answer tag out_of_compliance.
func (p *peer) setOutOfCompliance(tag string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outOfCompliance[tag] = true
}

// misbehave makes the next answers pass through f.
func (p *peer) misbehave(f func(smartlic.Envelope) smartlic.Envelope) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer = f
}

func (p *peer) failWith(status int, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failStatus, p.failBody = status, body
}

// device wraps a protocol step: content type, envelope parsing, canned
// failures and misbehaviour.
func (p *peer) device(route string, step func(smartlic.Envelope) (any, string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.count(route)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, smartlic.EUnsupportedMT, "", "want application/json, got "+ct)
			return
		}
		var env smartlic.Envelope
		if err := json.NewDecoder(r.Body).Decode(&env); err != nil {
			writeError(w, http.StatusBadRequest, smartlic.EInvalid, "body", err.Error())
			return
		}
		p.mu.Lock()
		status, body := p.failStatus, p.failBody
		p.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return
		}
		payload, typ, err := step(env)
		if err != nil {
			body := map[string]any{"code": smartlic.ErrorCode(err), "field": smartlic.ErrorField(err), "message": smartlic.ErrorMessage(err)}
			var e *smartlic.Error
			if errors.As(err, &e) && e.Tags != nil {
				body["tags"] = e.Tags
			}
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": body})
			return
		}
		key := p.signingKey()
		ans, err := sign.Seal(typ, key.ID, ed25519.PrivateKey(key.PrivateKey), payload)
		if err != nil {
			p.t.Error(err)
			return
		}
		p.mu.Lock()
		f := p.answer
		p.mu.Unlock()
		if f != nil {
			ans = f(ans)
		}
		writeJSON(w, http.StatusOK, ans)
	}
}

func (p *peer) register(env smartlic.Envelope) (any, string, error) {
	pub, err := base64.RawURLEncoding.DecodeString(env.KeyID)
	if err != nil {
		return nil, "", smartlic.Errorf(smartlic.ESignature, "kid", "kid is not a public key")
	}
	if err := sign.Verify(env, smartlic.TypeRegisterRequest, pub); err != nil {
		return nil, "", err
	}
	var req smartlic.RegisterRequest
	if err := smartlic.DecodePayload(env, &req); err != nil {
		return nil, "", err
	}
	if !ed25519.PublicKey(pub).Equal(ed25519.PublicKey(req.PublicKey)) || req.Token != "good-token" {
		return nil, "", smartlic.Errorf(smartlic.ETokenUnknown, "token", "registration token not recognised")
	}
	now := p.clock.Now()
	p.mu.Lock()
	p.next++
	id := fmt.Sprintf("inst-%d", p.next)
	p.instances[id] = pub
	p.mu.Unlock()
	return p.cert(id, req.UDI, pub, now), smartlic.TypeIDCert, nil
}

func (p *peer) cert(id string, udi smartlic.UDI, pub []byte, now time.Time) smartlic.IDCert {
	return smartlic.IDCert{
		Serial: "serial-" + now.Format("20060102"), InstanceID: id, UDI: udi,
		SmartAccount: "acme.example", SmartAccountName: "Acme Corporation", VirtualAccount: "Building A",
		PublicKey: pub, IssuedAt: now, RenewAfter: now.Add(smartlic.IDCertRenewAfter), ExpiresAt: now.Add(smartlic.IDCertValidity),
	}
}

// request verifies a device request signed by a known instance.
func (p *peer) request(env smartlic.Envelope, typ string) (smartlic.DeviceRequest, error) {
	var req smartlic.DeviceRequest
	p.mu.Lock()
	pub, ok := p.instances[env.KeyID]
	p.mu.Unlock()
	if !ok {
		return req, smartlic.Errorf(smartlic.ENotRegistered, "kid", "no registered instance %q", env.KeyID)
	}
	if err := sign.Verify(env, typ, pub); err != nil {
		return req, err
	}
	if err := smartlic.DecodePayload(env, &req); err != nil {
		return req, err
	}
	if req.InstanceID != env.KeyID || !req.SentAt.Equal(p.clock.Now()) {
		return req, smartlic.Invalid("instance_id", "request about another instance, or sent_at is not now")
	}
	return req, nil
}

func (p *peer) authorize(env smartlic.Envelope) (any, string, error) {
	req, err := p.request(env, smartlic.TypeAuthRequest)
	if err != nil {
		return nil, "", err
	}
	now := p.clock.Now()
	auth := smartlic.Authorization{InstanceID: req.InstanceID, UDI: req.UDI, IssuedAt: now,
		RenewAfter: now.Add(smartlic.AuthRenewAfter), ExpiresAt: now.Add(smartlic.AuthValidity), Entitlements: []smartlic.Usage{}}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse != nil {
		var tags []string
		for _, u := range req.Usage {
			tags = append(tags, u.LicenseTag)
		}
		if e := p.refuse(tags); e != nil {
			return nil, "", e
		}
	}
	for _, u := range req.Usage {
		u.Status = smartlic.Authorized
		if p.outOfCompliance[u.LicenseTag] {
			u.Status = smartlic.OutOfCompliance
		}
		auth.Entitlements = append(auth.Entitlements, u)
	}
	return auth, smartlic.TypeAuthorization, nil
}

func (p *peer) renew(env smartlic.Envelope) (any, string, error) {
	req, err := p.request(env, smartlic.TypeRenewRequest)
	if err != nil {
		return nil, "", err
	}
	p.mu.Lock()
	pub := p.instances[req.InstanceID]
	p.mu.Unlock()
	return p.cert(req.InstanceID, req.UDI, pub, p.clock.Now()), smartlic.TypeIDCert, nil
}

func (p *peer) deregister(env smartlic.Envelope) (any, string, error) {
	req, err := p.request(env, smartlic.TypeDeregisterRequest)
	if err != nil {
		return nil, "", err
	}
	p.mu.Lock()
	delete(p.instances, req.InstanceID)
	p.mu.Unlock()
	return smartlic.Deregistered{InstanceID: req.InstanceID, UDI: req.UDI, At: p.clock.Now()}, smartlic.TypeDeregistered, nil
}

// newAgent opens an agent on store against the peer.
func newAgent(t *testing.T, p *peer, store agent.StateStore) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Options{Server: p.url, Clock: p.clock, Store: store, UDI: testUDI, Hostname: "sw1"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// registered returns an agent registered with the peer, using one license.
func registered(t *testing.T) (*peer, *agent.Agent) {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	p := newPeer(t, clock)
	a := newAgent(t, p, agent.MemoryState())
	ctx := t.Context()
	if err := a.SetUsage("network-advantage", 2); err != nil {
		t.Fatal(err)
	}
	if err := a.Register(ctx, "good-token", false); err != nil {
		t.Fatal(err)
	}
	if err := a.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	return p, a
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := smartlic.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}
