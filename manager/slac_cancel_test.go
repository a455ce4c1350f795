package manager_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// offlineSLAC is an air-gapped device's side of an offline SLAC request,
// made with rescode so that these tests do not depend on the agent.
type offlineSLAC struct {
	req    rescode.SLACRequest
	secret []byte
}

func newOfflineSLAC(t *testing.T, sn, tag string) offlineSLAC {
	t.Helper()
	o := offlineSLAC{secret: make([]byte, smartlic.SLACSecretBytes)}
	o.req = rescode.SLACRequest{UDI: smartlic.UDI{PID: "C9300-24T", SN: sn}, LicenseTag: tag, Nonce: make([]byte, rescode.SLACNonceBytes)}
	if _, err := rand.Read(o.secret); err != nil {
		t.Fatal(err)
	}
	if _, err := rand.Read(o.req.Nonce); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(o.secret)
	o.req.ReturnHash = h[:]
	return o
}

func (o offlineSLAC) returnCode(id string) string {
	return rescode.SLACReturn{UDI: o.req.UDI, SLACID: id, Secret: o.secret}.Encode()
}

// TestCancelSLAC: an administrator cancels a SLAC whose device is lost,
// with a reason for the event log; its license goes back to the pool in
// the same transaction. Other roles, other accounts, an empty reason and a
// SLAC already closed are refused and change nothing.
func TestCancelSLAC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example").Domain
		other := f.account("other.example").Domain
		f.vas(sa, "Lab")
		must[smartlic.Deposit](t)(f.mgr.CreateDeposit(f.ctx, sa, "Lab", smartlic.DepositInput{OrderNumber: "PO-1", License: "hseck9", Quantity: 3}))
		must[smartlic.ExportControl](t)(f.mgr.SetExportControl(f.ctx, sa, true))
		must[smartlic.ExportControl](t)(f.mgr.SetExportControl(f.ctx, other, true))
		admin := f.user("admin@acme.example", sa, smartlic.RoleSAAdmin)
		labAdmin := f.user("labadmin@acme.example", sa, smartlic.RoleVAAdmin+":Lab")
		refused := map[string]context.Context{
			"va_user":                         f.user("lab@acme.example", sa, smartlic.RoleVAUser+":Lab"),
			"sa_user":                         f.user("user@acme.example", sa, smartlic.RoleSAUser),
			"sa_approver":                     f.user("approver@acme.example", sa, smartlic.RoleSAApprover),
			"another account's administrator": f.user("eve@other.example", other, smartlic.RoleSAAdmin),
		}

		issue := func(sn string) (smartlic.SLAC, offlineSLAC) {
			t.Helper()
			d := newOfflineSLAC(t, sn, "hseck9")
			s := must[smartlic.SLAC](t)(f.mgr.IssueSLAC(admin, sa, smartlic.SLACIssueInput{RequestCode: d.req.Encode(), VirtualAccount: "Lab"}))
			return s, d
		}
		lost, lostDev := issue("LOST1")
		kept, keptDev := issue("KEPT1")
		f.wantPool(sa, "Lab", "hseck9", 3, 2, 0)

		for who, ctx := range refused {
			_, err := f.mgr.CancelSLAC(ctx, sa, lost.ID, "lost")
			if c := smartlic.ErrorCode(err); c != smartlic.EForbidden {
				t.Fatalf("cancel by %s: %v (code %q), want forbidden", who, err, c)
			}
		}
		// Another account's SLAC reads as not found, as GetSLAC answers.
		_, err := f.mgr.CancelSLAC(admin, other, lost.ID, "lost")
		wantCode(t, err, smartlic.ENotFound)
		_, err = f.mgr.GetSLAC(admin, other, lost.ID)
		wantCode(t, err, smartlic.ENotFound)
		_, err = f.mgr.CancelSLAC(admin, sa, "no-such-slac", "lost")
		wantCode(t, err, smartlic.ENotFound)
		// The reason is required and bounded, as a reservation's.
		for _, bad := range []string{"", "   \t", strings.Repeat("x", 501)} {
			_, err = f.mgr.CancelSLAC(admin, sa, lost.ID, bad)
			wantCode(t, err, smartlic.EInvalid)
			if smartlic.ErrorField(err) != "reason" {
				t.Fatalf("reason %q: field %q", bad, smartlic.ErrorField(err))
			}
		}
		f.wantPool(sa, "Lab", "hseck9", 3, 2, 0)
		if got := must[smartlic.SLAC](t)(f.mgr.GetSLAC(admin, sa, lost.ID)); got.Status != smartlic.SLACActive {
			t.Fatalf("after refused cancels: %+v", got)
		}

		c := must[smartlic.SLAC](t)(f.mgr.CancelSLAC(admin, sa, lost.ID, "  router destroyed in a flood "))
		if c.Status != smartlic.SLACCancelled || c.Returned != smartlic.SLACByAdministrator || c.CancelReason != "router destroyed in a flood" ||
			c.ReturnedAt == nil || !c.ReturnedAt.Equal(f.clock.Now()) {
			t.Fatalf("cancelled: %+v", c)
		}
		f.wantPool(sa, "Lab", "hseck9", 3, 1, 0)
		evs, _, _ := f.mgr.ListEvents(f.ctx, sa, smartlic.EventFilter{Type: "slac.cancelled"}, smartlic.Page{Limit: 5})
		if len(evs) != 1 || evs[0].ActorEmail != "admin@acme.example" || evs[0].Subject != lost.ID || !strings.Contains(evs[0].Message, "router destroyed in a flood") {
			t.Fatalf("cancel event: %+v", evs)
		}

		// Closed: a second cancel, and the device's late return code, are
		// refused and change nothing.
		_, err = f.mgr.CancelSLAC(admin, sa, lost.ID, "again")
		wantCode(t, err, smartlic.ESLACClosed)
		_, err = f.mgr.ReturnSLAC(admin, sa, lostDev.returnCode(lost.ID))
		wantCode(t, err, smartlic.ESLACClosed)
		f.wantPool(sa, "Lab", "hseck9", 3, 1, 0)
		if list, _, err := f.mgr.ListSLACs(admin, sa, smartlic.SLACFilter{Status: smartlic.SLACCancelled}, smartlic.Page{}); err != nil || len(list) != 1 || list[0].ID != lost.ID {
			t.Fatalf("cancelled list: %+v %v", list, err)
		}
		// The device may be issued a new SLAC for the license.
		again := newOfflineSLAC(t, "LOST1", "hseck9")
		must[smartlic.SLAC](t)(f.mgr.IssueSLAC(admin, sa, smartlic.SLACIssueInput{RequestCode: again.req.Encode(), VirtualAccount: "Lab"}))
		f.wantPool(sa, "Lab", "hseck9", 3, 2, 0)

		// A returned SLAC cannot be cancelled.
		must[smartlic.SLAC](t)(f.mgr.ReturnSLAC(admin, sa, keptDev.returnCode(kept.ID)))
		f.wantPool(sa, "Lab", "hseck9", 3, 1, 0)
		_, err = f.mgr.CancelSLAC(admin, sa, kept.ID, "lost")
		wantCode(t, err, smartlic.ESLACClosed)
		if got := must[smartlic.SLAC](t)(f.mgr.GetSLAC(admin, sa, kept.ID)); got.Status != smartlic.SLACReturned || got.CancelReason != "" {
			t.Fatalf("returned SLAC after a refused cancel: %+v", got)
		}

		// The VA's administrator may cancel the VA's SLACs too (va.manage,
		// as for reservations).
		third, _ := issue("LOST2")
		must[smartlic.SLAC](t)(f.mgr.CancelSLAC(labAdmin, sa, third.ID, "stolen"))
		f.wantPool(sa, "Lab", "hseck9", 3, 1, 0)
	})
}
