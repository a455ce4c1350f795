package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/notify"
	"github.com/smartlic/smartlic/store/storetest"
)

// webhookSink is a customer's webhook endpoint: it records every delivery
// it is sent, by delivery id and by alert.
type webhookSink struct {
	mu         sync.Mutex
	byDelivery map[string]int
	byAlert    map[string]int
	byTag      map[string]int
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev manager.AlertEvent
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.byDelivery[r.Header.Get("Smartlic-Delivery")]++
	s.byAlert[ev.Alert.Key]++
	s.byTag[ev.Alert.LicenseTag]++
	s.mu.Unlock()
}

// count returns how many deliveries arrived for alerts about license tag,
// and the most times any one delivery id or alert arrived.
func (s *webhookSink) count(tag string) (matching, maxPerDelivery, maxPerAlert int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	matching = s.byTag[tag]
	for _, n := range s.byAlert {
		maxPerAlert = max(maxPerAlert, n)
	}
	for _, n := range s.byDelivery {
		maxPerDelivery = max(maxPerDelivery, n)
	}
	return
}

// TestReplicas runs two `smartlic serve` processes on one PostgreSQL
// database, as docs/operations.md deploys them: registrations spread over
// both use one limited token exactly its maximum number of times, the
// event log verifies, one replica runs the background jobs, and when that
// leader is killed the other takes over within seconds and sends what is
// new without sending anything twice.
func TestReplicas(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	keyPath, keys := keyFile(t)

	sink := &webhookSink{byDelivery: map[string]int{}, byAlert: map[string]int{}, byTag: map[string]int{}}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	local, err := notify.ParseAllowCIDRs("--webhook-allow-cidr", []string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	w := seed(t, dsn, keys, manager.WithWebhookPolicy(local))
	w.deposit(t, "network-advantage", 10)
	w.deposit(t, "dna-advantage", 100)
	const maxUses = 30
	tok := w.token(t, maxUses)
	if _, err := w.mgr.CreateWebhook(w.op, saDomain, smartlic.WebhookInput{URL: hook.URL + "/alerts", Description: "NOC"}); err != nil {
		t.Fatal(err)
	}

	args := []string{"--db", dsn, "--secret-key-file", keyPath, "--webhook-allow-cidr", "127.0.0.0/8",
		"--jobs-poll", "200ms", "--alerts-every", "1s", "--webhooks-every", "200ms"}
	const leaderLine = "this replica is the leader"
	a := startServe(t, "replica A", args...)
	eventually(t, 30*time.Second, "replica A leads the background jobs", func() bool { return strings.Contains(a.logs.String(), leaderLine) })
	b := startServe(t, "replica B", args...)
	replicas := []*child{a, b}

	// 45 switches of one rollout, one token good for 30, spread over both
	// replicas and sent at once.
	devs := make([]*device, 45)
	errs := make([]error, len(devs))
	var wg sync.WaitGroup
	for i := range devs {
		devs[i] = newDevice(t, fmt.Sprintf("FOC%05d", i))
		req := devs[i].registerRequest(t, tok.Secret)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = devs[i].register(context.Background(), replicas[i%2].url, req)
		}()
	}
	wg.Wait()
	var registered []*device
	perReplica := [2]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			registered = append(registered, devs[i])
			perReplica[i%2]++
		case smartlic.ErrorCode(err) == smartlic.ETokenExhausted:
		default:
			t.Fatalf("registering %s through %s: %v", devs[i].udi, replicas[i%2].name, err)
		}
	}
	if len(registered) != maxUses {
		t.Fatalf("%d registrations succeeded with a token good for %d", len(registered), maxUses)
	}
	if perReplica[0] == 0 || perReplica[1] == 0 {
		t.Fatalf("registrations per replica %v: both should have served some", perReplica)
	}
	got, err := w.mgr.GetToken(w.op, saDomain, vaName, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Uses != maxUses {
		t.Fatalf("token uses %d, want %d", got.Uses, maxUses)
	}
	instances, _, err := w.mgr.ListInstances(w.op, saDomain, vaName, smartlic.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(instances) != maxUses {
		t.Fatalf("%d instances, want %d", len(instances), maxUses)
	}

	// Every instance uses one network-advantage of the 10 deposited: the
	// leader's alert scan finds the shortage and sends one webhook.
	authorize := func(tag string) {
		t.Helper()
		for i, d := range registered {
			c := replicas[i%2]
			if _, err := client.New(c.url, "").Authorize(context.Background(), d.authRequest(t, smartlic.Usage{LicenseTag: tag, Count: 1})); err != nil {
				t.Fatalf("authorizing %s through %s: %v", d.udi, c.name, err)
			}
		}
	}
	authorize("network-advantage")
	eventually(t, 30*time.Second, "the shortage of network-advantage reaches the webhook from A", func() bool {
		n, _, _ := sink.count("network-advantage")
		return n > 0
	})
	if strings.Contains(b.logs.String(), leaderLine) {
		t.Fatalf("replica B took the lead while A was alive:\n%s", b.logs)
	}

	// The leader dies. B takes the lead within seconds (its poll is
	// 200ms; the lock ends with A's session).
	a.kill(t)
	killed := time.Now()
	eventually(t, 15*time.Second, "replica B takes over the background jobs", func() bool { return strings.Contains(b.logs.String(), leaderLine) })
	t.Logf("replica B led %s after A was killed", time.Since(killed).Round(time.Millisecond))

	// A new shortage, reported through the survivor, reaches the webhook
	// from the new leader; what A sent is not sent again.
	// 30 instances × 4 or 5 dna-advantage = 135 of the 100 deposited.
	for i, d := range registered {
		if _, err := client.New(b.url, "").Authorize(context.Background(), d.authRequest(t,
			smartlic.Usage{LicenseTag: "network-advantage", Count: 1}, smartlic.Usage{LicenseTag: "dna-advantage", Count: int64(4 + i%2)})); err != nil {
			t.Fatalf("authorizing %s through B: %v", d.udi, err)
		}
	}
	eventually(t, 30*time.Second, "the shortage of dna-advantage reaches the webhook", func() bool {
		n, _, _ := sink.count("dna-advantage")
		return n > 0
	})
	// One more scan period and delivery period pass on B, so that a
	// duplicate would have had its chance to arrive.
	raw := storetest.OpenRaw(t, dsn)
	lastScan := func() (at int64) {
		t.Helper()
		if err := raw.QueryRow(`SELECT last_run_at FROM job_runs WHERE name = 'alerts.scan'`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	first := lastScan()
	eventually(t, 30*time.Second, "replica B runs two more alert scans", func() bool { return lastScan() > first+int64(time.Second/time.Microsecond) })
	if _, perDelivery, perAlert := sink.count(""); perDelivery != 1 || perAlert != 1 {
		t.Fatalf("a delivery arrived %d times, an alert %d times; want each once (%v)", perDelivery, perAlert, sink.byAlert)
	}
	w.verifyEvents(t)
}
