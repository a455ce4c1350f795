package manager_test

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// concurrentRounds is how many times the two opposite uploads race. On
// PostgreSQL, pools moved in instance order deadlocked within a few
// rounds (the server aborts one transaction with 40P01 after its
// deadlock_timeout); moved in (VA, license type) order, every round passes.
const concurrentRounds = 12

// Two uploads at once, each of two instances that share pools with the
// other upload's in the opposite order (A: network-advantage then
// network-essentials; B: essentials then advantage, by instance id, the
// order ingestion applies them in), must both succeed, on both stores,
// and leave the pools at the sum of the latest counts.
func TestUsingPolicyConcurrentUploadsOppositePoolOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{MaxUses: ptr(int64(4))})
		devs := make([]*device, 4)
		for i := range devs {
			devs[i] = newDevice(t, "CON"+string(rune('1'+i)))
			f.trust(devs[i], tok)
		}
		// Ingestion applies a file's instances in id order: name them by it.
		slices.SortFunc(devs, func(a, b *device) int { return strings.Compare(a.id, b.id) })
		const adv, ess = "network-advantage", "network-essentials"
		fileA := []struct {
			d   *device
			tag string
		}{{devs[0], adv}, {devs[1], ess}}
		fileB := []struct {
			d   *device
			tag string
		}{{devs[2], ess}, {devs[3], adv}}

		var last map[string]int64
		for round := range concurrentRounds {
			start := f.clock.Now()
			f.clock.Advance(time.Hour)
			end := f.clock.Now()
			last = map[string]int64{}
			build := func(lines []struct {
				d   *device
				tag string
			}, salt int) []byte {
				uf := smartlic.UsageFile{Type: smartlic.FileTypeUsage}
				for i, l := range lines {
					// A count that changes every round, so every report
					// moves its pool.
					n := int64(1 + (round+i+salt)%4)
					last[l.tag] += n
					uf.Reports = append(uf.Reports, l.d.report(t, "r"+string(rune('a'+round)), end, measure(l.tag, n, start, end)))
				}
				raw, err := json.Marshal(uf)
				if err != nil {
					t.Fatal(err)
				}
				return raw
			}
			files := [][]byte{build(fileA, 0), build(fileB, 2)}
			errs := make([]error, len(files))
			sums := make([]smartlic.UsageSummary, len(files))
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i, raw := range files {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					file, err := f.mgr.UploadUsageFile(f.ctx, sa.Domain, "usage.json", raw)
					errs[i], sums[i] = err, file.Summary
				}()
			}
			close(gate)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: upload %c failed: %v", round, 'A'+i, err)
				}
				if sums[i].Accepted != 2 || sums[i].Rejected != 0 {
					t.Fatalf("round %d: upload %c: %+v, want 2 accepted", round, 'A'+i, sums[i])
				}
			}
		}
		for tag, want := range last {
			if got := f.inUse(sa.Domain, tag); got != want {
				t.Errorf("%s in use %d after the last round, want %d (the latest counts of its two instances)", tag, got, want)
			}
		}
	})
}

// The same race online, across two Smart Accounts: a collector forwards
// the reports of instances of both, and each exchange records its events
// on both accounts' event chains. Two exchanges whose instances come in
// opposite account order must both succeed.
func TestUsingPolicyConcurrentReportsAcrossAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f := newFixture(t, open)
		f.catalog()
		acme, globex := f.account("acme.example"), f.account("globex.example")
		tokAcme := f.token(acme.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		tokGlobex := f.token(globex.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		// Ids are time-ordered: trusted in this order, the instances sort
		// acme, globex | globex, acme.
		devs := make([]*device, 4)
		for i, tok := range []string{tokAcme, tokGlobex, tokGlobex, tokAcme} {
			devs[i] = newDevice(t, "XSA"+string(rune('1'+i)))
			f.trust(devs[i], tok)
		}
		if !slices.IsSortedFunc(devs, func(a, b *device) int { return strings.Compare(a.id, b.id) }) {
			t.Fatalf("instance ids are not in trust order: %s %s %s %s", devs[0].id, devs[1].id, devs[2].id, devs[3].id)
		}
		const adv = "network-advantage"
		for round := range concurrentRounds {
			start := f.clock.Now()
			f.clock.Advance(time.Hour)
			end := f.clock.Now()
			n := int64(1 + round%3)
			report := func(d *device) smartlic.Envelope {
				return d.report(t, "r"+string(rune('a'+round)), end, measure(adv, n, start, end))
			}
			files := []smartlic.UsageFile{usageFile(report(devs[0]), report(devs[1])), usageFile(report(devs[2]), report(devs[3]))}
			errs := make([]error, len(files))
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for i, uf := range files {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					_, errs[i] = f.mgr.ReportUsage(f.ctx, uf)
				}()
			}
			close(gate)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: exchange %c failed: %v", round, 'A'+i, err)
				}
			}
			for _, sa := range []string{acme.Domain, globex.Domain} {
				if got := f.inUse(sa, adv); got != 2*n {
					t.Fatalf("round %d: %s in use in %s = %d, want %d", round, adv, sa, got, 2*n)
				}
			}
		}
	})
}
