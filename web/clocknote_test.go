package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store/storetest"
	"github.com/smartlic/smartlic/web"
)

// TestClockNote: a portal whose clock is moved (serve --clock-offset) says
// so on every page, signed in or not; one on the real clock says nothing.
func TestClockNote(t *testing.T) {
	t.Parallel()
	mgr, err := manager.New(context.Background(), storetest.OpenSQLite(t), smartlic.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	api := httpapi.New(mgr, httpapi.Options{Logger: log})
	for clock, want := range map[smartlic.Clock]string{
		smartlic.OffsetClock{Offset: 100 * smartlic.Day}: "moved 100 days ahead",
		smartlic.OffsetClock{Offset: -smartlic.Day}:      "moved 1 day back",
		smartlic.SystemClock{}:                           "",
	} {
		srv := httptest.NewServer(web.Mux(api, web.New(mgr, web.Options{Logger: log, Limiter: api, Clock: clock})))
		resp, err := http.Get(srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		note := strings.Contains(string(page), `class="clock-note"`)
		if want == "" && note {
			t.Errorf("%T: a clock note on the real clock", clock)
		}
		if want != "" && (!note || !strings.Contains(string(page), want)) {
			t.Errorf("%+v: no note saying %q on the sign-in page", clock, want)
		}
	}
}
