package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

// poolFixture is a Smart Account with a tree of Virtual Accounts and many
// registered, authorized instances spread over them, and what its pools
// must show.
type poolFixture struct {
	srv   *server
	sa    smartlic.SmartAccount
	nodes []vaNode
	// wantInUse and wantPurchased are per VA (by node index) and tag,
	// computed from what was sent, never read back from the server.
	wantInUse     []map[string]int64
	wantPurchased []map[string]int64
	seeds         []seedRow
}

// poolUsage is what instance i reports: every instance uses
// network-advantage and one or two network-essentials, every fifth also
// dna-advantage, so pools differ by VA and tag.
func poolUsage(i int) []smartlic.Usage {
	u := []smartlic.Usage{{LicenseTag: "network-advantage", Count: 1}, {LicenseTag: "network-essentials", Count: int64(1 + i%2)}}
	if i%5 == 0 {
		u = append(u, smartlic.Usage{LicenseTag: "dna-advantage", Count: 1})
	}
	return u
}

// seedPoolView builds the fixture: catalogue, Smart Account, vas Virtual
// Accounts (see vaTree), deposits covering each VA's planned usage plus
// ten, one token per VA, then instances registered round-robin over the
// VAs and authorized, through the manager in-process on workers
// goroutines.
func seedPoolView(ctx context.Context, srv *server, instances, vas, workers int, log io.Writer) (*poolFixture, error) {
	fx := &poolFixture{srv: srv, nodes: vaTree(vas)}
	if err := srv.seedCatalogue(); err != nil {
		return nil, err
	}
	var err error
	if fx.sa, err = srv.seedAccount("pools.bench.example"); err != nil {
		return nil, err
	}
	if err := srv.seedVATree(fx.sa.Domain, fx.nodes); err != nil {
		return nil, err
	}
	fx.wantInUse = make([]map[string]int64, vas)
	fx.wantPurchased = make([]map[string]int64, vas)
	for v := range vas {
		fx.wantInUse[v], fx.wantPurchased[v] = map[string]int64{}, map[string]int64{}
	}
	for i := range instances {
		for _, u := range poolUsage(i) {
			fx.wantInUse[i%vas][u.LicenseTag] += u.Count
		}
	}
	tokens := make([]string, vas)
	for v, n := range fx.nodes {
		for _, lt := range licenseTypes {
			q := fx.wantInUse[v][lt.Tag] + 10
			if err := srv.deposit(fx.sa.Domain, n.name, lt.Tag, q); err != nil {
				return nil, err
			}
			fx.wantPurchased[v][lt.Tag] = q
		}
		if tokens[v], err = srv.token(fx.sa.Domain, n.name); err != nil {
			return nil, err
		}
	}

	t0 := time.Now()
	devs, err := newDevices(ctx, instances)
	if err != nil {
		return nil, err
	}
	fx.seeds = append(fx.seeds, seedRow{what: "instance keys", store: srv.backend.name, n: instances, workers: runtime.NumCPU(), elapsed: time.Since(t0)})
	t0 = time.Now()
	if err := srv.registerDirect(ctx, devs, workers, func(i int) string { return tokens[i%vas] }); err != nil {
		return nil, err
	}
	fx.seeds = append(fx.seeds, seedRow{what: "register through the manager", store: srv.backend.name, n: instances, workers: workers, elapsed: time.Since(t0)})
	fmt.Fprintf(log, "%s: registered %d instances in %.1fs\n", srv.backend.name, instances, time.Since(t0).Seconds())
	t0 = time.Now()
	if err := srv.authorizeDirect(ctx, devs, workers, poolUsage); err != nil {
		return nil, err
	}
	fx.seeds = append(fx.seeds, seedRow{what: "authorize through the manager", store: srv.backend.name, n: instances, workers: workers, elapsed: time.Since(t0)})
	fmt.Fprintf(log, "%s: authorized %d instances in %.1fs\n", srv.backend.name, instances, time.Since(t0).Seconds())
	return fx, nil
}

// poolQuery is one measured pool view: its path and the VAs whose pools it
// must add up.
type poolQuery struct {
	name string // short, for benchmark names
	what string
	path string
	vas  []int
}

// queries are the two views measured: the whole account, and VA-01 rolled
// up over its subtree.
func (fx *poolFixture) queries() []poolQuery {
	all := make([]int, len(fx.nodes))
	for i := range all {
		all[i] = i
	}
	root := 0
	sub := subtree(fx.nodes, root)
	return []poolQuery{
		{name: "account", what: fmt.Sprintf("account pools (%d VAs)", len(fx.nodes)), path: "/api/v1/accounts/" + fx.sa.Domain + "/licenses", vas: all},
		{name: "rollup", what: fmt.Sprintf("%s rollup (%d VAs)", fx.nodes[root].name, len(sub)),
			path: "/api/v1/accounts/" + fx.sa.Domain + "/virtual-accounts/" + url.PathEscape(fx.nodes[root].name) + "/licenses?rollup=true", vas: sub},
	}
}

// getLoad is n authenticated GETs of path.
func (s *server) getLoad(path string, n, concurrency int) load {
	return load{client: s.client, concurrency: concurrency, n: n,
		request: func(ctx context.Context, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+s.apiKey)
			return req, nil
		}}
}

// checkPools holds one answer against the plan: per license tag, in use
// and purchased must add up to what was seeded in q's VAs.
func (fx *poolFixture) checkPools(q poolQuery, body []byte) error {
	var pools wire.Items[smartlic.Pool]
	if err := json.Unmarshal(body, &pools); err != nil {
		return fmt.Errorf("answer does not decode: %v", err)
	}
	inUse, purchased := map[string]int64{}, map[string]int64{}
	for _, p := range pools.Items {
		inUse[p.LicenseTag] += p.InUse
		purchased[p.LicenseTag] += p.Purchased
	}
	for _, lt := range licenseTypes {
		var wantUse, wantBought int64
		for _, v := range q.vas {
			wantUse += fx.wantInUse[v][lt.Tag]
			wantBought += fx.wantPurchased[v][lt.Tag]
		}
		if inUse[lt.Tag] != wantUse || purchased[lt.Tag] != wantBought {
			return fmt.Errorf("%s: in use %d, purchased %d; seeded %d in use, %d purchased", lt.Tag, inUse[lt.Tag], purchased[lt.Tag], wantUse, wantBought)
		}
	}
	return nil
}

// totalInUse is the number of licenses the fixture's instances use.
func (fx *poolFixture) totalInUse() int64 {
	var n int64
	for _, m := range fx.wantInUse {
		for _, c := range m {
			n += c
		}
	}
	return n
}

// warmUp sends a few unmeasured requests of every query, so that each
// reader connection has prepared its statements: the target is the steady
// state, not the first request after start-up.
func (fx *poolFixture) warmUp(ctx context.Context, concurrency int) error {
	if err := fx.srv.warmUp(ctx, concurrency); err != nil {
		return err
	}
	for _, q := range fx.queries() {
		res, err := fx.srv.getLoad(q.path, 8*concurrency+16, concurrency).run(ctx)
		if err != nil {
			return err
		}
		for i := range res.status {
			if res.errs[i] != nil || res.status[i] != http.StatusOK {
				return fmt.Errorf("warm-up: GET %s: status %d, %v: %s", q.path, res.status[i], res.errs[i], clip(res.bodies[i]))
			}
		}
	}
	return nil
}

type poolFlags struct {
	commonFlags
	instances   int
	vas         int
	requests    int
	concurrency int
	seedWorkers int
}

func runPoolView(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := &poolFlags{}
	fs := flag.NewFlagSet("poolview", flag.ContinueOnError)
	fl.register(fs)
	fs.IntVar(&fl.instances, "instances", 100000, "registered instances in the Smart Account (1-1000000)")
	fs.IntVar(&fl.vas, "vas", 20, "Virtual Accounts in the tree, besides DEFAULT (1-200)")
	fs.IntVar(&fl.requests, "requests", 2000, "measured requests of each view (1-1000000)")
	fs.IntVar(&fl.concurrency, "concurrency", 1, "requests in flight (1-1024); 1 measures latency without queueing")
	fs.IntVar(&fl.seedWorkers, "seed-workers", seedWorkers(), "goroutines seeding through the manager (1-256)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := checkRanges(
		bounded{"instances", fl.instances, 1, 1_000_000},
		bounded{"vas", fl.vas, 1, 200},
		bounded{"requests", fl.requests, 1, 1_000_000},
		bounded{"concurrency", fl.concurrency, 1, 1024},
		bounded{"seed-workers", fl.seedWorkers, 1, 256},
	); err != nil {
		return err
	}
	stores, err := fl.stores()
	if err != nil {
		return err
	}
	var rows []row
	var seeds []seedRow
	failed := false
	for _, st := range stores {
		r, s, f, err := poolViewOn(ctx, st, fl, len(stores) > 1, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		rows, seeds = append(rows, r...), append(seeds, s...)
		f.report(stdout, "pool view", st, 2*fl.requests)
		failed = failed || f.count > 0
	}
	fmt.Fprintln(stdout)
	printSeedTable(stdout, seeds)
	fmt.Fprintln(stdout)
	printTable(stdout, rows)
	if failed {
		return errFailures
	}
	return nil
}

func poolViewOn(ctx context.Context, st string, fl *poolFlags, multiple bool, log io.Writer) (rows []row, seeds []seedRow, f *failures, err error) {
	srv, err := startServer(ctx, st, postgresURL(), fl.concurrency)
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() { err = joinClose(err, srv) }()
	fx, err := seedPoolView(ctx, srv, fl.instances, fl.vas, fl.seedWorkers, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := fx.warmUp(ctx, fl.concurrency); err != nil {
		return nil, fx.seeds, nil, err
	}
	f = &failures{}
	queries := fx.queries()
	results := make([]loadResult, len(queries))
	err = profiled(fl.profilePath(st, multiple), log, func() error {
		for i, q := range queries {
			var err error
			if results[i], err = srv.getLoad(q.path, fl.requests, fl.concurrency).run(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fx.seeds, nil, err
	}
	for i, q := range queries {
		res := results[i]
		failed := f.judgeGets(q.path, res, func(body []byte) error { return fx.checkPools(q, body) })
		rows = append(rows, summarize(q.what, st, fl.concurrency, res, failed))
	}
	if f.count == 0 {
		fmt.Fprintf(log, "%s: every answer adds up to the %d licenses in use by %d instances\n", st, fx.totalInUse(), fl.instances)
	}
	return rows, fx.seeds, f, nil
}
