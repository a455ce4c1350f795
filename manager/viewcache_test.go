package manager_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestKeptLicenseViewsStayExact: license views read through one manager
// equal a fresh computation at every read — read twice (kept), as time
// alone moves lots in and out of force and into the expiring window, and
// as another manager on the same database (a replica) registers,
// authorizes, deposits, transfers and renames and moves VAs.
func TestKeptLicenseViewsStayExact(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		fx := newViewFixture(t, open, 40, 11)
		replica := &fixture{t: t, ctx: fx.ctx, clock: fx.clock, mgr: must[*manager.Manager](t)(manager.New(context.Background(), fx.db, fx.clock))}

		check := func(when string) {
			t.Helper()
			if err := fx.db.Read(context.Background(), func(tx smartlic.Tx) (err error) {
				fx.vas, err = tx.AllVirtualAccounts(context.Background(), fx.sa.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			type view struct {
				va     string
				rollup bool
				want   []smartlic.Pool
			}
			views := []view{{want: fx.oldView(idsOfVAs(fx.vas), &smartlic.Rollup{Names: fx.names()})}}
			for _, v := range fx.vas {
				views = append(views,
					view{va: v.Name, want: fx.oldView([]string{v.ID}, nil)},
					view{va: v.Name, rollup: true, want: fx.oldView(fx.subtree(v.ID), &smartlic.Rollup{To: v.ID, Names: fx.names()})})
			}
			for _, v := range views {
				got := must[[]smartlic.Pool](t)(fx.mgr.ListPools(fx.ctx, fx.sa.Domain, v.va, v.rollup))
				if !reflect.DeepEqual(got, v.want) {
					t.Fatalf("%s: view of %q (rollup %v) differs from a fresh computation:\n got %+v\nwant %+v", when, v.va, v.rollup, got, v.want)
				}
				page := must[smartlic.PoolPage](t)(fx.mgr.QueryPools(fx.ctx, fx.sa.Domain, v.va, v.rollup, smartlic.PoolQuery{Limit: 1000}))
				if !reflect.DeepEqual(page.Items, v.want) && len(v.want) > 0 {
					t.Fatalf("%s: page of %q (rollup %v) differs from a fresh computation", when, v.va, v.rollup)
				}
			}
		}

		check("first read")
		check("second read")
		// The fixture's lots start up to 380 days back and run 30 to 530
		// days: stepping 37 days at a time crosses starts, ends and the
		// 90-day window many times.
		for step := range 14 {
			fx.clock.Advance(37*smartlic.Day + time.Duration(step)*time.Hour)
			check(fmt.Sprintf("%d days on", (step+1)*37))
		}

		// The replica changes what the views read.
		replica.catalog()
		check("after the replica added license types")
		d := newDevice(t, "KEPT-1")
		if _, err := replica.register(d, replica.token(fx.sa.Domain, "VA-2", smartlic.TokenInput{})); err != nil {
			t.Fatal(err)
		}
		check("after a registration through the replica")
		if _, err := replica.authorize(d, use("network-essentials", 3)); err != nil {
			t.Fatal(err)
		}
		check("after an authorization through the replica")
		must[smartlic.Deposit](t)(replica.mgr.CreateDeposit(fx.ctx, fx.sa.Domain, "VA-2", smartlic.DepositInput{OrderNumber: "KEPT", License: "network-essentials", Quantity: 5}))
		check("after a deposit through the replica")
		must[smartlic.Transfer](t)(replica.mgr.Transfer(fx.ctx, fx.sa.Domain, smartlic.TransferInput{From: "VA-2", To: "VA-4", License: "network-essentials", Quantity: 1}))
		check("after a transfer through the replica")
		name, parent := "VA-2 renamed", "VA-2 renamed"
		must[smartlic.VirtualAccount](t)(replica.mgr.UpdateVirtualAccount(fx.ctx, fx.sa.Domain, "VA-2", smartlic.VirtualAccountUpdate{Name: &name}))
		must[smartlic.VirtualAccount](t)(replica.mgr.UpdateVirtualAccount(fx.ctx, fx.sa.Domain, "VA-5", smartlic.VirtualAccountUpdate{Parent: &parent}))
		check("after a VA was renamed and another moved under it")
		if _, err := replica.authorize(d); err != nil {
			t.Fatal(err)
		}
		check("after the instance gave its licenses back")
	})
}
