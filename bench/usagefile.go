package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// usageFileFlags are the flags of the offline file run.
type usageFileFlags struct {
	commonFlags
	reports   int
	instances int
	serve     string
}

func parseUsageFileFlags(args []string, stderr io.Writer) (*usageFileFlags, error) {
	fl := &usageFileFlags{}
	fs := flag.NewFlagSet("usage-file", flag.ContinueOnError)
	fl.register(fs)
	fs.IntVar(&fl.reports, "reports", smartlic.MaxReportsPerFile, fmt.Sprintf("reports in the file (1-%d, the file limit)", smartlic.MaxReportsPerFile))
	fs.IntVar(&fl.instances, "instances", 1000, "instances whose reports the file holds (1 to --reports); their reports are spread evenly")
	fs.StringVar(&fl.serve, "serve", "", "upload to a `smartlic` binary run as \"smartlic serve\" on the seeded database (a child process), instead of the in-process server")
	if err := parseFlags(fs, args, stderr); err != nil {
		return nil, err
	}
	if err := checkRange("reports", fl.reports, 1, smartlic.MaxReportsPerFile); err != nil {
		return nil, err
	}
	if err := checkRange("instances", fl.instances, 1, fl.reports); err != nil {
		return nil, err
	}
	return fl, nil
}

func runUsageFile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl, err := parseUsageFileFlags(args, stderr)
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
		r, note, f, err := usageFileOn(ctx, st, fl, len(stores) > 1, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		rows, notes = append(rows, r...), append(notes, note)
		f.report(stdout, "usage-file", st, fl.reports)
		failed = failed || f.count > 0
	}
	printUsage(stdout, rows, notes)
	if failed {
		return errFailures
	}
	return nil
}

// usageFilePlan is one offline usage file and what its ACK file must say.
type usageFilePlan struct {
	raw []byte
	// perInstance is how many of the file's reports each device signed.
	perInstance []int
	reports     int
}

// usageFile builds a file of n reports spread over the scenario's devices.
// Each device's reports come newest first (the file holds them out of
// order), the newest with the final counts and every older one with more,
// so that an older report processed last must not set usage back.
func (sc *usageScenario) usageFile(ctx context.Context, n int) (usageFilePlan, smartlic.Envelope, error) {
	devs := len(sc.devs)
	plan := usageFilePlan{perInstance: make([]int, devs), reports: n}
	for i := range n {
		plan.perInstance[i%devs]++
	}
	end := time.Now().UTC().Add(-time.Minute)
	file := smartlic.UsageFile{Type: smartlic.FileTypeUsage, CreatedAt: end, Reports: make([]smartlic.Envelope, n)}
	err := parallel(ctx, n, runtime.NumCPU(), func(i int) error {
		d, seq := sc.devs[i%devs], i/devs // seq 0 is the device's newest
		var err error
		file.Reports[i], err = d.report(fmt.Sprintf("file-%d", seq+1), end.Add(-time.Duration(seq)*time.Second), int64(seq))
		return err
	})
	if err != nil {
		return plan, smartlic.Envelope{}, err
	}
	plan.raw, err = json.Marshal(file)
	return plan, file.Reports[0], err
}

// upload POSTs a usage file and reads the whole answer, timed.
func (s *server) upload(ctx context.Context, sa, name string, raw []byte) (status int, body []byte, took time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/api/v1/accounts/"+sa+"/usage-files?name="+name, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json") // as the Go client and the CLI send it
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	t0 := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, smartlic.MaxUsageFileBytes))
	resp.Body.Close()
	return resp.StatusCode, body, time.Since(t0), err
}

// checkUpload holds an upload's answer against the plan: 200, an ACK file
// whose summary counts every report accepted (as duplicates when dup), and
// one ACK per instance signed by the manager, about that instance,
// accepting all its reports.
func (sc *usageScenario) checkUpload(f *failures, plan usageFilePlan, status int, body []byte, dup bool) {
	if status != http.StatusOK {
		f.add("upload: status %d: %s", status, clip(body))
		return
	}
	var af smartlic.AckFile
	if err := json.Unmarshal(body, &af); err != nil || af.Type != smartlic.FileTypeAck {
		f.add("upload: the answer is not an ACK file (%v): %s", err, clip(body))
		return
	}
	want := smartlic.UsageSummary{Reports: plan.reports, Accepted: plan.reports, Instances: len(sc.devs)}
	if dup {
		want.Duplicates = plan.reports
	}
	if af.Summary != want || len(af.Rejections) != 0 {
		f.add("upload: summary %+v with %d rejections, want %+v and none", af.Summary, len(af.Rejections), want)
	}
	if len(af.Acks) != len(sc.devs) {
		f.add("upload: %d ACKs for %d instances", len(af.Acks), len(sc.devs))
		return
	}
	byID := make(map[string]int, len(sc.devs))
	for i, d := range sc.devs {
		byID[d.id] = i
	}
	seen := make(map[string]bool, len(sc.devs))
	for k, env := range af.Acks {
		var ack smartlic.UsageAck
		if err := sign.Open(env, smartlic.TypeUsageAck, sc.srv.keys, &ack); err != nil {
			f.add("upload: ACK %d: %v", k, err)
			continue
		}
		i, ok := byID[ack.InstanceID]
		switch {
		case !ok:
			f.add("upload: ACK %d is about %s, not an instance of the file", k, ack.InstanceID)
		case seen[ack.InstanceID]:
			f.add("upload: two ACKs for %s", ack.InstanceID)
		default:
			seen[ack.InstanceID] = true
			if err := checkOneAck(env, sc.srv.keys, sc.devs[i], plan.perInstance[i]); err != nil {
				f.add("upload: ACK %d: %v", k, err)
			}
		}
	}
}

func usageFileOn(ctx context.Context, st string, fl *usageFileFlags, multiple bool, log io.Writer) (rows []row, note string, f *failures, err error) {
	srv, err := startServer(ctx, st, postgresURL(), 1)
	if err != nil {
		return nil, "", nil, err
	}
	defer func() { err = joinClose(err, srv) }()
	sc, err := setupUsage(ctx, srv, fl.instances, log)
	if err != nil {
		return nil, "", nil, err
	}
	plan, sample, err := sc.usageFile(ctx, fl.reports)
	if err != nil {
		return nil, "", nil, err
	}
	verify, err := verifyRate(sample, sc.devs[0].pub)
	if err != nil {
		return nil, "", nil, err
	}
	stop, err := serveIfAsked(ctx, srv, fl.serve, log)
	if err != nil {
		return nil, "", nil, err
	}
	defer func() {
		if serr := stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := srv.warmUp(ctx, 1); err != nil {
		return nil, "", nil, err
	}
	f = &failures{}
	var took, cpu [2]time.Duration
	err = profiled(fl.profilePath(st, multiple), log, func() error {
		for k, name := range []string{"bench.json", "bench-again.json"} {
			cpu0, known := srv.childCPU()
			status, body, t, err := srv.upload(ctx, sc.sa.Domain, name, plan.raw)
			if err != nil {
				return err
			}
			if cpu1, ok := srv.childCPU(); known && ok {
				cpu[k] = cpu1 - cpu0
			}
			took[k] = t
			sc.checkUpload(f, plan, status, body, k == 1)
		}
		return nil
	})
	if err != nil {
		return nil, "", nil, err
	}
	f.checkPools(ctx, srv, sc.sa.Domain, int64(fl.instances))
	mib := float64(len(plan.raw)) / (1 << 20)
	for k, what := range []string{"usage file", "same file again (all duplicates)"} {
		what = fmt.Sprintf("%s (%d reports of %d instances, %.1f MiB)", what, fl.reports, fl.instances, mib)
		if fl.serve != "" {
			what += ", smartlic serve"
		}
		rows = append(rows, row{what: what, store: st, n: fl.reports, concurrency: 1,
			elapsed: took[k], p50: took[k], p90: took[k], p99: took[k], max: took[k], serverCPU: cpu[k], perOp: fl.reports})
	}
	rate := float64(fl.reports) / took[0].Seconds()
	note = fmt.Sprintf("%s: usage file of %d reports uploaded and acknowledged in %.2f s (target < 5 s), %.0f reports/s; again, all duplicates, in %.2f s; Ed25519 verify on one core %.0f/s in this run: ingestion is %.0f %% of the single-core bound",
		st, fl.reports, took[0].Seconds(), rate, took[1].Seconds(), verify, 100*rate/verify)
	return rows, note, f, nil
}
