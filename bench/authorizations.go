package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/sign"
)

// authUsage is what every instance reports in the authorizations run.
var authUsage = []smartlic.Usage{{LicenseTag: "network-advantage", Count: 1}, {LicenseTag: "network-essentials", Count: 2}}

// seedWorkers is how many goroutines seed through the manager: enough to
// keep the store's writer busy while others sign and verify.
func seedWorkers() int { return max(8, 4*runtime.NumCPU()) }

func runAuthorizations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl, err := parseLoadFlags("authorizations", args, stderr)
	if err != nil {
		return err
	}
	if fl.serve != "" {
		return usagef("--serve is for registrations only")
	}
	stores, err := fl.stores()
	if err != nil {
		return err
	}
	var rows []row
	var seeds []seedRow
	failed := false
	for _, st := range stores {
		r, seed, f, err := authorizationsOn(ctx, st, fl, len(stores) > 1, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		rows, seeds = append(rows, r), append(seeds, seed)
		f.report(stdout, "authorizations", st, fl.n)
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

func authorizationsOn(ctx context.Context, st string, fl *loadFlags, multiple bool, log io.Writer) (r row, seed seedRow, f *failures, err error) {
	srv, err := startServer(ctx, st, postgresURL(), fl.concurrency)
	if err != nil {
		return r, seed, nil, err
	}
	defer func() { err = joinClose(err, srv) }()
	sc, err := setupRegistrations(srv)
	if err != nil {
		return r, seed, nil, err
	}
	devs, err := newDevices(ctx, fl.n)
	if err != nil {
		return r, seed, nil, err
	}
	t0 := time.Now()
	if err := srv.registerDirect(ctx, devs, seedWorkers(), func(int) string { return sc.token }); err != nil {
		return r, seed, nil, err
	}
	seed = seedRow{what: "register through the manager", store: st, n: fl.n, workers: seedWorkers(), elapsed: time.Since(t0)}
	fmt.Fprintf(log, "%s: registered %d instances in %.1fs (not measured)\n", st, fl.n, seed.elapsed.Seconds())

	now := time.Now().UTC()
	bodies, err := encodeAll(ctx, devs, func(d *device) (smartlic.Envelope, error) { return d.authRequest(now, authUsage) })
	if err != nil {
		return r, seed, nil, err
	}
	if err := srv.warmUp(ctx, fl.concurrency); err != nil {
		return r, seed, nil, err
	}
	var res loadResult
	err = profiled(fl.profilePath(st, multiple), log, func() error {
		res, err = srv.postLoad("/device/v1/authorize", bodies, fl.concurrency).run(ctx)
		return err
	})
	if err != nil {
		return r, seed, nil, err
	}
	f = checkAuthorizations(srv, devs, res)
	// Every authorized instance counts in the account's pools: a fast
	// answer that forgot to count would show here.
	ok := int64(fl.n - f.count)
	var pools wire.Items[smartlic.Pool]
	if err := srv.getJSON(ctx, "/api/v1/accounts/"+sc.sa.Domain+"/licenses", srv.apiKey, &pools); err != nil {
		f.add("reading the account's pools: %v", err)
	} else {
		inUse := inUseByTag(pools.Items)
		for _, u := range authUsage {
			if want := ok * u.Count; inUse[u.LicenseTag] != want {
				f.add("pool %s: in use %d, want %d (%d instances × %d)", u.LicenseTag, inUse[u.LicenseTag], want, ok, u.Count)
			}
		}
	}
	return summarize("authorize", st, fl.concurrency, res, f.count), seed, f, nil
}

// checkAuthorizations holds every answer against its request: 200, an
// authorization signed by the manager, about that instance, with every
// usage line counted and authorized (the deposits cover them all).
func checkAuthorizations(srv *server, devs []*device, res loadResult) *failures {
	f := &failures{}
	for i, d := range devs {
		if res.errs[i] != nil {
			f.add("authorize %s: %v", d.udi, res.errs[i])
			continue
		}
		if res.status[i] != http.StatusOK {
			f.add("authorize %s: status %d: %s", d.udi, res.status[i], clip(res.bodies[i]))
			continue
		}
		if err := d.checkAuthorization(res.bodies[i], srv.keys, authUsage); err != nil {
			f.add("authorize %s: %v", d.udi, err)
		}
	}
	return f
}

func (d *device) checkAuthorization(body []byte, keys sign.KeySet, usage []smartlic.Usage) error {
	env, err := sign.Parse(body)
	if err != nil {
		return err
	}
	var a smartlic.Authorization
	if err := sign.Open(env, smartlic.TypeAuthorization, keys, &a); err != nil {
		return err
	}
	if a.InstanceID != d.id || a.UDI != d.udi {
		return fmt.Errorf("authorization is for %s (%s), not %s (%s)", a.InstanceID, a.UDI, d.id, d.udi)
	}
	got := map[string]smartlic.Usage{}
	for _, e := range a.Entitlements {
		got[e.LicenseTag] = e
	}
	for _, u := range usage {
		e, ok := got[u.LicenseTag]
		if !ok || e.Count != u.Count || e.Status != smartlic.Authorized {
			return fmt.Errorf("entitlement %s: got %+v, want count %d authorized", u.LicenseTag, e, u.Count)
		}
	}
	return nil
}

// inUseByTag adds up in-use counts per license tag.
func inUseByTag(pools []smartlic.Pool) map[string]int64 {
	m := map[string]int64{}
	for _, p := range pools {
		m[p.LicenseTag] += p.InUse
	}
	return m
}
