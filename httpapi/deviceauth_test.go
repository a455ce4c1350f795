package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestDeviceAuthVerificationURI: a server told where users reach it
// (serve --public-url) answers a device sign-in with absolute verification
// URIs, as RFC 8628 wants; one that is not told answers the portal's path.
func TestDeviceAuthVerificationURI(t *testing.T) {
	t.Parallel()
	mgr, err := manager.New(context.Background(), storetest.OpenSQLite(t), smartlic.NewFakeClock(epoch))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ public, want string }{
		{"https://licensing.example.com/", "https://licensing.example.com/device"},
		{"", "/device"},
	} {
		srv := httptest.NewServer(httpapi.New(mgr, httpapi.Options{PublicURL: tc.public}))
		a := doRequest(t, srv.URL, "", request{method: "POST", path: "/api/v1/auth/device", auth: "-", body: `{"name":"laptop"}`})
		srv.Close()
		wantStatus(t, a, http.StatusOK)
		var dc smartlic.DeviceCode
		a.decode(t, &dc)
		if dc.VerificationURI != tc.want || dc.VerificationURIComplete != tc.want+"?code="+dc.UserCode {
			t.Errorf("public URL %q: verification URIs %q and %q, want %q", tc.public, dc.VerificationURI, dc.VerificationURIComplete, tc.want)
		}
	}
}
