package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestCrashSafety kills `smartlic serve` with SIGKILL at random points of
// a rollout (registrations and authorizations in flight), restarts it on
// the same database, and lets every device retry what it got no answer
// to — the same signed request, as a device does. At the end: every
// request answered 2xx is there exactly once, a retried request is
// answered, never refused as a duplicate, token uses equal instances,
// pool counters equal a recount from the usage rows, and the event log
// verifies.
func TestCrashSafety(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testCrashSafety(t, storetest.SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { testCrashSafety(t, storetest.PostgresDSN(t)) })
}

// rolloutDevice is one switch of the rollout and where it stands.
type rolloutDevice struct {
	*device
	registered, authorized bool
	// pending is the request the device sent without getting an answer;
	// it sends exactly this again.
	pending *smartlic.Envelope
}

// usageOf is what every device of the rollout uses.
var usageOf = []smartlic.Usage{{LicenseTag: "network-advantage", Count: 1}, {LicenseTag: "dna-advantage", Count: 2}}

func testCrashSafety(t *testing.T, dsn string) {
	keyPath, keys := keyFile(t)
	w := seed(t, dsn, keys)
	w.deposit(t, "network-advantage", 1000)
	w.deposit(t, "dna-advantage", 1000)
	tok := w.token(t, 100000)

	devs := make([]*rolloutDevice, 120)
	for i := range devs {
		devs[i] = &rolloutDevice{device: newDevice(t, fmt.Sprintf("CRASH%05d", i))}
	}
	args := []string{"--db", dsn, "--secret-key-file", keyPath, "--jobs=false"}

	var retries atomic.Int64 // requests sent again after a lost answer
	// step moves one device one step on: it registers, then asks for its
	// authorization. It reports whether the server answered (any answer
	// but a transport error). A refusal of a retried request fails the
	// test: the request was valid the first time.
	step := func(url string, d *rolloutDevice) (answered bool) {
		ctx := context.Background()
		if d.pending == nil {
			var req smartlic.Envelope
			if !d.registered {
				req = d.registerRequest(t, tok.Secret)
			} else {
				req = d.authRequest(t, usageOf...)
			}
			d.pending = &req
		}
		var err error
		if !d.registered {
			err = d.register(ctx, url, *d.pending)
		} else {
			_, err = client.New(url, "").Authorize(ctx, *d.pending)
		}
		var apiErr *smartlic.Error
		switch {
		case err == nil:
			if d.registered {
				d.authorized = true
			}
			d.registered = true
			d.pending = nil
			return true
		case errors.As(err, &apiErr) && apiErr.Code != smartlic.EInternal:
			t.Errorf("%s: the server refused a request it had not answered: %v", d.udi, err)
			return true
		default:
			retries.Add(1)
			return false // the server died under it; the device retries
		}
	}

	rng := rand.New(rand.NewPCG(uint64(len(dsn)), 7))
	for round := range 4 {
		srv := startServe(t, fmt.Sprintf("server (round %d)", round), args...)
		killAt := int64(10 + rng.IntN(50)) // answers before the kill
		var answers atomic.Int64
		var once sync.Once
		var wg sync.WaitGroup
		work := make(chan *rolloutDevice)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range work {
					if step(srv.url, d) && answers.Add(1) == killAt {
						once.Do(func() { go srv.kill(t) })
					}
				}
			}()
		}
		for _, d := range devs {
			if !d.authorized {
				select {
				case work <- d:
				case <-srv.exited:
				}
			}
			if t.Failed() {
				break
			}
		}
		close(work)
		wg.Wait()
		once.Do(func() { srv.kill(t) })
		if t.Failed() {
			return
		}
	}

	// The last start: every device finishes, retrying first what it sent
	// into a dying server.
	srv := startServe(t, "server (after the crashes)", args...)
	for _, d := range devs {
		for !d.authorized {
			if !step(srv.url, d) {
				t.Fatalf("%s: no answer from a running server", d.udi)
			}
			if t.Failed() {
				return
			}
		}
	}

	t.Logf("%d requests lost their answer to a kill and were sent again", retries.Load())
	if retries.Load() == 0 {
		t.Fatal("no request was in flight when the server was killed: the test proved nothing")
	}

	instances, _, err := w.mgr.ListInstances(w.op, saDomain, vaName, smartlic.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byUDI := map[string]string{}
	for _, in := range instances {
		if _, dup := byUDI[in.UDI.String()]; dup {
			t.Fatalf("%s registered twice", in.UDI)
		}
		byUDI[in.UDI.String()] = in.ID
	}
	for _, d := range devs {
		if byUDI[d.udi.String()] != d.id {
			t.Fatalf("%s: instance %q in the database, %q in the device's ID certificate", d.udi, byUDI[d.udi.String()], d.id)
		}
	}
	if len(instances) != len(devs) {
		t.Fatalf("%d instances for %d devices", len(instances), len(devs))
	}
	got, err := w.mgr.GetToken(w.op, saDomain, vaName, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Uses != int64(len(devs)) {
		t.Fatalf("token used %d times for %d instances", got.Uses, len(devs))
	}

	// Pool counters, as kept, against a recount from the usage rows, and
	// against what the devices were authorized to use.
	raw := storetest.OpenRaw(t, dsn)
	rows, err := raw.Query(`SELECT lt.tag, p.in_use,
		(SELECT coalesce(sum(u.count), 0) FROM instance_usage u JOIN instances i ON i.id = u.instance_id
		 WHERE i.va_id = p.va_id AND u.license_type_id = p.license_type_id AND u.status <> 'not_authorized')
		FROM pools p JOIN license_types lt ON lt.id = p.license_type_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]int64{}
	for _, u := range usageOf {
		want[u.LicenseTag] = u.Count * int64(len(devs))
	}
	for rows.Next() {
		var tag string
		var kept, recount int64
		if err := rows.Scan(&tag, &kept, &recount); err != nil {
			t.Fatal(err)
		}
		if kept != recount || kept != want[tag] {
			t.Errorf("pool %s: in use %d as kept, %d recounted, %d authorized", tag, kept, recount, want[tag])
		}
		delete(want, tag)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(want) != 0 {
		t.Errorf("no pool row for %v", want)
	}
	w.verifyEvents(t)
}
