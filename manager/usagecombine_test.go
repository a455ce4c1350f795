package manager_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// trustedFleet is an account with n policy-mode devices trusted with a
// token, and the clock an hour on: their reports may measure from t0 to now.
func trustedFleet(t *testing.T, open func(*testing.T) *store.DB, n int, prefix string) (f *fixture, sa smartlic.SmartAccount, devs []*device, t0, now time.Time) {
	t.Helper()
	f = newFixture(t, open)
	f.catalog()
	sa = f.account("acme.example")
	tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
	devs = make([]*device, n)
	for i := range devs {
		devs[i] = newDevice(t, fmt.Sprintf("%s%02d", prefix, i))
		f.trust(devs[i], tok)
	}
	t0 = f.clock.Now()
	f.clock.Advance(time.Hour)
	return f, sa, devs, t0, f.clock.Now()
}

// TestUsageCombinedRound ingests fifteen online requests as one round, as
// the combiner does when they arrive together: each request gets the ACKs
// of its own instances only, its rejections indexed in its own file and
// its own summary; two requests of one instance are ingested one after
// the other (a copy is a duplicate, a newer report wins); a forged report
// is refused without failing the others; the pools count every device's
// newest usage once; and every event names the request its report came in.
func TestUsageCombinedRound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f, sa, devs, t0, now := trustedFleet(t, open, 13, "CMB")
		var files []smartlic.UsageFile
		var ctxs []context.Context
		add := func(reports ...smartlic.Envelope) {
			ctxs = append(ctxs, smartlic.WithRequestID(context.Background(), fmt.Sprintf("req-%d", len(files))))
			files = append(files, usageFile(reports...))
		}
		for i := range 12 {
			add(devs[i].report(t, "r1", now, measure("network-advantage", int64(i+1), t0, now.Add(-time.Minute))))
		}
		add(devs[0].report(t, "r2", now, measure("network-advantage", 7, t0, now), measure("network-essentials", 1, t0, now))) // 12: device 0 again, newer
		add(files[1].Reports[0])                                                                                               // 13: a copy of request 1's report
		forged := devs[3].report(t, "f1", now, measure("network-advantage", 1000, t0, now))
		forged.KeyID = devs[4].id                                                            // signed by device 3, claiming to be device 4
		add(forged, devs[12].report(t, "r1", now, measure("network-advantage", 2, t0, now))) // 14

		acks, errs := manager.ReportUsageTogether(f.mgr, ctxs, files)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		for i, file := range acks {
			mine := map[string]bool{}
			for _, env := range files[i].Reports {
				mine[env.KeyID] = true
			}
			for _, env := range file.Acks {
				var ack smartlic.UsageAck
				if err := sign.Open(env, smartlic.TypeUsageAck, f.keys(), &ack); err != nil {
					t.Fatalf("request %d: ACK does not verify: %v", i, err)
				}
				if !mine[ack.InstanceID] {
					t.Errorf("request %d got the ACK of %s, which sent nothing in it", i, ack.UDI)
				}
			}
			if file.Summary.Reports != len(files[i].Reports) || file.Summary.Instances != len(file.Acks) {
				t.Errorf("request %d: summary %+v for %d reports and %d ACKs", i, file.Summary, len(files[i].Reports), len(file.Acks))
			}
		}
		for i := range 12 {
			if s := acks[i].Summary; len(acks[i].Acks) != 1 || s.Accepted != 1 || s.Rejected != 0 || s.Duplicates != 0 || len(acks[i].Rejections) != 0 {
				t.Errorf("request %d: %+v, %d ACKs", i, acks[i], len(acks[i].Acks))
			}
		}
		if s := acks[13].Summary; s.Accepted != 1 || s.Duplicates != 1 {
			t.Errorf("the copy: summary %+v", s)
		}
		if s := acks[14].Summary; s.Accepted != 1 || s.Rejected != 1 || len(acks[14].Rejections) != 1 || acks[14].Rejections[0].Index != 0 ||
			acks[14].Rejections[0].Code != smartlic.ESignature {
			t.Errorf("the forged report: summary %+v, rejections %+v", s, acks[14].Rejections)
		}

		// Device 0's newer report (7) replaced its first (1); device 12
		// uses 2; the forged 1000 counts nowhere.
		want := int64(7 + 2)
		for i := 1; i < 12; i++ {
			want += int64(i + 1)
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != want {
			t.Errorf("in use %d, want %d", n, want)
		}
		events, _, err := f.mgr.ListEvents(f.ctx, sa.Domain, smartlic.EventFilter{Type: "instance.usage_changed"}, smartlic.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		byDevice := map[string][]string{}
		for _, e := range events {
			byDevice[e.Subject] = append(byDevice[e.Subject], e.RequestID)
		}
		for i, d := range devs {
			want := []string{fmt.Sprintf("req-%d", i)}
			switch i {
			case 0:
				want = append(want, "req-12")
			case 12:
				want = []string{"req-14"}
			}
			if got := byDevice[d.id]; !slices.Equal(got, want) {
				t.Errorf("device %d's usage events came in %v, want %v", i, got, want)
			}
		}
	})
}

// TestUsageCombinedConcurrent sends one report from each of 60 devices
// at once through ReportUsage: whatever rounds the combiner makes of
// them, each answer is its own device's, and the pools count each once.
func TestUsageCombinedConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		f, sa, devs, t0, now := trustedFleet(t, open, 60, "CON")
		var wg sync.WaitGroup
		start := make(chan struct{})
		acks := make([]smartlic.UsageAck, len(devs))
		errs := make([]error, len(devs))
		for i, d := range devs {
			r := d.report(t, "r1", now, measure("network-advantage", 2, t0, now))
			wg.Go(func() {
				<-start
				file, err := f.mgr.ReportUsage(context.Background(), usageFile(r))
				if err == nil && len(file.Acks) == 1 {
					err = sign.Open(file.Acks[0], smartlic.TypeUsageAck, f.keys(), &acks[i])
				} else if err == nil {
					err = fmt.Errorf("%d ACKs", len(file.Acks))
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for i, d := range devs {
			if errs[i] != nil {
				t.Fatalf("device %d: %v", i, errs[i])
			}
			if acks[i].InstanceID != d.id || !slices.Equal(acks[i].Accepted, []string{"r1"}) {
				t.Errorf("device %d got %+v", i, acks[i])
			}
		}
		if n := f.inUse(sa.Domain, "network-advantage"); n != 2*int64(len(devs)) {
			t.Errorf("in use %d, want %d", n, 2*len(devs))
		}
	})
}
