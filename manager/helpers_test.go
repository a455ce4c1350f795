package manager_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
)

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	ctx   context.Context // carries the operator actor
	mgr   *manager.Manager
	clock *smartlic.FakeClock
}

func newFixture(t *testing.T, open func(*testing.T) *store.DB) *fixture {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	mgr, err := manager.New(context.Background(), open(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	ctx := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
	return &fixture{t: t, ctx: ctx, mgr: mgr, clock: clock}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := smartlic.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

// catalog creates the license types and product the tests use.
func (f *fixture) catalog() {
	f.t.Helper()
	for _, lt := range []smartlic.LicenseType{
		{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced},
		{Tag: "network-essentials", Name: "Network Essentials", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced},
		{Tag: "threat-defense", Name: "Threat Defense", Term: smartlic.TermPerpetual, Enforcement: smartlic.Enforced},
		{Tag: "hseck9", Name: "HSECK9 strong crypto", Term: smartlic.TermPerpetual, Enforcement: smartlic.ExportControlled},
	} {
		must[smartlic.LicenseType](f.t)(f.mgr.CreateLicenseType(f.ctx, lt))
	}
	must[smartlic.Product](f.t)(f.mgr.CreateProduct(f.ctx, smartlic.Product{
		PID: "C9300-24T", Name: "Catalyst 9300 24-port",
		LicenseTypes: []string{"network-advantage", "network-essentials", "threat-defense", "hseck9"},
	}))
}

func (f *fixture) account(domain string) smartlic.SmartAccount {
	f.t.Helper()
	return must[smartlic.SmartAccount](f.t)(f.mgr.CreateSmartAccount(f.ctx, smartlic.SmartAccount{Name: "Acme", Domain: domain, Status: smartlic.SAActive}))
}

func (f *fixture) token(sa, va string, in smartlic.TokenInput) string {
	f.t.Helper()
	if in.ExpiresInDays == 0 {
		in.ExpiresInDays = 30
	}
	if in.Description == "" {
		in.Description = "test"
	}
	return must[smartlic.Token](f.t)(f.mgr.CreateToken(f.ctx, sa, va, in)).Secret
}

// device is a minimal product instance speaking the protocol directly, so
// manager tests do not depend on the agent package.
type device struct {
	udi  smartlic.UDI
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	id   string
}

func newDevice(t *testing.T, sn string) *device {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &device{udi: smartlic.UDI{PID: "C9300-24T", SN: sn}, pub: pub, priv: priv}
}

func (d *device) registerEnv(t *testing.T, token string, now time.Time, force bool) smartlic.Envelope {
	t.Helper()
	env, err := sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(d.pub), d.priv, smartlic.RegisterRequest{
		Token: token, UDI: d.udi, Hostname: "sw-" + d.udi.SN, PublicKey: d.pub, Force: force, SentAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func (f *fixture) register(d *device, token string) (smartlic.IDCert, error) {
	f.t.Helper()
	env, err := f.mgr.Register(context.Background(), d.registerEnv(f.t, token, f.clock.Now(), false))
	if err != nil {
		return smartlic.IDCert{}, err
	}
	var cert smartlic.IDCert
	keys := must[smartlic.PublicKeySet](f.t)(f.mgr.PublicKeys(context.Background()))
	if err := sign.Open(env, smartlic.TypeIDCert, sign.NewKeySet(keys.Keys), &cert); err != nil {
		f.t.Fatalf("manager's ID certificate does not verify: %v", err)
	}
	d.id = cert.InstanceID
	return cert, nil
}

func (d *device) request(t *testing.T, typ string, now time.Time, usage []smartlic.Usage) smartlic.Envelope {
	t.Helper()
	env, err := sign.Seal(typ, d.id, d.priv, smartlic.DeviceRequest{InstanceID: d.id, UDI: d.udi, SentAt: now, Usage: usage})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func (f *fixture) authorize(d *device, usage ...smartlic.Usage) (smartlic.Authorization, error) {
	f.t.Helper()
	env, err := f.mgr.Authorize(context.Background(), d.request(f.t, smartlic.TypeAuthRequest, f.clock.Now(), usage))
	if err != nil {
		return smartlic.Authorization{}, err
	}
	var a smartlic.Authorization
	keys := must[smartlic.PublicKeySet](f.t)(f.mgr.PublicKeys(context.Background()))
	if err := sign.Open(env, smartlic.TypeAuthorization, sign.NewKeySet(keys.Keys), &a); err != nil {
		f.t.Fatalf("authorization does not verify: %v", err)
	}
	return a, nil
}

func use(tag string, n int64) smartlic.Usage { return smartlic.Usage{LicenseTag: tag, Count: n} }

// pool returns the VA's pool of tag, failing if it is missing.
func (f *fixture) pool(sa, va, tag string, rollup bool) smartlic.Pool {
	f.t.Helper()
	pools := must[[]smartlic.Pool](f.t)(f.mgr.ListPools(f.ctx, sa, va, rollup))
	for _, p := range pools {
		if p.LicenseTag == tag {
			return p
		}
	}
	f.t.Fatalf("no %s pool in %s/%s: %+v", tag, sa, va, pools)
	return smartlic.Pool{}
}
