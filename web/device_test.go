package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	apiclient "github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// A user confirms the code of `smartlic login --web` in the portal: the
// link the CLI printed shows what is asked, a wrong code is named beside
// the field, and Confirm hands the waiting CLI its key.
func TestDeviceConfirm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		cli := apiclient.New(p.url, "")
		dc, err := cli.StartDeviceAuthorization(t.Context(), "cli on laptop")
		if err != nil {
			t.Fatal(err)
		}

		// Opening /device is a portal page, not the device protocol's API.
		b := newBrowser(t, p)
		b.signIn("lab@acme.example", testPassword)
		b.open("/device")
		b.fill("Code", "BCDF-GHJK")
		b.press("Continue")
		if got := b.fieldError("Code"); !strings.Contains(got, "unknown, expired or already used") {
			t.Fatalf("error beside a wrong code = %q", got)
		}
		b.open(dc.VerificationURIComplete)
		if got := b.text("main"); !strings.Contains(got, "cli on laptop") || !strings.Contains(got, dc.UserCode) {
			t.Fatalf("the confirm page shows:\n%s", got)
		}
		b.screenshot("device-confirm")
		if _, err := cli.PollDeviceAuthorization(t.Context(), dc.DeviceCode); smartlic.ErrorCode(err) != smartlic.EAuthorizationPending {
			t.Fatalf("before confirming: %v", err)
		}
		b.press("Confirm")
		if got := b.text("main"); !strings.Contains(got, "Go back to your terminal") {
			t.Fatalf("after confirming:\n%s", got)
		}
		p.clock.Advance(5 * time.Second)
		k, err := cli.PollDeviceAuthorization(t.Context(), dc.DeviceCode)
		if err != nil || !strings.HasPrefix(k.Secret, "slu_") {
			t.Fatalf("poll after confirming: %+v %v", k, err)
		}
		id, err := apiclient.New(p.url, k.Secret).WhoAmI(t.Context())
		if err != nil || id.Actor.Email != "lab@acme.example" {
			t.Fatalf("the key acts as %+v, %v", id.Actor, err)
		}
	})
}

// Confirming takes the session's CSRF token: a page elsewhere that posts
// the form with the victim's cookie confirms nothing.
func TestDeviceConfirmNeedsCSRF(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("lab@acme.example", smartlic.RoleVAUser, sa.Domain, "Lab")
		cli := apiclient.New(p.url, "")
		dc, err := cli.StartDeviceAuthorization(t.Context(), "attacker's cli")
		if err != nil {
			t.Fatal(err)
		}
		l, err := cli.Login(t.Context(), "lab@acme.example", testPassword)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"code": {dc.UserCode}, "decision": {"approve"}}
		req, _ := http.NewRequest(http.MethodPost, p.url+"/device", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "smartlic_session", Value: l.Secret})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /device without the CSRF token: %s", resp.Status)
		}
		p.clock.Advance(5 * time.Second)
		if _, err := cli.PollDeviceAuthorization(t.Context(), dc.DeviceCode); smartlic.ErrorCode(err) != smartlic.EAuthorizationPending {
			t.Fatalf("after a forged confirmation the poll answers %v", err)
		}
	})
}
