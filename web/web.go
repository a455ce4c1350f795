// Package web is the portal: server-rendered pages for the people who run
// Smart Accounts and the vendor operator who runs the catalogue.
//
// Every page loads what it shows through the same service methods as the
// REST API (the manager implements them), so a rule, a query or a role
// check exists once, in the manager. Templates and static files are
// embedded and parsed once, at start-up; pages work without JavaScript,
// and the little there is (local times, the copy button) only improves
// them.
//
// A page is one handler and one template:
//
//	h.page("GET /sa/{sa}/va/{va}/licenses", h.licensesPage)
//
//	func (h *Handler) licensesPage(w http.ResponseWriter, r *http.Request, s *Session) error {
//		pools, err := h.svc.ListPools(r.Context(), r.PathValue("sa"), r.PathValue("va"), false)
//		if err != nil {
//			return err // not_found → 404 page, forbidden → 403 page, …
//		}
//		return h.render(w, r, http.StatusOK, "licenses", &licensesView{Shell: shell, Pools: pools})
//	}
//
// See docs/portal.md for the conventions.
package web

import (
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
)

// Services is what the portal calls. The manager implements all of it;
// the set is the API's (httpapi.Services) plus SetupService, so a new page
// calls what the API calls without widening this interface.
type Services interface {
	smartlic.CatalogService
	smartlic.AccountService
	smartlic.LicenseService
	smartlic.TokenService
	smartlic.InstanceService
	smartlic.AuthService
	smartlic.EventService
	smartlic.UserService
	smartlic.TransferService
	smartlic.ReportService
	smartlic.HistoryService
	smartlic.AlertService
	smartlic.ConversionService
	smartlic.SearchService
	smartlic.SetupService
	smartlic.DeviceAuthService
	smartlic.IdentityService
	smartlic.PolicyService
	smartlic.ReservationService
	smartlic.SLACService
	smartlic.UsageService
}

// SignInLimiter reserves one sign-in attempt of the client that sent r
// for email, or refuses it with a rate_limited error; done reports whether
// the attempt succeeded (only failures count). httpapi.Server is one, so
// the portal and the API share one budget.
type SignInLimiter interface {
	LimitSignIn(r *http.Request, email string) (done func(success bool), err error)
}

// Options configure the portal.
type Options struct {
	// Logger receives one line per request and the causes of internal
	// errors. Nil discards them.
	Logger *slog.Logger
	// Limiter limits sign-in attempts. Nil does not limit; serve always
	// passes the API server.
	Limiter SignInLimiter
	// Clock tells token states (active, expired) apart; nil is the system
	// clock. Tests pass the manager's fake clock.
	Clock smartlic.Clock
	// SetupHint is shown on the sign-in page while no user exists, e.g.
	// the command that creates the first operator for this database.
	SetupHint string
	// SSO is the OpenID provider of "Sign in with …" (sso.Provider); nil
	// offers the password form only.
	SSO SSO
}

// Handler is the portal as an http.Handler.
type Handler struct {
	svc   Services
	log   *slog.Logger
	limit SignInLimiter
	clock smartlic.Clock
	hint  string
	sso   SSO
	tmpl  *templates
	mux   *http.ServeMux
}

// New returns the portal over svc. It panics if the embedded templates do
// not parse: they are part of the binary, so that is a build defect that
// every test would catch.
func New(svc Services, opts Options) *Handler {
	h := &Handler{svc: svc, log: opts.Logger, limit: opts.Limiter, clock: opts.Clock, hint: opts.SetupHint, sso: opts.SSO, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.clock == nil {
		h.clock = smartlic.SystemClock{}
	}
	t, err := parseTemplates(template.FuncMap{"clockNote": h.clockNote})
	if err != nil {
		panic(err)
	}
	h.tmpl = t
	h.routes()
	return h
}

// clockNote warns, on every page, of a clock moved by serve
// --clock-offset: what the portal shows is as of another day than the
// reader's.
func (h *Handler) clockNote() string {
	c, ok := h.clock.(smartlic.OffsetClock)
	if !ok || c.Offset == 0 {
		return ""
	}
	way, d := "ahead", c.Offset
	if d < 0 {
		way, d = "back", -d
	}
	return fmt.Sprintf("This server's clock is moved %s %s (serve --clock-offset, for demos and trials): here it is %s.",
		offsetText(d), way, c.Now().Format("2 January 2006, 15:04 UTC"))
}

// offsetText is d in days when it is whole days, else as Go writes it.
func offsetText(d time.Duration) string {
	if d%smartlic.Day == 0 {
		if n := d / smartlic.Day; n != 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	}
	return d.String()
}

// Mux serves the portal at / beside the API, which keeps /api/, /device/
// and /healthz (httpapi.Serves). Not a ServeMux: it would answer an
// unclean API path (/api/v1/x/../y) with a redirect and an HTML body
// before the API could answer it in its error shape.
func Mux(api, portal http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpapi.Serves(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		portal.ServeHTTP(w, r)
	})
}

// ServeHTTP sets the security headers every answer carries, assigns the
// request id the event log records, and logs one line per request: method,
// route pattern, status, duration, request id. Never the query or a form.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := uuid.NewString()
	hd := w.Header()
	hd.Set("X-Request-Id", id)
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	r = r.WithContext(smartlic.WithRequestID(r.Context(), id))
	_, pattern := h.mux.Handler(r)
	rec := &statusRecorder{ResponseWriter: w}
	h.mux.ServeHTTP(rec, r)
	level := slog.LevelInfo
	if rec.status >= 500 {
		level = slog.LevelError
	}
	h.log.LogAttrs(r.Context(), level, "portal request",
		slog.String("method", r.Method), slog.String("pattern", pattern), slog.Int("status", rec.status),
		slog.Duration("duration", time.Since(start)), slog.String("request_id", id))
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// scripts and styles are the embedded files, forms post only here, and no
// other site may frame a page.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
