package agent_test

import (
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestSLACCancelledReachesDevice: an administrator cancels the SLAC of a
// router reported stolen; at its next authorization the router learns it
// from the manager's signed answer, removes the SLAC and may no longer add
// export-controlled usage or raise its throughput above 250 Mbps. Another
// router's SLAC is untouched. Over real HTTP on both stores.
func TestSLACCancelledReachesDevice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		m := newExportManager(t, open(t), 2)
		ctx := t.Context()
		if _, err := m.mgr.SetExportControl(m.op, exportSA, true); err != nil {
			t.Fatal(err)
		}
		stolen, kept := m.device(t, "FOCSTOLEN", m.export), m.device(t, "FOCKEPT", m.export)
		if err := stolen.RequestSLAC(ctx, "hseck9"); err != nil {
			t.Fatal(err)
		}
		if err := kept.RequestSLAC(ctx, "hseck9"); err != nil {
			t.Fatal(err)
		}
		if err := stolen.SetUsage("hseck9", 1); err != nil {
			t.Fatal(err)
		}
		if err := stolen.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		if p := m.pool(t, "hseck9"); p.InUse != 2 {
			t.Fatalf("pool with two SLACs: %+v", p)
		}
		id := stolen.Status().SLACs[0].ID

		if _, err := m.mgr.CancelSLAC(m.op, exportSA, id, "reported stolen"); err != nil {
			t.Fatal(err)
		}
		if p := m.pool(t, "hseck9"); p.InUse != 1 {
			t.Fatalf("pool after the cancel: %+v", p)
		}
		// Until it next contacts the manager the router does not know.
		if len(stolen.Status().SLACs) != 1 {
			t.Fatal("the SLAC left the router before it heard from the manager")
		}
		m.clock.Advance(smartlic.AuthRenewAfter)
		if err := stolen.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		st := stolen.Status()
		if len(st.SLACs) != 0 || len(st.CancelledSLACs) != 1 || st.CancelledSLACs[0].SLACID != id || st.CancelledSLACs[0].LicenseTag != "hseck9" {
			t.Fatalf("router after learning of the cancel: SLACs %+v, cancelled %+v", st.SLACs, st.CancelledSLACs)
		}
		wantCode(t, stolen.SetUsage("hseck9", 2), smartlic.EExportControl)
		wantCode(t, stolen.SetThroughput(1000), smartlic.EExportControl)
		wantCode(t, stolen.ReturnSLAC(ctx, "hseck9"), smartlic.ENotFound)

		// The other router keeps its SLAC through its own authorization.
		if err := kept.Authorize(ctx); err != nil {
			t.Fatal(err)
		}
		if st := kept.Status(); len(st.SLACs) != 1 || len(st.CancelledSLACs) != 0 {
			t.Fatalf("the other router: SLACs %+v, cancelled %+v", st.SLACs, st.CancelledSLACs)
		}
		if err := kept.SetThroughput(1000); err != nil {
			t.Fatalf("the other router's throughput: %v", err)
		}
	})
}
