package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunUsage runs the conformance tests of Smart Licensing Using Policy's
// storage: the reporting columns of instances, report ids, usage marks and
// uploaded usage files. open returns a new, empty store for each subtest.
func RunUsage(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"InstancePolicyColumns", testInstancePolicyColumns},
	})
}

// testInstancePolicyColumns: the trust and reporting times of a
// policy-mode instance survive insert, update and every way of reading it.
func testInstancePolicyColumns(t *testing.T, f *fixture) {
	sa, va := f.account("example.com")
	p := f.product("C9300-24T")
	inst := f.newInstance(sa, va, p, "POL1")
	inst.Mode, inst.PublicKey, inst.AuthorizedAt, inst.AuthExpiresAt = smartlic.ModePolicy, nil, nil, nil
	inst.TrustSerial, inst.TrustedAt = "serial-1", ptr(f.now)
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertInstance(ctx, inst) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetInstance(ctx, inst.ID)
		wantEqual(t, "pending trust", got, inst)
		return err
	})

	inst.PublicKey = []byte("pinned-key")
	inst.FirstUseAt = ptr(f.now.Add(-48 * time.Hour))
	inst.LastReportAt, inst.LastAckAt = ptr(f.now.Add(time.Hour)), ptr(f.now.Add(time.Hour+time.Microsecond))
	inst.UsageChangedAt = ptr(f.now.Add(-time.Hour))
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.UpdateInstance(ctx, inst) })
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		got, err := tx.GetInstanceByUDI(ctx, inst.UDI)
		if err != nil {
			return err
		}
		wantEqual(t, "after the first report", got, inst)
		list, err := tx.ListInstances(ctx, va.ID, smartlic.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(list) != 1 {
			t.Fatalf("listed %d instances, want 1", len(list))
		}
		wantEqual(t, "listed", list[0], inst)
		return nil
	})
}
