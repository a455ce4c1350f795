package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/pprof"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
)

// server is the real license manager running in this process: a store, the
// manager over it with the system clock, and the HTTP API on 127.0.0.1:0.
type server struct {
	backend *backend
	store   *store.DB
	mgr     *manager.Manager
	http    *http.Server
	served  chan error
	url     string // http://127.0.0.1:port
	// childPIDs are the external `smartlic serve` processes, when there
	// are any: the last one started first.
	childPIDs []int
	// replicas are the URLs of several external servers on one database,
	// which postLoad spreads its requests over.
	replicas []string
	// secretKey is the key file's content of the external servers.
	secretKey []byte
	apiKey    string // an operator key, for the /api/v1 routes
	// op carries the operator actor, for seeding through the manager.
	op     context.Context
	client *http.Client
	keys   sign.KeySet // the manager's keys, as GET /device/v1/keys lists them
}

// startServer opens a fresh backend and serves the API on it. conns is how
// many requests the load will have in flight; the client keeps that many
// connections alive. close must be called, whatever happens.
func startServer(ctx context.Context, backendName, postgresURL string, conns int) (s *server, err error) {
	s = &server{served: make(chan error, 1)}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.close())
			s = nil
		}
	}()
	if s.backend, err = openBackend(ctx, backendName, postgresURL); err != nil {
		return s, err
	}
	if s.store, err = store.Open(ctx, s.backend.dsn); err != nil {
		return s, fmt.Errorf("%s: %w", backendName, err)
	}
	if s.mgr, err = manager.New(ctx, s.store, smartlic.SystemClock{}); err != nil {
		return s, err
	}
	_, s.apiKey, err = s.mgr.CreateOperator(ctx, "bench@example.com")
	if err != nil {
		return s, err
	}
	s.op = smartlic.WithActor(ctx, smartlic.Actor{Email: "bench@example.com", Role: smartlic.RoleOperator})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return s, err
	}
	// The same server settings as "smartlic serve" (cli/serve.go), with the
	// request log discarded: writing 20,000 log lines to a terminal would
	// measure the terminal.
	s.http = &http.Server{
		Handler:           labelled(httpapi.New(s.mgr, httpapi.Options{})),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() { s.served <- s.http.Serve(ln) }()
	s.url = "http://" + ln.Addr().String()
	s.client = newClient(conns)

	var keys smartlic.PublicKeySet
	if err := s.getJSON(ctx, "/device/v1/keys", "", &keys); err != nil {
		return s, fmt.Errorf("the server does not answer: %w", err)
	}
	if s.keys = sign.NewKeySet(keys.Keys); len(s.keys) == 0 {
		return s, errors.New("GET /device/v1/keys lists no Ed25519 key")
	}
	return s, nil
}

// labelled marks the server's handler goroutines side=server, so that a
// CPU profile of the whole process (load and server share it) can be cut
// with pprof -tagfocus=side=server. The label costs a few hundred
// nanoseconds a request.
func labelled(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), pprof.Labels("side", "server"), func(ctx context.Context) {
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	})
}

// newClient returns a keep-alive client for the load: enough idle
// connections that no worker ever waits for one or opens a new one, no
// proxy (the target is always 127.0.0.1), and a timeout so that a stuck
// server cannot hang the run.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        2 * conns,
			MaxIdleConnsPerHost: 2 * conns,
			IdleConnTimeout:     2 * time.Minute,
			DisableCompression:  true,
		},
	}
}

// getJSON GETs path and decodes a 200 answer into v.
func (s *server) getJSON(ctx context.Context, path, apiKey string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	if err != nil {
		return err
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, clip(body))
	}
	return json.Unmarshal(body, v)
}

// close stops the server and throws the database away.
func (s *server) close() error {
	var errs []error
	if s.http != nil {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.http.Shutdown(shutdown))
		cancel()
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		s.http = nil
	}
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
		s.store = nil
	}
	errs = append(errs, s.backend.close())
	return errors.Join(errs...)
}

// clip shortens an answer body for an error message.
func clip(b []byte) string {
	const max = 300
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
