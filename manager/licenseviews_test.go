package manager_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// viewFixture is a Smart Account with a tree of VAs and many license
// types, its deposits and counters written straight into the store with
// random quantities and dates: ended, current, future and expiring lots,
// transfers out (negative lots) and overage.
type viewFixture struct {
	*fixture
	db  *store.DB
	sa  smartlic.SmartAccount
	vas []smartlic.VirtualAccount
}

func newViewFixture(t *testing.T, open func(*testing.T) *store.DB, types int, seed uint64) *viewFixture {
	t.Helper()
	db := open(t)
	clock := smartlic.NewFakeClock(epoch)
	mgr, err := manager.New(context.Background(), db, clock)
	if err != nil {
		t.Fatal(err)
	}
	ctx := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
	fx := &viewFixture{fixture: &fixture{t: t, ctx: ctx, mgr: mgr, clock: clock}, db: db}
	fx.sa = fx.account("views.example")
	for i, parent := range []string{"", "", "VA-1", "VA-1", "VA-3"} {
		must[smartlic.VirtualAccount](t)(mgr.CreateVirtualAccount(ctx, fx.sa.Domain, smartlic.VirtualAccountInput{Name: fmt.Sprintf("VA-%d", i+1), Description: "test", Parent: parent}))
	}
	if err := db.Read(context.Background(), func(tx smartlic.Tx) (err error) {
		fx.vas, err = tx.AllVirtualAccounts(context.Background(), fx.sa.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	r := rand.New(rand.NewPCG(seed, 1))
	now := clock.Now()
	day := smartlic.Day
	err = db.Write(context.Background(), func(tx smartlic.Tx) error {
		for i := range types {
			lt := smartlic.LicenseType{ID: uuid.NewString(), Tag: fmt.Sprintf("lic-%03d", i), Name: fmt.Sprintf("License %c%d", 'A'+rune(r.IntN(26)), i),
				Term: smartlic.TermSubscription, Enforcement: smartlic.Unenforced, CreatedAt: now}
			if err := tx.InsertLicenseType(context.Background(), lt); err != nil {
				return err
			}
			for _, va := range fx.vas {
				if r.IntN(3) == 0 {
					continue // not every VA holds every type
				}
				for range r.IntN(3) {
					start := now.Add(time.Duration(r.IntN(400)-380) * day) // mostly started, some later
					end := start.Add(time.Duration(30+r.IntN(500)) * day)  // some ended, some expiring
					q := int64(1 + r.IntN(20))
					d := smartlic.Deposit{ID: uuid.NewString(), VirtualAccountID: va.ID, OrderNumber: "O", LicenseTypeID: lt.ID, Quantity: q, StartsAt: start, EndsAt: &end, CreatedAt: now}
					if err := tx.InsertDeposit(context.Background(), d); err != nil {
						return err
					}
					if r.IntN(4) == 0 { // a transfer out of part of the lot
						d.ID, d.Quantity = uuid.NewString(), -int64(1+r.IntN(int(q)))
						if err := tx.InsertDeposit(context.Background(), d); err != nil {
							return err
						}
					}
				}
				if n := r.IntN(25); n > 0 {
					if err := tx.AddInUse(context.Background(), va.ID, lt.ID, int64(n), now); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// oldView is the view as it was computed before it was batched: each
// license type read by its own query. It is the reference the batched
// view must equal.
func (fx *viewFixture) oldView(vaIDs []string, rollup *smartlic.Rollup) []smartlic.Pool {
	fx.t.Helper()
	var pools []smartlic.Pool
	err := fx.db.Read(context.Background(), func(tx smartlic.Tx) error {
		counters, err := tx.PoolCountersOf(context.Background(), vaIDs)
		if err != nil {
			return err
		}
		deposits, err := tx.DepositsOf(context.Background(), vaIDs)
		if err != nil {
			return err
		}
		types := map[string]smartlic.LicenseType{}
		for _, id := range append(slices.Collect(func(yield func(string) bool) {
			for _, c := range counters {
				yield(c.LicenseTypeID)
			}
		}), slices.Collect(func(yield func(string) bool) {
			for _, d := range deposits {
				yield(d.LicenseTypeID)
			}
		})...) {
			if types[id], err = tx.GetLicenseType(context.Background(), id); err != nil {
				return err
			}
		}
		pools = smartlic.ComputePools(fx.clock.Now(), types, counters, deposits, rollup)
		return nil
	})
	if err != nil {
		fx.t.Fatal(err)
	}
	return pools
}

func (fx *viewFixture) names() map[string]string {
	names := map[string]string{}
	for _, v := range fx.vas {
		names[v.ID] = v.Name
	}
	return names
}

func (fx *viewFixture) subtree(root string) []string {
	ids := []string{root}
	for i := 0; i < len(ids); i++ {
		for _, v := range fx.vas {
			if v.ParentID == ids[i] {
				ids = append(ids, v.ID)
			}
		}
	}
	return ids
}

// pages reads every page of a view through QueryPools.
func (fx *viewFixture) pages(va string, rollup bool, q smartlic.PoolQuery) (all []smartlic.Pool, total int) {
	fx.t.Helper()
	for n := 0; ; n++ {
		p, err := fx.mgr.QueryPools(fx.ctx, fx.sa.Domain, va, rollup, q)
		if err != nil {
			fx.t.Fatalf("page %d of %+v: %v", n, q, err)
		}
		if n > 0 && p.Total != total {
			fx.t.Fatalf("page %d says %d rows in all, page 0 said %d", n, p.Total, total)
		}
		total = p.Total
		if len(p.Items) > q.Limit {
			fx.t.Fatalf("page %d has %d rows, limit %d", n, len(p.Items), q.Limit)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all, total
		}
		q.After = p.Next
	}
}

func TestLicenseViewsEqualPerTypeComputation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		fx := newViewFixture(t, open, 60, 7)
		// The fixture must exercise every status, or the comparison proves little.
		seen := map[smartlic.PoolStatus]bool{}

		type view struct {
			name   string
			va     string
			rollup bool
			want   []smartlic.Pool
		}
		views := []view{{name: "account", want: fx.oldView(idsOfVAs(fx.vas), &smartlic.Rollup{Names: fx.names()})}}
		for _, v := range fx.vas {
			views = append(views,
				view{name: v.Name, va: v.Name, want: fx.oldView([]string{v.ID}, nil)},
				view{name: v.Name + " rolled up", va: v.Name, rollup: true, want: fx.oldView(fx.subtree(v.ID), &smartlic.Rollup{To: v.ID, Names: fx.names()})})
		}
		for _, v := range views {
			got := must[[]smartlic.Pool](t)(fx.mgr.ListPools(fx.ctx, fx.sa.Domain, v.va, v.rollup))
			if !reflect.DeepEqual(got, v.want) {
				t.Fatalf("%s: batched view differs from the per-type computation:\n got %+v\nwant %+v", v.name, got, v.want)
			}
			for _, p := range got {
				seen[p.Status] = true
			}
			sum := must[smartlic.PoolSummary](t)(fx.mgr.SummarizePools(fx.ctx, fx.sa.Domain, v.va, v.rollup))
			if sum.LicenseTypes != len(v.want) {
				t.Errorf("%s: summary counts %d rows, the view has %d", v.name, sum.LicenseTypes, len(v.want))
			}
			for _, st := range smartlic.PoolStatuses {
				n := 0
				for _, p := range v.want {
					if p.Status == st {
						n++
					}
				}
				if sum.ByStatus.Of(st) != n {
					t.Errorf("%s: summary counts %d %s, the view has %d", v.name, sum.ByStatus.Of(st), st, n)
				}
			}

			// Every order and filter, in small pages, gives exactly the
			// matching rows in order, and every page the same total.
			for _, sort := range smartlic.PoolSorts {
				for _, status := range append([]smartlic.PoolStatus{""}, smartlic.PoolStatuses...) {
					for _, search := range []string{"", "LIC-01", "license a"} {
						q := smartlic.PoolQuery{Status: status, Sort: sort, Search: search, Limit: 7}
						nq, err := q.Normalize()
						if err != nil {
							t.Fatal(err)
						}
						var want []smartlic.Pool
						for _, p := range v.want {
							if nq.Matches(p) {
								want = append(want, p)
							}
						}
						gotAll, total := fx.pages(v.va, v.rollup, q)
						if total != len(want) || len(gotAll) != len(want) {
							t.Fatalf("%s %+v: %d rows in %d pages' items, total %d; want %d", v.name, q, len(gotAll), total, total, len(want))
						}
						for i := 1; i < len(gotAll); i++ {
							if !inOrder(sort, gotAll[i-1], gotAll[i]) {
								t.Fatalf("%s sort=%s: %s before %s", v.name, sort, gotAll[i-1].LicenseTag, gotAll[i].LicenseTag)
							}
						}
						byTag := func(a, b smartlic.Pool) int { return cmpTag(a, b) }
						slices.SortFunc(gotAll, byTag)
						slices.SortFunc(want, byTag)
						if !reflect.DeepEqual(gotAll, want) {
							t.Fatalf("%s %+v: pages hold other rows than the filter matches", v.name, q)
						}
					}
				}
			}
		}
		for _, st := range smartlic.PoolStatuses {
			if !seen[st] {
				t.Errorf("the fixture has no %s pool: change its seed or shape", st)
			}
		}
	})
}

func cmpTag(a, b smartlic.Pool) int {
	switch {
	case a.LicenseTag < b.LicenseTag:
		return -1
	case a.LicenseTag > b.LicenseTag:
		return 1
	}
	return 0
}

func inOrder(sort smartlic.PoolSort, a, b smartlic.Pool) bool {
	switch sort {
	case smartlic.SortBySeverity:
		ia, ib := slices.Index(smartlic.PoolStatuses, a.Status), slices.Index(smartlic.PoolStatuses, b.Status)
		return ia < ib || ia == ib && a.LicenseTag < b.LicenseTag
	case smartlic.SortByAvailable:
		return a.Available < b.Available || a.Available == b.Available && a.LicenseTag < b.LicenseTag
	}
	return a.LicenseTag < b.LicenseTag
}

func idsOfVAs(vas []smartlic.VirtualAccount) []string {
	ids := make([]string, len(vas))
	for i, v := range vas {
		ids[i] = v.ID
	}
	return ids
}

// TestLicenseViewQueriesDoNotGrowWithLicenseTypes counts the statements a
// view runs with 3 and with 40 license types: the same number, or the view
// reads something once per row again.
func TestLicenseViewQueriesDoNotGrowWithLicenseTypes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		statements := func(types int) map[string]int64 {
			fx := newViewFixture(t, open, types, 3)
			out := map[string]int64{}
			count := func(name string, call func() error) {
				before := fx.db.Statements()
				if err := call(); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				out[name] = fx.db.Statements() - before
			}
			count("account page", func() error {
				_, err := fx.mgr.QueryPools(fx.ctx, fx.sa.Domain, "", false, smartlic.PoolQuery{Status: smartlic.Insufficient})
				return err
			})
			count("account summary", func() error { _, err := fx.mgr.SummarizePools(fx.ctx, fx.sa.Domain, "", false); return err })
			count("VA page", func() error {
				_, err := fx.mgr.QueryPools(fx.ctx, fx.sa.Domain, "VA-1", false, smartlic.PoolQuery{})
				return err
			})
			count("VA rollup page", func() error {
				_, err := fx.mgr.QueryPools(fx.ctx, fx.sa.Domain, "VA-1", true, smartlic.PoolQuery{})
				return err
			})
			count("VA rollup summary", func() error { _, err := fx.mgr.SummarizePools(fx.ctx, fx.sa.Domain, "VA-1", true); return err })
			count("usage report", func() error {
				_, err := fx.mgr.UsageReport(fx.ctx, fx.sa.Domain, smartlic.UsageQuery{})
				return err
			})
			count("true-up report", func() error {
				_, err := fx.mgr.TrueUpReport(fx.ctx, fx.sa.Domain, smartlic.TrueUpQuery{From: epoch.Add(-90 * smartlic.Day), To: epoch})
				return err
			})
			return out
		}
		few, many := statements(3), statements(40)
		for name, n := range few {
			if many[name] != n || n == 0 {
				t.Errorf("%s: %d statements with 3 license types, %d with 40", name, n, many[name])
			}
		}
	})
}
