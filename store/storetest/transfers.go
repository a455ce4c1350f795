package storetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunTransfers runs the conformance tests of transfers, agreements and the
// pool history as subtests; open returns a new, empty store for each.
func RunTransfers(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"PoolHistory", testPoolHistory},
		{"LockPool", testLockPool},
		{"LicenseLots", testLicenseLots},
		{"TransferRecords", testTransferRecords},
		{"Agreements", testAgreements},
		{"ConcurrentTransfers", testConcurrentTransfers},
	})
}

// AddInUse appends the count after each change to the pool's history,
// dated by the moment in the context; InUseAt and InUseChanges read it.
func testPoolHistory(t *testing.T, f *fixture) {
	lt := f.licenseType("network-advantage")
	other := f.licenseType("network-essentials")
	sa, va := f.account("acme.example")
	b := f.virtualAccount(sa, nil, "B")
	at := func(h int) time.Time { return f.now.Add(time.Duration(h) * time.Hour) }
	add := func(h int, vaID, ltID string, delta int64) {
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			return tx.AddInUse(ctx, vaID, ltID, delta, at(h))
		})
	}
	add(1, va.ID, lt.ID, 2)
	add(2, va.ID, lt.ID, 3)
	add(2, va.ID, lt.ID, -1) // same moment: the later one wins
	add(3, va.ID, lt.ID, 0)  // no change, no entry
	add(4, va.ID, lt.ID, -4)
	add(2, b.ID, other.ID, 7)

	counters := func(h int) map[string]int64 {
		var cs []smartlic.PoolCounter
		f.read(func(ctx context.Context, tx smartlic.Tx) (err error) {
			cs, err = tx.InUseAt(ctx, []string{va.ID, b.ID}, at(h))
			return err
		})
		out := map[string]int64{}
		for _, c := range cs {
			out[c.VirtualAccountID+"/"+c.LicenseTypeID] = c.InUse
		}
		return out
	}
	k, kb := va.ID+"/"+lt.ID, b.ID+"/"+other.ID
	for _, c := range []struct {
		h         int
		va, b     int64
		vaOK, bOK bool
	}{{0, 0, 0, false, false}, {1, 2, 0, true, false}, {2, 4, 7, true, true}, {3, 4, 7, true, true}, {5, 0, 7, true, true}} {
		got := counters(c.h)
		if v, ok := got[k]; ok != c.vaOK || v != c.va {
			t.Errorf("hour %d: A = %d (%v), want %d (%v)", c.h, v, ok, c.va, c.vaOK)
		}
		if v, ok := got[kb]; ok != c.bOK || v != c.b {
			t.Errorf("hour %d: B = %d (%v), want %d (%v)", c.h, v, ok, c.b, c.bOK)
		}
	}
	var changes []smartlic.InUseChange
	f.read(func(ctx context.Context, tx smartlic.Tx) (err error) {
		changes, err = tx.InUseChanges(ctx, []string{va.ID}, at(1), at(4))
		return err
	})
	if len(changes) != 2 || changes[0].InUse != 5 || changes[1].InUse != 4 || !changes[0].At.Equal(at(2)) || changes[0].Seq >= changes[1].Seq {
		t.Fatalf("changes in (1h, 4h) = %+v", changes)
	}
	// The counter itself is still what it was.
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		cs, err := tx.PoolCountersOf(ctx, []string{va.ID})
		if err != nil {
			return err
		}
		if len(cs) != 1 || cs[0].InUse != 0 {
			t.Errorf("counters = %+v", cs)
		}
		return nil
	})
	// A rolled-back change leaves no history.
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.AddInUse(ctx, va.ID, lt.ID, 9, at(6)); err != nil {
			return err
		}
		return smartlic.Invalid("x", "roll back")
	})
	wantCode(t, err, smartlic.EInvalid, "x")
	if got := counters(7); got[k] != 0 {
		t.Fatalf("rolled-back change is in the history: %v", got)
	}
}

func testLockPool(t *testing.T, f *fixture) {
	lt := f.licenseType("network-advantage")
	sa, va := f.account("acme.example")
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		n, err := tx.LockPool(ctx, va.ID, lt.ID)
		if err != nil || n != 0 {
			t.Errorf("LockPool of a new pool = %d, %v", n, err)
		}
		if err := tx.AddInUse(ctx, va.ID, lt.ID, 3, f.now); err != nil {
			return err
		}
		n, err = tx.LockPool(ctx, va.ID, lt.ID)
		if err != nil || n != 3 {
			t.Errorf("LockPool again = %d, %v", n, err)
		}
		return nil
	})
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.LockPool(ctx, "no-such-va", lt.ID)
		return err
	})
	wantCode(t, err, smartlic.ENotFound, "")

	inst := f.instance(sa, va, f.product("C9300-24T", lt.Tag), "FOC1")
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.LockInstance(ctx, inst.ID) })
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.LockInstance(ctx, "no-such-instance") })
	wantCode(t, err, smartlic.ENotFound, "")
}

// LicenseLots answers active lots with what transfers left of them.
func testLicenseLots(t *testing.T, f *fixture) {
	lt := f.licenseType("network-advantage")
	sa, va := f.account("acme.example")
	b := f.virtualAccount(sa, nil, "B")
	end := f.now.Add(30 * smartlic.Day)
	ended := f.now.Add(-time.Hour)
	perpetual := f.deposit(va.ID, lt, 5, nil)
	sub := f.deposit(va.ID, lt, 4, &end)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		// An expired lot and one that has not started are not lots now.
		old := smartlic.Deposit{ID: newID(t), VirtualAccountID: va.ID, OrderNumber: "OLD", LicenseTypeID: lt.ID, Quantity: 9,
			StartsAt: f.now.Add(-48 * time.Hour), EndsAt: &ended, CreatedAt: f.now}
		later := smartlic.Deposit{ID: newID(t), VirtualAccountID: va.ID, OrderNumber: "LATER", LicenseTypeID: lt.ID, Quantity: 9,
			StartsAt: f.now.Add(time.Hour), CreatedAt: f.now}
		for _, d := range []smartlic.Deposit{old, later} {
			if err := tx.InsertDeposit(ctx, d); err != nil {
				return err
			}
		}
		tr := smartlic.Transfer{ID: newID(t), SmartAccountID: sa.ID, Kind: smartlic.TransferLicenses, FromID: va.ID, FromName: va.Name,
			ToID: b.ID, ToName: b.Name, LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: 4, CreatedAt: f.now}
		if err := tx.InsertTransfer(ctx, tr); err != nil {
			return err
		}
		out := smartlic.Deposit{ID: newID(t), VirtualAccountID: va.ID, OrderNumber: "transfer", LicenseTypeID: lt.ID, Quantity: -4,
			StartsAt: f.now, EndsAt: &end, CreatedAt: f.now}
		in := out
		in.ID, in.VirtualAccountID, in.Quantity = newID(t), b.ID, 4
		if err := tx.InsertTransferDeposit(ctx, out, tr.ID, sub.ID); err != nil {
			return err
		}
		if err := tx.InsertTransferDeposit(ctx, in, tr.ID, ""); err != nil {
			return err
		}
		lots, err := tx.LicenseLots(ctx, va.ID, lt.ID, f.now)
		if err != nil {
			return err
		}
		if len(lots) != 1 || lots[0].DepositID != perpetual.ID || lots[0].Remaining != 5 {
			t.Errorf("lots of A = %+v", lots)
		}
		lots, err = tx.LicenseLots(ctx, b.ID, lt.ID, f.now)
		if err != nil {
			return err
		}
		if len(lots) != 1 || lots[0].DepositID != in.ID || lots[0].Remaining != 4 || !lots[0].EndsAt.Equal(end) {
			t.Errorf("lots of B = %+v", lots)
		}
		// Pool views see the movement through DepositsOf.
		ds, err := tx.DepositsOf(ctx, []string{va.ID})
		if err != nil {
			return err
		}
		var purchased int64
		for _, d := range ds {
			if d.ActiveAt(f.now) {
				purchased += d.Quantity
			}
		}
		if purchased != 5 {
			t.Errorf("A purchased = %d, want 5", purchased)
		}
		return nil
	})
	// A movement must name a transfer that exists.
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		d := smartlic.Deposit{ID: newID(t), VirtualAccountID: va.ID, OrderNumber: "x", LicenseTypeID: lt.ID, Quantity: 1, StartsAt: f.now, CreatedAt: f.now}
		return tx.InsertTransferDeposit(ctx, d, "no-such-transfer", "")
	})
	wantCode(t, err, smartlic.ENotFound, "")
}

func testTransferRecords(t *testing.T, f *fixture) {
	lt := f.licenseType("network-advantage")
	sa, va := f.account("acme.example")
	other, _ := f.account("other.example")
	b := f.virtualAccount(sa, nil, "B")
	end := f.now.Add(smartlic.Day)
	var want []smartlic.Transfer
	for i := range 3 {
		tr := smartlic.Transfer{ID: newID(t), SmartAccountID: sa.ID, Kind: smartlic.TransferLicenses, FromID: va.ID, FromName: va.Name,
			ToID: b.ID, ToName: b.Name, LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: int64(i + 1), ActorEmail: "ops@example.com",
			Lots: []smartlic.TransferLot{{FromDeposit: "d1", Quantity: int64(i + 1), EndsAt: &end}}, CreatedAt: f.now}
		if i == 2 {
			tr.Kind, tr.LicenseTypeID, tr.LicenseTag, tr.Lots = smartlic.TransferInstances, "", "", nil
			tr.Instances = []smartlic.TransferredInst{{ID: "i1", UDI: "C9300-24T:FOC1"}}
		}
		f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertTransfer(ctx, tr) })
		want = append(want, tr)
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.InsertTransfer(ctx, smartlic.Transfer{ID: newID(t), SmartAccountID: other.ID, Kind: smartlic.TransferInstances, CreatedAt: f.now})
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.ListTransfers(ctx, sa.ID, smartlic.Page{Limit: 2})
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].ID != want[0].ID || got[1].Quantity != 2 || got[0].Lots[0].FromDeposit != "d1" ||
			!got[0].Lots[0].EndsAt.Equal(end) || got[0].ActorEmail != "ops@example.com" || !got[0].CreatedAt.Equal(f.now) {
			t.Errorf("first page = %+v", got)
		}
		got, err = tx.ListTransfers(ctx, sa.ID, smartlic.Page{Limit: 2, After: got[1].ID})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].Kind != smartlic.TransferInstances || len(got[0].Instances) != 1 || got[0].LicenseTypeID != "" {
			t.Errorf("second page = %+v", got)
		}
		return nil
	})
}

func testAgreements(t *testing.T, f *fixture) {
	na := f.licenseType("network-advantage")
	ne := f.licenseType("network-essentials")
	sa, va := f.account("acme.example")
	end := f.now.Add(365 * smartlic.Day)
	a := smartlic.Agreement{ID: newID(t), SmartAccountID: sa.ID, VirtualAccountID: va.ID, Number: "EA-1", StartsAt: f.now, EndsAt: end, CreatedAt: f.now,
		Lines: []smartlic.AgreementLine{{LicenseTypeID: na.ID, LicenseTag: na.Tag, Quantity: 10}, {LicenseTypeID: ne.ID, LicenseTag: ne.Tag, Quantity: 5}}}
	deposits := []smartlic.Deposit{
		{ID: newID(t), VirtualAccountID: va.ID, OrderNumber: "EA EA-1", LicenseTypeID: na.ID, Quantity: 10, StartsAt: f.now, EndsAt: &end, CreatedAt: f.now},
		{ID: newID(t), VirtualAccountID: va.ID, OrderNumber: "EA EA-1", LicenseTypeID: ne.ID, Quantity: 5, StartsAt: f.now, EndsAt: &end, CreatedAt: f.now},
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAgreement(ctx, a, deposits) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetAgreement(ctx, a.ID)
		if err != nil {
			return err
		}
		if got.Number != "EA-1" || !got.EndsAt.Equal(end) || len(got.Lines) != 2 || got.Lines[0].LicenseTag != "network-advantage" || got.Lines[1].Quantity != 5 {
			t.Errorf("agreement = %+v", got)
		}
		list, err := tx.ListAgreements(ctx, va.ID, smartlic.Page{})
		if err != nil || len(list) != 1 || len(list[0].Lines) != 2 {
			t.Errorf("agreements = %+v, %v", list, err)
		}
		ds, err := tx.DepositsOf(ctx, []string{va.ID})
		if err != nil || len(ds) != 2 {
			t.Errorf("agreement deposits = %+v, %v", ds, err)
		}
		_, err = tx.GetAgreement(ctx, "no-such-agreement")
		wantCode(t, err, smartlic.ENotFound, "")
		return nil
	})
	dup := a
	dup.ID = newID(t)
	err := f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAgreement(ctx, dup, nil) })
	wantCode(t, err, smartlic.EConflict, "number")
	twice := a
	twice.ID, twice.Number = newID(t), "EA-2"
	twice.Lines = []smartlic.AgreementLine{a.Lines[0], a.Lines[0]}
	err = f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertAgreement(ctx, twice, nil) })
	wantCode(t, err, smartlic.EInvalid, "lines")

	// An agreement is accepted once: the second acceptance changes nothing.
	at := f.now.Add(smartlic.Day)
	for i, by := range []string{"approver@acme.example", "other@acme.example"} {
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			ok, err := tx.AcceptAgreement(ctx, a.ID, by, at.Add(time.Duration(i)*time.Hour))
			if err == nil && ok != (i == 0) {
				t.Errorf("acceptance %d by %s: ok = %v", i+1, by, ok)
			}
			return err
		})
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetAgreement(ctx, a.ID)
		if err != nil || got.AcceptedAt == nil || !got.AcceptedAt.Equal(at) || got.AcceptedBy != "approver@acme.example" {
			t.Errorf("accepted agreement = %+v, %v", got, err)
		}
		return nil
	})
}

// Transfers that lock the source pool before reading its lots never spend
// the same license twice, however many run at once.
func testConcurrentTransfers(t *testing.T, f *fixture) {
	lt := f.licenseType("network-advantage")
	sa, va := f.account("acme.example")
	b := f.virtualAccount(sa, nil, "B")
	f.deposit(va.ID, lt, 10, nil)
	const n = 40
	var moved atomic.Int64
	f.writeAtOnce(n, func(_ int, tx smartlic.Tx) error {
		ctx := f.ctx()
		for _, id := range []string{min(va.ID, b.ID), max(va.ID, b.ID)} {
			if _, err := tx.LockPool(ctx, id, lt.ID); err != nil {
				return err
			}
		}
		lots, err := tx.LicenseLots(ctx, va.ID, lt.ID, f.now)
		if err != nil || len(lots) == 0 {
			return err
		}
		id := newID(t)
		tr := smartlic.Transfer{ID: id, SmartAccountID: sa.ID, Kind: smartlic.TransferLicenses, FromID: va.ID, ToID: b.ID, LicenseTypeID: lt.ID, Quantity: 1, CreatedAt: f.now}
		if err := tx.InsertTransfer(ctx, tr); err != nil {
			return err
		}
		out := smartlic.Deposit{ID: newID(t), VirtualAccountID: va.ID, OrderNumber: "t", LicenseTypeID: lt.ID, Quantity: -1, StartsAt: f.now, CreatedAt: f.now}
		in := out
		in.ID, in.VirtualAccountID, in.Quantity = newID(t), b.ID, 1
		if err := tx.InsertTransferDeposit(ctx, out, id, lots[0].DepositID); err != nil {
			return err
		}
		if err := tx.InsertTransferDeposit(ctx, in, id, ""); err != nil {
			return err
		}
		moved.Add(1)
		return nil
	})
	if moved.Load() != 10 {
		t.Fatalf("%d transfers of 1 out of a pool of 10", moved.Load())
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		lots, err := tx.LicenseLots(ctx, va.ID, lt.ID, f.now)
		if err != nil || len(lots) != 0 {
			t.Errorf("lots left in A = %+v, %v", lots, err)
		}
		return nil
	})
}
