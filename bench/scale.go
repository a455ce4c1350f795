package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
)

// The scale scenario of issue 13: one Smart Account with a million
// registered, authorized instances over ten thousand license types, bulk
// loaded, then read through the real binary. The catalogue is ten product
// families of licenseTypes/10 license types each; Virtual Account v holds
// the instances of family v%10, spread evenly over the family's types, so
// every VA has licenseTypes/10 pools and each type is held by vas/10 VAs.
// Each pool is deposited ten more than it uses, but every seventh type one
// fewer: the views have insufficient rows to filter on.
const (
	scaleFamilies  = 10
	scaleSpare     = 10
	scaleShortEach = 7
)

type scaleFlags struct {
	commonFlags
	instances    int
	licenseTypes int
	vas          int
	requests     int
	concurrency  int
	serve        string
}

// scaleFixture is the plan of the bulk load and what it must read as.
type scaleFixture struct {
	sa     smartlic.SmartAccount
	vas    []smartlic.VirtualAccount // the tree's, in vaTree order (DEFAULT apart)
	nodes  []vaNode
	types  []smartlic.LicenseType
	typeOf map[string]int
	// inUse[v][t] and purchased[v][t] by VA and type index, from the plan.
	inUse, purchased [][]int64
}

func runScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := &scaleFlags{}
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fl.register(fs)
	fs.IntVar(&fl.instances, "instances", 1_000_000, "instances bulk-loaded into the Smart Account (1000-5000000)")
	fs.IntVar(&fl.licenseTypes, "license-types", 10_000, "license types, in ten product families (10-100000, a multiple of 10)")
	fs.IntVar(&fl.vas, "vas", 20, "Virtual Accounts in the tree, besides DEFAULT (10-200, a multiple of 10)")
	fs.IntVar(&fl.requests, "requests", 1000, "measured requests of each view (1-1000000)")
	fs.IntVar(&fl.concurrency, "concurrency", 1, "requests in flight (1-1024); 1 measures latency without queueing")
	fs.StringVar(&fl.serve, "serve", "", "smartlic `BINARY` measured as `smartlic serve` (required: the goal is the real binary's latency, memory and start-up)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if err := checkRanges(
		bounded{"instances", fl.instances, 1000, 5_000_000},
		bounded{"license-types", fl.licenseTypes, 10, 100_000},
		bounded{"vas", fl.vas, 10, 200},
		bounded{"requests", fl.requests, 1, 1_000_000},
		bounded{"concurrency", fl.concurrency, 1, 1024},
	); err != nil {
		return err
	}
	if fl.licenseTypes%scaleFamilies != 0 || fl.vas%scaleFamilies != 0 {
		return usagef("--license-types and --vas must be multiples of %d", scaleFamilies)
	}
	if fl.serve == "" {
		return usagef("--serve BINARY is required (build it with: go build -o /tmp/smartlic ./cmd/smartlic)")
	}
	stores, err := fl.stores()
	if err != nil {
		return err
	}
	var rows []row
	var seeds []seedRow
	var facts [][]string
	failed := false
	for _, st := range stores {
		r, s, fc, f, err := scaleOn(ctx, st, fl, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		rows, seeds, facts = append(rows, r...), append(seeds, s...), append(facts, fc...)
		f.report(stdout, "scale", st, 5*fl.requests)
		failed = failed || f.count > 0
	}
	fmt.Fprintln(stdout)
	printSeedTable(stdout, seeds)
	fmt.Fprintln(stdout)
	writeCells(stdout, append([][]string{{"measured once", "store", "value"}}, facts...), 2)
	fmt.Fprintln(stdout)
	printTable(stdout, rows)
	if failed {
		return errFailures
	}
	return nil
}

// planScale builds the bulk fixture and the figures it must read as.
func planScale(instances, types, vas int) (store.Bulk, *scaleFixture) {
	at := time.Now().UTC().Add(-time.Hour)
	id := func() string { return uuid.Must(uuid.NewV7()).String() }
	fx := &scaleFixture{nodes: vaTree(vas), typeOf: map[string]int{}}
	fx.sa = smartlic.SmartAccount{ID: id(), Name: "Scale", Domain: "scale.bench.example", Status: smartlic.SAActive, CreatedAt: at}
	b := store.Bulk{At: at, SmartAccount: fx.sa}
	perFamily := types / scaleFamilies
	for t := range types {
		lt := smartlic.LicenseType{ID: id(), Tag: fmt.Sprintf("scale-%05d", t), Name: fmt.Sprintf("Scale license %d", t),
			Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: at}
		fx.types = append(fx.types, lt)
		fx.typeOf[lt.Tag] = t
	}
	b.LicenseTypes = fx.types
	products := make([]smartlic.Product, scaleFamilies)
	for f := range products {
		p := smartlic.Product{ID: id(), PID: fmt.Sprintf("SCALE-%02d", f), Name: fmt.Sprintf("Scale family %d", f), CreatedAt: at}
		for t := f * perFamily; t < (f+1)*perFamily; t++ {
			p.LicenseTypes = append(p.LicenseTypes, fx.types[t].Tag)
		}
		products[f] = p
	}
	b.Products = products
	b.VirtualAccounts = []smartlic.VirtualAccount{{ID: id(), SmartAccountID: fx.sa.ID, Name: smartlic.DefaultVAName, Description: "scale", Depth: 1, CreatedAt: at}}
	for i, n := range fx.nodes {
		va := smartlic.VirtualAccount{ID: id(), SmartAccountID: fx.sa.ID, Name: n.name, Description: "scale", Depth: 1, CreatedAt: at.Add(time.Duration(i + 1))}
		if n.parent >= 0 {
			parent := fx.vas[n.parent]
			va.ParentID, va.Depth = parent.ID, parent.Depth+1
		}
		fx.vas = append(fx.vas, va)
		b.VirtualAccounts = append(b.VirtualAccounts, va)
	}
	fx.inUse, fx.purchased = make([][]int64, vas), make([][]int64, vas)
	for v := range vas {
		fx.inUse[v], fx.purchased[v] = make([]int64, types), make([]int64, types)
	}
	for i := range instances {
		fx.inUse[i%vas][scaleType(i, vas, perFamily)]++
	}
	for v, va := range fx.vas {
		f := v % scaleFamilies
		for t := f * perFamily; t < (f+1)*perFamily; t++ {
			q := fx.inUse[v][t] + scaleSpare
			if t%scaleShortEach == 0 {
				q = max(fx.inUse[v][t]-1, 1)
			}
			fx.purchased[v][t] = q
			b.Deposits = append(b.Deposits, smartlic.Deposit{ID: id(), VirtualAccountID: va.ID, OrderNumber: "SCALE", LicenseTypeID: fx.types[t].ID,
				LicenseTag: fx.types[t].Tag, Quantity: q, StartsAt: at, CreatedAt: at})
		}
	}
	expires := at.Add(smartlic.AuthValidity)
	b.Instances = instances
	b.Instance = func(i int) smartlic.Instance {
		v := i % vas
		lt := fx.types[scaleType(i, vas, perFamily)]
		p := products[v%scaleFamilies]
		return smartlic.Instance{ID: id(), SmartAccountID: fx.sa.ID, VirtualAccountID: fx.vas[v].ID,
			UDI: smartlic.UDI{PID: p.PID, SN: fmt.Sprintf("SC%08d", i)}, Hostname: fmt.Sprintf("sw-%d", i),
			ProductID: p.ID, Mode: smartlic.ModeRegistered, PublicKey: make([]byte, 32),
			RegisteredAt: at, LastContactAt: at, AuthorizedAt: &at, AuthExpiresAt: &expires, IDCertExpiresAt: at.Add(smartlic.IDCertValidity),
			Usage: []smartlic.Usage{{LicenseTypeID: lt.ID, LicenseTag: lt.Tag, Count: 1, Status: smartlic.Authorized}}}
	}
	return b, fx
}

// scaleType is the license type index instance i uses: one of its VA's
// family, in turn.
func scaleType(i, vas, perFamily int) int {
	return (i%vas%scaleFamilies)*perFamily + (i/vas)%perFamily
}

// scaleQuery is one measured request and the VAs its answer adds up.
type scaleQuery struct {
	what, path string
	vas        []int
	summary    bool
	status     smartlic.PoolStatus // the filter, if any
}

func (fx *scaleFixture) queries() []scaleQuery {
	all := make([]int, len(fx.nodes))
	for i := range all {
		all[i] = i
	}
	sa := "/api/v1/accounts/" + fx.sa.Domain
	root := sa + "/virtual-accounts/" + url.PathEscape(fx.nodes[0].name)
	sub := subtree(fx.nodes, 0)
	return []scaleQuery{
		{what: "account licenses, page of 100", path: sa + "/licenses?limit=100", vas: all},
		{what: "account licenses, insufficient, page of 100", path: sa + "/licenses?limit=100&status=insufficient", vas: all, status: smartlic.Insufficient},
		{what: "account summary", path: sa + "/licenses/summary", vas: all, summary: true},
		{what: fmt.Sprintf("%s rollup (%d VAs), page of 100", fx.nodes[0].name, len(sub)), path: root + "/licenses?rollup=true&limit=100", vas: sub},
		{what: fmt.Sprintf("%s rollup summary", fx.nodes[0].name), path: root + "/licenses/summary?rollup=true", vas: sub, summary: true},
	}
}

// check holds an answer against the plan.
func (fx *scaleFixture) check(q scaleQuery, body []byte) error {
	if q.summary {
		var s smartlic.PoolSummary
		if err := json.Unmarshal(body, &s); err != nil {
			return fmt.Errorf("summary does not decode: %v", err)
		}
		var inUse, bought int64
		types := map[int]bool{}
		for _, v := range q.vas {
			for t := range fx.types {
				inUse, bought = inUse+fx.inUse[v][t], bought+fx.purchased[v][t]
				if fx.purchased[v][t] > 0 {
					types[t] = true
				}
			}
		}
		if s.InUse != inUse || s.Purchased != bought || s.LicenseTypes != len(types) {
			return fmt.Errorf("summary: %d types, %d in use of %d; planned %d types, %d of %d", s.LicenseTypes, s.InUse, s.Purchased, len(types), inUse, bought)
		}
		return nil
	}
	var page smartlic.PoolPage
	if err := json.Unmarshal(body, &page); err != nil {
		return fmt.Errorf("page does not decode: %v", err)
	}
	total := 0
	for t := range fx.types {
		var inUse, bought int64
		for _, v := range q.vas {
			inUse, bought = inUse+fx.inUse[v][t], bought+fx.purchased[v][t]
		}
		if bought > 0 && (q.status == "" || q.status == smartlic.Insufficient && inUse > bought) {
			total++
		}
	}
	if page.Total != total || len(page.Items) != min(total, 100) {
		return fmt.Errorf("page of %d rows of %d, want %d of %d", len(page.Items), page.Total, min(total, 100), total)
	}
	for _, p := range page.Items {
		t, ok := fx.typeOf[p.LicenseTag]
		if !ok {
			return fmt.Errorf("row of unknown license %q", p.LicenseTag)
		}
		var inUse, bought int64
		for _, v := range q.vas {
			inUse, bought = inUse+fx.inUse[v][t], bought+fx.purchased[v][t]
		}
		if p.InUse != inUse || p.Purchased != bought {
			return fmt.Errorf("%s: %d in use of %d; planned %d of %d", p.LicenseTag, p.InUse, p.Purchased, inUse, bought)
		}
		if q.status != "" && p.Status != q.status {
			return fmt.Errorf("%s: status %s under the filter %s", p.LicenseTag, p.Status, q.status)
		}
	}
	return nil
}

func scaleOn(ctx context.Context, st string, fl *scaleFlags, log io.Writer) (rows []row, seeds []seedRow, facts [][]string, f *failures, err error) {
	srv, err := startServer(ctx, st, postgresURL(), fl.concurrency)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	defer func() { err = joinClose(err, srv) }()
	b, fx := planScale(fl.instances, fl.licenseTypes, fl.vas)
	t0 := time.Now()
	if err := srv.store.BulkLoad(ctx, b); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("bulk load: %w", err)
	}
	seeds = append(seeds, seedRow{what: fmt.Sprintf("bulk load (%d license types, %d VAs)", fl.licenseTypes, fl.vas), store: st, n: fl.instances, workers: 1, elapsed: time.Since(t0)})
	fmt.Fprintf(log, "%s: bulk-loaded %d instances in %.1fs\n", st, fl.instances, time.Since(t0).Seconds())

	// The jobs that read every instance, timed once in this process on
	// the same database.
	t0 = time.Now()
	if _, err := srv.mgr.ScanAlerts(ctx); err != nil {
		return nil, seeds, nil, nil, fmt.Errorf("alert scan: %w", err)
	}
	facts = append(facts, []string{"alert scan (every account)", st, msOf(time.Since(t0))})
	t0 = time.Now()
	if _, err := srv.mgr.UsageReport(srv.op, fx.sa.Domain, smartlic.UsageQuery{}); err != nil {
		return nil, seeds, nil, nil, fmt.Errorf("usage report: %w", err)
	}
	facts = append(facts, []string{"usage report of the account", st, msOf(time.Since(t0))})

	// The real binary on the loaded database: its cold start to the first
	// /healthz answer, then the views.
	t0 = time.Now()
	stop, err := srv.serveExternally(ctx, fl.serve)
	if err != nil {
		return nil, seeds, facts, nil, err
	}
	defer func() { err = errors.Join(err, stop()) }()
	if err := srv.warmUp(ctx, 1); err != nil {
		return nil, seeds, facts, nil, err
	}
	facts = append(facts, []string{"cold start to the first /healthz answer", st, msOf(time.Since(t0))})
	if err := srv.warmUp(ctx, fl.concurrency); err != nil {
		return nil, seeds, facts, nil, err
	}
	f = &failures{}
	for _, q := range fx.queries() {
		// A few unmeasured requests first: the target is the steady state.
		if _, err := srv.getLoad(q.path, 4*fl.concurrency+4, fl.concurrency).run(ctx); err != nil {
			return nil, seeds, facts, nil, err
		}
		res, err := srv.getLoad(q.path, fl.requests, fl.concurrency).run(ctx)
		if err != nil {
			return nil, seeds, facts, nil, err
		}
		failed := f.judgeGets(q.path, res, func(body []byte) error { return fx.check(q, body) })
		rows = append(rows, summarize(q.what, st, fl.concurrency, res, failed))
	}
	rss, peak := childMemory(srv.childPIDs[0])
	facts = append(facts, []string{"server RSS after the views (peak)", st, fmt.Sprintf("%s MiB (%s MiB)", rss, peak)})
	return rows, seeds, facts, f, nil
}

func msOf(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// childMemory reads a process's resident set and its peak from /proc, in
// MiB; "?" where it cannot.
func childMemory(pid int) (rss, peak string) {
	rss, peak = "?", "?"
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		fields := strings.Fields(v)
		if !ok || len(fields) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = fmt.Sprintf("%.0f", float64(kb)/1024)
		case "VmHWM":
			peak = fmt.Sprintf("%.0f", float64(kb)/1024)
		}
	}
	return
}
