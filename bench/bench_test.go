package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// The Go benchmarks run the harness's scenarios (same set-up, same checks)
// under the testing package's iteration control:
//
//	go test -run '^$' -bench . -benchtime 5000x ./bench
//
// PostgreSQL sub-benchmarks need SMARTLIC_BENCH_POSTGRES or
// SMARTLIC_TEST_POSTGRES and are skipped without them: benchmarks are not
// part of the test run, and there is no CI rule to enforce here.

// benchBackend returns the PostgreSQL URL for store "postgres" (skipping
// the benchmark when none is configured), "" for SQLite.
func benchBackend(b *testing.B, store string) string {
	b.Helper()
	if store != "postgres" {
		return ""
	}
	for _, env := range []string{postgresEnv, "SMARTLIC_TEST_POSTGRES"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	b.Skip("set " + postgresEnv + " or SMARTLIC_TEST_POSTGRES to benchmark PostgreSQL")
	return ""
}

func benchServer(b *testing.B, store string, conns int) *server {
	b.Helper()
	srv, err := startServer(b.Context(), store, benchBackend(b, store), conns)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := srv.close(); err != nil {
			b.Error(err)
		}
	})
	return srv
}

// BenchmarkRegisterHTTP registers b.N distinct instances through POST
// /device/v1/register with 32 requests in flight. Keys and signed requests
// are made before the timer starts; every answer is verified after it
// stops. ns/op is the inverse of throughput; reg/s and p99-ms say it
// directly.
func BenchmarkRegisterHTTP(b *testing.B) {
	const concurrency = 32
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			if b.N > maxRequests {
				b.Fatalf("b.N = %d exceeds %d: signed requests would go stale before they are sent", b.N, maxRequests)
			}
			srv := benchServer(b, store, concurrency)
			sc, err := setupRegistrations(srv)
			if err != nil {
				b.Fatal(err)
			}
			devs, bodies, err := sc.prepare(b.Context(), b.N)
			if err != nil {
				b.Fatal(err)
			}
			if err := srv.warmUp(b.Context(), concurrency); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			res, err := srv.postLoad("/device/v1/register", bodies, concurrency).run(b.Context())
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if f := sc.check(devs, res); f.count > 0 {
				f.report(os.Stderr, "registrations", store, b.N)
				b.Fatalf("%d of %d registrations failed", f.count, b.N)
			}
			r := summarize("register", store, concurrency, res, 0)
			b.ReportMetric(r.throughput(), "reg/s")
			b.ReportMetric(float64(r.p99)/float64(time.Millisecond), "p99-ms")
		})
	}
}

// BenchmarkRegisterManager is BenchmarkRegisterHTTP without HTTP: the same
// signed requests handed to manager.Register in-process by 32 goroutines.
// The difference between the two is what the HTTP layer (net/http, huma,
// JSON of the envelope) costs.
func BenchmarkRegisterManager(b *testing.B) {
	const concurrency = 32
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			if b.N > maxRequests {
				b.Fatalf("b.N = %d exceeds %d: signed requests would go stale before they are sent", b.N, maxRequests)
			}
			srv := benchServer(b, store, 1)
			sc, err := setupRegistrations(srv)
			if err != nil {
				b.Fatal(err)
			}
			devs, err := newDevices(b.Context(), b.N)
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now().UTC()
			reqs := make([]smartlic.Envelope, b.N)
			for i, d := range devs {
				if reqs[i], err = d.registerRequest(sc.token, now); err != nil {
					b.Fatal(err)
				}
			}
			answers := make([]smartlic.Envelope, b.N)
			b.ResetTimer()
			err = parallel(b.Context(), b.N, concurrency, func(i int) error {
				var err error
				answers[i], err = srv.mgr.Register(context.Background(), reqs[i])
				return err
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			for i, d := range devs {
				if err := d.openIDCert(answers[i], srv.keys); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reg/s")
		})
	}
}

// BenchmarkPoolView measures one GET of the account's pools and of VA-01's
// rolled-up pools, over HTTP with the operator key, on a Smart Account of
// 10,000 instances in 20 Virtual Accounts (seeded once per store, not
// timed). Every answer is checked against the seeded totals, inside the
// timed loop: the check is a small JSON decode.
func BenchmarkPoolView(b *testing.B) {
	const instances, vas = 10_000, 20
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			srv := benchServer(b, store, 1)
			fx, err := seedPoolView(b.Context(), srv, instances, vas, seedWorkers(), io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			if err := fx.warmUp(b.Context(), 1); err != nil {
				b.Fatal(err)
			}
			for _, q := range fx.queries() {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.url+q.path, nil)
						if err != nil {
							b.Fatal(err)
						}
						req.Header.Set("Authorization", "Bearer "+srv.apiKey)
						resp, err := srv.client.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
						resp.Body.Close()
						if err != nil {
							b.Fatal(err)
						}
						if resp.StatusCode != http.StatusOK {
							b.Fatalf("GET %s: status %d: %s", q.path, resp.StatusCode, clip(body))
						}
						if err := fx.checkPools(q, body); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
