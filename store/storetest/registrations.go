package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// registration builds a registration of a new instance with token tok.
func (f *fixture) registration(sa smartlic.SmartAccount, va smartlic.VirtualAccount, p smartlic.Product, tok smartlic.Token, sn string) smartlic.Registration {
	f.t.Helper()
	inst := f.newInstance(sa, va, p, sn)
	inst.AuthorizedAt, inst.AuthExpiresAt, inst.Usage = nil, nil, nil
	return smartlic.Registration{
		Request: smartlic.SeenRequest{Hash: "req-" + sn, SentAt: f.now, ExpiresAt: f.now.Add(20 * time.Minute),
			Answer: []byte(`{"instance_id":"` + inst.ID + `"}`)},
		TokenID: tok.ID, TokenHash: tok.Hash, Instance: inst,
		Event: smartlic.Event{ID: newID(f.t), At: f.now, SmartAccountID: sa.ID, VirtualAccountID: va.ID, Type: "instance.registered",
			Subject: inst.ID, Message: sn + " registered", After: []byte(`{"sn":"` + sn + `"}`)},
	}
}

// wantChain fails unless the chain's entries link up from seq 1 to its
// head, each hash what its content makes, and returns its entries.
func (f *fixture) wantChain(chain string) []smartlic.Event {
	f.t.Helper()
	var events []smartlic.Event
	var heads []smartlic.ChainState
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		if events, err = tx.ChainEvents(ctx, chain, 0, 100000); err != nil {
			return err
		}
		heads, err = tx.EventChains(ctx, chain)
		return err
	})
	prev := ""
	for i, e := range events {
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != e.ComputeHash() {
			f.t.Fatalf("entry %d of the chain: seq %d, links %q after %q, hash ok %v", i, e.Seq, e.PrevHash, prev, e.Hash == e.ComputeHash())
		}
		prev = e.Hash
	}
	if len(heads) != 1 || heads[0].Head == nil || heads[0].Head.Seq != int64(len(events)) || heads[0].Head.Hash != prev {
		f.t.Fatalf("chain head %+v after %d entries ending %q", heads, len(events), prev)
	}
	return events
}

func testRegister(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("PID-1")
	tok := f.token(va.ID, ptr(int64(2)), f.now.Add(time.Hour))

	scope, err := f.st.RegistrationScope(f.ctx(), tok.Hash, p.PID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "scope", scope, smartlic.RegistrationScope{Token: tok, VirtualAccount: va, SmartAccount: sa, ProductID: p.ID})
	if scope, err := f.st.RegistrationScope(f.ctx(), tok.Hash, "NO-SUCH-PID"); err != nil || scope.ProductID != "" {
		t.Fatalf("scope with an unknown PID: %+v, %v", scope, err)
	}
	_, err = f.st.RegistrationScope(f.ctx(), "no-such-hash", p.PID)
	wantCode(t, err, smartlic.ENotFound, "")

	r := f.registration(sa, va, p, tok, "SN1")
	if prior, err := f.st.Register(f.ctx(), r, f.now); err != nil || prior != nil {
		t.Fatalf("Register: prior %q, %v", prior, err)
	}
	// A copy of the request writes nothing and gets the stored answer.
	if prior, err := f.st.Register(f.ctx(), r, f.now); err != nil || string(prior) != string(r.Request.Answer) {
		t.Fatalf("copy: prior %q, %v", prior, err)
	}
	// Another request for the same UDI is a conflict on "udi", and leaves
	// neither a claim nor a token use behind.
	again := f.registration(sa, va, p, tok, "SN1")
	again.Request.Hash = "req-SN1-again"
	_, err = f.st.Register(f.ctx(), again, f.now)
	wantCode(t, err, smartlic.EConflict, "udi")
	// An expired token refuses, even with a use left.
	_, err = f.st.Register(f.ctx(), f.registration(sa, va, p, tok, "SN2"), tok.ExpiresAt)
	wantCode(t, err, smartlic.ETokenExpired, "token")
	// The second use; then the token is used up.
	if _, err := f.st.Register(f.ctx(), f.registration(sa, va, p, tok, "SN3"), f.now); err != nil {
		t.Fatal(err)
	}
	_, err = f.st.Register(f.ctx(), f.registration(sa, va, p, tok, "SN4"), f.now)
	wantCode(t, err, smartlic.ETokenExhausted, "token")
	other := f.registration(sa, va, p, tok, "SN5")
	other.TokenID, other.TokenHash = "no-such-token", "no-such-hash"
	_, err = f.st.Register(f.ctx(), other, f.now)
	wantCode(t, err, smartlic.ETokenUnknown, "token")

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetToken(ctx, tok.ID)
		if got.Uses != 2 {
			t.Errorf("token uses = %d, want 2", got.Uses)
		}
		list, err2 := tx.ListInstances(ctx, va.ID, smartlic.Page{})
		if len(list) != 2 || list[0].UDI.SN == list[1].UDI.SN {
			t.Errorf("instances = %+v", list)
		}
		if err != nil {
			return err
		}
		return err2
	})
	for _, hash := range []string{"req-SN1-again", "req-SN2", "req-SN4", "req-SN5"} {
		if _, ok := f.claim(smartlic.SeenRequest{Hash: hash, SentAt: f.now, ExpiresAt: f.now}); !ok {
			t.Errorf("the refused request %s left its claim behind", hash)
		}
	}
	events := f.wantChain(sa.ID)
	if len(events) != 2 || events[0].Subject != r.Instance.ID || events[0].Message != "SN1 registered" || string(events[0].After) != `{"sn":"SN1"}` {
		t.Fatalf("events = %+v", events)
	}
}

// testRegistrationScopeCurrent reads a scope, changes through the store
// what it holds, and reads it again: a store may keep scopes for a moment
// (registrations of one rollout read the same one), but never past a
// change committed through it.
func testRegistrationScopeCurrent(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	spare := f.virtualAccount(sa, nil, "spare")
	p := f.product("PID-1")
	tok := f.token(va.ID, nil, f.now.Add(time.Hour))
	spareTok := f.token(spare.ID, nil, f.now.Add(time.Hour))
	scope := func(hash, pid string) smartlic.RegistrationScope {
		t.Helper()
		s, err := f.st.RegistrationScope(f.ctx(), hash, pid)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for range 2 { // the second read may be served from a cache
		if s := scope(tok.Hash, p.PID); s.VirtualAccount.Name != va.Name || s.ProductID != p.ID {
			t.Fatalf("scope = %+v", s)
		}
	}

	va.Name = "renamed"
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, va) })
	if s := scope(tok.Hash, p.PID); s.VirtualAccount.Name != "renamed" {
		t.Errorf("after the VA's rename, scope names it %q", s.VirtualAccount.Name)
	}
	sa.Name = "Example, renamed"
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateSmartAccount(ctx, sa) })
	if s := scope(tok.Hash, p.PID); s.SmartAccount.Name != sa.Name {
		t.Errorf("after the Smart Account's rename, scope names it %q", s.SmartAccount.Name)
	}
	oldPID := p.PID
	p.PID = "PID-2"
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateProduct(ctx, p) })
	if s := scope(tok.Hash, oldPID); s.ProductID != "" {
		t.Errorf("after the product's PID changed, the old PID still finds product %q", s.ProductID)
	}
	if s := scope(tok.Hash, p.PID); s.ProductID != p.ID {
		t.Errorf("the new PID finds product %q", s.ProductID)
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.RevokeToken(ctx, tok.ID, f.now) })
	if s := scope(tok.Hash, p.PID); s.Token.RevokedAt == nil {
		t.Error("after the revocation, the scope's token is not revoked")
	}

	scope(spareTok.Hash, p.PID)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteVirtualAccount(ctx, spare.ID) })
	_, err := f.st.RegistrationScope(f.ctx(), spareTok.Hash, p.PID)
	wantCode(t, err, smartlic.ENotFound, "")

	gone := f.product("PID-3")
	scope(tok.Hash, gone.PID)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteProduct(ctx, gone.ID) })
	if s := scope(tok.Hash, gone.PID); s.ProductID != "" {
		t.Errorf("after the product's deletion, its PID still finds product %q", s.ProductID)
	}
}

// testConcurrentRegister sends 300 registrations at once for a token good
// for 100: with copies of 30 requests and 20 requests for UDIs that others
// also ask for. Exactly 100 instances get a use, each copy the answer of
// its original, and the chain has one entry per instance.
func testConcurrentRegister(t *testing.T, f *fixture) {
	const n, uses, copies, clashes = 300, 100, 30, 20
	sa, va := f.account("example.com")
	p := f.product("PID-1")
	tok := f.token(va.ID, ptr(int64(uses)), f.now.Add(time.Hour))
	rs := make([]smartlic.Registration, 0, n+copies+clashes)
	for i := range n {
		rs = append(rs, f.registration(sa, va, p, tok, fmt.Sprintf("SN%03d", i)))
	}
	rs = append(rs, rs[:copies]...)
	for i := range clashes {
		r := f.registration(sa, va, p, tok, fmt.Sprintf("SN%03d", n-1-i))
		r.Request.Hash += "-clash"
		rs = append(rs, r)
	}
	type outcome struct {
		prior []byte
		err   error
	}
	got := make([]outcome, len(rs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i].prior, got[i].err = f.st.Register(f.ctx(), r, f.now)
		}()
	}
	close(start)
	wg.Wait()

	registered := map[string]bool{} // instance ids
	udis := map[string]bool{}
	for i, o := range got {
		r := rs[i]
		switch code := smartlic.ErrorCode(o.err); {
		case o.err == nil && o.prior == nil:
			if udis[r.Instance.UDI.SN] {
				t.Fatalf("%s registered twice", r.Instance.UDI)
			}
			registered[r.Instance.ID], udis[r.Instance.UDI.SN] = true, true
		case o.err == nil:
			if (i >= copies && i < n) || i >= n+copies || string(o.prior) != string(r.Request.Answer) {
				t.Fatalf("request %d: prior %q", i, o.prior)
			}
		case code == smartlic.ETokenExhausted, code == smartlic.EConflict && smartlic.ErrorField(o.err) == "udi":
		default:
			t.Fatalf("request %d: %v", i, o.err)
		}
	}
	if len(registered) != uses {
		t.Fatalf("%d registrations written with a token good for %d", len(registered), uses)
	}
	// Of a request and its copy, one is written and the other gets its
	// answer, or both are refused alike.
	for i := range copies {
		a, b := got[i], got[n+i]
		written := func(o outcome) bool { return o.err == nil && o.prior == nil }
		switch {
		case written(a) || written(b):
			if written(a) == written(b) || a.err != nil || b.err != nil {
				t.Fatalf("request %d: the original got (%q, %v), its copy (%q, %v)", i, a.prior, a.err, b.prior, b.err)
			}
		case smartlic.ErrorCode(a.err) != smartlic.ErrorCode(b.err) || a.err == nil:
			t.Fatalf("request %d: the original got (%q, %v), its copy (%q, %v)", i, a.prior, a.err, b.prior, b.err)
		}
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetToken(ctx, tok.ID)
		if got.Uses != uses {
			t.Errorf("token uses = %d, want %d", got.Uses, uses)
		}
		list, err2 := tx.ListInstances(ctx, va.ID, smartlic.Page{Limit: 1000})
		if len(list) != uses {
			t.Errorf("%d instances stored, want %d", len(list), uses)
		}
		for _, inst := range list {
			if !registered[inst.ID] {
				t.Errorf("instance %s stored, but its registration was refused", inst.UDI)
			}
		}
		if err != nil {
			return err
		}
		return err2
	})
	events := f.wantChain(sa.ID)
	if len(events) != uses {
		t.Fatalf("%d events for %d registrations", len(events), uses)
	}
	for _, e := range events {
		if !registered[e.Subject] {
			t.Fatalf("event %d is about instance %s, which was refused", e.Seq, e.Subject)
		}
	}
}

// testCatalogChanges: the store counts the commits that change what usage
// ingestion keeps between rounds (a product, a license type, a policy, a
// Virtual Account), so that a manager's kept copy is never served past a
// change made through the same store; other writes leave the count alone.
func testCatalogChanges(t *testing.T, f *fixture) {
	counter, ok := f.st.(interface{ CatalogChanges() uint64 })
	if !ok {
		t.Fatal("the store does not count catalogue changes (CatalogChanges)")
	}
	sa, va := f.account("example.com")
	lab := f.virtualAccount(sa, nil, "lab")
	lt := f.licenseType("spare")
	p := f.product("PID-1")
	moves := func(what string, want bool, change func()) {
		t.Helper()
		before := counter.CatalogChanges()
		change()
		if moved := counter.CatalogChanges() != before; moved != want {
			t.Errorf("%s: count moved %v, want %v", what, moved, want)
		}
	}
	moves("a token created", false, func() { f.token(va.ID, nil, f.now.Add(time.Hour)) })
	moves("a Virtual Account renamed", true, func() {
		lab.Name = "lab, renamed"
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateVirtualAccount(ctx, lab) })
	})
	moves("a product updated", true, func() {
		p.Name = "renamed"
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateProduct(ctx, p) })
	})
	moves("a policy set", true, func() {
		pol := smartlic.DefaultPolicy()
		pol.ID, pol.Name, pol.Scope, pol.SmartAccountID, pol.CreatedAt = newID(t), "Acme", smartlic.ScopeSmartAccount, sa.ID, f.now
		if err := f.policyVersion(pol); err != nil {
			t.Fatal(err)
		}
	})
	moves("a license type deleted", true, func() {
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteLicenseType(ctx, lt.ID) })
	})
	moves("a Virtual Account deleted", true, func() {
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteVirtualAccount(ctx, lab.ID) })
	})
	moves("a product deleted", true, func() {
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.DeleteProduct(ctx, p.ID) })
	})
}
