package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

var epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// env is the real server over the real manager over a real store, on port 0.
type env struct {
	t     *testing.T
	srv   *httpapi.Server
	url   string
	key   string // operator API key
	mgr   *manager.Manager
	clock *smartlic.FakeClock
	logs  *logSink
}

// newEnv runs on SQLite; newEnvOn on the store open returns.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOn(t, storetest.OpenSQLite)
}

func newEnvOn(t *testing.T, open func(*testing.T) *store.DB) *env {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	mgr, err := manager.New(context.Background(), open(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := mgr.CreateOperator(context.Background(), "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logSink{}
	api := httpapi.New(mgr, httpapi.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Version: "test", Clock: clock})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: api, url: srv.URL, key: key, mgr: mgr, clock: clock, logs: logs}
}

func (e *env) do(r request) answer {
	e.t.Helper()
	return doRequest(e.t, e.url, e.key, r)
}

// account creates an active Smart Account over HTTP.
func (e *env) account(domain string) smartlic.SmartAccount {
	e.t.Helper()
	a := e.do(request{method: "POST", path: "/api/v1/accounts", body: `{"name":"Acme","domain":"` + domain + `","approve":true}`})
	wantStatus(e.t, a, http.StatusCreated)
	var sa smartlic.SmartAccount
	a.decode(e.t, &sa)
	return sa
}
