package manager_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store/storetest"
)

// Benchmarks of RUM report ingestion in the manager, without HTTP, on both
// stores, so that a regression of the ingestion path shows in numbers:
//
//	SMARTLIC_TEST_POSTGRES=postgres://… go test -run '^$' -bench 'ReportUsage|UploadUsageFile' ./manager
//
// Every report carries 10 measurements of three license types and changes
// its instance's usage (the costliest case: pools move). Reports and files
// are signed before the timer starts; the pools are checked after it stops.
// The bench command (go run ./bench usage, usage-file) measures the same
// through HTTP beside the Ed25519 verify rate.

// usageBench is a manager with a trusted fleet.
type usageBench struct {
	mgr  *manager.Manager
	op   context.Context
	sa   string
	devs []*benchDevice
	tags []string
}

type benchDevice struct {
	udi  smartlic.UDI
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	id   string
}

func newUsageBench(b *testing.B, store string, fleet int) *usageBench {
	b.Helper()
	var dsn string
	if store == "postgres" {
		dsn = storetest.PostgresDSN(b)
	} else {
		dsn = storetest.SQLiteDSN(b)
	}
	ctx := context.Background()
	mgr, err := manager.New(ctx, storetest.Open(b, dsn), smartlic.SystemClock{})
	if err != nil {
		b.Fatal(err)
	}
	ub := &usageBench{mgr: mgr, sa: "usage.bench.example",
		op:   smartlic.WithActor(ctx, smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator}),
		tags: []string{"network-advantage", "network-essentials", "dna-advantage"}}
	for _, tag := range ub.tags {
		if _, err := mgr.CreateLicenseType(ub.op, smartlic.LicenseType{Tag: tag, Name: tag, Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := mgr.CreateProduct(ub.op, smartlic.Product{PID: "C9300-24T", Name: "Catalyst 9300", LicenseTypes: ub.tags}); err != nil {
		b.Fatal(err)
	}
	if _, err := mgr.CreateSmartAccount(ub.op, smartlic.SmartAccount{Name: "Bench", Domain: ub.sa, Status: smartlic.SAActive}); err != nil {
		b.Fatal(err)
	}
	for _, tag := range ub.tags {
		if _, err := mgr.CreateDeposit(ub.op, ub.sa, smartlic.DefaultVAName, smartlic.DepositInput{OrderNumber: "B-" + tag, License: tag, Quantity: 10_000_000}); err != nil {
			b.Fatal(err)
		}
	}
	tok, err := mgr.CreateToken(ub.op, ub.sa, smartlic.DefaultVAName, smartlic.TokenInput{Description: "bench", ExpiresInDays: 30})
	if err != nil {
		b.Fatal(err)
	}
	ub.devs = make([]*benchDevice, fleet)
	pks, err := mgr.PublicKeys(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ks := sign.NewKeySet(pks.Keys)
	err = benchParallel(fleet, func(i int) error {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		d := &benchDevice{udi: smartlic.UDI{PID: "C9300-24T", SN: fmt.Sprintf("UB%07d", i)}, pub: pub, priv: priv}
		env, err := sign.Seal(smartlic.TypeTrustRequest, base64.RawURLEncoding.EncodeToString(pub), priv, smartlic.TrustRequest{
			UDI: d.udi, PublicKey: pub, SentAt: time.Now().UTC(), Token: tok.Secret,
		})
		if err != nil {
			return err
		}
		ans, err := mgr.RequestTrust(ctx, env)
		if err != nil {
			return err
		}
		var tc smartlic.TrustCode
		if err := sign.Open(ans, smartlic.TypeTrustCode, ks, &tc); err != nil {
			return err
		}
		d.id = tc.InstanceID
		ub.devs[i] = d
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ub
}

// report is device d's report seq: 10 measurements ending at end, every
// count seq+1 (so each new report of an instance changes its usage).
func (ub *usageBench) report(d *benchDevice, seq int, end time.Time) (smartlic.Envelope, error) {
	ms := make([]smartlic.Measurement, 10)
	for i := range ms {
		start := end.Add(-time.Duration(10-i) * time.Minute)
		ms[i] = smartlic.Measurement{Tag: ub.tags[i%len(ub.tags)], Count: int64(seq + 1), Start: start, End: start.Add(time.Minute)}
	}
	return sign.Seal(smartlic.TypeRUMReport, d.id, d.priv, smartlic.RUMReport{
		ReportID: fmt.Sprintf("r%d", seq), InstanceID: d.id, UDI: d.udi, CreatedAt: end, Measurements: ms})
}

// checkInUse holds the account's pools against the last report of every
// instance: count last+1 of every tag.
func (ub *usageBench) checkInUse(b *testing.B, last func(i int) int) {
	b.Helper()
	want := int64(0)
	for i := range ub.devs {
		if s := last(i); s >= 0 {
			want += int64(s + 1)
		}
	}
	pools, err := ub.mgr.ListPools(ub.op, ub.sa, smartlic.DefaultVAName, false)
	if err != nil {
		b.Fatal(err)
	}
	if len(pools) != len(ub.tags) {
		b.Fatalf("%d pools, want %d", len(pools), len(ub.tags))
	}
	for _, p := range pools {
		if p.InUse != want {
			b.Fatalf("pool %s: in use %d, want %d", p.LicenseTag, p.InUse, want)
		}
	}
}

// BenchmarkReportUsage ingests b.N reports online (manager.ReportUsage,
// one report per call, as a device sends it) from 16 callers per core, on
// a fleet of 1,000 trusted instances; each report is its instance's newest
// and changes its usage.
func BenchmarkReportUsage(b *testing.B) {
	const fleet = 1000
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			ub := newUsageBench(b, store, fleet)
			end := time.Now().UTC().Add(-time.Hour)
			files := make([]smartlic.UsageFile, b.N)
			err := benchParallel(b.N, func(i int) error {
				env, err := ub.report(ub.devs[i%fleet], i/fleet, end.Add(time.Duration(i/fleet)*time.Second))
				files[i] = smartlic.UsageFile{Type: smartlic.FileTypeUsage, Reports: []smartlic.Envelope{env}}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			// Reports of one instance must arrive in order for the pool
			// check to know the last; the callers take them in order.
			var next atomic.Int64
			var failed atomic.Value
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1) - 1)
					ack, err := ub.mgr.ReportUsage(context.Background(), files[i])
					if err == nil && (ack.Summary.Accepted != 1 || len(ack.Acks) != 1) {
						err = fmt.Errorf("report %d: summary %+v", i, ack.Summary)
					}
					if err != nil {
						failed.CompareAndSwap(nil, err)
					}
				}
			})
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
			// Two reports of one instance may race (a later one first):
			// the later end always wins, so the pools count the last.
			ub.checkInUse(b, func(i int) int {
				if i >= b.N {
					return -1
				}
				return (b.N - 1 - i) / fleet
			})
		})
	}
}

// BenchmarkUploadUsageFile uploads b.N offline usage files of 10,000
// reports each (10 per instance of a 1,000-instance fleet, newest first),
// through manager.UploadUsageFile: parse, verify, one write, sign 1,000
// ACKs. ns/op is one file's time to its ACK file.
func BenchmarkUploadUsageFile(b *testing.B) {
	const fleet, perInstance = 1000, 10
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			ub := newUsageBench(b, store, fleet)
			end := time.Now().UTC().Add(-time.Hour)
			raws := make([][]byte, b.N)
			for n := range b.N {
				f := smartlic.UsageFile{Type: smartlic.FileTypeUsage, Reports: make([]smartlic.Envelope, fleet*perInstance)}
				err := benchParallel(len(f.Reports), func(i int) error {
					seq := n*perInstance + perInstance - 1 - i/fleet // newest first
					var err error
					f.Reports[i], err = ub.report(ub.devs[i%fleet], seq, end.Add(time.Duration(seq)*time.Second))
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				if raws[n], err = json.Marshal(f); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for n := range b.N {
				ack, err := ub.mgr.UploadUsageFile(ub.op, ub.sa, "bench.json", raws[n])
				if err != nil {
					b.Fatal(err)
				}
				if ack.Summary.Accepted != fleet*perInstance || ack.Summary.Duplicates != 0 || len(ack.Acks) != fleet {
					b.Fatalf("file %d: summary %+v, %d ACKs", n, ack.Summary, len(ack.Acks))
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*fleet*perInstance)/b.Elapsed().Seconds(), "reports/s")
			ub.checkInUse(b, func(int) int { return b.N*perInstance - 1 })
		})
	}
}

// benchParallel runs fn(0..n-1) on every core and returns the first error.
func benchParallel(n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, runtime.NumCPU())
	for w := range errs {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || errs[w] != nil {
					return
				}
				errs[w] = fn(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
