package jobs_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/jobs"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/notify"
	"github.com/smartlic/smartlic/notify/smtptest"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

var operator = smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@vendor.example", Role: smartlic.RoleOperator})

// allTasks are the standard tasks, in the order a tick runs them.
var allTasks = []string{jobs.TaskAlerts, jobs.TaskSummaries, jobs.TaskWebhooks, jobs.TaskForget, jobs.TaskSessions}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// scene makes a Smart Account whose DEFAULT VA has a subscription ending in
// 20 days (license.expiring_30) and whose Lab VA's licenses have expired
// (license.expired).
func scene(t *testing.T, mgr *manager.Manager, now time.Time) smartlic.SmartAccount {
	t.Helper()
	ctx := operator
	must[smartlic.LicenseType](t)(mgr.CreateLicenseType(ctx, smartlic.LicenseType{Tag: "network-advantage", Name: "Network Advantage", Term: smartlic.TermSubscription}))
	sa := must[smartlic.SmartAccount](t)(mgr.CreateSmartAccount(ctx, smartlic.SmartAccount{Name: "Acme", Domain: "acme.example", Status: smartlic.SAActive}))
	must[smartlic.VirtualAccount](t)(mgr.CreateVirtualAccount(ctx, sa.Domain, smartlic.VirtualAccountInput{Name: "Lab"}))
	dep := func(va string, start, end time.Duration) {
		s, e := now.Add(start), now.Add(end)
		must[smartlic.Deposit](t)(mgr.CreateDeposit(ctx, sa.Domain, va, smartlic.DepositInput{OrderNumber: "PO-" + va, License: "network-advantage", Quantity: 5, StartsAt: &s, EndsAt: &e}))
	}
	dep("DEFAULT", -smartlic.Day, 20*smartlic.Day)
	dep("Lab", -100*smartlic.Day, -10*smartlic.Day)
	return sa
}

// loopbackAllowed lets the test receivers on 127.0.0.1 be reached, as an
// operator's serve --webhook-allow-cidr 127.0.0.1/32 would.
var loopbackAllowed = notify.DestinationPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// hook is a webhook endpoint that verifies every delivery's signature and
// records the signed time of each attempt.
type hook struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	fail   bool
	times  []time.Time // signature times of attempts, in order
	bodies [][]byte
	bad    []string
}

func newHook(t *testing.T, fail bool) *hook {
	h := &hook{fail: fail}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get(notify.SignatureHeader)
		h.mu.Lock()
		defer h.mu.Unlock()
		ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
		sec, _ := strconv.ParseInt(ts, 10, 64)
		at := time.Unix(sec, 0).UTC()
		if err := notify.Verify(h.secret, sig, body, at, time.Second); err != nil {
			h.bad = append(h.bad, err.Error())
		}
		h.times = append(h.times, at)
		h.bodies = append(h.bodies, body)
		if h.fail {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) attempts() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.times)
}

func TestRunnerDeliversAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		db := open(t)
		clock := smartlic.NewFakeClock(epoch)
		mgr := must[*manager.Manager](t)(manager.New(t.Context(), db, clock, manager.WithWebhookPolicy(loopbackAllowed)))
		sa := scene(t, mgr, epoch)

		srv, err := smtptest.Start(smtptest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		host, port := srv.Addr()
		mailer := must[*notify.Mailer](t)(notify.NewMailer(notify.SMTPConfig{Host: host, Port: port, StartTLS: notify.StartTLSNone, From: "smartlic@vendor.example"}))

		must[smartlic.NotificationPreference](t)(mgr.SetNotificationPreference(operator, sa.Domain, smartlic.NotificationPreferenceInput{Email: "ops@acme.example", Frequency: smartlic.Immediate}))
		must[smartlic.NotificationPreference](t)(mgr.SetNotificationPreference(operator, sa.Domain, smartlic.NotificationPreferenceInput{
			Email: "lab@acme.example", Frequency: smartlic.Daily, VirtualAccounts: []string{"Lab"}}))
		good, down := newHook(t, false), newHook(t, true)
		wGood := must[smartlic.Webhook](t)(mgr.CreateWebhook(operator, sa.Domain, smartlic.WebhookInput{URL: good.URL, AlertTypes: []smartlic.AlertType{smartlic.AlertExpiring30}}))
		wDown := must[smartlic.Webhook](t)(mgr.CreateWebhook(operator, sa.Domain, smartlic.WebhookInput{URL: down.URL, AlertTypes: []smartlic.AlertType{smartlic.AlertExpired}}))
		good.secret, down.secret = wGood.Secret, wDown.Secret

		r := jobs.New(jobs.Options{Manager: mgr, Store: db, Leader: db, Clock: clock, Mailer: mailer, Webhooks: notify.NewWebhookSender(loopbackAllowed)})
		defer r.Close()
		tick := func() []string {
			t.Helper()
			ran, err := r.Tick(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return ran
		}

		if ran := tick(); !slices.Equal(ran, allTasks) {
			t.Fatalf("first tick ran %v", ran)
		}
		// The immediate e-mail and the daily summary, each with its alerts.
		msgs := srv.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d e-mails, want 2", len(msgs))
		}
		byTo := map[string]string{}
		for _, m := range msgs {
			pm, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(pm.Body)
			byTo[strings.Join(m.To, ",")] = pm.Header.Get("Subject") + "\n" + string(b)
		}
		if m := byTo["ops@acme.example"]; !strings.Contains(m, "new alerts, 2 alerts (2 critical)") || !strings.Contains(m, "license.expiring_30") || !strings.Contains(m, "license.expired") {
			t.Errorf("immediate e-mail:\n%s", m)
		}
		if m := byTo["lab@acme.example"]; !strings.Contains(m, "daily alert summary, 1 alert (1 critical)") || !strings.Contains(m, "Virtual Account Lab") || strings.Contains(m, "DEFAULT") {
			t.Errorf("daily summary:\n%s", m)
		}

		// The good endpoint got one delivery, signed and well-formed.
		if got := good.attempts(); len(got) != 1 || !got[0].Equal(epoch) || len(good.bad) != 0 {
			t.Fatalf("good endpoint attempts %v, bad signatures %v", got, good.bad)
		}
		var ev manager.AlertEvent
		if err := json.Unmarshal(good.bodies[0], &ev); err != nil || ev.Alert.Type != smartlic.AlertExpiring30 || ev.Event != "alert.raised" {
			t.Fatalf("delivery body %s (%v)", good.bodies[0], err)
		}

		// Nothing is due again at the same moment.
		if ran := tick(); len(ran) != 0 {
			t.Fatalf("second tick at the same time ran %v", ran)
		}
		// The failing endpoint is retried after 1, 2, 4 minutes: tick
		// every minute and watch the attempts land on the backoff.
		for range 10 {
			clock.Advance(time.Minute)
			tick()
		}
		want := []time.Time{epoch, epoch.Add(time.Minute), epoch.Add(3 * time.Minute), epoch.Add(7 * time.Minute)}
		if got := down.attempts(); !slices.EqualFunc(got, want, time.Time.Equal) || len(down.bad) != 0 {
			t.Fatalf("failing endpoint attempts at %v, want %v (bad signatures %v)", got, want, down.bad)
		}
		ds := must[[]smartlic.WebhookDelivery](t)(func() ([]smartlic.WebhookDelivery, error) {
			d, _, err := mgr.ListWebhookDeliveries(operator, sa.Domain, wDown.ID, smartlic.Page{})
			return d, err
		}())
		if len(ds) != 1 {
			t.Fatalf("delivery log %+v", ds)
		}
		d := ds[0]
		if d.Status != smartlic.DeliveryPending || d.Attempts != 4 || d.LastStatus != 503 || !strings.Contains(d.LastError, "503") ||
			!d.LastAttemptAt.Equal(epoch.Add(7*time.Minute)) || !d.NextAttemptAt.Equal(epoch.Add(15*time.Minute)) {
			t.Fatalf("delivery log entry %+v", d)
		}
		// The endpoint recovers: the next attempt succeeds and ends the retries.
		down.mu.Lock()
		down.fail = false
		down.mu.Unlock()
		clock.Set(epoch.Add(15 * time.Minute))
		tick()
		d = must[[]smartlic.WebhookDelivery](t)(func() ([]smartlic.WebhookDelivery, error) {
			d, _, err := mgr.ListWebhookDeliveries(operator, sa.Domain, wDown.ID, smartlic.Page{})
			return d, err
		}())[0]
		if d.Status != smartlic.DeliverySucceeded || d.Attempts != 5 || d.LastStatus != 200 || d.NextAttemptAt != nil {
			t.Fatalf("after recovery %+v", d)
		}
		// The alert scan ran again (15 minutes on) and sent nothing new.
		if n := len(srv.Messages()); n != 2 {
			t.Fatalf("%d e-mails after later scans, want still 2", n)
		}
		if n := len(good.attempts()); n != 1 {
			t.Fatalf("good endpoint got %d deliveries, want 1", n)
		}
	})
}

// TestRunnerRefusesInternalDestination: a webhook whose address turns
// out to be internal when it is dialled (a name rebound after it was
// saved; here the save-time policy is looser than the sender's) gets no
// delivery, and its log says only that the destination is not allowed,
// nothing of what listens there.
func TestRunnerRefusesInternalDestination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		db := open(t)
		clock := smartlic.NewFakeClock(epoch)
		mgr := must[*manager.Manager](t)(manager.New(t.Context(), db, clock, manager.WithWebhookPolicy(loopbackAllowed)))
		sa := scene(t, mgr, epoch)
		internal := newHook(t, false)
		w := must[smartlic.Webhook](t)(mgr.CreateWebhook(operator, sa.Domain, smartlic.WebhookInput{URL: internal.URL + "/admin"}))

		r := jobs.New(jobs.Options{Manager: mgr, Store: db, Leader: db, Clock: clock}) // the default sender
		defer r.Close()
		if _, err := r.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(internal.attempts()); n != 0 {
			t.Fatalf("the internal endpoint got %d deliveries", n)
		}
		ds, _, err := mgr.ListWebhookDeliveries(operator, sa.Domain, w.ID, smartlic.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2 {
			t.Fatalf("delivery log %+v, want the two alerts", ds)
		}
		for _, d := range ds {
			if d.Attempts != 1 || d.LastStatus != 0 || d.LastError != notify.DestinationNotAllowed || d.Status != smartlic.DeliveryPending {
				t.Errorf("delivery log entry %+v", d)
			}
		}
	})
}

// TestLeaderElection runs two replicas' runners on one database: only the
// leader runs tasks; a new leader taking over does not rerun what the old
// one ran; racing ticks run each task once.
func TestLeaderElection(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		testLeaderElection(t, storetest.Open(t, dsn), storetest.Open(t, dsn))
	})
	t.Run("sqlite", func(t *testing.T) {
		db := storetest.OpenSQLite(t)
		testLeaderElection(t, db, db) // one process owns the file: two runners in it
	})
}

func testLeaderElection(t *testing.T, db1, db2 *store.DB) {
	clock := smartlic.NewFakeClock(epoch)
	m1 := must[*manager.Manager](t)(manager.New(t.Context(), db1, clock))
	m2 := must[*manager.Manager](t)(manager.New(t.Context(), db2, clock))
	r1 := jobs.New(jobs.Options{Manager: m1, Store: db1, Leader: db1, Clock: clock})
	r2 := jobs.New(jobs.Options{Manager: m2, Store: db2, Leader: db2, Clock: clock})
	defer r1.Close()
	defer r2.Close()

	// Racing first ticks: each task runs exactly once between them.
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for _, r := range []*jobs.Runner{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ran, err := r.Tick(t.Context())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			for _, n := range ran {
				counts[n]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, n := range allTasks {
		if counts[n] != 1 {
			t.Fatalf("task %s ran %d times, want 1 (%v)", n, counts[n], counts)
		}
	}
	if r1.Leader() == r2.Leader() {
		t.Fatalf("leaders: r1 %v, r2 %v; want exactly one", r1.Leader(), r2.Leader())
	}
	leader, follower := r1, r2
	if r2.Leader() {
		leader, follower = r2, r1
	}
	clock.Advance(time.Hour)
	if ran, err := follower.Tick(t.Context()); err != nil || len(ran) != 0 || follower.Leader() {
		t.Fatalf("follower ran %v (%v)", ran, err)
	}
	// The leader steps down before running this period; the follower takes
	// over and runs it, once.
	leader.Close()
	ran, err := follower.Tick(t.Context())
	if err != nil || !follower.Leader() || len(ran) != len(allTasks) {
		t.Fatalf("new leader ran %v (%v, leader %v)", ran, err, follower.Leader())
	}
	// The old leader cannot come back while the new one holds the lock,
	// and nothing it would run is due anyway.
	if ran, err := leader.Tick(t.Context()); err != nil || len(ran) != 0 || leader.Leader() {
		t.Fatalf("old leader ran %v (%v)", ran, err)
	}
}

type panickingMailer struct{}

func (panickingMailer) Send(context.Context, notify.Message) error { panic("relay exploded") }

// TestRunnerSurvivesPanics: a task that panics is logged and the runner
// goes on; Run returns when its context ends and gives up leadership.
func TestRunnerSurvivesPanics(t *testing.T) {
	db := storetest.OpenSQLite(t)
	clock := smartlic.NewFakeClock(epoch)
	mgr := must[*manager.Manager](t)(manager.New(t.Context(), db, clock))
	sa := scene(t, mgr, epoch)
	must[smartlic.NotificationPreference](t)(mgr.SetNotificationPreference(operator, sa.Domain, smartlic.NotificationPreferenceInput{Email: "ops@acme.example", Frequency: smartlic.Immediate}))
	r := jobs.New(jobs.Options{Manager: mgr, Store: db, Leader: db, Clock: clock, Mailer: panickingMailer{}})
	ran, err := r.Tick(t.Context())
	if err != nil || len(ran) != len(allTasks) {
		t.Fatalf("tick ran %v (%v)", ran, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r.Run(ctx) // one tick, then returns
	if r.Leader() {
		t.Fatal("still leader after Run returned")
	}
	other := jobs.New(jobs.Options{Manager: mgr, Store: db, Leader: db, Clock: clock})
	defer other.Close()
	if _, err := other.Tick(t.Context()); err != nil || !other.Leader() {
		t.Fatalf("another runner cannot lead after Run returned: %v", err)
	}
}

// TestLeaderLosesLock cuts the leader's lock session, as a server restart
// or a partition would: another replica takes over, and the old leader
// notices at its next tick and steps down instead of leading beside it.
func TestLeaderLosesLock(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	db1, db2 := storetest.Open(t, dsn), storetest.Open(t, dsn)
	clock := smartlic.NewFakeClock(epoch)
	r1 := jobs.New(jobs.Options{Manager: must[*manager.Manager](t)(manager.New(t.Context(), db1, clock)), Store: db1, Leader: db1, Clock: clock})
	r2 := jobs.New(jobs.Options{Manager: must[*manager.Manager](t)(manager.New(t.Context(), db2, clock)), Store: db2, Leader: db2, Clock: clock})
	defer r1.Close()
	defer r2.Close()
	if _, err := r1.Tick(t.Context()); err != nil || !r1.Leader() {
		t.Fatalf("r1 not leader: %v", err)
	}

	// End the session holding this schema's jobs lock.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	admin, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The timeout makes pg_terminate_backend wait until the session has
	// ended and its lock is gone, rather than only signal it.
	var killed int
	err = admin.QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid, 30000)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 2
		AND classid::bigint = (hashtext('smartlic.jobs')::bigint + 4294967296) % 4294967296
		AND objid::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296`, schema).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d sessions (%v), want 1", killed, err)
	}

	clock.Advance(time.Hour)
	if ran, err := r2.Tick(t.Context()); err != nil || !r2.Leader() || len(ran) != len(allTasks) {
		t.Fatalf("r2 after the cut: ran %v, leader %v, %v", ran, r2.Leader(), err)
	}
	if ran, err := r1.Tick(t.Context()); err != nil || r1.Leader() || len(ran) != 0 {
		t.Fatalf("old leader after the cut: ran %v, leader %v, %v", ran, r1.Leader(), err)
	}
}
