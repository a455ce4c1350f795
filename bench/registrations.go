package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// maxRequests bounds --n. Requests are signed before the run with sent_at
// of that moment, and the manager refuses requests more than
// smartlic.DeviceClockSkew (10 minutes) old; this many finish well within
// that at any rate worth measuring.
const maxRequests = 200_000

// registrationScenario is a server with an active Smart Account, deposits
// of every license type and one token with no limit on uses in its DEFAULT VA.
type registrationScenario struct {
	srv   *server
	sa    smartlic.SmartAccount
	token string
}

func setupRegistrations(srv *server) (*registrationScenario, error) {
	if err := srv.seedCatalogue(); err != nil {
		return nil, err
	}
	sa, err := srv.seedAccount("register.bench.example")
	if err != nil {
		return nil, err
	}
	for _, lt := range licenseTypes {
		if err := srv.deposit(sa.Domain, smartlic.DefaultVAName, lt.Tag, 1_000_000); err != nil {
			return nil, err
		}
	}
	tok, err := srv.token(sa.Domain, smartlic.DefaultVAName)
	if err != nil {
		return nil, err
	}
	return &registrationScenario{srv: srv, sa: sa, token: tok}, nil
}

// prepare makes n devices and their signed register requests, encoded.
func (sc *registrationScenario) prepare(ctx context.Context, n int) ([]*device, [][]byte, error) {
	devs, err := newDevices(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	bodies, err := encodeAll(ctx, devs, func(d *device) (smartlic.Envelope, error) { return d.registerRequest(sc.token, now) })
	return devs, bodies, err
}

// postLoad is one POST of bodies[i] to path per request.
func (s *server) postLoad(path string, bodies [][]byte, concurrency int) load {
	return load{client: s.client, concurrency: concurrency, n: len(bodies), serverCPU: s.childCPU,
		request: func(ctx context.Context, i int) (*http.Request, error) {
			base := s.url
			if len(s.replicas) > 0 {
				base = s.replicas[i%len(s.replicas)] // round robin, as a load balancer would
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(bodies[i]))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			return req, nil
		}}
}

// check holds every answer against what was asked: 200, an ID certificate
// that verifies against GET /device/v1/keys, about that device and its
// key, every instance id distinct, and the token's use count equal to the
// number of registrations.
func (sc *registrationScenario) check(devs []*device, res loadResult) *failures {
	f := &failures{}
	seen := make(map[string]bool, len(devs))
	for i, d := range devs {
		switch {
		case res.errs[i] != nil:
			f.add("register %s: %v", d.udi, res.errs[i])
		case res.status[i] != http.StatusOK:
			f.add("register %s: status %d: %s", d.udi, res.status[i], clip(res.bodies[i]))
		default:
			if err := d.checkIDCert(res.bodies[i], sc.srv.keys); err != nil {
				f.add("register %s: %v", d.udi, err)
			} else if seen[d.id] {
				f.add("register %s: instance id %s was issued twice", d.udi, d.id)
			} else {
				seen[d.id] = true
			}
		}
	}
	return f
}

// tokenUses reads the token's use count through the manager.
func (sc *registrationScenario) tokenUses() (int64, error) {
	toks, _, err := sc.srv.mgr.ListTokens(sc.srv.op, sc.sa.Domain, smartlic.DefaultVAName, smartlic.Page{})
	if err != nil {
		return 0, err
	}
	if len(toks) != 1 {
		return 0, fmt.Errorf("the DEFAULT VA has %d tokens, want 1", len(toks))
	}
	return toks[0].Uses, nil
}

type loadFlags struct {
	commonFlags
	n           int
	concurrency int
	serve       string // a smartlic binary to load instead of the in-process server
	replicas    int    // with serve: how many of it, on one database
}

func parseLoadFlags(name string, args []string, stderr io.Writer) (*loadFlags, error) {
	fl := &loadFlags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.register(fs)
	fs.IntVar(&fl.n, "n", 20000, "number of requests (1-200000), each from a distinct instance")
	fs.IntVar(&fl.concurrency, "concurrency", 32, "requests in flight (1-1024)")
	fs.StringVar(&fl.serve, "serve", "", "load a `smartlic` binary run as \"smartlic serve\" on the seeded database (a child process), instead of the in-process server")
	fs.IntVar(&fl.replicas, "replicas", 1, "with --serve and --store postgres: run this many `smartlic serve` replicas on the one database and spread the requests over them in turn (1-8)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return nil, err
	}
	if err := checkRange("replicas", fl.replicas, 1, 8); err != nil {
		return nil, err
	}
	if fl.replicas > 1 && (fl.serve == "" || fl.store != "postgres") {
		return nil, usagef("--replicas needs --serve and --store postgres: replicas share a PostgreSQL database")
	}
	if err := checkRange("n", fl.n, 1, maxRequests); err != nil {
		return nil, err
	}
	if err := checkRange("concurrency", fl.concurrency, 1, 1024); err != nil {
		return nil, err
	}
	return fl, nil
}

func runRegistrations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl, err := parseLoadFlags("registrations", args, stderr)
	if err != nil {
		return err
	}
	stores, err := fl.stores()
	if err != nil {
		return err
	}
	var rows []row
	failed := false
	for _, st := range stores {
		r, f, err := registrationsOn(ctx, st, fl, len(stores) > 1, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		rows = append(rows, r)
		f.report(stdout, "registrations", st, fl.n)
		failed = failed || f.count > 0
	}
	fmt.Fprintln(stdout)
	printTable(stdout, rows)
	if failed {
		return errFailures
	}
	return nil
}

func registrationsOn(ctx context.Context, st string, fl *loadFlags, multiple bool, log io.Writer) (r row, f *failures, err error) {
	srv, err := startServer(ctx, st, postgresURL(), fl.concurrency)
	if err != nil {
		return r, nil, err
	}
	defer func() { err = joinClose(err, srv) }()
	sc, err := setupRegistrations(srv)
	if err != nil {
		return r, nil, err
	}
	t0 := time.Now()
	devs, bodies, err := sc.prepare(ctx, fl.n)
	if err != nil {
		return r, nil, err
	}
	fmt.Fprintf(log, "%s: prepared %d signed register requests in %.1fs (not measured)\n", st, fl.n, time.Since(t0).Seconds())
	// The host's speed, beside which the run reads: on a shared machine
	// the same code's throughput moves with both.
	var sample smartlic.Envelope
	if err := json.Unmarshal(bodies[0], &sample); err != nil {
		return r, nil, err
	}
	verify, err := verifyRate(sample, devs[0].pub)
	if err != nil {
		return r, nil, err
	}
	fmt.Fprintf(log, "%s: Ed25519 verify on one core %.0f/s; load average %s\n", st, verify, loadAverage())
	defer func() { fmt.Fprintf(log, "%s: load average after the run %s\n", st, loadAverage()) }()
	for range fl.replicas * min(len(fl.serve), 1) {
		stop, err := srv.serveExternally(ctx, fl.serve)
		if err != nil {
			return r, nil, err
		}
		defer func() {
			if serr := stop(); serr != nil && err == nil {
				err = serr
			}
		}()
		fmt.Fprintf(log, "%s: loading %s serve at %s\n", st, fl.serve, srv.url)
		if err := srv.warmUp(ctx, fl.concurrency); err != nil {
			return r, nil, err
		}
		if fl.replicas > 1 {
			srv.replicas = append(srv.replicas, srv.url)
		}
	}
	if fl.serve == "" {
		if err := srv.warmUp(ctx, fl.concurrency); err != nil {
			return r, nil, err
		}
	}
	var res loadResult
	err = profiled(fl.profilePath(st, multiple), log, func() error {
		res, err = srv.postLoad("/device/v1/register", bodies, fl.concurrency).run(ctx)
		return err
	})
	if err != nil {
		return r, nil, err
	}
	f = sc.check(devs, res)
	ok := int64(fl.n - f.count)
	if uses, err := sc.tokenUses(); err != nil {
		f.add("reading the token: %v", err)
	} else if uses != ok {
		f.add("the token was used %d times, but %d registrations succeeded", uses, ok)
	}
	what := "register"
	if fl.replicas > 1 {
		what = fmt.Sprintf("register, %d replicas", fl.replicas)
	}
	return summarize(what, st, fl.concurrency, res, f.count), f, nil
}

// loadAverage is the first three fields of /proc/loadavg, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

// joinClose closes the server and adds its error, if any, to err.
func joinClose(err error, srv *server) error {
	if cerr := srv.close(); cerr != nil {
		if err == nil {
			return cerr
		}
		return fmt.Errorf("%w (and closing: %v)", err, cerr)
	}
	return err
}
