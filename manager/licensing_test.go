package manager_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// The seed's walkthrough, in the manager: deposit, token, register, use,
// watch the pool, go into overage, deregister and recover.
func TestPoolsFollowUsage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Campus"}))
		must[smartlic.VirtualAccount](t)(f.mgr.CreateVirtualAccount(f.ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Building A", Parent: "Campus"}))
		end := epoch.Add(365 * smartlic.Day)
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-advantage", Quantity: 3, EndsAt: &end}))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.Domain, "Campus", smartlic.DepositInput{OrderNumber: "PO-2", License: "network-advantage", Quantity: 10, EndsAt: &end}))
		tok := f.token(sa.Domain, "Building A", smartlic.TokenInput{})

		var devs []*device
		for i := 0; i < 4; i++ {
			d := newDevice(t, fmt.Sprintf("FOC%04d", i))
			cert := must[smartlic.IDCert](t)(f.register(d, tok))
			if cert.VirtualAccount != "Building A" || cert.SmartAccount != "acme.example" {
				t.Fatalf("cert names %s/%s", cert.SmartAccount, cert.VirtualAccount)
			}
			if !cert.ExpiresAt.Equal(epoch.Add(365*smartlic.Day)) || !cert.RenewAfter.Equal(epoch.Add(180*smartlic.Day)) {
				t.Fatalf("cert validity %v / renew %v", cert.ExpiresAt, cert.RenewAfter)
			}
			devs = append(devs, d)
		}
		for i, d := range devs[:3] {
			a := must[smartlic.Authorization](t)(f.authorize(d, use("network-advantage", 1)))
			if a.Entitlements[0].Status != smartlic.Authorized {
				t.Fatalf("device %d: %+v", i, a.Entitlements)
			}
		}
		p := f.pool(sa.Domain, "Building A", "network-advantage", false)
		if p.Purchased != 3 || p.InUse != 3 || p.Available != 0 || p.Status != smartlic.InCompliance {
			t.Fatalf("full pool = %+v", p)
		}
		// The fourth goes into overage: allowed, shown, out of compliance.
		a := must[smartlic.Authorization](t)(f.authorize(devs[3], use("network-advantage", 1)))
		if a.Entitlements[0].Status != smartlic.OutOfCompliance {
			t.Fatalf("overage entitlement = %+v", a.Entitlements)
		}
		p = f.pool(sa.Domain, "Building A", "network-advantage", false)
		if p.InUse != 4 || p.Available != -1 || p.Overage != 1 || p.Status != smartlic.Insufficient {
			t.Fatalf("overage pool = %+v", p)
		}
		// The parent's rolled-up view adds its own 10 but still shows
		// Building A's shortfall: its instances cannot use Campus's pool.
		r := f.pool(sa.Domain, "Campus", "network-advantage", true)
		if r.Purchased != 13 || r.InUse != 4 || r.Available != 9 || r.Overage != 1 || r.Status != smartlic.Insufficient {
			t.Fatalf("rollup = %+v", r)
		}
		if own := f.pool(sa.Domain, "Campus", "network-advantage", false); own.Purchased != 10 || own.InUse != 0 || own.Status != smartlic.InCompliance {
			t.Fatalf("Campus alone = %+v", own)
		}
		acct := must[[]smartlic.Pool](t)(f.mgr.ListAccountPools(f.ctx, sa.Domain))
		if len(acct) != 1 || acct[0].Purchased != 13 || acct[0].InUse != 4 || acct[0].Status != smartlic.Insufficient {
			t.Fatalf("account pools = %+v", acct)
		}
		// Deregistering one restores compliance.
		if _, err := f.mgr.Deregister(context.Background(), devs[3].request(t, smartlic.TypeDeregisterRequest, f.clock.Now(), nil)); err != nil {
			t.Fatal(err)
		}
		p = f.pool(sa.Domain, "Building A", "network-advantage", false)
		if p.InUse != 3 || p.Available != 0 || p.Status != smartlic.InCompliance {
			t.Fatalf("after deregister = %+v", p)
		}
		insts, _, err := f.mgr.ListInstances(f.ctx, sa.Domain, "Building A", smartlic.Page{})
		if err != nil || len(insts) != 3 {
			t.Fatalf("instances = %d, %v", len(insts), err)
		}
		// Using more on one device and releasing on another move the counter.
		must[smartlic.Authorization](t)(f.authorize(devs[0], use("network-advantage", 2)))
		must[smartlic.Authorization](t)(f.authorize(devs[1]))
		p = f.pool(sa.Domain, "Building A", "network-advantage", false)
		if p.InUse != 3 {
			t.Fatalf("after changes in_use = %d, want 3", p.InUse)
		}
		// Removing from the portal side also returns usage.
		if err := f.mgr.RemoveInstance(f.ctx, sa.Domain, "Building A", devs[0].udi.String()); err != nil {
			t.Fatal(err)
		}
		if p = f.pool(sa.Domain, "Building A", "network-advantage", false); p.InUse != 1 {
			t.Fatalf("after remove in_use = %d, want 1", p.InUse)
		}
		_, err = f.authorize(devs[0], use("network-advantage", 1))
		wantCode(t, err, smartlic.ENotRegistered)
	})
}

func TestPoolStatusOverTime(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	f.catalog()
	sa := f.account("time.example")
	end := epoch.Add(120 * smartlic.Day)
	must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "PO-9", License: "network-advantage", Quantity: 5, EndsAt: &end}))
	if p := f.pool(sa.ID, smartlic.DefaultVAName, "network-advantage", false); p.Status != smartlic.InCompliance || p.Purchased != 5 {
		t.Fatalf("day 0: %+v", p)
	}
	f.clock.Advance(31 * smartlic.Day) // 89 days left
	if p := f.pool(sa.ID, smartlic.DefaultVAName, "network-advantage", false); p.Status != smartlic.Expiring || p.NextExpiry == nil || !p.NextExpiry.Equal(end) {
		t.Fatalf("day 31: %+v", p)
	}
	f.clock.Set(end)
	if p := f.pool(sa.ID, smartlic.DefaultVAName, "network-advantage", false); p.Status != smartlic.Expired || p.Purchased != 0 {
		t.Fatalf("at end: %+v", p)
	}
	// A future-dated subscription does not count until it starts.
	start := end.Add(10 * smartlic.Day)
	end2 := start.Add(365 * smartlic.Day)
	must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "PO-10", License: "network-advantage", Quantity: 7, StartsAt: &start, EndsAt: &end2}))
	if p := f.pool(sa.ID, smartlic.DefaultVAName, "network-advantage", false); p.Purchased != 0 {
		t.Fatalf("future deposit counted early: %+v", p)
	}
	f.clock.Set(start)
	if p := f.pool(sa.ID, smartlic.DefaultVAName, "network-advantage", false); p.Purchased != 7 || p.Status != smartlic.InCompliance {
		t.Fatalf("renewed: %+v", p)
	}
}

func TestDepositRules(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	f.catalog()
	sa := f.account("deposits.example")
	end := epoch.Add(smartlic.Day)
	for _, tc := range []struct {
		in    smartlic.DepositInput
		code  string
		field string
	}{
		{smartlic.DepositInput{OrderNumber: "PO", License: "network-essentials", Quantity: 0}, smartlic.EInvalid, "quantity"},
		{smartlic.DepositInput{OrderNumber: "PO", License: "network-essentials", Quantity: -3}, smartlic.EInvalid, "quantity"},
		{smartlic.DepositInput{OrderNumber: "PO", License: "no-such-license", Quantity: 1}, smartlic.EInvalid, "license"},
		{smartlic.DepositInput{OrderNumber: "PO", License: "network-advantage", Quantity: 1}, smartlic.EInvalid, "ends_at"},
		{smartlic.DepositInput{OrderNumber: "PO", License: "network-essentials", Quantity: 1, EndsAt: &end}, smartlic.EInvalid, "ends_at"},
		{smartlic.DepositInput{OrderNumber: "", License: "network-essentials", Quantity: 1}, smartlic.EInvalid, "order_number"},
	} {
		_, err := f.mgr.CreateDeposit(f.ctx, sa.ID, smartlic.DefaultVAName, tc.in)
		wantCode(t, err, tc.code)
		if smartlic.ErrorField(err) != tc.field {
			t.Errorf("%+v: field %q, want %q", tc.in, smartlic.ErrorField(err), tc.field)
		}
	}
	ds, _, err := f.mgr.ListDeposits(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.Page{})
	if err != nil || len(ds) != 0 {
		t.Fatalf("refused deposits stored: %v %v", ds, err)
	}
}

func TestTokenRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("refuse.example")
		_, err := f.register(newDevice(t, "X1"), "slt_unknown")
		wantCode(t, err, smartlic.ETokenUnknown)

		expiring := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{ExpiresInDays: 1})
		revoked := must[smartlic.Token](t)(f.mgr.CreateToken(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{Description: "revoked", ExpiresInDays: 30}))
		must[smartlic.Token](t)(f.mgr.RevokeToken(f.ctx, sa.ID, smartlic.DefaultVAName, revoked.ID))
		_, err = f.register(newDevice(t, "X2"), revoked.Secret)
		wantCode(t, err, smartlic.ETokenRevoked)

		once := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{MaxUses: ptr[int64](1)})
		must[smartlic.IDCert](t)(f.register(newDevice(t, "X3"), once))
		_, err = f.register(newDevice(t, "X4"), once)
		wantCode(t, err, smartlic.ETokenExhausted)

		// A refused registration leaves no instance and uses nothing.
		dup := newDevice(t, "X3")
		single := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{MaxUses: ptr[int64](1)})
		_, err = f.register(dup, single)
		wantCode(t, err, smartlic.EConflict)
		if smartlic.ErrorField(err) != "udi" || !strings.Contains(smartlic.ErrorMessage(err), "already registered") {
			t.Fatalf("duplicate UDI: field %q, message %q", smartlic.ErrorField(err), smartlic.ErrorMessage(err))
		}

		f.clock.Advance(smartlic.Day)
		_, err = f.register(newDevice(t, "X5"), expiring)
		wantCode(t, err, smartlic.ETokenExpired)

		insts, _, err := f.mgr.ListInstances(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.Page{})
		if err != nil || len(insts) != 1 {
			t.Fatalf("instances after refusals = %d (%v), want 1", len(insts), err)
		}
		// The duplicate did not use up its single-use token.
		must[smartlic.IDCert](t)(f.register(newDevice(t, "X7"), single))
		// Unknown product and malformed UDI.
		tok := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{})
		d := newDevice(t, "X6")
		d.udi.PID = "UNKNOWN-PID"
		_, err = f.register(d, tok)
		wantCode(t, err, smartlic.EInvalid)
		d = newDevice(t, "bad sn with spaces")
		_, err = f.register(d, tok)
		wantCode(t, err, smartlic.EInvalid)
		if smartlic.ErrorField(err) != "udi" {
			t.Fatalf("malformed UDI field = %q", smartlic.ErrorField(err))
		}
	})
}

func TestForgedDocumentsRejected(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	f.catalog()
	sa := f.account("forge.example")
	tok := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{})
	d := newDevice(t, "F1")

	env := d.registerEnv(t, tok, f.clock.Now(), false)
	env.Payload = append([]byte(nil), env.Payload...)
	env.Payload[len(env.Payload)-2] ^= 1 // tamper
	_, err := f.mgr.Register(context.Background(), env)
	wantCode(t, err, smartlic.ESignature)

	// Signed by another key than the one it claims.
	other := newDevice(t, "F1")
	env = d.registerEnv(t, tok, f.clock.Now(), false)
	env.KeyID = other.registerEnv(t, tok, f.clock.Now(), false).KeyID
	_, err = f.mgr.Register(context.Background(), env)
	wantCode(t, err, smartlic.ESignature)

	must[smartlic.IDCert](t)(f.register(d, tok))
	// A registration request replayed as an auth request.
	req := d.request(t, smartlic.TypeAuthRequest, f.clock.Now(), nil)
	req.Type = smartlic.TypeRenewRequest
	_, err = f.mgr.Authorize(context.Background(), req)
	wantCode(t, err, smartlic.ESignature)
	// Another instance's key signing for d.
	other.id = d.id
	_, err = f.mgr.Authorize(context.Background(), other.request(t, smartlic.TypeAuthRequest, f.clock.Now(), nil))
	wantCode(t, err, smartlic.ESignature)
	// A stale request (replay after 20 minutes).
	stale := d.request(t, smartlic.TypeAuthRequest, f.clock.Now().Add(-20*time.Minute), nil)
	_, err = f.mgr.Authorize(context.Background(), stale)
	wantCode(t, err, smartlic.EInvalid)
}

func TestEnforcementClasses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("enforce.example")
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "PO", License: "threat-defense", Quantity: 10}))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "PO", License: "hseck9", Quantity: 10}))
		plain := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{})
		export := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{AllowExportControlled: true})

		d1 := newDevice(t, "E1")
		must[smartlic.IDCert](t)(f.register(d1, plain))
		a := must[smartlic.Authorization](t)(f.authorize(d1, use("hseck9", 1)))
		if a.Entitlements[0].Status != smartlic.NotAuthorized {
			t.Fatalf("export-controlled without permission: %+v", a.Entitlements)
		}
		d2 := newDevice(t, "E2")
		must[smartlic.IDCert](t)(f.register(d2, export))
		a = must[smartlic.Authorization](t)(f.authorize(d2, use("hseck9", 1)))
		if a.Entitlements[0].Status != smartlic.Authorized {
			t.Fatalf("export-controlled with permission: %+v", a.Entitlements)
		}
		if p := f.pool(sa.ID, smartlic.DefaultVAName, "hseck9", false); p.InUse != 1 {
			t.Fatalf("hseck9 in use = %d, want 1 (refused line must not count)", p.InUse)
		}

		// 40 instances race for 10 enforced licenses: exactly 10 win and
		// the pool never goes over.
		tok := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{})
		var devs []*device
		for i := 0; i < 40; i++ {
			d := newDevice(t, fmt.Sprintf("R%02d", i))
			must[smartlic.IDCert](t)(f.register(d, tok))
			devs = append(devs, d)
		}
		var granted atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, len(devs))
		for _, d := range devs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := f.authorize(d, use("threat-defense", 1))
				if err != nil {
					errs <- err
					return
				}
				if a.Entitlements[0].Status == smartlic.Authorized {
					granted.Add(1)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if granted.Load() != 10 {
			t.Fatalf("granted %d enforced licenses, want exactly 10", granted.Load())
		}
		if p := f.pool(sa.ID, smartlic.DefaultVAName, "threat-defense", false); p.InUse != 10 || p.Status != smartlic.InCompliance {
			t.Fatalf("enforced pool = %+v", p)
		}
	})
}

// 1,000 concurrent registrations against a token with max uses 10 yield
// exactly 10 instances.
func TestConcurrentRegistrationsNeverOverConsume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("race.example")
		tok := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{MaxUses: ptr[int64](10)})
		const n = 1000
		envs := make([]smartlic.Envelope, n)
		for i := range envs {
			envs[i] = newDevice(t, fmt.Sprintf("C%04d", i)).registerEnv(t, tok, f.clock.Now(), false)
		}
		var ok, exhausted atomic.Int64
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64) // bounded like a real server's connection pool
		other := make(chan error, n)
		for _, env := range envs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				_, err := f.mgr.Register(context.Background(), env)
				switch smartlic.ErrorCode(err) {
				case "":
					ok.Add(1)
				case smartlic.ETokenExhausted:
					exhausted.Add(1)
				default:
					other <- err
				}
			}()
		}
		wg.Wait()
		close(other)
		for err := range other {
			t.Fatalf("unexpected error: %v", err)
		}
		if ok.Load() != 10 || exhausted.Load() != n-10 {
			t.Fatalf("ok=%d exhausted=%d, want 10 and %d", ok.Load(), exhausted.Load(), n-10)
		}
		var count int
		after := ""
		for {
			items, next, err := f.mgr.ListInstances(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.Page{Limit: 1000, After: after})
			if err != nil {
				t.Fatal(err)
			}
			count += len(items)
			if next == "" {
				break
			}
			after = next
		}
		if count != 10 {
			t.Fatalf("%d instances registered, want 10", count)
		}
		toks, _, _ := f.mgr.ListTokens(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.Page{})
		if len(toks) != 1 || toks[0].Uses != 10 {
			t.Fatalf("token uses = %+v", toks)
		}
	})
}

func TestAuthorizationTimers(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite)
	f.catalog()
	sa := f.account("timers.example")
	tok := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{})
	d := newDevice(t, "T1")
	must[smartlic.IDCert](t)(f.register(d, tok))
	inst := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.ID, smartlic.DefaultVAName, d.id))
	if inst.Authorization != smartlic.AuthPending {
		t.Fatalf("fresh registration: %s", inst.Authorization)
	}
	a := must[smartlic.Authorization](t)(f.authorize(d, use("network-essentials", 1)))
	if !a.RenewAfter.Equal(epoch.Add(30*smartlic.Day)) || !a.ExpiresAt.Equal(epoch.Add(90*smartlic.Day)) {
		t.Fatalf("authorization window %v..%v", a.RenewAfter, a.ExpiresAt)
	}
	f.clock.Advance(90*smartlic.Day - time.Second)
	if got := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.ID, smartlic.DefaultVAName, d.id)).Authorization; got != smartlic.AuthOOC && got != smartlic.AuthValid {
		t.Fatalf("just before 90 days: %s", got)
	}
	f.clock.Advance(time.Second)
	if got := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa.ID, smartlic.DefaultVAName, d.id)).Authorization; got != smartlic.AuthExpired {
		t.Fatalf("at 90 days without contact: %s, want %s", got, smartlic.AuthExpired)
	}
	// Renewing the ID certificate pushes its expiry a year from now.
	env, err := f.mgr.RenewID(context.Background(), d.request(t, smartlic.TypeRenewRequest, f.clock.Now(), nil))
	if err != nil {
		t.Fatal(err)
	}
	var cert smartlic.IDCert
	if err := smartlic.DecodePayload(env, &cert); err != nil {
		t.Fatal(err)
	}
	if !cert.ExpiresAt.Equal(f.clock.Now().Add(365 * smartlic.Day)) {
		t.Fatalf("renewed cert expires %v", cert.ExpiresAt)
	}
	// A year without renewal ends the registration: authorization and
	// renewal are refused, deregistration still works.
	f.clock.Advance(365 * smartlic.Day)
	_, err = f.authorize(d, use("network-essentials", 1))
	wantCode(t, err, smartlic.ENotRegistered)
	_, err = f.mgr.RenewID(context.Background(), d.request(t, smartlic.TypeRenewRequest, f.clock.Now(), nil))
	wantCode(t, err, smartlic.ENotRegistered)
	if _, err := f.mgr.Deregister(context.Background(), d.request(t, smartlic.TypeDeregisterRequest, f.clock.Now(), nil)); err != nil {
		t.Fatalf("deregister with an expired ID certificate: %v", err)
	}
}
