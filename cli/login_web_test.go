package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestLoginWeb is `smartlic login --web` through the real API on both
// stores: the CLI shows a code, the user confirms it (here through the
// service the portal page calls, as the signed-in user), and the CLI's
// poll gets the key. Refusal, polling too soon, expiry and reuse are
// answered as RFC 8628 says.
func TestLoginWeb(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		h := newHarnessOn(t, open)
		h.ok("account", "create", "--name", "Acme", "--domain", "acme.example", "--approve")
		h.env["SMARTLIC_ACCOUNT"] = "acme.example"
		const pw = "a long enough password"
		h.ok("user", "create", "--email", "ada@acme.example", "--name", "Ada", "--password", pw)
		h.ok("role", "grant", "--user", "ada@acme.example", "--role", "sa_admin")
		delete(h.env, "SMARTLIC_API_KEY")
		l, err := h.mgr.Login(t.Context(), "ada@acme.example", pw)
		if err != nil {
			t.Fatal(err)
		}
		ada, _, err := h.mgr.AuthenticateSession(t.Context(), l.Secret)
		if err != nil {
			t.Fatal(err)
		}
		asAda := smartlic.WithActor(t.Context(), ada)

		// The user confirms at the second pause, after one pending poll.
		var out strings.Builder
		pauses, polls := 0, []time.Duration{}
		codeRE := regexp.MustCompile(`/device\?code=([A-Z]{4}-[A-Z]{4})`)
		decide := func(approve bool) func(ctx context.Context, d time.Duration) error {
			return func(ctx context.Context, d time.Duration) error {
				pauses++
				polls = append(polls, d)
				h.clock.Advance(d)
				if pauses == 2 {
					m := codeRE.FindStringSubmatch(out.String())
					if m == nil {
						t.Fatalf("no code shown before polling:\n%s", out.String())
					}
					if _, err := h.mgr.DecideDeviceAuthorization(asAda, m[1], approve); err != nil {
						t.Fatal(err)
					}
				}
				return nil
			}
		}
		h.wait = decide(true)
		stdout, stderr, err := runTee(h, &out, "login", "--web")
		if err != nil {
			t.Fatalf("login --web: %v\n%s\n%s", err, stdout, stderr)
		}
		if !strings.Contains(stdout, "Signed in to") || !strings.Contains(stdout, "ada@acme.example") {
			t.Errorf("login --web said:\n%s", stdout)
		}
		if len(polls) != 2 || polls[0] != 5*time.Second {
			t.Errorf("pauses %v, want two of the server's 5 s", polls)
		}
		if who := h.ok("whoami"); !strings.Contains(who, "ada@acme.example (user, personal API key)") || !strings.Contains(who, "sa_admin") {
			t.Errorf("whoami after login --web:\n%s", who)
		}
		h.ok("logout")

		// Refused in the portal: the CLI stops, with nothing stored.
		pauses, polls = 0, nil
		out.Reset()
		h.wait = decide(false)
		if _, _, err := runTee(h, &out, "login", "--web"); smartlic.ErrorCode(err) != smartlic.EAccessDenied {
			t.Fatalf("refused login --web: %v", err)
		}
		h.fails(smartlic.EInvalid, "--api-key", "whoami")

		// The protocol by hand: too soon is slow_down, late is expired_token,
		// a used code is spent, a made-up one is invalid.
		c := client.New(h.env["SMARTLIC_SERVER"], "")
		dc, err := c.StartDeviceAuthorization(t.Context(), "by hand")
		if err != nil || dc.Interval != 5 || dc.ExpiresIn != 600 || !strings.HasPrefix(dc.VerificationURIComplete, "/device?code=") {
			t.Fatalf("start: %+v %v", dc, err)
		}
		poll := func() error { _, err := c.PollDeviceAuthorization(t.Context(), dc.DeviceCode); return err }
		wantCode(t, poll(), smartlic.EAuthorizationPending)
		wantCode(t, poll(), smartlic.ESlowDown)
		h.clock.Advance(9 * time.Second) // the interval is 10 s now: still too soon
		wantCode(t, poll(), smartlic.ESlowDown)
		h.clock.Advance(15 * time.Second)
		wantCode(t, poll(), smartlic.EAuthorizationPending)
		if _, err := h.mgr.DecideDeviceAuthorization(asAda, strings.ToLower(dc.UserCode), true); err != nil {
			t.Fatalf("a code typed in lower case: %v", err)
		}
		if _, err := h.mgr.DecideDeviceAuthorization(asAda, dc.UserCode, true); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("confirming twice: %v", err)
		}
		k, err := c.PollDeviceAuthorization(t.Context(), dc.DeviceCode)
		if err != nil || !strings.HasPrefix(k.Secret, "slu_") || k.Name != "by hand" {
			t.Fatalf("poll after confirming: %+v %v", k, err)
		}
		wantCode(t, poll(), smartlic.EExpiredToken)
		_, err = c.PollDeviceAuthorization(t.Context(), "sld_made-up")
		wantCode(t, err, smartlic.EInvalid)

		late, err := c.StartDeviceAuthorization(t.Context(), "late")
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(10 * time.Minute)
		if _, err := h.mgr.DecideDeviceAuthorization(asAda, late.UserCode, true); smartlic.ErrorCode(err) != smartlic.ENotFound {
			t.Fatalf("confirming an expired code: %v", err)
		}
		_, err = c.PollDeviceAuthorization(t.Context(), late.DeviceCode)
		wantCode(t, err, smartlic.EExpiredToken)
	})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if smartlic.ErrorCode(err) != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

// runTee runs smartlic with its standard output also written to out, so
// that the wait hook can read what the CLI showed so far.
func runTee(h *harness, out *strings.Builder, args ...string) (stdout, stderr string, err error) {
	var errOut strings.Builder
	err = run(context.Background(), args, &env{
		stdout: out, stderr: &errOut,
		getenv: func(k string) string { return h.env[k] },
		stdin:  strings.NewReader(""),
		wait:   h.wait,
	})
	return out.String(), errOut.String(), err
}
