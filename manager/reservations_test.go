package manager_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// slrDevice is an air-gapped instance's side of the reservation codes,
// made directly with rescode so that these tests do not depend on the agent.
type slrDevice struct {
	udi  smartlic.UDI
	priv ed25519.PrivateKey
}

func newSLRDevice(t *testing.T, sn string) *slrDevice {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &slrDevice{udi: smartlic.UDI{PID: "C9300-24T", SN: sn}, priv: priv}
}

func (d *slrDevice) request() string {
	return rescode.Request{UDI: d.udi, Key: d.priv.Public().(ed25519.PublicKey)}.Encode()
}

func (d *slrDevice) proof(t *testing.T, typ string, seq uint64) string {
	t.Helper()
	code, err := rescode.SignProof(typ, rescode.Proof{Fingerprint: rescode.Fingerprint(d.priv.Public().(ed25519.PublicKey)), Sequence: seq}, d.priv)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (f *fixture) openAuthorization(code string) rescode.Authorization {
	f.t.Helper()
	keys := must[smartlic.PublicKeySet](f.t)(f.mgr.PublicKeys(context.Background()))
	a, err := rescode.OpenAuthorization("code", code, sign.NewKeySet(keys.Keys))
	if err != nil {
		f.t.Fatalf("authorization code does not verify: %v", err)
	}
	return a
}

func lic(tag string, n int64) smartlic.LicenseRequest {
	return smartlic.LicenseRequest{Tag: tag, Quantity: n}
}

// wantPool checks a pool's purchased, in-use, reserved and available.
func (f *fixture) wantPool(sa, va, tag string, purchased, inUse, reserved int64) {
	f.t.Helper()
	p := f.pool(sa, va, tag, false)
	if p.Purchased != purchased || p.InUse != inUse || p.Reserved != reserved || p.Available != purchased-inUse-reserved {
		f.t.Fatalf("%s pool of %s: purchased %d, in use %d, reserved %d, available %d; want %d, %d, %d, %d",
			tag, va, p.Purchased, p.InUse, p.Reserved, p.Available, purchased, inUse, reserved, purchased-inUse-reserved)
	}
}

func TestReservationLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		other := f.account("other.example").Domain
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "DEFAULT", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-essentials", Quantity: 10}))
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "DEFAULT", smartlic.DepositInput{OrderNumber: "PO-2", License: "threat-defense", Quantity: 2}))
		d := newSLRDevice(t, "FOC0001")
		req := d.request()

		// Refusals change nothing.
		typo := []byte(req)
		typo[len(typo)-3] = map[bool]byte{true: 'A', false: 'B'}[typo[len(typo)-3] != 'A']
		for name, tc := range map[string]struct {
			in   smartlic.ReservationInput
			code string
		}{
			"mistyped request":  {smartlic.ReservationInput{RequestCode: string(typo), Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}}, smartlic.ECodeInvalid},
			"a return code":     {smartlic.ReservationInput{RequestCode: d.proof(t, rescode.TypeReturn, 0), Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}}, smartlic.ECodeInvalid},
			"beyond available":  {smartlic.ReservationInput{RequestCode: req, Licenses: []smartlic.LicenseRequest{lic("network-essentials", 4), lic("threat-defense", 3)}}, smartlic.EInsufficient},
			"no licenses":       {smartlic.ReservationInput{RequestCode: req}, smartlic.EInvalid},
			"zero":              {smartlic.ReservationInput{RequestCode: req, Licenses: []smartlic.LicenseRequest{lic("network-essentials", 0)}}, smartlic.EInvalid},
			"twice":             {smartlic.ReservationInput{RequestCode: req, Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1), lic("network-essentials", 1)}}, smartlic.EInvalid},
			"unknown type":      {smartlic.ReservationInput{RequestCode: req, Licenses: []smartlic.LicenseRequest{lic("nope", 1)}}, smartlic.EInvalid},
			"unknown VA":        {smartlic.ReservationInput{VirtualAccount: "Nope", RequestCode: req, Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}}, smartlic.ENotFound},
			"PLR not enabled":   {smartlic.ReservationInput{RequestCode: req, Permanent: true}, smartlic.EReservationNotAllowed},
			"nothing deposited": {smartlic.ReservationInput{RequestCode: req, Licenses: []smartlic.LicenseRequest{lic("network-advantage", 1)}}, smartlic.EInsufficient},
		} {
			_, err := f.mgr.CreateReservation(f.ctx, sa, tc.in)
			if smartlic.ErrorCode(err) != tc.code {
				t.Fatalf("%s: %v, want %s", name, err, tc.code)
			}
		}
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 0)
		f.wantPool(sa, "DEFAULT", "threat-defense", 2, 0, 0)

		r := must[smartlic.Reservation](t)(f.mgr.CreateReservation(f.ctx, sa, smartlic.ReservationInput{RequestCode: req,
			Licenses: []smartlic.LicenseRequest{lic("threat-defense", 2), lic("network-essentials", 4)}}))
		if r.Status != smartlic.ReservationAuthorized || r.Sequence != 1 || r.UDI != d.udi {
			t.Fatalf("reservation %+v", r)
		}
		a := f.openAuthorization(r.AuthorizationCode)
		if a.UDI != d.udi || a.Sequence != 1 || a.Permanent || a.Fingerprint != rescode.Fingerprint(d.priv.Public().(ed25519.PublicKey)) ||
			fmt.Sprint(a.Licenses) != "[{network-essentials 4} {threat-defense 2}]" {
			t.Fatalf("authorization code carries %+v", a)
		}
		t.Logf("authorization code (%d characters): %s", len(r.AuthorizationCode), r.AuthorizationCode)
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 4)
		f.wantPool(sa, "DEFAULT", "threat-defense", 2, 0, 2)

		// The same request again, or another request of the same UDI.
		_, err := f.mgr.CreateReservation(f.ctx, sa, smartlic.ReservationInput{RequestCode: req, Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}})
		wantCode(t, err, smartlic.ECodeStale)
		d2 := &slrDevice{udi: d.udi}
		_, d2.priv, _ = ed25519.GenerateKey(rand.Reader)
		_, err = f.mgr.CreateReservation(f.ctx, sa, smartlic.ReservationInput{RequestCode: d2.request(), Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}})
		wantCode(t, err, smartlic.EConflict)
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 4)

		// Reserved licenses are consumed: a transfer cannot take them.
		f.vas(sa, "B")
		_, err = f.mgr.Transfer(f.ctx, sa, smartlic.TransferInput{From: "DEFAULT", To: "B", License: "network-essentials", Quantity: 7})
		wantCode(t, err, smartlic.EInsufficient)

		// The device confirms authorization 1.
		r = must[smartlic.Reservation](t)(f.mgr.ConfirmReservation(f.ctx, sa, d.proof(t, rescode.TypeConfirmation, 1)))
		if r.Status != smartlic.ReservationInstalled || r.Confirmed != 1 {
			t.Fatalf("after confirmation: %+v", r)
		}
		_, err = f.mgr.ConfirmReservation(f.ctx, sa, d.proof(t, rescode.TypeConfirmation, 1))
		wantCode(t, err, smartlic.ECodeStale)

		// Update: 6, then 2. The larger quantity stays reserved until the
		// device confirms the latest code; a confirmation of the
		// superseded one is refused.
		_, err = f.mgr.UpdateReservation(f.ctx, sa, r.ID, []smartlic.LicenseRequest{lic("network-essentials", 11)})
		wantCode(t, err, smartlic.EInsufficient)
		r = must[smartlic.Reservation](t)(f.mgr.UpdateReservation(f.ctx, sa, r.ID, []smartlic.LicenseRequest{lic("network-essentials", 6)}))
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 6)
		f.wantPool(sa, "DEFAULT", "threat-defense", 2, 0, 2) // held until confirmed
		r = must[smartlic.Reservation](t)(f.mgr.UpdateReservation(f.ctx, sa, r.ID, []smartlic.LicenseRequest{lic("network-essentials", 2)}))
		if r.Sequence != 3 || r.Status != smartlic.ReservationUpdating || f.openAuthorization(r.AuthorizationCode).Sequence != 3 {
			t.Fatalf("after two updates: %+v", r)
		}
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 6)
		_, err = f.mgr.ConfirmReservation(f.ctx, sa, d.proof(t, rescode.TypeConfirmation, 2))
		wantCode(t, err, smartlic.ECodeStale)
		_, err = f.mgr.ConfirmReservation(f.ctx, sa, d2.proof(t, rescode.TypeConfirmation, 3))
		wantCode(t, err, smartlic.ENotFound) // a key that made no reservation
		r = must[smartlic.Reservation](t)(f.mgr.ConfirmReservation(f.ctx, sa, d.proof(t, rescode.TypeConfirmation, 3)))
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 2)
		f.wantPool(sa, "DEFAULT", "threat-defense", 2, 0, 0)

		// Return: not in another account, not forged, and only once.
		ret := d.proof(t, rescode.TypeReturn, 3)
		_, err = f.mgr.ReturnReservation(f.ctx, other, ret)
		wantCode(t, err, smartlic.ENotFound)
		forged := []byte(ret)
		raw, _ := rescode.Decode("code", rescode.KindReturn, ret)
		raw[len(raw)-1] ^= 1
		forged = []byte(rescode.Encode(rescode.KindReturn, raw))
		_, err = f.mgr.ReturnReservation(f.ctx, sa, string(forged))
		wantCode(t, err, smartlic.ESignature)
		_, err = f.mgr.ReturnReservation(f.ctx, sa, d.proof(t, rescode.TypeReturn, 4))
		wantCode(t, err, smartlic.ECodeStale)
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 2)
		r = must[smartlic.Reservation](t)(f.mgr.ReturnReservation(f.ctx, sa, ret))
		if r.Status != smartlic.ReservationReturned || r.ClosedAt == nil {
			t.Fatalf("after return: %+v", r)
		}
		f.wantPool(sa, "DEFAULT", "network-essentials", 10, 0, 0)
		_, err = f.mgr.ReturnReservation(f.ctx, sa, ret)
		wantCode(t, err, smartlic.EReservationClosed)
		_, err = f.mgr.UpdateReservation(f.ctx, sa, r.ID, []smartlic.LicenseRequest{lic("network-essentials", 1)})
		wantCode(t, err, smartlic.EReservationClosed)

		// Listed and searched by UDI; everything is in the event log.
		list, _ := mustList(t)(f.mgr.ListReservations(f.ctx, sa, smartlic.ReservationFilter{UDI: "C9300-24T:FOC0001"}, smartlic.Page{}))
		if len(list) != 1 || list[0].ID != r.ID {
			t.Fatalf("search by UDI: %+v", list)
		}
		if list, _ := mustList(t)(f.mgr.ListReservations(f.ctx, sa, smartlic.ReservationFilter{Status: "open"}, smartlic.Page{})); len(list) != 0 {
			t.Fatalf("open reservations after return: %+v", list)
		}
		evs, _, err := f.mgr.ListEvents(f.ctx, sa, smartlic.EventFilter{Subject: r.ID}, smartlic.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		if fmt.Sprint(types) != "[reservation.created reservation.confirmed reservation.updated reservation.updated reservation.confirmed reservation.returned]" {
			t.Fatalf("events %v", types)
		}

		// A new request of the same device after the return.
		d3 := newSLRDevice(t, "FOC0001")
		must[smartlic.Reservation](t)(f.mgr.CreateReservation(f.ctx, sa, smartlic.ReservationInput{RequestCode: d3.request(), Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}}))
	})
}

func mustList(t *testing.T) func([]smartlic.Reservation, string, error) ([]smartlic.Reservation, string) {
	return func(l []smartlic.Reservation, next string, err error) ([]smartlic.Reservation, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return l, next
	}
}

func TestReservationAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		f.vas(sa, "Lab")
		for _, va := range []string{"DEFAULT", "Lab"} {
			must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, va, smartlic.DepositInput{OrderNumber: "PO-" + va, License: "network-essentials", Quantity: 5}))
		}
		labUser := f.user("lab@acme.example", sa, smartlic.RoleVAUser+":Lab")
		admin := f.user("admin@acme.example", sa, smartlic.RoleSAAdmin)
		outsider := f.user("eve@other.example", f.account("other.example").Domain, smartlic.RoleSAAdmin)

		d1, d2 := newSLRDevice(t, "FOC1"), newSLRDevice(t, "FOC2")
		in := func(d *slrDevice, va string) smartlic.ReservationInput {
			return smartlic.ReservationInput{VirtualAccount: va, RequestCode: d.request(), Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}}
		}
		_, err := f.mgr.CreateReservation(labUser, sa, in(d1, "DEFAULT"))
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.CreateReservation(outsider, sa, in(d1, "Lab"))
		wantCode(t, err, smartlic.EForbidden)
		lab := must[smartlic.Reservation](t)(f.mgr.CreateReservation(labUser, sa, in(d1, "Lab")))
		def := must[smartlic.Reservation](t)(f.mgr.CreateReservation(admin, sa, in(d2, "")))
		if def.VirtualAccount != "DEFAULT" {
			t.Fatalf("default VA: %+v", def)
		}

		// The Lab user sees and returns only Lab's reservations.
		list, _ := mustList(t)(f.mgr.ListReservations(labUser, sa, smartlic.ReservationFilter{}, smartlic.Page{}))
		if len(list) != 1 || list[0].ID != lab.ID {
			t.Fatalf("Lab user's list: %+v", list)
		}
		_, err = f.mgr.GetReservation(labUser, sa, def.ID)
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.ReturnReservation(labUser, sa, d2.proof(t, rescode.TypeReturn, 0))
		wantCode(t, err, smartlic.EForbidden)
		_, _, err = f.mgr.ListReservations(outsider, sa, smartlic.ReservationFilter{}, smartlic.Page{})
		wantCode(t, err, smartlic.EForbidden)

		// Cancelling without a return code: administrators, with a reason.
		_, err = f.mgr.CancelReservation(labUser, sa, lab.ID, "lost")
		wantCode(t, err, smartlic.EForbidden)
		_, err = f.mgr.CancelReservation(admin, sa, lab.ID, "  ")
		wantCode(t, err, smartlic.EInvalid)
		f.wantPool(sa, "Lab", "network-essentials", 5, 0, 1)
		c := must[smartlic.Reservation](t)(f.mgr.CancelReservation(admin, sa, lab.ID, "switch destroyed in a flood"))
		if c.Status != smartlic.ReservationCancelled || c.CloseReason != "switch destroyed in a flood" {
			t.Fatalf("cancelled: %+v", c)
		}
		f.wantPool(sa, "Lab", "network-essentials", 5, 0, 0)
		_, err = f.mgr.CancelReservation(admin, sa, lab.ID, "again")
		wantCode(t, err, smartlic.EReservationClosed)
		evs, _, _ := f.mgr.ListEvents(f.ctx, sa, smartlic.EventFilter{Type: "reservation.cancelled"}, smartlic.Page{Limit: 5})
		if len(evs) != 1 || evs[0].ActorEmail != "admin@acme.example" || !strings.Contains(evs[0].Message, "flood") {
			t.Fatalf("cancel event: %+v", evs)
		}
	})
}

func TestPermanentReservation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		admin := f.user("admin@acme.example", sa, smartlic.RoleSAAdmin)
		d := newSLRDevice(t, "FOC1")
		plr := smartlic.ReservationInput{RequestCode: d.request(), Permanent: true}

		_, err := f.mgr.SetReservationSettingsOfAccount(admin, sa, smartlic.ReservationSettings{Permanent: true})
		wantCode(t, err, smartlic.EForbidden) // the vendor's decision
		must[smartlic.ReservationSettings](t)(f.mgr.SetReservationSettingsOfAccount(f.ctx, sa, smartlic.ReservationSettings{Permanent: true}))
		_, err = f.mgr.CreateReservation(admin, sa, plr)
		wantCode(t, err, smartlic.EReservationNotAllowed) // the product is not enabled
		must[smartlic.ReservationSettings](t)(f.mgr.SetReservationSettingsOfProduct(f.ctx, "C9300-24T", smartlic.ReservationSettings{Permanent: true}))
		if s := must[smartlic.ReservationSettings](t)(f.mgr.ReservationSettingsOfAccount(admin, sa)); !s.Permanent {
			t.Fatal("account settings do not show PLR enabled")
		}
		with := plr
		with.Licenses = []smartlic.LicenseRequest{lic("network-essentials", 1)}
		_, err = f.mgr.CreateReservation(admin, sa, with)
		wantCode(t, err, smartlic.EInvalid)

		r := must[smartlic.Reservation](t)(f.mgr.CreateReservation(admin, sa, plr))
		a := f.openAuthorization(r.AuthorizationCode)
		if !a.Permanent || r.Kind != smartlic.ReservationPermanent || len(a.Licenses) != 4 {
			t.Fatalf("PLR: %+v / %+v", r, a)
		}
		// Not drawn from pools: nothing was deposited and nothing is reserved.
		if pools := must[[]smartlic.Pool](t)(f.mgr.ListPools(f.ctx, sa, "DEFAULT", false)); len(pools) != 0 {
			t.Fatalf("PLR moved pools: %+v", pools)
		}
		_, err = f.mgr.UpdateReservation(admin, sa, r.ID, []smartlic.LicenseRequest{lic("network-essentials", 1)})
		wantCode(t, err, smartlic.EConflict)
		must[smartlic.Reservation](t)(f.mgr.ReturnReservation(admin, sa, d.proof(t, rescode.TypeReturn, 1)))

		// Disabled again: no new PLR.
		must[smartlic.ReservationSettings](t)(f.mgr.SetReservationSettingsOfAccount(f.ctx, sa, smartlic.ReservationSettings{Permanent: false}))
		_, err = f.mgr.CreateReservation(admin, sa, smartlic.ReservationInput{RequestCode: newSLRDevice(t, "FOC2").request(), Permanent: true})
		wantCode(t, err, smartlic.EReservationNotAllowed)
	})
}

// 100 reservations race for a pool of 50: exactly 50 succeed, the pool
// is never over-reserved, and every refusal says insufficient.
func TestConcurrentReservations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "DEFAULT", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-essentials", Quantity: 50}))
		const n = 100
		var ok, short atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			d := newSLRDevice(t, fmt.Sprintf("SN%03d", i))
			wg.Go(func() {
				<-start
				_, err := f.mgr.CreateReservation(f.ctx, sa, smartlic.ReservationInput{RequestCode: d.request(), Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}})
				switch smartlic.ErrorCode(err) {
				case "":
					ok.Add(1)
				case smartlic.EInsufficient:
					short.Add(1)
				default:
					t.Errorf("reservation %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if ok.Load() != 50 || short.Load() != 50 {
			t.Fatalf("%d reserved, %d refused; want 50 and 50", ok.Load(), short.Load())
		}
		f.wantPool(sa, "DEFAULT", "network-essentials", 50, 0, 50)
	})
}

// An authorization code not confirmed within a week raises
// reservation.pending; the confirmation clears it.
func TestReservationPendingAlert(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "DEFAULT", smartlic.DepositInput{OrderNumber: "PO-1", License: "network-essentials", Quantity: 5}))
		d := newSLRDevice(t, "FOC1")
		r := must[smartlic.Reservation](t)(f.mgr.CreateReservation(f.ctx, sa, smartlic.ReservationInput{RequestCode: d.request(), Licenses: []smartlic.LicenseRequest{lic("network-essentials", 1)}}))
		pending := func() []smartlic.Alert {
			var out []smartlic.Alert
			for _, a := range must[[]smartlic.Alert](t)(f.mgr.ListAlerts(f.ctx, sa, "")) {
				if a.Type == smartlic.AlertReservationPending {
					out = append(out, a)
				}
			}
			return out
		}
		f.clock.Advance(smartlic.ReservationPendingAfter - smartlic.Day)
		if got := pending(); len(got) != 0 {
			t.Fatalf("pending after 6 days: %+v", got)
		}
		f.clock.Advance(smartlic.Day)
		got := pending()
		if len(got) != 1 || got[0].UDI != "C9300-24T:FOC1" || got[0].Key != smartlic.AlertKey(smartlic.AlertReservationPending, r.ID) {
			t.Fatalf("pending after 7 days: %+v", got)
		}
		must[smartlic.Reservation](t)(f.mgr.ConfirmReservation(f.ctx, sa, d.proof(t, rescode.TypeConfirmation, 1)))
		if got := pending(); len(got) != 0 {
			t.Fatalf("pending after the confirmation: %+v", got)
		}
	})
}
