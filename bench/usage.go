package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/sign"
)

// The usage run measures Smart Licensing Using Policy's ingestion: signed
// RUM reports of 10 measurements each, one report per POST /device/v1/usage
// (a device reporting online), beside the single-core Ed25519 verify rate
// of the same machine in the same run — ingestion verifies one signature
// per report, so that rate is the bound a single core would set. Then one
// offline usage file of the same number of reports (new ones) is uploaded
// through POST /api/v1/accounts/{sa}/usage-files and timed.

// measurementsPerReport is what every report carries.
const measurementsPerReport = 10

// trustRequest is the device's self-signed trust request with a token.
func (d *device) trustRequest(token string, now time.Time) (smartlic.Envelope, error) {
	return sign.Seal(smartlic.TypeTrustRequest, base64.RawURLEncoding.EncodeToString(d.pub), d.priv, smartlic.TrustRequest{
		UDI: d.udi, PublicKey: d.pub, SentAt: now, Token: token,
	})
}

// report is a RUM report of 10 measurements: the three license types'
// use in consecutive intervals ending at end, with the final count of
// each tag given by finalCount.
func (d *device) report(id string, end time.Time) (smartlic.Envelope, error) {
	ms := make([]smartlic.Measurement, 0, measurementsPerReport)
	for i := range measurementsPerReport {
		lt := licenseTypes[i%len(licenseTypes)]
		start := end.Add(-time.Duration(measurementsPerReport-i) * time.Minute)
		ms = append(ms, smartlic.Measurement{Tag: lt.Tag, Count: finalCount(lt.Tag), Start: start, End: start.Add(time.Minute)})
	}
	return sign.Seal(smartlic.TypeRUMReport, d.id, d.priv, smartlic.RUMReport{ReportID: id, InstanceID: d.id, UDI: d.udi, CreatedAt: end, Measurements: ms})
}

// finalCount is what every instance uses of tag.
func finalCount(tag string) int64 {
	for i, lt := range licenseTypes {
		if lt.Tag == tag {
			return int64(i + 1)
		}
	}
	return 0
}

// verifyRate is how many Ed25519 signatures of a report's size one core
// verifies per second, measured for about a second.
func verifyRate(env smartlic.Envelope, pub ed25519.PublicKey) float64 {
	msg := sign.Message(env.Type, env.Payload)
	n, t0 := 0, time.Now()
	for time.Since(t0) < time.Second {
		for range 100 {
			if !ed25519.Verify(pub, msg, env.Sig) {
				panic("bench: a report's own signature does not verify")
			}
		}
		n += 100
	}
	return float64(n) / time.Since(t0).Seconds()
}

func runUsage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl, err := parseLoadFlags("usage", args, stderr)
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
		r, note, f, err := usageOn(ctx, st, fl, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", st, err)
		}
		rows = append(rows, r...)
		notes = append(notes, note...)
		f.report(stdout, "usage", st, fl.n)
		failed = failed || f.count > 0
	}
	fmt.Fprintln(stdout)
	printTable(stdout, rows)
	fmt.Fprintln(stdout)
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	if failed {
		return errFailures
	}
	return nil
}

func usageOn(ctx context.Context, st string, fl *loadFlags, log io.Writer) (rows []row, notes []string, f *failures, err error) {
	srv, err := startServer(ctx, st, postgresURL(), fl.concurrency)
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() { err = joinClose(err, srv) }()
	sc, err := setupRegistrations(srv)
	if err != nil {
		return nil, nil, nil, err
	}
	devs, err := newDevices(ctx, fl.n)
	if err != nil {
		return nil, nil, nil, err
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
		return nil, nil, nil, err
	}
	fmt.Fprintf(log, "%s: trusted %d instances in %.1fs (not measured)\n", st, fl.n, time.Since(t0).Seconds())

	// Online: one report per request.
	end := time.Now().UTC().Add(-time.Minute)
	envs := make([]smartlic.Envelope, len(devs))
	bodies := make([][]byte, len(devs))
	err = parallel(ctx, len(devs), seedWorkers(), func(i int) error {
		env, err := devs[i].report("online-1", end)
		if err != nil {
			return err
		}
		envs[i] = env
		bodies[i], err = json.Marshal(smartlic.UsageFile{Type: smartlic.FileTypeUsage, Reports: []smartlic.Envelope{env}})
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	verify := verifyRate(envs[0], devs[0].pub)
	if err := srv.warmUp(ctx, fl.concurrency); err != nil {
		return nil, nil, nil, err
	}
	var res loadResult
	err = profiled(fl.profilePath(st, false), log, func() error {
		res, err = srv.postLoad("/device/v1/usage", bodies, fl.concurrency).run(ctx)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	f = &failures{}
	for i, d := range devs {
		switch {
		case res.errs[i] != nil:
			f.add("report %s: %v", d.udi, res.errs[i])
		case res.status[i] != http.StatusOK:
			f.add("report %s: status %d: %s", d.udi, res.status[i], clip(res.bodies[i]))
		default:
			if err := checkAck(res.bodies[i], srv.keys, d); err != nil {
				f.add("report %s: %v", d.udi, err)
			}
		}
	}
	online := summarize("usage report (10 measurements)", st, fl.concurrency, res, f.count)
	rows = append(rows, online)
	f.checkPools(ctx, srv, sc.sa.Domain, int64(fl.n-f.count))

	// Offline: the same instances' next reports in one file.
	end = end.Add(30 * time.Second)
	file := smartlic.UsageFile{Type: smartlic.FileTypeUsage, CreatedAt: end, Reports: make([]smartlic.Envelope, len(devs))}
	err = parallel(ctx, len(devs), seedWorkers(), func(i int) error {
		var err error
		file.Reports[i], err = devs[i].report("offline-1", end)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := json.Marshal(file)
	if err != nil {
		return nil, nil, nil, err
	}
	t0 = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.url+"/api/v1/accounts/"+sc.sa.Domain+"/usage-files?name=bench.json", bytes.NewReader(raw))
	if err != nil {
		return nil, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.apiKey)
	resp, err := srv.client.Do(req)
	if err != nil {
		return nil, nil, nil, err
	}
	ackBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	upload := time.Since(t0)
	if err != nil {
		return nil, nil, nil, err
	}
	var ack smartlic.AckFile
	switch {
	case resp.StatusCode != http.StatusOK:
		f.add("upload: status %d: %s", resp.StatusCode, clip(ackBody))
	case json.Unmarshal(ackBody, &ack) != nil:
		f.add("upload: the answer is not an ACK file")
	case ack.Summary.Accepted != len(devs) || ack.Summary.Rejected != 0 || len(ack.Acks) != len(devs):
		f.add("upload: %+v", ack.Summary)
	}
	rows = append(rows, row{what: fmt.Sprintf("offline usage file (%d reports, %.1f MiB)", len(devs), float64(len(raw))/(1<<20)), store: st, n: len(devs), concurrency: 1,
		elapsed: upload, p50: upload, p90: upload, p99: upload, max: upload})
	notes = append(notes, fmt.Sprintf("%s: ingestion %.0f reports/s over HTTP; Ed25519 verify on one core %.0f/s in this run: %.0f %% of the single-core bound; offline file of %d reports uploaded and acknowledged in %.2f s",
		st, online.throughput(), verify, 100*online.throughput()/verify, len(devs), upload.Seconds()))
	return rows, notes, f, nil
}

// checkAck opens an online answer: an ACK file whose one ACK is signed by
// the manager, about this device, accepting its report.
func checkAck(body []byte, keys sign.KeySet, d *device) error {
	var af smartlic.AckFile
	if err := json.Unmarshal(body, &af); err != nil {
		return err
	}
	if len(af.Acks) != 1 {
		return fmt.Errorf("%d ACKs, want 1 (rejections %+v)", len(af.Acks), af.Rejections)
	}
	var ack smartlic.UsageAck
	if err := sign.Open(af.Acks[0], smartlic.TypeUsageAck, keys, &ack); err != nil {
		return err
	}
	if ack.InstanceID != d.id || len(ack.Accepted) != 1 {
		return fmt.Errorf("ACK %+v is not this report's", ack)
	}
	return nil
}

// checkPools: every accepted instance counts in the account's pools.
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
