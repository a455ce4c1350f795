package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/web"
)

// Version is stamped at build time with -ldflags.
var Version = "dev"

func newServeCmd(e *env) *cobra.Command {
	var addr, dsn, keyFile string
	var demo bool
	var offset clockOffset
	var jf jobFlags
	var of oidcFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the license manager: web portal, REST API and device protocol",
		Long: `Run the license manager. The database is an SQLite file by default
(created if missing) or PostgreSQL when --db is a postgres:// URL. Migrations
run at start-up. With --demo the database is seeded with a demo catalogue,
Smart Account, Virtual Accounts, deposits, a token and registered instances,
and an operator API key is printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), e, addr, dsn, keyFile, demo, offset.clock(), &jf, &of)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "host:port to listen on (port 0 picks a free port)")
	cmd.Flags().StringVar(&dsn, "db", "smartlic.db", "SQLite file path or postgres:// URL")
	cmd.Flags().BoolVar(&demo, "demo", false, "seed demo data and print an operator API key")
	addSecretKeyFlag(cmd, &keyFile)
	offset.register(cmd, false, "the manager")
	jf.register(cmd)
	of.register(cmd)
	return cmd
}

// createOperatorHint is the command that makes the first operator of the
// database dsn, for the banner and the sign-in page. A PostgreSQL URL may
// hold a password, so it is not repeated.
func createOperatorHint(dsn string) string {
	db := dsn
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db = "'postgres://…' --secret-key-file FILE"
	}
	return "smartlic admin create-operator --db " + db + " --email you@example.com"
}

func serve(ctx context.Context, e *env, addr, dsn, keyFile string, demo bool, clock smartlic.Clock, jf *jobFlags, of *oidcFlags) error {
	// The request log is quiet while --demo seeds through the API, so
	// that the banner (users, operator key, export line) is the last thing
	// a newcomer sees, not buried under the seeding's requests.
	var logLevel slog.LevelVar
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: &logLevel}))
	if err := jf.checkPeriods(); err != nil {
		return err
	}
	tuneGC(e.getenv)
	mailer, err := jf.mailer()
	if err != nil {
		return err
	}
	webhooks, err := jf.webhookPolicy()
	if err != nil {
		return err
	}
	of.fromEnv(e)
	if err := of.checkPublicURL(); err != nil {
		return err
	}
	for _, f := range store.ReadableByOthers(dsn) {
		log.Warn("database file is readable by other users; it holds every account's data: chmod 600 it", "file", f)
	}
	st, err := openStore(ctx, e, dsn, keyFile, func(format string, args ...any) { fmt.Fprintf(e.stdout, format+"\n", args...) })
	if err != nil {
		return err
	}
	defer st.Close()
	if c, ok := clock.(smartlic.OffsetClock); ok {
		log.Warn("the clock is moved: every time the manager signs, stores or checks is off by this much (demos and trials only; devices must be moved alike)",
			"clock_offset", c.Offset.String(), "now", c.Now().Format(time.RFC3339))
	}
	mgr, err := manager.New(ctx, st, clock, manager.WithWebhookPolicy(webhooks))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return smartlic.Invalid("addr", "cannot listen on %s: %v", addr, err)
	}
	url := "http://" + ln.Addr().String()
	provider, err := of.provider(ctx, of.public(url), st.SecretKeys())
	if err != nil {
		ln.Close()
		return err
	}
	api := httpapi.New(mgr, httpapi.Options{Logger: log, Version: Version, PublicURL: of.publicURL, Clock: clock})
	hint := createOperatorHint(dsn)
	portalOpts := web.Options{Logger: log, Limiter: api, SetupHint: hint, Clock: clock}
	if provider != nil {
		portalOpts.SSO = provider
		log.Info("single sign-on on", "issuer", provider.Issuer(), "name", provider.Name())
	}
	portal := web.New(mgr, portalOpts)
	srv := &http.Server{
		Handler:           web.Mux(api, portal),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(e.stdout, "smartlic %s listening on %s (database: %s)\n", Version, url, store.Describe(dsn))
	fmt.Fprintf(e.stdout, "Portal: %s/   API: %s/api/v1   OpenAPI: %s/api/v1/openapi.json\n", url, url, url)
	if !demo {
		if has, err := mgr.HasUsers(ctx); err == nil && !has {
			fmt.Fprintf(e.stdout, "\nNo user can sign in yet. Create the vendor operator:\n  %s\n"+
				"then sign in at %s/ with that e-mail and the printed key as the password.\n", hint, url)
		}
	}
	if demo {
		logLevel.Set(slog.LevelWarn)
		err := seedDemo(ctx, e, mgr, url)
		logLevel.Set(slog.LevelInfo)
		if err != nil {
			srv.Close()
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	jobsCtx, stopJobs := context.WithCancel(ctx)
	waitJobs := jf.start(jobsCtx, log, st, mgr, mailer)
	defer waitJobs()
	defer stopJobs()
	// Every replica, not only the one running jobs, picks up a rotated key.
	keysFresh := make(chan struct{})
	go func() {
		defer close(keysFresh)
		mgr.KeepKeysFresh(jobsCtx, time.Minute, func(err error) { log.Warn("refreshing signing keys", "err", err) })
	}()
	defer func() { <-keysFresh }()
	if e.ready != nil {
		e.ready(url)
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
