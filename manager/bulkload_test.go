package manager_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestBulkLoadIsWhatTheManagerShows: a bulk-loaded fixture (the bench
// harness's million instances, here a thousand) reads through the manager
// as if it had been registered: the pools count every authorized usage
// line, the event log verifies with one entry per creation, and the
// instances list.
func TestBulkLoadIsWhatTheManagerShows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		db := open(t)
		at := epoch.Add(-time.Hour)
		id := func() string { return uuid.Must(uuid.NewV7()).String() }
		b := store.Bulk{At: at, SmartAccount: smartlic.SmartAccount{ID: id(), Name: "Bulk", Domain: "bulk.example", Status: smartlic.SAActive, CreatedAt: at}}
		for i := range 4 {
			b.LicenseTypes = append(b.LicenseTypes, smartlic.LicenseType{ID: id(), Tag: fmt.Sprintf("bulk-%d", i), Name: fmt.Sprintf("Bulk %d", i),
				Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: at})
		}
		product := smartlic.Product{ID: id(), PID: "BULK-1", Name: "Bulk", LicenseTypes: []string{"bulk-0", "bulk-1", "bulk-2", "bulk-3"}, CreatedAt: at}
		b.Products = []smartlic.Product{product}
		for i, name := range []string{smartlic.DefaultVAName, "Lab", "Campus"} {
			b.VirtualAccounts = append(b.VirtualAccounts, smartlic.VirtualAccount{ID: id(), SmartAccountID: b.SmartAccount.ID, Name: name, Description: "bulk", Depth: 1, CreatedAt: at.Add(time.Duration(i))})
		}
		for _, va := range b.VirtualAccounts {
			for _, lt := range b.LicenseTypes {
				b.Deposits = append(b.Deposits, smartlic.Deposit{ID: id(), VirtualAccountID: va.ID, OrderNumber: "BULK", LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Quantity: 300, StartsAt: at, CreatedAt: at})
			}
		}
		want := map[[2]string]int64{}
		b.Instances = 1100 // three statements of up to 500 rows
		b.Instance = func(i int) smartlic.Instance {
			va := b.VirtualAccounts[i%3]
			lt := b.LicenseTypes[i%4]
			status := smartlic.Authorized
			if i%10 == 0 {
				status = smartlic.NotAuthorized // refused: not counted
			} else {
				want[[2]string{va.Name, lt.Tag}] += int64(1 + i%2)
			}
			expires := at.Add(smartlic.AuthValidity)
			return smartlic.Instance{ID: id(), SmartAccountID: b.SmartAccount.ID, VirtualAccountID: va.ID, UDI: smartlic.UDI{PID: product.PID, SN: fmt.Sprintf("SN%07d", i)},
				Hostname: fmt.Sprintf("host-%d", i), ProductID: product.ID, Mode: smartlic.ModeRegistered, PublicKey: make([]byte, 32),
				RegisteredAt: at, LastContactAt: at, AuthorizedAt: &at, AuthExpiresAt: &expires, IDCertExpiresAt: at.Add(smartlic.IDCertValidity),
				Usage: []smartlic.Usage{{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: int64(1 + i%2), Status: status}}}
		}
		if err := db.BulkLoad(context.Background(), b); err != nil {
			t.Fatal(err)
		}

		mgr, err := manager.New(context.Background(), db, smartlic.NewFakeClock(epoch))
		if err != nil {
			t.Fatal(err)
		}
		ctx := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})
		for _, va := range b.VirtualAccounts {
			pools := must[[]smartlic.Pool](t)(mgr.ListPools(ctx, "bulk.example", va.Name, false))
			if len(pools) != 4 {
				t.Fatalf("%s has %d pools, want 4", va.Name, len(pools))
			}
			for _, p := range pools {
				if w := want[[2]string{va.Name, p.LicenseTag}]; p.InUse != w || p.Purchased != 300 {
					t.Errorf("%s %s: in use %d of %d, want %d of 300", va.Name, p.LicenseTag, p.InUse, p.Purchased, w)
				}
			}
		}
		verdicts := must[[]smartlic.ChainVerdict](t)(mgr.VerifyEvents(ctx, "bulk.example"))
		// The account, 3 VAs, 12 deposits and 1,100 registrations.
		if len(verdicts) != 1 || !verdicts[0].OK || verdicts[0].Entries != 1+3+12+1100 {
			t.Fatalf("event log verdict = %+v, want one chain of %d entries that verifies", verdicts, 1+3+12+1100)
		}
		vendor := must[[]smartlic.ChainVerdict](t)(mgr.VerifyEvents(ctx, ""))
		for _, v := range vendor {
			if !v.OK {
				t.Errorf("chain %s does not verify: %+v", v.Name(), v)
			}
		}
		page, _, err := mgr.ListInstances(ctx, "bulk.example", "Lab", smartlic.Page{Limit: 1000})
		if err != nil || len(page) != 367 {
			t.Errorf("Lab lists %d instances (%v), want 367", len(page), err)
		}
		if _, err := mgr.UsageReport(ctx, "bulk.example", smartlic.UsageQuery{}); err != nil {
			t.Fatal(err)
		}
	})
}
