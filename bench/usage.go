package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/sign"
)

// The usage runs measure Smart Licensing Using Policy's ingestion of signed
// RUM reports of 10 measurements each, beside the single-core Ed25519
// verify rate of the same machine in the same run: ingestion verifies one
// signature per report, so that rate is the bound one core would set, and
// the target (60 % of it) says how much of two cores the rest of
// ingestion may take.
//
//   - usage: devices reporting online, POST /device/v1/usage, each request
//     the pending reports of one instance (one by default; a device that was
//     offline for a while sends several in one exchange, as agent.Sync does).
//   - usage-file: one offline usage file of many instances' reports,
//     uploaded through POST /api/v1/accounts/{sa}/usage-files, timed from
//     the first byte sent to the last byte of the ACK file read; then the
//     same file again (every report a duplicate, nothing may change).

// measurementsPerReport is what every report carries.
const measurementsPerReport = 10

// trustRequest is the device's self-signed trust request with a token.
func (d *device) trustRequest(token string, now time.Time) (smartlic.Envelope, error) {
	return sign.Seal(smartlic.TypeTrustRequest, base64.RawURLEncoding.EncodeToString(d.pub), d.priv, smartlic.TrustRequest{
		UDI: d.udi, PublicKey: d.pub, SentAt: now, Token: token,
	})
}

// report is a RUM report of 10 measurements: the three license types' use
// in consecutive one-minute intervals ending at end. The counts are each
// tag's finalCount plus extra, so that a report older than an instance's
// last one (extra > 0) shows if it ever wins over it.
func (d *device) report(id string, end time.Time, extra int64) (smartlic.Envelope, error) {
	ms := make([]smartlic.Measurement, 0, measurementsPerReport)
	for i := range measurementsPerReport {
		lt := licenseTypes[i%len(licenseTypes)]
		start := end.Add(-time.Duration(measurementsPerReport-i) * time.Minute)
		ms = append(ms, smartlic.Measurement{Tag: lt.Tag, Count: finalCount(lt.Tag) + extra, Start: start, End: start.Add(time.Minute)})
	}
	return sign.Seal(smartlic.TypeRUMReport, d.id, d.priv, smartlic.RUMReport{ReportID: id, InstanceID: d.id, UDI: d.udi, CreatedAt: end, Measurements: ms})
}

// finalCount is what every instance uses of tag in the end.
func finalCount(tag string) int64 {
	for i, lt := range licenseTypes {
		if lt.Tag == tag {
			return int64(i + 1)
		}
	}
	return 0
}

// verifyRate is how many Ed25519 signatures of a report's size one
// goroutine verifies per second: the best of ten samples of 0.1 s each,
// taken while nothing else of the run does anything, so that a moment in
// which another process had the core lowers neither the bound nor, by
// lowering it, the bar the ingestion rate is held to.
func verifyRate(env smartlic.Envelope, pub ed25519.PublicKey) (float64, error) {
	msg := sign.Message(env.Type, env.Payload)
	best := 0.0
	for range 10 {
		n, t0 := 0, time.Now()
		for time.Since(t0) < 100*time.Millisecond {
			for range 50 {
				if !ed25519.Verify(pub, msg, env.Sig) {
					return 0, fmt.Errorf("a report's own signature does not verify")
				}
			}
			n += 50
		}
		best = max(best, float64(n)/time.Since(t0).Seconds())
	}
	return best, nil
}

// usageFlags are the flags of the online run.
type usageFlags struct {
	commonFlags
	n           int // instances
	perRequest  int // reports per request, all of one instance
	concurrency int
	serve       string
}

func parseUsageFlags(args []string, stderr io.Writer) (*usageFlags, error) {
	fl := &usageFlags{}
	fs := flag.NewFlagSet("usage", flag.ContinueOnError)
	fl.register(fs)
	fs.IntVar(&fl.n, "n", 10000, "number of instances (1-200000), each sending one request")
	fs.IntVar(&fl.perRequest, "reports-per-request", 1, "reports in each request, all of one instance (1-"+fmt.Sprint(smartlic.MaxOnlineReports)+"), as a device sends its pending reports")
	fs.IntVar(&fl.concurrency, "concurrency", 32, "requests in flight (1-1024)")
	fs.StringVar(&fl.serve, "serve", "", "load a `smartlic` binary run as \"smartlic serve\" on the seeded database (a child process), instead of the in-process server")
	if err := parseFlags(fs, args, stderr); err != nil {
		return nil, err
	}
	if err := checkRange("n", fl.n, 1, maxRequests); err != nil {
		return nil, err
	}
	if err := checkRange("reports-per-request", fl.perRequest, 1, smartlic.MaxOnlineReports); err != nil {
		return nil, err
	}
	if fl.n*fl.perRequest > 1_000_000 {
		return nil, usagef("--n × --reports-per-request must be at most 1000000 (got %d)", fl.n*fl.perRequest)
	}
	if err := checkRange("concurrency", fl.concurrency, 1, 1024); err != nil {
		return nil, err
	}
	return fl, nil
}

func runUsage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl, err := parseUsageFlags(args, stderr)
	if err != nil {
		return err
	}
	stores, err := fl.stores()
	if err != nil {
		return err
	}
	var rows []row
	var notes []string
	failed := false
	for _, st := range stores {
		r, note, f, err := usageOn(ctx, st, fl, len(stores) > 1, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		rows, notes = append(rows, r), append(notes, note)
		f.report(stdout, "usage", st, fl.n)
		failed = failed || f.count > 0
	}
	printUsage(stdout, rows, notes)
	if failed {
		return errFailures
	}
	return nil
}

func printUsage(w io.Writer, rows []row, notes []string) {
	fmt.Fprintln(w)
	printTable(w, rows)
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

// usageScenario is a registration scenario whose devices hold trust codes
// (trusted with the token, through the manager in-process).
type usageScenario struct {
	*registrationScenario
	devs []*device
}

func setupUsage(ctx context.Context, srv *server, n int, log io.Writer) (*usageScenario, error) {
	sc, err := setupRegistrations(srv)
	if err != nil {
		return nil, err
	}
	devs, err := newDevices(ctx, n)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	err = parallel(ctx, len(devs), seedWorkers(), func(i int) error {
		d := devs[i]
		req, err := d.trustRequest(sc.token, time.Now().UTC())
		if err != nil {
			return err
		}
		ans, err := srv.mgr.RequestTrust(context.Background(), req)
		if err != nil {
			return fmt.Errorf("trusting %s: %w", d.udi, err)
		}
		var tc smartlic.TrustCode
		if err := sign.Open(ans, smartlic.TypeTrustCode, srv.keys, &tc); err != nil {
			return err
		}
		d.id = tc.InstanceID
		return nil
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%s: trusted %d instances in %.1fs (not measured)\n", srv.backend.name, n, time.Since(t0).Seconds())
	return &usageScenario{registrationScenario: sc, devs: devs}, nil
}

// onlineBodies is, per device, one usage file of perRequest reports ending
// before now, newest last: the last has the final counts, the older ones
// more.
func (sc *usageScenario) onlineBodies(ctx context.Context, perRequest int) ([][]byte, smartlic.Envelope, error) {
	end := time.Now().UTC().Add(-time.Minute)
	bodies := make([][]byte, len(sc.devs))
	var sample smartlic.Envelope
	err := parallel(ctx, len(sc.devs), runtime.NumCPU(), func(i int) error {
		f := smartlic.UsageFile{Type: smartlic.FileTypeUsage, CreatedAt: end, Reports: make([]smartlic.Envelope, perRequest)}
		for j := range perRequest {
			older := int64(perRequest - 1 - j)
			var err error
			f.Reports[j], err = sc.devs[i].report(fmt.Sprintf("online-%d", j+1), end.Add(-time.Duration(older)*time.Second), older)
			if err != nil {
				return err
			}
		}
		if i == 0 {
			sample = f.Reports[0]
		}
		var err error
		bodies[i], err = json.Marshal(f)
		return err
	})
	return bodies, sample, err
}

// serveIfAsked points the load at binary run as "smartlic serve", when
// one is given. stop must be called.
func serveIfAsked(ctx context.Context, srv *server, binary string, log io.Writer) (stop func() error, err error) {
	if binary == "" {
		return func() error { return nil }, nil
	}
	stop, err = srv.serveExternally(ctx, binary)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%s: loading %s serve at %s\n", srv.backend.name, binary, srv.url)
	return stop, nil
}

func usageOn(ctx context.Context, st string, fl *usageFlags, multiple bool, log io.Writer) (r row, note string, f *failures, err error) {
	srv, err := startServer(ctx, st, postgresURL(), fl.concurrency)
	if err != nil {
		return r, "", nil, err
	}
	defer func() { err = joinClose(err, srv) }()
	sc, err := setupUsage(ctx, srv, fl.n, log)
	if err != nil {
		return r, "", nil, err
	}
	bodies, sample, err := sc.onlineBodies(ctx, fl.perRequest)
	if err != nil {
		return r, "", nil, err
	}
	verify, err := verifyRate(sample, sc.devs[0].pub)
	if err != nil {
		return r, "", nil, err
	}
	stop, err := serveIfAsked(ctx, srv, fl.serve, log)
	if err != nil {
		return r, "", nil, err
	}
	defer func() {
		if serr := stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := srv.warmUp(ctx, fl.concurrency); err != nil {
		return r, "", nil, err
	}
	var res loadResult
	err = profiled(fl.profilePath(st, multiple), log, func() error {
		res, err = srv.postLoad("/device/v1/usage", bodies, fl.concurrency).run(ctx)
		return err
	})
	if err != nil {
		return r, "", nil, err
	}
	f = sc.checkOnline(ctx, res, fl.perRequest)
	what := "usage report (10 measurements)"
	if fl.perRequest > 1 {
		what = fmt.Sprintf("usage, %d reports per request", fl.perRequest)
	}
	if fl.serve != "" {
		what += ", smartlic serve"
	}
	r = summarize(what, st, fl.concurrency, res, f.count)
	r.perOp = fl.n * fl.perRequest // the server's CPU per report, not per request
	reports := float64(fl.n*fl.perRequest) / res.elapsed.Seconds()
	note = fmt.Sprintf("%s: ingestion %.0f reports/s over HTTP (%d reports, %d per request, %d in flight); Ed25519 verify on one core %.0f/s in this run: ingestion is %.0f %% of the single-core bound (target ≥ 60 %%)",
		st, reports, fl.n*fl.perRequest, fl.perRequest, fl.concurrency, verify, 100*reports/verify)
	if res.serverCPU > 0 {
		note += fmt.Sprintf("; the server spent %.0f µs of CPU per report", float64(res.serverCPU.Microseconds())/float64(r.perOp))
	}
	return r, note, f, nil
}

// checkOnline holds every answer against its request: 200, one ACK signed
// by the manager about that instance accepting all its reports; and the
// account's pools count every instance whose reports were accepted with its
// final counts (a fast answer that forgot to count, or let an older report
// win, shows there).
func (sc *usageScenario) checkOnline(ctx context.Context, res loadResult, perRequest int) *failures {
	f := &failures{}
	for i, d := range sc.devs {
		switch {
		case res.errs[i] != nil:
			f.add("report %s: %v", d.udi, res.errs[i])
		case res.status[i] != http.StatusOK:
			f.add("report %s: status %d: %s", d.udi, res.status[i], clip(res.bodies[i]))
		default:
			if err := checkAck(res.bodies[i], sc.srv.keys, d, perRequest); err != nil {
				f.add("report %s: %v", d.udi, err)
			}
		}
	}
	f.checkPools(ctx, sc.srv, sc.sa.Domain, int64(len(sc.devs)-f.count))
	return f
}

// checkAck opens an online answer: an ACK file whose one ACK is signed by
// the manager, about this device, accepting its reports.
func checkAck(body []byte, keys sign.KeySet, d *device, reports int) error {
	var af smartlic.AckFile
	if err := json.Unmarshal(body, &af); err != nil {
		return err
	}
	if af.Type != smartlic.FileTypeAck {
		return fmt.Errorf("the answer is not an ACK file (type %q)", af.Type)
	}
	if len(af.Acks) != 1 {
		return fmt.Errorf("%d ACKs, want 1 (rejections %+v)", len(af.Acks), af.Rejections)
	}
	return checkOneAck(af.Acks[0], keys, d, reports)
}

func checkOneAck(env smartlic.Envelope, keys sign.KeySet, d *device, reports int) error {
	var ack smartlic.UsageAck
	if err := sign.Open(env, smartlic.TypeUsageAck, keys, &ack); err != nil {
		return err
	}
	if ack.InstanceID != d.id || ack.UDI != d.udi {
		return fmt.Errorf("ACK is about %s (%s), not %s (%s)", ack.InstanceID, ack.UDI, d.id, d.udi)
	}
	if len(ack.Accepted) != reports || len(ack.Rejected) != 0 {
		return fmt.Errorf("ACK accepts %d reports and rejects %d, want %d and 0", len(ack.Accepted), len(ack.Rejected), reports)
	}
	return nil
}

// checkPools: every accepted instance counts its final counts in the
// account's pools.
func (f *failures) checkPools(ctx context.Context, srv *server, sa string, ok int64) {
	var pools wire.Items[smartlic.Pool]
	if err := srv.getJSON(ctx, "/api/v1/accounts/"+sa+"/licenses", srv.apiKey, &pools); err != nil {
		f.add("reading the account's pools: %v", err)
		return
	}
	inUse := inUseByTag(pools.Items)
	for _, lt := range licenseTypes {
		if want := ok * finalCount(lt.Tag); inUse[lt.Tag] != want {
			f.add("pool %s: in use %d, want %d", lt.Tag, inUse[lt.Tag], want)
		}
	}
}
