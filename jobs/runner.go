// Package jobs runs the manager's periodic work — alert scans with
// immediate notifications, daily and weekly summaries, the webhook
// delivery queue, forgetting device requests past their replay window —
// exactly once across every replica of a deployment.
//
// Two mechanisms make it so. A leader is elected with the store's lock
// (a PostgreSQL advisory lock; an in-process mutex on SQLite), and only the
// leader runs tasks. And every task's last run is recorded in the
// database: a task runs only after claiming its period with a conditional
// UPDATE, so a new leader taking over mid-period does not run it again,
// nor would two leaders should the lock ever be lost without notice.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/notify"
)

// Leader elects the one replica that runs jobs. *store.DB implements it.
type Leader interface {
	TryLeader(ctx context.Context) (release func(), ok bool, err error)
}

// LeaderChecker is a Leader that can tell whether leadership it granted
// is still held (*store.DB: whether the advisory lock's session is alive).
type LeaderChecker interface {
	CheckLeader(ctx context.Context) error
}

// Mailer sends one e-mail. *notify.Mailer implements it.
type Mailer interface {
	Send(ctx context.Context, m notify.Message) error
}

// WebhookSender posts one delivery. *notify.WebhookSender implements it.
type WebhookSender interface {
	Send(ctx context.Context, d smartlic.DueDelivery, now time.Time) smartlic.DeliveryAttempt
}

// Options configure a Runner.
type Options struct {
	Manager *manager.Manager
	Store   smartlic.Store // where task runs are recorded
	Leader  Leader
	Clock   smartlic.Clock
	// Mailer sends notification e-mails; nil turns e-mail off (alerts are
	// still tracked and webhooks still delivered).
	Mailer Mailer
	// HTML adds an HTML alternative to summary e-mails.
	HTML bool
	// Webhooks posts deliveries; nil uses a notify.WebhookSender that
	// reaches public addresses only.
	Webhooks WebhookSender
	Logger   *slog.Logger

	// Task periods; zero means the default.
	AlertEvery   time.Duration // 15 minutes
	SummaryEvery time.Duration // 1 hour: each recipient still gets one per day or week
	WebhookEvery time.Duration // 1 minute
	// ForgetEvery is how often accepted device requests whose replay
	// window has closed are deleted; 10 minutes by default.
	ForgetEvery time.Duration
	// SessionsEvery is how often ended portal sessions and expired device
	// sign-in codes are deleted; 1 hour by default.
	SessionsEvery time.Duration
	// Poll is how often Run ticks; 5 seconds by default. A follower stands
	// for leader at each tick, so this bounds how long the jobs stop when
	// the leader dies. A tick costs a handful of small queries.
	Poll time.Duration
}

// Task is one periodic job.
type Task struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Runner runs the tasks. Drive it with Run in a server, or call Tick
// yourself in tests with a fake clock.
type Runner struct {
	opts  Options
	log   *slog.Logger
	tasks []Task

	mu      sync.Mutex // one Tick at a time
	release func()     // set while this runner is the leader
}

// Task names, as recorded in job_runs.
const (
	TaskAlerts    = "alerts.scan"
	TaskSummaries = "alerts.summaries"
	TaskWebhooks  = "webhooks.deliver"
	TaskForget    = "device_requests.forget"
	TaskSessions  = "sessions.forget"
)

// New returns a runner of the standard tasks.
func New(opts Options) *Runner {
	if opts.Clock == nil {
		opts.Clock = smartlic.SystemClock{}
	}
	if opts.Webhooks == nil {
		opts.Webhooks = notify.NewWebhookSender(notify.DestinationPolicy{})
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.AlertEvery, 15*time.Minute)
	def(&opts.SummaryEvery, time.Hour)
	def(&opts.WebhookEvery, time.Minute)
	def(&opts.ForgetEvery, 10*time.Minute)
	def(&opts.SessionsEvery, time.Hour)
	def(&opts.Poll, 5*time.Second)
	r := &Runner{opts: opts, log: opts.Logger}
	r.tasks = []Task{
		{Name: TaskAlerts, Every: opts.AlertEvery, Run: r.scanAlerts},
		{Name: TaskSummaries, Every: opts.SummaryEvery, Run: r.sendSummaries},
		{Name: TaskWebhooks, Every: opts.WebhookEvery, Run: r.deliverWebhooks},
		{Name: TaskForget, Every: opts.ForgetEvery, Run: r.forgetDeviceRequests},
		{Name: TaskSessions, Every: opts.SessionsEvery, Run: r.forgetSessions},
	}
	return r
}

// Run ticks every Poll until ctx ends, then gives up leadership. It never
// panics and never returns an error: a failing task is logged and tried
// again next period.
func (r *Runner) Run(ctx context.Context) {
	defer r.Close()
	t := time.NewTicker(r.opts.Poll)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("background jobs", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close gives up leadership, if held.
func (r *Runner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.release != nil {
		r.release()
		r.release = nil
	}
}

// Leader reports whether this runner holds the leadership.
func (r *Runner) Leader() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.release != nil
}

// Tick becomes the leader if it can and then runs every task whose period
// has come, claiming each in the database first. It returns the names of
// the tasks it ran; a follower runs nothing. Task errors are logged, not
// returned: the error is for the election and the bookkeeping only.
func (r *Runner) Tick(ctx context.Context) (ran []string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.opts.Leader.(LeaderChecker); ok && r.release != nil {
		if err := c.CheckLeader(ctx); err != nil {
			// The lock went with its session; another replica may lead
			// now. Step down and stand for election again below.
			r.log.Warn("background jobs: lost the leader lock", "error", err)
			r.release()
			r.release = nil
		}
	}
	if r.release == nil {
		release, ok, err := r.opts.Leader.TryLeader(ctx)
		if err != nil || !ok {
			return nil, err
		}
		r.release = release
		r.log.Info("background jobs: this replica is the leader")
	}
	for _, t := range r.tasks {
		now := r.opts.Clock.Now()
		var claimed bool
		err := r.opts.Store.Write(ctx, func(tx smartlic.Tx) error {
			var err error
			claimed, err = tx.ClaimJob(ctx, t.Name, now, now.Add(t.Every))
			return err
		})
		if err != nil {
			return ran, fmt.Errorf("claiming %s: %w", t.Name, err)
		}
		if !claimed {
			continue
		}
		ran = append(ran, t.Name)
		if err := r.safely(ctx, t); err != nil {
			r.log.Error("background job failed", "task", t.Name, "error", err)
		}
	}
	return ran, nil
}

// safely runs a task and turns a panic into an error, so one bad task
// cannot take the server down.
func (r *Runner) safely(ctx context.Context, t Task) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return t.Run(ctx)
}

// forgetDeviceRequests deletes the accepted device requests that can no
// longer be replayed (their sent_at is out of the freshness window), so
// the table holds only about ten minutes of requests.
func (r *Runner) forgetDeviceRequests(ctx context.Context) error {
	n, err := r.opts.Manager.ForgetDeviceRequests(ctx)
	if n > 0 {
		r.log.Debug("forgot expired device requests", "count", n)
	}
	return err
}

// forgetSessions deletes the portal sessions past their idle or absolute
// limit and the expired device sign-in codes: they no longer sign anyone
// in, and the tables would grow with every sign-in otherwise.
func (r *Runner) forgetSessions(ctx context.Context) error {
	n, err := r.opts.Manager.ForgetSessions(ctx)
	if n > 0 {
		r.log.Debug("forgot ended sessions and expired sign-in codes", "count", n)
	}
	return err
}

func (r *Runner) scanAlerts(ctx context.Context) error {
	digests, err := r.opts.Manager.ScanAlerts(ctx)
	r.mail(ctx, digests)
	return err
}

func (r *Runner) sendSummaries(ctx context.Context) error {
	for _, f := range []smartlic.Frequency{smartlic.Daily, smartlic.Weekly} {
		digests, err := r.opts.Manager.DueSummaries(ctx, f)
		r.mail(ctx, digests)
		if err != nil {
			return err
		}
	}
	return nil
}

// mail sends digests. A recipient's period was claimed before sending, so
// a failed e-mail is logged and not retried: e-mail is at most once per
// period, never a storm of repeats from a struggling relay.
func (r *Runner) mail(ctx context.Context, digests []smartlic.Digest) {
	if r.opts.Mailer == nil {
		return
	}
	now := r.opts.Clock.Now()
	for _, d := range digests {
		msg, err := notify.SummaryMessage(d, now, r.opts.HTML)
		if err == nil {
			err = r.opts.Mailer.Send(ctx, msg)
		}
		if err != nil {
			r.log.Error("notification e-mail not sent", "account", d.SmartAccount.Domain, "to", d.Email, "error", err)
			continue
		}
		r.log.Info("notification e-mail sent", "account", d.SmartAccount.Domain, "to", d.Email, "alerts", len(d.Alerts))
	}
}

// maxDeliveriesPerTick bounds one run of the webhook queue.
const maxDeliveriesPerTick = 500

func (r *Runner) deliverWebhooks(ctx context.Context) error {
	done := 0
	for done < maxDeliveriesPerTick {
		due, err := r.opts.Manager.ClaimDueDeliveries(ctx, 50)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		for _, d := range due {
			a := r.opts.Webhooks.Send(ctx, d, r.opts.Clock.Now())
			if ctx.Err() != nil {
				// Shutting down: the endpoint is not at fault. The lease
				// expires and the next leader tries again.
				return ctx.Err()
			}
			got, err := r.opts.Manager.RecordDeliveryAttempt(ctx, d.Delivery, a)
			if smartlic.ErrorCode(err) == smartlic.ENotFound {
				continue // the webhook was deleted meanwhile, and its log with it
			}
			if err != nil {
				return err
			}
			if !a.OK() {
				r.log.Warn("webhook delivery failed", "delivery", d.Delivery.ID, "attempt", got.Attempts, "status", a.StatusCode, "error", a.Error, "next", got.NextAttemptAt)
			}
			done++
		}
	}
	return nil
}
