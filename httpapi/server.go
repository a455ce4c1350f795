// Package httpapi is the REST API of the license manager: the catalogue,
// Smart and Virtual Accounts, deposits, pools, tokens and instances under
// /api/v1 (API key required), and the device protocol under /device/v1
// (the signed envelope is the credential).
//
// Routes are huma operations on a Go 1.22+ http.ServeMux, so the OpenAPI
// document served at /api/v1/openapi.json is generated from the handlers
// themselves. Handlers decode, call one service method and encode; every
// error, wherever it is detected, answers in one shape:
//
//	{"error":{"code":"not_found","message":"…","field":"…"}}
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Services is everything the API serves. The manager implements all of it.
type Services interface {
	smartlic.CatalogService
	smartlic.AccountService
	smartlic.LicenseService
	smartlic.TokenService
	smartlic.InstanceService
	smartlic.DeviceService
	smartlic.AuthService
	smartlic.EventService
	smartlic.UserService
	smartlic.TransferService
	smartlic.ReportService
	smartlic.HistoryService
	smartlic.AlertService
	smartlic.ConversionService
	smartlic.SearchService
	smartlic.DeviceAuthService
	smartlic.PolicyService
	smartlic.SLACService
	smartlic.IdentityService
	smartlic.UsageService
	smartlic.ReservationService
}

// Options configure the server.
type Options struct {
	// Logger receives one line per request and the causes of internal
	// errors. Nil discards them.
	Logger *slog.Logger
	// Version is the server's version, shown in the OpenAPI document.
	Version string
	// Clock times the sign-in rate limits; the system clock when nil.
	Clock smartlic.Clock
	// PublicURL is where users reach the server (serve --public-url), with
	// no path: a device sign-in's verification URI is then absolute, as
	// RFC 8628 wants it. Empty leaves it the portal's path.
	PublicURL string
}

// Request body limits. The device protocol carries one signed envelope,
// which sign.Parse bounds anyway; refusing more at the door keeps an
// unauthenticated route from buffering a megabyte.
const (
	MaxBodyBytes       = 1 << 20
	MaxDeviceBodyBytes = sign.MaxEnvelopeBytes
)

// Server is the REST API as an http.Handler.
type Server struct {
	svc       Services
	publicURL string
	log       *slog.Logger
	mux       *http.ServeMux
	api       huma.API
	routes    []string
	limits    *rateLimiter // sign-in and token attempts
}

// New returns the API over svc.
func New(svc Services, opts Options) *Server {
	installHumaErrors()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	clock := opts.Clock
	if clock == nil {
		clock = smartlic.SystemClock{}
	}
	s := &Server{svc: svc, publicURL: strings.TrimSuffix(opts.PublicURL, "/"), log: log, mux: http.NewServeMux(), limits: newRateLimiter(clock.Now)}

	cfg := huma.DefaultConfig("smartlic", version)
	cfg.Info.Description = "Smart software licensing: catalogue, Smart and Virtual Accounts, " +
		"license pools, registration tokens, product instances, and the device registration protocol. " +
		"Every /api/v1 operation needs an API key (Authorization: Bearer <key>). " +
		"Errors always have the shape {\"error\":{\"code\":…,\"message\":…,\"field\":…}}."
	cfg.OpenAPIPath = "/api/v1/openapi"
	// No docs page: huma's loads its viewer from a CDN, which would be a
	// blank page on the air-gapped sites smartlic is built for. The
	// document itself is served; any OpenAPI viewer can open it.
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	// No $schema properties or Link headers in answers: clients decode the
	// domain types, not huma's self-description.
	cfg.CreateHooks = nil
	cfg.Formats = map[string]huma.Format{"application/json": huma.DefaultJSONFormat}
	cfg.RejectUnknownQueryParameters = true
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey":  {Type: "http", Scheme: "bearer", Description: "An operator API key (smartlic admin create-operator), a personal API key (slu_…) or an OAuth access token (slo_…, from /api/v1/oauth/token)"},
		"session": {Type: "apiKey", In: "cookie", Name: SessionCookie, Description: "A portal session from /api/v1/auth/login; unsafe methods also need the X-CSRF-Token header"},
	}
	s.api = humago.New(recordingMux{s}, cfg)
	s.api.UseMiddleware(s.authenticate, s.checkInput)
	s.registerRoutes()
	return s
}

// recordingMux registers on the server's ServeMux and remembers every
// pattern, so that tests can hold the OpenAPI document against what is
// actually routed.
type recordingMux struct{ s *Server }

func (m recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.s.routes = append(m.s.routes, pattern)
	m.s.mux.HandleFunc(pattern, h)
}

func (m recordingMux) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.s.mux.ServeHTTP(w, r) }

// Routes returns every pattern registered on the router ("GET /healthz",
// …), including the OpenAPI and docs routes that are not operations.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// OpenAPI returns the OpenAPI 3.1 document as JSON.
func (s *Server) OpenAPI() ([]byte, error) { return json.Marshal(s.api.OpenAPI()) }

// ServeHTTP assigns the request id, answers the router's own 404 and 405
// and panics in the one error shape, and logs one line per request:
// method, route pattern, status, duration, request id. Never the body,
// the query or the Authorization header.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = uuid.NewString()
	}
	w.Header().Set("X-Request-Id", id)
	ctx := smartlic.WithRequestID(r.Context(), id)
	r = r.WithContext(ctx)
	_, pattern := s.mux.Handler(r)
	rec := &recorder{ResponseWriter: w, req: r, routed: pattern != ""}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec.status == 0 {
				writeError(rec, newErrorResponse(smartlic.EInternal, "", "internal error"))
			}
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(ctx, level, "request",
			slog.String("method", r.Method),
			slog.String("pattern", pattern),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", id))
	}()
	if e := uncleanPath(r); e != nil {
		writeError(rec, e)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// recorder remembers the status for the log line and, when no route
// matched, replaces the router's plain-text 404 and 405 with the error
// shape.
type recorder struct {
	http.ResponseWriter
	req     *http.Request
	routed  bool
	status  int
	swallow bool
}

func (w *recorder) WriteHeader(code int) {
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(code) // let net/http report the superfluous call
		return
	}
	w.status = code
	if !w.routed && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.swallow = true
		e := newErrorResponse(smartlic.ENotFound, "", fmt.Sprintf("%s is not a path of this API", w.req.URL.Path))
		if code == http.StatusMethodNotAllowed {
			e = newErrorResponse(CodeMethodNotAllowed, "", fmt.Sprintf("%s does not accept %s (allowed: %s)",
				w.req.URL.Path, w.req.Method, w.Header().Get("Allow")))
		}
		writeError(w.ResponseWriter, e)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (and huma's body read deadline)
// reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RequestID returns the id of the request ctx belongs to, "" outside one.
func RequestID(ctx context.Context) string { return smartlic.RequestIDFrom(ctx) }

// validRequestID accepts a caller's request id only if it is short and
// plain, since it is echoed in a header and written to logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

// authenticate runs before every operation that declares a security
// requirement, so the document and the enforcement are one fact. It comes
// before huma reads the body: an anonymous caller learns nothing about
// validation. A bearer credential (operator key, personal API key, OAuth
// token) wins over a session cookie; a session must also send its CSRF
// token on every method that changes something, since a browser attaches
// the cookie to requests other sites make.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	ctx = huma.WithContext(ctx, withClientIP(ctx.Context(), ctx.RemoteAddr()))
	if len(ctx.Operation().Security) == 0 {
		next(ctx)
		return
	}
	var (
		actor smartlic.Actor
		err   error
	)
	if h := ctx.Header("Authorization"); h != "" {
		key, ok := bearerToken(h)
		if !ok {
			s.unauthorized(ctx, "an API key is required: Authorization: Bearer <key>")
			return
		}
		actor, err = s.svc.Authenticate(ctx.Context(), key)
	} else if cookie := sessionCookie(ctx.Header("Cookie")); cookie != "" {
		var sess smartlic.Session
		actor, sess, err = s.svc.AuthenticateSession(ctx.Context(), cookie)
		if err == nil && !safeMethod(ctx.Method()) {
			if !csrfMatches(ctx.Header(CSRFHeader), sess.CSRFToken) {
				writeHumaError(ctx, errorResponse(ctx.Context(), s.log, errCSRF()))
				return
			}
		}
	} else {
		s.unauthorized(ctx, "an API key is required: Authorization: Bearer <key>")
		return
	}
	if err != nil {
		e := errorResponse(ctx.Context(), s.log, err)
		if e.status == http.StatusUnauthorized {
			// The caller hears only "invalid credentials"; why is for the log.
			s.log.InfoContext(ctx.Context(), "authentication refused", "request_id", RequestID(ctx.Context()), "reason", errors.Unwrap(err))
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="smartlic", error="invalid_token"`)
		}
		writeHumaError(ctx, e)
		return
	}
	next(huma.WithContext(ctx, smartlic.WithActor(ctx.Context(), actor)))
}

func (s *Server) unauthorized(ctx huma.Context, msg string) {
	ctx.SetHeader("WWW-Authenticate", `Bearer realm="smartlic"`)
	writeHumaError(ctx, newErrorResponse(smartlic.EUnauthorized, "", msg))
}

// SessionCookie is the portal session's cookie; CSRFHeader carries the
// session's CSRF token.
const (
	SessionCookie = "smartlic_session"
	CSRFHeader    = "X-CSRF-Token"
)

func sessionCookie(header string) string {
	if header == "" {
		return ""
	}
	cookies, err := http.ParseCookie(header)
	if err != nil {
		return ""
	}
	for _, c := range cookies {
		if c.Name == SessionCookie {
			return c.Value
		}
	}
	return ""
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// bearerToken extracts the credentials of "Authorization: Bearer <key>".
func bearerToken(h string) (string, bool) {
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " \t") {
		return "", false
	}
	return key, true
}

func writeHumaError(ctx huma.Context, e *ErrorResponse) {
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetStatus(e.status)
	encodeError(ctx.BodyWriter(), e)
}

// route describes one operation.
type route struct {
	method, path string
	id, summary  string
	tag          string
	status       int   // success status; 200 when 0
	public       bool  // no API key: health and the device protocol
	maxBody      int64 // request body limit; MaxBodyBytes when 0
	errors       []int // statuses beyond those every operation of its kind can answer
	// body, for an operation that takes its JSON body as bytes and
	// parses it strictly itself, is the type the body is documented as.
	// The body's text check is left to that parser too.
	body reflect.Type
	// file, for an operation that takes a file as it was saved
	// (application/octet-stream) and parses it itself, documents it.
	file string
}

// ownBody marks, in an operation's metadata, one that parses its body itself.
const ownBody = "smartlic.ownBody"

// handle registers one operation. Service errors become ErrorResponses
// here, in one place, so a handler is only decode, call, encode.
func handle[I, O any](s *Server, r route, h func(context.Context, *I) (*O, error)) {
	limit := r.maxBody
	if limit == 0 {
		limit = MaxBodyBytes
	}
	op := huma.Operation{
		OperationID:   r.id,
		Method:        r.method,
		Path:          r.path,
		Summary:       r.summary,
		Tags:          []string{r.tag},
		DefaultStatus: r.status,
		// huma refuses a body that reaches MaxBodyBytes, so allow one more
		// byte to accept a body of exactly the limit.
		MaxBodyBytes: limit + 1,
		Errors:       documentedErrors[I](r),
	}
	if !r.public {
		op.Security = []map[string][]string{{"apiKey": {}}, {"session": {}}}
	}
	if r.body != nil || r.file != "" {
		// huma does not parse the body (the input has none): checkInput
		// reads it once, into a buffer of its length, and the handler takes
		// those bytes (takeOwnBody).
		op.Metadata = map[string]any{ownBody: true}
		op.SkipValidateBody = true // the operation's own parser is the check
		op.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{}}
		if r.body != nil {
			op.RequestBody.Content["application/json"] = &huma.MediaType{Schema: s.api.OpenAPI().Components.Schemas.Schema(r.body, true, "")}
		} else {
			op.RequestBody.Description = r.file
			op.RequestBody.Content["application/octet-stream"] = &huma.MediaType{Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}}
		}
	}
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		if own, ok := any(in).(interface{ setBody([]byte) }); ok {
			own.setBody(takeOwnBody(ctx))
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, errorResponse(ctx, s.log, err)
		}
		return out, nil
	})
	// huma documents 422 for every operation with inputs, its status for
	// schema violations; here those are 400, and 422 is only the VA tree's.
	if !slices.Contains(op.Errors, http.StatusUnprocessableEntity) {
		if registered := operation(s.api.OpenAPI(), r.method, r.path); registered != nil {
			delete(registered.Responses, strconv.Itoa(http.StatusUnprocessableEntity))
		}
	}
}

// rawJSONBody is the input of an operation that parses its body itself
// (route.body, route.file).
type rawJSONBody struct {
	raw []byte // unexported: huma leaves it alone, handle sets it
}

func (in *rawJSONBody) setBody(b []byte) { in.raw = b }

// take hands the body over to its parser; the input keeps nothing.
func (in *rawJSONBody) take() []byte {
	b := in.raw
	in.raw = nil
	return b
}

// deviceRoute registers an operation of the device protocol: a signed
// request in, a signed answer out. The request is parsed strictly here
// (smartlic.ParseEnvelope), not by huma's schema check, whose base64 rule
// ran a regular expression over every payload; its payload, which the
// body's text check cannot see through base64, is checked as text before
// anything else reads it.
func (s *Server) deviceRoute(verb, id, summary string, errs []int, call func(context.Context, smartlic.Envelope) (smartlic.Envelope, error)) {
	handle(s, route{method: post, path: "/device/v1/" + verb, id: id, summary: summary, tag: "device", public: true,
		maxBody: MaxDeviceBodyBytes, errors: append([]int{http.StatusForbidden}, errs...), body: reflect.TypeFor[smartlic.Envelope]()},
		func(ctx context.Context, in *rawJSONBody) (*body[smartlic.Envelope], error) {
			env, err := smartlic.ParseEnvelope(in.take())
			if err != nil {
				return nil, err
			}
			if err := checkPayload(env); err != nil {
				return nil, err
			}
			return one(call(ctx, env))
		})
}

func operation(doc *huma.OpenAPI, method, path string) *huma.Operation {
	item := doc.Paths[path]
	if item == nil {
		return nil
	}
	switch method {
	case http.MethodGet:
		return item.Get
	case http.MethodPost:
		return item.Post
	case http.MethodPatch:
		return item.Patch
	case http.MethodDelete:
		return item.Delete
	}
	return nil
}

// bodyLimitOf is the request body limit of an operation registered by handle.
func bodyLimitOf(op *huma.Operation) int64 { return op.MaxBodyBytes - 1 }

// documentedErrors lists the statuses an operation can answer, for the
// OpenAPI document.
func documentedErrors[I any](r route) []int {
	errs := []int{http.StatusBadRequest}
	if !r.public {
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden)
	}
	if strings.Contains(r.path, "{") {
		errs = append(errs, http.StatusNotFound)
	}
	if r.method != http.MethodGet {
		errs = append(errs, http.StatusConflict)
	}
	if _, ok := reflect.TypeFor[I]().FieldByName("Body"); ok {
		errs = append(errs, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	errs = append(errs, r.errors...)
	errs = append(errs, http.StatusInternalServerError)
	slices.Sort(errs)
	return slices.Compact(errs)
}
