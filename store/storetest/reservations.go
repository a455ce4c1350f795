package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunReservations runs the conformance tests of reservations (SLR/PLR);
// open returns a new, empty store for each subtest.
func RunReservations(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"Reservations", testReservations},
		{"ReservationList", testReservationList},
		{"ReservedCounters", testReservedCounters},
		{"ConcurrentAddReserved", testConcurrentAddReserved},
		{"PermanentReservationPermissions", testPermanentReservationPermissions},
	})
}

func (f *fixture) reservation(sa smartlic.SmartAccount, va smartlic.VirtualAccount, sn string, lic ...smartlic.ReservedLicense) smartlic.Reservation {
	f.t.Helper()
	r := smartlic.Reservation{
		ID: newID(f.t), SmartAccountID: sa.ID, VirtualAccountID: va.ID, VirtualAccount: va.Name,
		UDI: smartlic.UDI{PID: "C9300-24T", SN: sn}, Kind: smartlic.ReservationSpecific, Status: smartlic.ReservationAuthorized,
		Fingerprint: "fp-" + newID(f.t), DeviceKey: []byte{1, 2, 3, 4}, Sequence: 1, Licenses: lic,
		AuthorizationCode: "RA1-" + sn, CreatedAt: f.now, UpdatedAt: f.now,
	}
	if r.Licenses == nil {
		r.Licenses = []smartlic.ReservedLicense{}
	}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertReservation(ctx, r) })
	return r
}

func testReservations(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	other, _ := f.account("other.example")
	lt := f.licenseType("dna-advantage")
	r := f.reservation(sa, va, "FOC1", smartlic.ReservedLicense{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: 3})

	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetReservation(ctx, sa.ID, r.ID)
		wantEqual(t, "reservation", got, r)
		if _, err := tx.GetReservation(ctx, other.ID, r.ID); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("another account's reservation: %v", err)
		}
		byFP, _ := tx.ReservationByFingerprint(ctx, r.Fingerprint)
		wantEqual(t, "by fingerprint", byFP.ID, r.ID)
		open, ok, _ := tx.OpenReservationOfUDI(ctx, r.UDI)
		if !ok || open.ID != r.ID {
			t.Fatalf("open reservation of UDI: %v %+v", ok, open)
		}
		_, err2 := tx.ReservationByFingerprint(ctx, "nope")
		wantCode(t, err2, smartlic.ENotFound, "")
		return err
	})

	// The same request twice, and a second open reservation of one UDI.
	dup := r
	dup.ID, dup.UDI.SN = newID(t), "FOC9"
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertReservation(ctx, dup) }), smartlic.ECodeStale, "request_code")
	second := r
	second.ID, second.Fingerprint = newID(t), "fp-second"
	wantCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertReservation(ctx, second) }), smartlic.EConflict, "request_code")

	// Updates are conditional on the state they were computed from.
	upd := r
	upd.Status, upd.Sequence, upd.UpdatedAt = smartlic.ReservationUpdating, 2, f.now.Add(time.Hour)
	upd.Previous = r.Licenses
	upd.Licenses = []smartlic.ReservedLicense{{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: 5}}
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		ok, err := tx.UpdateReservation(ctx, upd, r)
		if !ok {
			t.Fatal("update refused")
		}
		return err
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		ok, err := tx.UpdateReservation(ctx, upd, r) // from a state that no longer is
		if ok {
			t.Fatal("a stale update was applied")
		}
		return err
	})
	closedAt := f.now.Add(2 * time.Hour)
	closed := upd
	closed.Status, closed.ClosedAt, closed.CloseReason, closed.Previous = smartlic.ReservationCancelled, &closedAt, "device lost", nil
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.UpdateReservation(ctx, closed, upd)
		return err
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetReservation(ctx, sa.ID, r.ID)
		wantEqual(t, "closed reservation", got, closed)
		_, ok, _ := tx.OpenReservationOfUDI(ctx, r.UDI)
		if ok {
			t.Fatal("a cancelled reservation is open")
		}
		return err
	})
	// Once closed, the UDI may hold a new reservation.
	f.reservation(sa, va, "FOC1")
}

func testReservationList(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	lab := f.virtualAccount(sa, nil, "Lab")
	other, ova := f.account("other.example")
	var all []smartlic.Reservation
	for i := range 5 {
		v := va
		if i%2 == 1 {
			v = lab
		}
		all = append(all, f.reservation(sa, v, fmt.Sprintf("FOC%d", i)))
	}
	f.reservation(other, ova, "FOC0X")
	list := func(vaIDs []string, flt smartlic.ReservationFilter, p smartlic.Page) []string {
		var out []smartlic.Reservation
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			var err error
			out, err = tx.ListReservations(ctx, sa.ID, vaIDs, flt, p)
			return err
		})
		ids := make([]string, len(out))
		for i, r := range out {
			ids[i] = r.UDI.SN
		}
		return ids
	}
	wantEqual(t, "all", list(nil, smartlic.ReservationFilter{}, smartlic.Page{Limit: 10}), []string{"FOC0", "FOC1", "FOC2", "FOC3", "FOC4"})
	wantEqual(t, "page", list(nil, smartlic.ReservationFilter{}, smartlic.Page{Limit: 2, After: all[1].ID}), []string{"FOC2", "FOC3"})
	wantEqual(t, "Lab only", list([]string{lab.ID}, smartlic.ReservationFilter{}, smartlic.Page{Limit: 10}), []string{"FOC1", "FOC3"})
	wantEqual(t, "no VA", list([]string{}, smartlic.ReservationFilter{}, smartlic.Page{Limit: 10}), []string{})
	// More Virtual Accounts than one IN list holds: all their rows, paged.
	many := manyVAs(t, lab.ID, va.ID)
	wantEqual(t, "many VAs", list(many, smartlic.ReservationFilter{}, smartlic.Page{Limit: 10}), []string{"FOC0", "FOC1", "FOC2", "FOC3", "FOC4"})
	wantEqual(t, "many VAs, a page", list(many, smartlic.ReservationFilter{}, smartlic.Page{Limit: 2, After: all[1].ID}), []string{"FOC2", "FOC3"})
	wantEqual(t, "many VAs, a UDI", list(many, smartlic.ReservationFilter{UDI: "C9300-24T:FOC3"}, smartlic.Page{Limit: 10}), []string{"FOC3"})
	wantEqual(t, "UDI", list(nil, smartlic.ReservationFilter{UDI: "C9300-24T:FOC3"}, smartlic.Page{Limit: 10}), []string{"FOC3"})
	wantEqual(t, "PID prefix", list(nil, smartlic.ReservationFilter{UDI: "C9300"}, smartlic.Page{Limit: 10}), []string{"FOC0", "FOC1", "FOC2", "FOC3", "FOC4"})
	wantEqual(t, "LIKE is escaped", list(nil, smartlic.ReservationFilter{UDI: "C9300-24T:FOC_"}, smartlic.Page{Limit: 10}), []string{})
	wantEqual(t, "closed", list(nil, smartlic.ReservationFilter{Status: "closed"}, smartlic.Page{Limit: 10}), []string{})
	wantEqual(t, "open", len(list(nil, smartlic.ReservationFilter{Status: "open"}, smartlic.Page{Limit: 10})), 5)
	wantEqual(t, "authorized", len(list(nil, smartlic.ReservationFilter{Status: "authorized"}, smartlic.Page{Limit: 10})), 5)
}

func testReservedCounters(t *testing.T, f *fixture) {
	_, va := f.account("example.com")
	lt := f.licenseType("dna-advantage")
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		if err := tx.AddInUse(ctx, va.ID, lt.ID, 2, f.now); err != nil {
			return err
		}
		if err := tx.AddReserved(ctx, va.ID, lt.ID, 5, f.now); err != nil {
			return err
		}
		return tx.AddReserved(ctx, va.ID, lt.ID, -1, f.now)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.PoolCountersOf(ctx, []string{va.ID})
		wantEqual(t, "counter", got, []smartlic.PoolCounter{{VirtualAccountID: va.ID, LicenseTypeID: lt.ID, InUse: 6, Reserved: 4}})
		return err
	})
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		inUse, err := tx.LockPool(ctx, va.ID, lt.ID)
		wantEqual(t, "LockPool's in use counts reserved", inUse, int64(6))
		return err
	})
}

func testConcurrentAddReserved(t *testing.T, f *fixture) {
	const writers = 40
	_, va := f.account("example.com")
	lt := f.licenseType("lt")
	f.writeAtOnce(writers, func(i int, tx smartlic.Tx) error {
		return tx.AddReserved(f.ctx(), va.ID, lt.ID, 2, f.now)
	})
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.PoolCountersOf(ctx, []string{va.ID})
		wantEqual(t, "counter", got, []smartlic.PoolCounter{{VirtualAccountID: va.ID, LicenseTypeID: lt.ID, InUse: 2 * writers, Reserved: 2 * writers}})
		return err
	})
}

func testPermanentReservationPermissions(t *testing.T, f *fixture) {
	sa := f.smartAccount("example.com")
	p := f.product("C9300-24T")
	check := func(subject, id string, want bool) {
		t.Helper()
		f.read(func(ctx context.Context, tx smartlic.Tx) error {
			got, err := tx.PermanentReservationAllowed(ctx, subject, id)
			wantEqual(t, subject+" allowed", got, want)
			return err
		})
	}
	set := func(subject, id string, on bool) {
		f.write(func(ctx context.Context, tx smartlic.Tx) error {
			return tx.SetPermanentReservationAllowed(ctx, subject, id, on)
		})
	}
	check("product", p.ID, false)
	set("product", p.ID, true)
	set("product", p.ID, true) // idempotent
	check("product", p.ID, true)
	check("smart_account", sa.ID, false)
	check("smart_account", p.ID, false) // subjects stay apart
	set("smart_account", sa.ID, true)
	set("product", p.ID, false)
	check("product", p.ID, false)
	check("smart_account", sa.ID, true)
}
