package manager_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A rollout's rush: 1,000 devices register at once with one token good for
// 600, and the first 100 send their request twice. Exactly 600 devices get
// an ID certificate, a copy gets the same answer as its original, the
// other 400 get token_exhausted, the token counts 600 uses, and the event
// log verifies. Then every registered device reports one license at once,
// and the pool's counter equals a recount of the instances' usage.
func TestRegistrationRush(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("rush.example")
		const n, maxUses, copies = 1000, 600, 100
		tok := f.token(sa.ID, smartlic.DefaultVAName, smartlic.TokenInput{MaxUses: ptr[int64](maxUses)})
		devs := make([]*device, n)
		envs := make([]smartlic.Envelope, n+copies)
		for i := range devs {
			devs[i] = newDevice(t, fmt.Sprintf("R%04d", i))
			envs[i] = devs[i].registerEnv(t, tok, f.clock.Now(), false)
		}
		copy(envs[n:], envs[:copies])
		keys := must[smartlic.PublicKeySet](t)(f.mgr.PublicKeys(f.ctx))

		type outcome struct {
			instance string // the certificate's instance id, or ""
			code     string
		}
		got := make([]outcome, len(envs))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, env := range envs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start // all in flight at once
				ans, err := f.mgr.Register(context.Background(), env)
				if err != nil {
					got[i].code = smartlic.ErrorCode(err)
					if got[i].code == "" {
						got[i].code = err.Error()
					}
					return
				}
				var cert smartlic.IDCert
				if err := sign.Open(ans, smartlic.TypeIDCert, sign.NewKeySet(keys.Keys), &cert); err != nil {
					got[i].code = "bad certificate: " + err.Error()
					return
				}
				got[i].instance = cert.InstanceID
			}()
		}
		close(start)
		wg.Wait()

		registered, exhausted := 0, 0
		ids := map[string]bool{}
		for i, o := range got[:n] {
			switch {
			case o.instance != "":
				registered++
				if ids[o.instance] {
					t.Fatalf("instance id %s issued twice", o.instance)
				}
				ids[o.instance] = true
				devs[i].id = o.instance
			case o.code == smartlic.ETokenExhausted:
				exhausted++
			default:
				t.Fatalf("device %d: %s", i, o.code)
			}
		}
		if registered != maxUses || exhausted != n-maxUses {
			t.Fatalf("registered %d, exhausted %d; want %d and %d", registered, exhausted, maxUses, n-maxUses)
		}
		for i := range copies {
			if got[n+i] != got[i] {
				t.Fatalf("device %d: the copy got %+v, the original %+v", i, got[n+i], got[i])
			}
		}
		toks, _, err := f.mgr.ListTokens(f.ctx, sa.ID, smartlic.DefaultVAName, smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(toks) != 1 || toks[0].Uses != maxUses {
			t.Fatalf("token = %+v, want %d uses", toks, maxUses)
		}
		instances := f.allInstances(sa.ID)
		if len(instances) != maxUses {
			t.Fatalf("%d instances stored, want %d", len(instances), maxUses)
		}
		for _, inst := range instances {
			if !ids[inst.ID] {
				t.Fatalf("instance %s (%s) is stored but no device was told so", inst.ID, inst.UDI)
			}
		}
		f.wantChainVerifies(sa.ID)

		// Every registered device reports one license at once.
		var failed sync.Map
		for _, d := range devs {
			if d.id == "" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.mgr.Authorize(context.Background(), d.request(t, smartlic.TypeAuthRequest, f.clock.Now(), []smartlic.Usage{use("network-advantage", 1)})); err != nil {
					failed.Store(d.udi, err)
				}
			}()
		}
		wg.Wait()
		failed.Range(func(k, v any) bool { t.Fatalf("authorize %v: %v", k, v); return false })
		var recount int64
		for _, inst := range f.allInstances(sa.ID) {
			for _, u := range inst.Usage {
				recount += u.Count
			}
		}
		p := f.pool(sa.ID, smartlic.DefaultVAName, "network-advantage", false)
		if p.InUse != recount || recount != maxUses {
			t.Fatalf("pool in use %d, recount %d, want %d", p.InUse, recount, maxUses)
		}
		f.wantChainVerifies(sa.ID)
	})
}

// allInstances lists every instance of the DEFAULT VA.
func (f *fixture) allInstances(sa string) []smartlic.Instance {
	f.t.Helper()
	var out []smartlic.Instance
	after := ""
	for {
		items, next, err := f.mgr.ListInstances(f.ctx, sa, smartlic.DefaultVAName, smartlic.Page{Limit: 1000, After: after})
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		after = next
	}
}

// wantChainVerifies fails unless the account's event chain verifies.
func (f *fixture) wantChainVerifies(sa string) {
	f.t.Helper()
	verdicts := must[[]smartlic.ChainVerdict](f.t)(f.mgr.VerifyEvents(f.ctx, sa))
	if len(verdicts) != 1 || !verdicts[0].OK {
		f.t.Fatalf("event chain does not verify: %+v", verdicts)
	}
}
