package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestWebhookToInternalAddressRefused: an administrator cannot save a
// webhook whose URL names loopback, the cloud metadata service, a private
// or another non-public address, or localhost — the server would post to
// its own network and the delivery log would tell what answered there.
func TestWebhookToInternalAddressRefused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		sa := e.account("acme.example")
		path := "/api/v1/accounts/" + sa.Domain + "/webhooks"
		for _, u := range []string{
			"http://127.0.0.1/hook",
			"http://127.1.2.3:8080/hook",
			"http://169.254.169.254/latest/meta-data/",
			"http://10.0.0.1/hook",
			"http://172.16.5.4/hook",
			"http://192.168.1.1/hook",
			"http://100.64.0.1/hook",
			"http://0.0.0.0:8080/hook",
			"http://[::1]/hook",
			"http://[::]/hook",
			"http://[::ffff:127.0.0.1]/hook",
			"http://[::ffff:169.254.169.254]/hook",
			"http://[fe80::1%25eth0]/hook",
			"http://[fd00::1]/hook",
			"http://224.0.0.1/hook",
			"http://localhost:8080/hook",
			"http://LocalHost./hook",
			"http://api.localhost/hook",
		} {
			a := e.do(request{method: "POST", path: path, body: `{"url":"` + u + `"}`})
			body := wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "url")
			if !strings.Contains(body.Message, "localhost") && !strings.Contains(body.Message, "not a public address") {
				t.Errorf("%s: message %q does not say why", u, body.Message)
			}
		}
		a := e.do(request{method: "GET", path: path})
		wantStatus(t, a, http.StatusOK)
		if strings.Contains(string(a.body), `"url"`) {
			t.Fatalf("a refused webhook was saved: %s", a.body)
		}
		// A public address and a name are accepted; names are checked when dialled.
		for _, u := range []string{"https://hooks.acme.example/in", "https://93.184.215.14/in", "https://[2606:4700::1111]/in"} {
			wantStatus(t, e.do(request{method: "POST", path: path, body: `{"url":"` + u + `"}`}), http.StatusCreated)
		}
	})
}
