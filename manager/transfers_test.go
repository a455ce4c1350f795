package manager_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// mustUse authorizes usage through the device protocol and fails the test
// if the manager refuses.
func (f *fixture) mustUse(d *device, usage ...smartlic.Usage) smartlic.Authorization {
	f.t.Helper()
	a, err := f.authorize(d, usage...)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// poolOr returns the VA's pool of tag, or a zero pool.
func (f *fixture) poolOr(sa, va, tag string) smartlic.Pool {
	f.t.Helper()
	for _, p := range must[[]smartlic.Pool](f.t)(f.mgr.ListPools(f.ctx, sa, va, false)) {
		if p.LicenseTag == tag {
			return p
		}
	}
	return smartlic.Pool{}
}

func (f *fixture) vas(sa string, names ...string) {
	f.t.Helper()
	for _, n := range names {
		must[smartlic.VirtualAccount](f.t)(f.mgr.CreateVirtualAccount(f.ctx, sa, smartlic.VirtualAccountInput{Name: n}))
	}
}

func TestTransferLicenses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "A", "B")
		early, late := epoch.Add(100*smartlic.Day), epoch.Add(400*smartlic.Day)
		d1 := must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-late", License: "network-advantage", Quantity: 5, EndsAt: &late}))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-early", License: "network-advantage", Quantity: 10, EndsAt: &early}))
		tok := f.token(sa, "A", smartlic.TokenInput{})
		d := newDevice(t, "FOC0001")
		must[smartlic.IDCert](t)(f.register(d, tok))
		f.mustUse(d, use("network-advantage", 3))

		// 15 purchased, 3 in use: 12 available, 13 is refused, nothing moves.
		_, err := f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", License: "network-advantage", Quantity: 13})
		wantCode(t, err, smartlic.EInsufficient)
		if p := f.pool(sa, "A", "network-advantage", false); p.Purchased != 15 || p.InUse != 3 {
			t.Fatalf("after refused transfer A = %+v", p)
		}
		if trs, _, _ := f.mgr.ListTransfers(f.ctx, sa, smartlic.Page{}); len(trs) != 0 {
			t.Fatalf("refused transfer was recorded: %+v", trs)
		}
		// Bad input.
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "A", License: "network-advantage", Quantity: 1})
		wantCode(t, err, smartlic.EInvalid)
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", License: "network-advantage", Quantity: 0})
		wantCode(t, err, smartlic.EInvalid)
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "nowhere", License: "network-advantage", Quantity: 1})
		wantCode(t, err, smartlic.ENotFound)

		// 12 move: the 10 ending first, then 2 of the later lot.
		tr := must[smartlic.Transfer](t)(f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", License: "network-advantage", Quantity: 12}))
		if tr.Kind != smartlic.TransferLicenses || len(tr.Lots) != 2 || tr.Lots[0].Quantity != 10 || !tr.Lots[0].EndsAt.Equal(early) ||
			tr.Lots[1].Quantity != 2 || tr.Lots[1].FromDeposit != d1.ID {
			t.Fatalf("transfer = %+v", tr)
		}
		a, b := f.pool(sa, "A", "network-advantage", false), f.pool(sa, "B", "network-advantage", false)
		if a.Purchased != 3 || a.InUse != 3 || a.Available != 0 || b.Purchased != 12 || b.Available != 12 || !b.NextExpiry.Equal(early) {
			t.Fatalf("after transfer A = %+v, B = %+v", a, b)
		}
		// Nothing left to move out of A.
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", License: "network-advantage", Quantity: 1})
		wantCode(t, err, smartlic.EInsufficient)
		// B can send some back, from a named lot.
		bDeps := must[[]smartlic.Deposit](t)(func() ([]smartlic.Deposit, error) {
			ds, _, err := f.mgr.ListDeposits(f.ctx, sa, "B", smartlic.Page{})
			return ds, err
		}())
		var lateLot string
		for _, dep := range bDeps {
			if dep.EndsAt.Equal(late) {
				lateLot = dep.ID
			}
		}
		back := must[smartlic.Transfer](t)(f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "B", To: "A", License: "network-advantage", Quantity: 2, Deposit: lateLot}))
		if back.Lots[0].FromDeposit != lateLot {
			t.Fatalf("named lot ignored: %+v", back)
		}
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "B", To: "A", License: "network-advantage", Quantity: 1, Deposit: lateLot})
		wantCode(t, err, smartlic.EInvalid) // that lot is empty now
		if a := f.pool(sa, "A", "network-advantage", false); a.Purchased != 5 {
			t.Fatalf("after transfer back A = %+v", a)
		}
		trs := must[[]smartlic.Transfer](t)(func() ([]smartlic.Transfer, error) {
			trs, _, err := f.mgr.ListTransfers(f.ctx, sa, smartlic.Page{})
			return trs, err
		}())
		if len(trs) != 2 || trs[0].ID != tr.ID || trs[1].ID != back.ID || len(trs[0].Lots) != 2 {
			t.Fatalf("transfers = %+v", trs)
		}
		// Both sides' event logs tell of it.
		evs, _, err := f.mgr.ListEvents(f.ctx, sa, smartlic.EventFilter{Type: "transfer."}, smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 4 || evs[0].Type != "transfer.out" || evs[1].Type != "transfer.in" || evs[0].Subject != tr.ID {
			t.Fatalf("events = %+v", evs)
		}
	})
}

func TestTransferInstances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "A", "B")
		end := epoch.Add(365 * smartlic.Day)
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-advantage", Quantity: 5, EndsAt: &end}))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-2", License: "threat-defense", Quantity: 5}))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "B", smartlic.DepositInput{OrderNumber: "PO-3", License: "network-advantage", Quantity: 1, EndsAt: &end}))
		tok := f.token(sa, "A", smartlic.TokenInput{})
		var devs []*device
		for i := range 3 {
			d := newDevice(t, fmt.Sprintf("FOC%04d", i))
			must[smartlic.IDCert](t)(f.register(d, tok))
			devs = append(devs, d)
		}
		f.mustUse(devs[0], use("network-advantage", 1))
		f.mustUse(devs[1], use("network-advantage", 1), use("threat-defense", 1))
		f.mustUse(devs[2], use("network-advantage", 1))

		// threat-defense is enforced and B has none: refused, nothing moves.
		_, err := f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", Instances: []string{devs[0].id, devs[1].udi.String()}})
		wantCode(t, err, smartlic.EInsufficient)
		if p := f.pool(sa, "A", "network-advantage", false); p.InUse != 3 {
			t.Fatalf("after refused transfer A = %+v", p)
		}
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "B", To: "A", Instances: []string{devs[0].id}})
		wantCode(t, err, smartlic.ENotFound) // not in B
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", Instances: []string{devs[0].id, devs[0].udi.String()}})
		wantCode(t, err, smartlic.EInvalid) // twice

		// Two at once, by id and by UDI: unenforced usage may go into overage.
		tr := must[smartlic.Transfer](t)(f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", Instances: []string{devs[0].id, devs[2].udi.String()}}))
		if tr.Kind != smartlic.TransferInstances || tr.Quantity != 2 || len(tr.Instances) != 2 {
			t.Fatalf("transfer = %+v", tr)
		}
		a, b := f.pool(sa, "A", "network-advantage", false), f.pool(sa, "B", "network-advantage", false)
		if a.InUse != 1 || b.InUse != 2 || b.Status != smartlic.Insufficient {
			t.Fatalf("after transfer A = %+v, B = %+v", a, b)
		}
		inst := must[smartlic.Instance](t)(f.mgr.GetInstance(f.ctx, sa, "B", devs[2].udi.String()))
		if inst.Usage[0].Status != smartlic.OutOfCompliance {
			t.Fatalf("moved instance usage = %+v", inst.Usage)
		}
		if _, err := f.mgr.GetInstance(f.ctx, sa, "A", devs[0].id); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("instance still in A: %v", err)
		}
		// The device keeps working from its new VA.
		f.mustUse(devs[0])
		if b := f.pool(sa, "B", "network-advantage", false); b.InUse != 1 {
			t.Fatalf("after release in B = %+v", b)
		}
	})
}

// Many transfers at once never spend a license twice: out of one pool,
// exactly what is available moves, and back-and-forth traffic keeps both
// pools non-negative and the total constant.
func TestConcurrentTransfers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "A", "B", "C")
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-essentials", Quantity: 10}))
		tok := f.token(sa, "A", smartlic.TokenInput{})
		d := newDevice(t, "FOC0001")
		must[smartlic.IDCert](t)(f.register(d, tok))
		f.mustUse(d, use("network-essentials", 3))

		const n = 50
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "A", To: "B", License: "network-essentials", Quantity: 1})
				switch smartlic.ErrorCode(err) {
				case "":
					ok.Add(1)
				case smartlic.EInsufficient:
					refused.Add(1)
				default:
					t.Errorf("transfer: %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 7 || refused.Load() != n-7 {
			t.Fatalf("%d moved, %d refused; want 7 and %d", ok.Load(), refused.Load(), n-7)
		}
		a, b := f.pool(sa, "A", "network-essentials", false), f.pool(sa, "B", "network-essentials", false)
		if a.Purchased != 3 || a.Available != 0 || b.Purchased != 7 {
			t.Fatalf("A = %+v, B = %+v", a, b)
		}

		// Back and forth between B and C (and A, which has none to give).
		routes := [][2]string{{"B", "C"}, {"C", "B"}, {"C", "A"}, {"A", "B"}, {"B", "A"}}
		for i := range n {
			wg.Go(func() {
				r := routes[i%len(routes)]
				_, err := f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: r[0], To: r[1], License: "network-essentials", Quantity: 1 + int64(i%3)})
				if c := smartlic.ErrorCode(err); c != "" && c != smartlic.EInsufficient {
					t.Errorf("transfer %v: %v", r, err)
				}
			})
		}
		wg.Wait()
		var total int64
		for _, va := range []string{"A", "B", "C"} {
			p := f.poolOr(sa, va, "network-essentials")
			if p.Purchased < 0 || p.Available < 0 {
				t.Fatalf("pool %s went negative: %+v", va, p)
			}
			total += p.Purchased
		}
		if total != 10 {
			t.Fatalf("licenses in the account = %d, want 10", total)
		}
	})
}

// Instances moved back and forth concurrently keep every pool's in-use
// counter equal to what the instances in its VA use.
func TestConcurrentInstanceTransfers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "A", "B")
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "A", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-essentials", Quantity: 10}))
		tok := f.token(sa, "A", smartlic.TokenInput{})
		var devs []*device
		for i := range 6 {
			d := newDevice(t, fmt.Sprintf("FOC%04d", i))
			must[smartlic.IDCert](t)(f.register(d, tok))
			f.mustUse(d, use("network-essentials", 1))
			devs = append(devs, d)
		}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				d := devs[i%len(devs)]
				from, to := "A", "B"
				if i%2 == 1 {
					from, to = to, from
				}
				// Several instances at once, some of which may be elsewhere by now.
				keys := []string{d.udi.String(), devs[(i+1)%len(devs)].id}
				_, err := f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: from, To: to, Instances: keys})
				if c := smartlic.ErrorCode(err); c != "" && c != smartlic.ENotFound {
					t.Errorf("transfer: %v", err)
				}
			})
		}
		wg.Wait()
		count := func(va string) int64 {
			insts, _, err := f.mgr.ListInstances(f.ctx, sa, va, smartlic.Page{})
			if err != nil {
				t.Fatal(err)
			}
			return int64(len(insts))
		}
		a, b := f.poolOr(sa, "A", "network-essentials"), f.poolOr(sa, "B", "network-essentials")
		if a.InUse != count("A") || b.InUse != count("B") || a.InUse+b.InUse != 6 {
			t.Fatalf("A in use %d with %d instances, B in use %d with %d instances", a.InUse, count("A"), b.InUse, count("B"))
		}
	})
}
