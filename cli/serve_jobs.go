package cli

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/jobs"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/notify"
	"github.com/smartlic/smartlic/store"
)

// jobFlags configure the background jobs and the mail relay of serve.
// The SMTP password is read from a file only: a password on the command
// line would show in the process list and in shell history.
type jobFlags struct {
	enabled      bool
	smtpHost     string
	smtpPort     int
	smtpStartTLS string
	smtpUser     string
	smtpPassFile string
	smtpFrom     string
	smtpHTML     bool
	webhookAllow []string
	poll         time.Duration
	alertsEvery  time.Duration
	webhookEvery time.Duration
	// webhooks is webhookAllow parsed, set by webhookPolicy.
	webhooks notify.DestinationPolicy
}

func (j *jobFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&j.enabled, "jobs", true, "run background jobs (alert scans, e-mails, webhooks); one replica is elected to run them")
	fl.StringVar(&j.smtpHost, "smtp-host", "", "mail relay for notification e-mails (none: e-mail off)")
	fl.IntVar(&j.smtpPort, "smtp-port", 587, "mail relay port")
	fl.StringVar(&j.smtpStartTLS, "smtp-starttls", "required", "STARTTLS: required, opportunistic or none")
	fl.StringVar(&j.smtpUser, "smtp-username", "", "AUTH PLAIN user name (needs --smtp-password-file)")
	fl.StringVar(&j.smtpPassFile, "smtp-password-file", "", "file holding the AUTH PLAIN password")
	fl.StringVar(&j.smtpFrom, "smtp-from", "", "sender address of notification e-mails")
	fl.BoolVar(&j.smtpHTML, "smtp-html", true, "add an HTML alternative to summary e-mails")
	fl.DurationVar(&j.poll, "jobs-poll", 5*time.Second, "how often each replica stands for leader and runs the jobs that are due: a dead leader is replaced within about this long")
	fl.DurationVar(&j.alertsEvery, "alerts-every", 15*time.Minute, "how often the leader scans every account for alerts")
	fl.DurationVar(&j.webhookEvery, "webhooks-every", time.Minute, "how often the leader sends the webhook deliveries that are due")
	fl.StringArrayVar(&j.webhookAllow, "webhook-allow-cidr", nil, "let webhooks reach this non-public address range, e.g. 10.1.0.0/16 (repeatable; default: public addresses only)")
}

// webhookPolicy parses --webhook-allow-cidr into the policy that both the
// manager (when a webhook is saved) and the sender (when it dials) apply.
func (j *jobFlags) webhookPolicy() (notify.DestinationPolicy, error) {
	p, err := notify.ParseAllowCIDRs("--webhook-allow-cidr", j.webhookAllow)
	j.webhooks = p
	return p, err
}

// checkPeriods refuses job periods that would hammer the database or
// never run.
func (j *jobFlags) checkPeriods() error {
	for _, p := range []struct {
		flag string
		d    time.Duration
	}{{"--jobs-poll", j.poll}, {"--alerts-every", j.alertsEvery}, {"--webhooks-every", j.webhookEvery}} {
		if p.d < 100*time.Millisecond || p.d > 24*time.Hour {
			return smartlic.Invalid(p.flag, "must be between 100ms and 24h (got %s)", p.d)
		}
	}
	return nil
}

// mailer checks the SMTP flags and returns the mailer, nil when e-mail is
// off. It runs before the server starts, so a bad flag stops start-up.
func (j *jobFlags) mailer() (*notify.Mailer, error) {
	if j.smtpHost == "" {
		if j.smtpUser != "" || j.smtpPassFile != "" || j.smtpFrom != "" {
			return nil, smartlic.Invalid("--smtp-host", "is required when other --smtp flags are set")
		}
		return nil, nil
	}
	mode, err := notify.ParseStartTLS(j.smtpStartTLS)
	if err != nil {
		return nil, smartlic.Invalid("--smtp-starttls", "must be required, opportunistic or none (got %q)", j.smtpStartTLS)
	}
	if j.smtpPort < 1 || j.smtpPort > 65535 {
		return nil, smartlic.Invalid("--smtp-port", "must be between 1 and 65535 (got %d)", j.smtpPort)
	}
	if j.smtpFrom == "" {
		return nil, smartlic.Invalid("--smtp-from", "is required with --smtp-host")
	}
	cfg := notify.SMTPConfig{Host: j.smtpHost, Port: j.smtpPort, StartTLS: mode, Username: j.smtpUser, From: j.smtpFrom}
	if (j.smtpUser == "") != (j.smtpPassFile == "") {
		return nil, smartlic.Invalid("--smtp-password-file", "--smtp-username and --smtp-password-file go together")
	}
	if j.smtpPassFile != "" {
		b, err := os.ReadFile(j.smtpPassFile)
		if err != nil {
			// The error names the file, never its content.
			return nil, smartlic.Invalid("--smtp-password-file", "cannot read %s: %v", j.smtpPassFile, err)
		}
		cfg.Password = strings.TrimRight(string(b), "\r\n")
	}
	m, err := notify.NewMailer(cfg)
	if err != nil {
		return nil, smartlic.Invalid("--smtp-host", "%v", err)
	}
	return m, nil
}

// start runs the jobs runner until ctx ends. It returns at once; the
// runner logs its own failures and never panics out of its goroutine.
func (j *jobFlags) start(ctx context.Context, log *slog.Logger, st *store.DB, mgr *manager.Manager, mailer *notify.Mailer) (wait func()) {
	if !j.enabled {
		return func() {}
	}
	opts := jobs.Options{Manager: mgr, Store: st, Leader: st, Clock: mgr.Clock(), HTML: j.smtpHTML, Logger: log,
		Webhooks: notify.NewWebhookSender(j.webhooks),
		Poll:     j.poll, AlertEvery: j.alertsEvery, WebhookEvery: j.webhookEvery}
	if mailer != nil {
		opts.Mailer = mailer
		log.Info("notification e-mail on", "relay", j.smtpHost, "port", j.smtpPort, "starttls", j.smtpStartTLS, "from", j.smtpFrom, "auth", j.smtpUser != "")
	}
	r := jobs.New(opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				log.Error("background jobs stopped", "panic", p)
			}
		}()
		r.Run(ctx)
	}()
	return func() { <-done }
}
