package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunSLAC runs the conformance tests of export control (SLACs and the
// per-account setting); open returns a new, empty store for each subtest.
func RunSLAC(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"SLACs", testSLACs},
		{"SLACReturnOnce", testSLACReturnOnce},
		{"SLACCancel", testSLACCancel},
		{"ExportControl", testExportControl},
	})
}

func (f *fixture) newSLAC(sa smartlic.SmartAccount, va smartlic.VirtualAccount, lt smartlic.LicenseType, udi smartlic.UDI, nonce string) smartlic.SLAC {
	return smartlic.SLAC{
		ID: newID(f.t), SmartAccountID: sa.ID, VirtualAccountID: va.ID, LicenseTypeID: lt.ID, LicenseTag: lt.Tag, UDI: udi,
		Status: smartlic.SLACActive, Requested: smartlic.SLACOffline, RequestNonce: nonce, ReturnHash: "h-" + nonce, IssuedAt: f.now,
		Document: smartlic.Envelope{Type: smartlic.TypeSLAC, KeyID: "k", Payload: []byte(`{"id":"x"}`), Sig: []byte{1, 2, 3}},
	}
}

func (f *fixture) insertSLAC(s smartlic.SLAC) error {
	return f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertSLAC(ctx, s) })
}

func testSLACs(t *testing.T, f *fixture) {
	sa, va := f.account("slac.example.com")
	lab := f.virtualAccount(sa, nil, "Lab")
	other, otherVA := f.account("other.example.com")
	hsec, sec := f.licenseType("hseck9"), f.licenseType("sec")
	udi := smartlic.UDI{PID: "ISR4451", SN: "FOC1"}

	s1 := f.newSLAC(sa, va, hsec, udi, "n1")
	s1.InstanceID, s1.Requested = newID(t), smartlic.SLACOnline
	if err := f.insertSLAC(s1); err != nil {
		t.Fatal(err)
	}
	var got smartlic.SLAC
	f.read(func(ctx context.Context, tx smartlic.Tx) (err error) { got, err = tx.GetSLAC(ctx, s1.ID); return })
	s1.VirtualAccount = va.Name
	wantEqual(t, "SLAC read back", got, s1)

	// One active SLAC per device and license type, whatever the account.
	wantCode(t, f.insertSLAC(f.newSLAC(sa, lab, hsec, udi, "n2")), smartlic.EConflict, "udi")
	wantCode(t, f.insertSLAC(f.newSLAC(other, otherVA, hsec, udi, "n2")), smartlic.EConflict, "udi")
	// A request nonce answers once per Smart Account, not across accounts.
	wantCode(t, f.insertSLAC(f.newSLAC(sa, va, sec, udi, "n1")), smartlic.EConflict, "")
	if err := f.insertSLAC(f.newSLAC(other, otherVA, sec, smartlic.UDI{PID: "ISR4451", SN: "FOC9"}, "n1")); err != nil {
		t.Fatal(err)
	}
	s2 := f.newSLAC(sa, lab, sec, udi, "n3")
	if err := f.insertSLAC(s2); err != nil {
		t.Fatal(err)
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		byReq, err := tx.SLACByRequest(ctx, sa.ID, "n1")
		if err != nil || byReq.ID != s1.ID {
			t.Fatalf("by request: %+v %v", byReq, err)
		}
		_, err = tx.SLACByRequest(ctx, sa.ID, "nope")
		wantCode(t, err, smartlic.ENotFound, "")
		active, err := tx.ActiveSLACsOf(ctx, udi)
		wantEqual(t, "active of device", ids(active, slacID), []string{s1.ID, s2.ID})
		if err != nil {
			return err
		}
		// Many devices at once: both of this one, the other account's
		// device's one, none of a device without SLACs.
		many, err := tx.ActiveSLACsOfDevices(ctx, []smartlic.UDI{{PID: "ISR4451", SN: "FOC9"}, {PID: "ISR4451", SN: "NONE"}, udi})
		if err != nil {
			return err
		}
		if got := ids(many, slacID); len(got) != 3 || !slices.Contains(got, s1.ID) || !slices.Contains(got, s2.ID) {
			t.Fatalf("active of three devices: %v", got)
		}
		all, err := tx.ListSLACs(ctx, sa.ID, nil, nil, "", smartlic.Page{Limit: 10})
		wantEqual(t, "account list", ids(all, slacID), []string{s1.ID, s2.ID})
		inLab, err := tx.ListSLACs(ctx, sa.ID, []string{lab.ID}, nil, "", smartlic.Page{Limit: 10})
		wantEqual(t, "VA list", ids(inLab, slacID), []string{s2.ID})
		both, err := tx.ListSLACs(ctx, sa.ID, []string{lab.ID, va.ID}, nil, "", smartlic.Page{Limit: 10})
		wantEqual(t, "two VAs", ids(both, slacID), []string{s1.ID, s2.ID})
		// Some VAs, none of them: nothing, never the whole account.
		none, err := tx.ListSLACs(ctx, sa.ID, []string{}, nil, "", smartlic.Page{Limit: 10})
		wantEqual(t, "no VA", ids(none, slacID), []string{})
		byUDI, err := tx.ListSLACs(ctx, sa.ID, []string{va.ID}, &udi, smartlic.SLACActive, smartlic.Page{Limit: 10})
		wantEqual(t, "device in VA", ids(byUDI, slacID), []string{s1.ID})
		page, err := tx.ListSLACs(ctx, sa.ID, nil, nil, "", smartlic.Page{Limit: 1, After: s1.ID})
		wantEqual(t, "second page", ids(page, slacID), []string{s2.ID})
		if err != nil {
			return err
		}
		// A user who sees more Virtual Accounts than one IN list holds:
		// every SLAC of them, paged in id order across the chunks.
		wide := manyVAs(t, va.ID, lab.ID)
		first, err := tx.ListSLACs(ctx, sa.ID, wide, nil, "", smartlic.Page{Limit: 1})
		wantEqual(t, "1,200 VAs, first page", ids(first, slacID), ids(all[:1], slacID))
		rest, err := tx.ListSLACs(ctx, sa.ID, wide, nil, "", smartlic.Page{Limit: 10, After: first[0].ID})
		wantEqual(t, "1,200 VAs, next page", ids(rest, slacID), ids(all[1:], slacID))
		deviceInMany, err := tx.ListSLACs(ctx, sa.ID, wide, &udi, "", smartlic.Page{Limit: 10})
		wantEqual(t, "1,200 VAs, one device", ids(deviceInMany, slacID), []string{s1.ID, s2.ID})
		return err
	})
	_ = f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetSLAC(ctx, newID(t))
		wantCode(t, err, smartlic.ENotFound, "")
		return nil
	})

	// Returned, the device may hold a new one of the type.
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		ok, err := tx.ReturnSLAC(ctx, s1.ID, f.now.Add(time.Hour), smartlic.SLACOffline)
		if !ok {
			t.Fatal("return of an active SLAC not done")
		}
		return err
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) (err error) { got, err = tx.GetSLAC(ctx, s1.ID); return })
	if got.Status != smartlic.SLACReturned || got.Returned != smartlic.SLACOffline || got.ReturnedAt == nil || !got.ReturnedAt.Equal(f.now.Add(time.Hour)) {
		t.Fatalf("returned SLAC: %+v", got)
	}
	if err := f.insertSLAC(f.newSLAC(sa, va, hsec, udi, "n4")); err != nil {
		t.Fatalf("new SLAC after return: %v", err)
	}
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		returned, err := tx.ListSLACs(ctx, sa.ID, nil, nil, smartlic.SLACReturned, smartlic.Page{Limit: 10})
		wantEqual(t, "returned list", ids(returned, slacID), []string{s1.ID})
		return err
	})
}

func testSLACReturnOnce(t *testing.T, f *fixture) {
	sa, va := f.account("once.example.com")
	lt := f.licenseType("hseck9")
	s := f.newSLAC(sa, va, lt, smartlic.UDI{PID: "ISR", SN: "X1"}, "n")
	if err := f.insertSLAC(s); err != nil {
		t.Fatal(err)
	}
	// Ten returns race: exactly one takes effect.
	var won int
	results := make(chan bool, 10)
	f.writeAtOnce(10, func(_ int, tx smartlic.Tx) error {
		ok, err := tx.ReturnSLAC(f.ctx(), s.ID, f.now, smartlic.SLACOnline)
		results <- ok
		return err
	})
	close(results)
	for ok := range results {
		if ok {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d returns took effect, want 1", won)
	}
}

// testSLACCancel: a cancel closes an active SLAC once, keeps the reason,
// and never touches a returned one.
func testSLACCancel(t *testing.T, f *fixture) {
	sa, va := f.account("cancel.example.com")
	lt := f.licenseType("hseck9")
	udi := smartlic.UDI{PID: "ISR", SN: "LOST1"}
	s := f.newSLAC(sa, va, lt, udi, "c1")
	returned := f.newSLAC(sa, va, f.licenseType("sec-other"), udi, "c2")
	for _, x := range []smartlic.SLAC{s, returned} {
		if err := f.insertSLAC(x); err != nil {
			t.Fatal(err)
		}
	}
	at := f.now.Add(time.Hour)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if ok, err := tx.ReturnSLAC(ctx, returned.ID, at, smartlic.SLACOnline); !ok || err != nil {
			t.Fatalf("return: %v %v", ok, err)
		}
		if ok, err := tx.CancelSLAC(ctx, returned.ID, at, "no"); ok || err != nil {
			t.Fatalf("cancel of a returned SLAC: %v %v", ok, err)
		}
		ok, err := tx.CancelSLAC(ctx, s.ID, at, "switch destroyed in a fire")
		if !ok {
			t.Fatal("cancel of an active SLAC not done")
		}
		return err
	})
	var got, ret smartlic.SLAC
	f.read(func(ctx context.Context, tx smartlic.Tx) (err error) {
		if got, err = tx.GetSLAC(ctx, s.ID); err != nil {
			return err
		}
		ret, err = tx.GetSLAC(ctx, returned.ID)
		return err
	})
	if got.Status != smartlic.SLACCancelled || got.Returned != smartlic.SLACByAdministrator || got.CancelReason != "switch destroyed in a fire" ||
		got.ReturnedAt == nil || !got.ReturnedAt.Equal(at) {
		t.Fatalf("cancelled SLAC: %+v", got)
	}
	if ret.Status != smartlic.SLACReturned || ret.Returned != smartlic.SLACOnline || ret.CancelReason != "" {
		t.Fatalf("returned SLAC after a refused cancel: %+v", ret)
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if ok, err := tx.CancelSLAC(ctx, s.ID, at, "again"); ok || err != nil {
			t.Fatalf("second cancel: %v %v", ok, err)
		}
		if ok, err := tx.ReturnSLAC(ctx, s.ID, at, smartlic.SLACOffline); ok || err != nil {
			t.Fatalf("return after cancel: %v %v", ok, err)
		}
		return nil
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		active, err := tx.ActiveSLACsOf(ctx, udi)
		wantEqual(t, "active after cancel", ids(active, slacID), []string{})
		cancelled, err2 := tx.ListSLACs(ctx, sa.ID, nil, nil, smartlic.SLACCancelled, smartlic.Page{Limit: 10})
		wantEqual(t, "cancelled list", ids(cancelled, slacID), []string{s.ID})
		if err == nil {
			err = err2
		}
		return err
	})
	// The device may hold a new SLAC of the type once the old one is cancelled.
	if err := f.insertSLAC(f.newSLAC(sa, va, lt, udi, "c3")); err != nil {
		t.Fatalf("new SLAC after cancel: %v", err)
	}
}

func testExportControl(t *testing.T, f *fixture) {
	sa := f.smartAccount("export.example.com")
	f.smartAccount("plain.example.com")
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		e, err := tx.GetExportControl(ctx, sa.ID)
		if e.Allowed || e.UpdatedAt != nil {
			t.Fatalf("never set: %+v", e)
		}
		return err
	})
	at := f.now
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.SetExportControl(ctx, smartlic.ExportControl{SmartAccountID: sa.ID, Allowed: true, UpdatedAt: &at})
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		e, err := tx.GetExportControl(ctx, sa.ID)
		if !e.Allowed || e.SmartAccount != sa.Domain || e.UpdatedAt == nil || !e.UpdatedAt.Equal(at) {
			t.Fatalf("allowed: %+v", e)
		}
		list, err2 := tx.ListExportControls(ctx)
		if len(list) != 1 || list[0].SmartAccountID != sa.ID {
			t.Fatalf("list: %+v", list)
		}
		if err == nil {
			err = err2
		}
		return err
	})
	later := at.Add(time.Hour)
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.SetExportControl(ctx, smartlic.ExportControl{SmartAccountID: sa.ID, Allowed: false, UpdatedAt: &later})
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		e, err := tx.GetExportControl(ctx, sa.ID)
		if e.Allowed || !e.UpdatedAt.Equal(later) {
			t.Fatalf("forbidden again: %+v", e)
		}
		list, _ := tx.ListExportControls(ctx)
		if len(list) != 0 {
			t.Fatalf("list after forbidding: %+v", list)
		}
		return err
	})
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.SetExportControl(ctx, smartlic.ExportControl{SmartAccountID: newID(t), Allowed: true, UpdatedAt: &at})
	}), smartlic.ENotFound, "")
}

func slacID(s smartlic.SLAC) string { return s.ID }
