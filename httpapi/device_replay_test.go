package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// replayScene is an account with a product, a license and a token of
// three uses, for replaying device requests against.
type replayScene struct {
	*env
	token string // secret
	id    string // token id
}

func newReplayScene(t *testing.T, open func(*testing.T) *store.DB) *replayScene {
	t.Helper()
	e := newEnvOn(t, open)
	e.account("acme.example")
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/license-types", body: `{"tag":"network-advantage","name":"Network Advantage","term":"perpetual"}`}), http.StatusCreated)
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/products", body: `{"pid":"C9300","name":"Catalyst 9300","license_types":["network-advantage"]}`}), http.StatusCreated)
	wantStatus(t, e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/virtual-accounts/DEFAULT/deposits", body: `{"order_number":"SO-1","license":"network-advantage","quantity":10}`}), http.StatusCreated)
	a := e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/virtual-accounts/DEFAULT/tokens", body: `{"description":"replay","expires_in_days":30,"max_uses":3}`})
	wantStatus(t, a, http.StatusCreated)
	var tok smartlic.Token
	a.decode(t, &tok)
	return &replayScene{env: e, token: tok.Secret, id: tok.ID}
}

// seal signs a device request as d; kid is the instance id, or "" for a
// registration (signed with the new key itself).
func (s *replayScene) seal(d *device, typ, kid string, payload any) string {
	s.t.Helper()
	if kid == "" {
		kid = base64.RawURLEncoding.EncodeToString(d.pub)
	}
	env, err := sign.Seal(typ, kid, d.priv, payload)
	if err != nil {
		s.t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

func (s *replayScene) register(d *device, force bool, at time.Time) string {
	return s.seal(d, smartlic.TypeRegisterRequest, "", smartlic.RegisterRequest{
		Token: s.token, UDI: d.udi, Hostname: "sw1", PublicKey: d.pub, Force: force, SentAt: at})
}

func (s *replayScene) authorize(d *device, instanceID string, count int64, at time.Time) string {
	return s.seal(d, smartlic.TypeAuthRequest, instanceID, smartlic.DeviceRequest{
		InstanceID: instanceID, UDI: d.udi, SentAt: at, Usage: []smartlic.Usage{{LicenseTag: "network-advantage", Count: count}}})
}

// send posts an envelope to a device route and wants 200.
func (s *replayScene) send(route, body string) answer {
	s.t.Helper()
	a := s.do(request{method: "POST", path: "/device/v1/" + route, auth: "-", body: body})
	wantStatus(s.t, a, http.StatusOK)
	return a
}

func (s *replayScene) cert(a answer) smartlic.IDCert {
	s.t.Helper()
	var env smartlic.Envelope
	a.decode(s.t, &env)
	var c smartlic.IDCert
	if err := smartlic.DecodePayload(env, &c); err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *replayScene) tokenUses() int64 {
	s.t.Helper()
	var tok smartlic.Token
	a := s.do(request{method: "GET", path: "/api/v1/accounts/acme.example/virtual-accounts/DEFAULT/tokens/" + s.id})
	wantStatus(s.t, a, http.StatusOK)
	a.decode(s.t, &tok)
	return tok.Uses
}

// instance reads the registration of d's UDI.
func (s *replayScene) instance(d *device) smartlic.Instance {
	s.t.Helper()
	var inst smartlic.Instance
	a := s.do(request{method: "GET", path: "/api/v1/accounts/acme.example/virtual-accounts/DEFAULT/instances/" + url.PathEscape(d.udi.String())})
	wantStatus(s.t, a, http.StatusOK)
	a.decode(s.t, &inst)
	return inst
}

func (s *replayScene) inUse(d *device) int64 {
	s.t.Helper()
	var n int64
	for _, u := range s.instance(d).Usage {
		n += u.Count
	}
	return n
}

// countEvents counts the account's events of one type.
func (s *replayScene) countEvents(typ string) int {
	s.t.Helper()
	n := 0
	for _, e := range eventsOf(s.env, "acme.example") {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// A captured device request replayed within its ten-minute window changes
// nothing: a force registration replayed neither drops the device that
// made it nor spends a token use, and gets the first answer (so a device
// whose answer was lost can retry); an older authorization replayed, or
// one captured before it arrived and sent after a newer one, does not set
// usage back.
func TestDeviceReplayThroughHTTP(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		s := newReplayScene(t, open)
		now := s.clock.Now()
		d := newDevice(t, "C9300", "FOC1")

		first := s.cert(s.send("register", s.register(d, false, now)))
		force := s.register(d, true, now.Add(time.Second))
		answer := s.send("register", force)
		cert := s.cert(answer)
		if cert.InstanceID == first.InstanceID || s.tokenUses() != 2 || s.instance(d).ID != cert.InstanceID {
			t.Fatalf("force registration: cert %+v, token uses %d", cert, s.tokenUses())
		}

		// Minutes later, still within the window, the force registration
		// is replayed.
		s.clock.Advance(5 * time.Minute)
		replay := s.send("register", force)
		if !bytes.Equal(replay.body, answer.body) {
			t.Fatalf("the replayed registration got another answer:\n%s\nfirst:\n%s", replay.body, answer.body)
		}
		if got := s.instance(d).ID; got != cert.InstanceID {
			t.Fatalf("after the replay the UDI is instance %s, want the real device's %s", got, cert.InstanceID)
		}
		if n := s.tokenUses(); n != 2 {
			t.Fatalf("token uses after the replay = %d, want 2", n)
		}
		if n := s.countEvents("instance.replaced"); n != 1 {
			t.Fatalf("%d instance.replaced events, want 1", n)
		}

		// Authorizations: 5, then 2; the one for 5 replayed, and one for 7
		// signed earlier but held back by an attacker until now.
		t0 := s.clock.Now()
		held := s.authorize(d, cert.InstanceID, 7, t0.Add(-time.Second))
		five := s.authorize(d, cert.InstanceID, 5, t0)
		fiveAnswer := s.send("authorize", five)
		s.send("authorize", s.authorize(d, cert.InstanceID, 2, t0.Add(time.Second)))
		if n := s.inUse(d); n != 2 {
			t.Fatalf("in use = %d, want 2", n)
		}
		s.clock.Advance(time.Minute)
		if again := s.send("authorize", five); !bytes.Equal(again.body, fiveAnswer.body) {
			t.Fatalf("the replayed authorization got another answer:\n%s\nfirst:\n%s", again.body, fiveAnswer.body)
		}
		a := s.do(request{method: "POST", path: "/device/v1/authorize", auth: "-", body: held})
		wantError(t, a, http.StatusConflict, smartlic.EConflict, "sent_at")
		if n := s.inUse(d); n != 2 {
			t.Fatalf("in use after the replays = %d, want still 2", n)
		}

		// Once the window has closed the request is refused as stale, and
		// the remembered requests can be forgotten.
		s.clock.Advance(25 * time.Minute)
		wantError(t, s.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: force}), http.StatusBadRequest, smartlic.EInvalid, "sent_at")
		if n, err := s.mgr.ForgetDeviceRequests(t.Context()); err != nil || n != 4 {
			t.Fatalf("forgot %d requests (%v), want the 4 accepted", n, err)
		}
	})
}

// Many copies of one envelope sent at once take effect once, and every
// copy gets the same answer: a force registration spends one token use
// and replaces the instance once; an authorization is applied once.
func TestDeviceReplayRaceThroughHTTP(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		s := newReplayScene(t, open)
		now := s.clock.Now()
		d := newDevice(t, "C9300", "FOC2")
		s.send("register", s.register(d, false, now))

		const copies = 16
		race := func(route, body string) []answer {
			answers := make([]answer, copies)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range copies {
				wg.Go(func() {
					<-start
					answers[i] = doRequest(t, s.url, s.key, request{method: "POST", path: "/device/v1/" + route, auth: "-", body: body})
				})
			}
			close(start)
			wg.Wait()
			for i, a := range answers {
				if a.status != http.StatusOK || !bytes.Equal(a.body, answers[0].body) {
					t.Fatalf("copy %d: %d %s; copy 0: %d %s", i, a.status, a.body, answers[0].status, answers[0].body)
				}
			}
			return answers
		}

		cert := s.cert(race("register", s.register(d, true, now.Add(time.Second)))[0])
		if n := s.tokenUses(); n != 2 {
			t.Fatalf("token uses after %d copies of one force registration = %d, want 2", copies, n)
		}
		if n := s.countEvents("instance.replaced"); n != 1 {
			t.Fatalf("%d instance.replaced events, want 1", n)
		}
		if got := s.instance(d).ID; got != cert.InstanceID {
			t.Fatalf("the UDI is instance %s, want %s from the answer every copy got", got, cert.InstanceID)
		}

		race("authorize", s.authorize(d, cert.InstanceID, 4, now.Add(2*time.Second)))
		if n := s.countEvents("instance.usage_changed"); n != 1 {
			t.Fatalf("%d instance.usage_changed events, want 1", n)
		}
		if n := s.inUse(d); n != 4 {
			t.Fatalf("in use = %d, want 4", n)
		}
	})
}
