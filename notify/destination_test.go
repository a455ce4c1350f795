package notify_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/notify"
)

// loopbackAllowed lets tests deliver to receivers on 127.0.0.1, as an
// operator's --webhook-allow-cidr 127.0.0.1/32 would.
var loopbackAllowed = notify.DestinationPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

func TestDestinationPolicyPermits(t *testing.T) {
	t.Parallel()
	var def notify.DestinationPolicy
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "8.8.8.8": true, "2606:4700::1111": true, "2a00:1450::1": true,
		"127.0.0.1": false, "127.255.0.1": false, "::1": false,
		"169.254.169.254": false, "fe80::1": false, "fe80::1%eth0": false,
		"10.0.0.1": false, "172.16.0.1": false, "192.168.0.1": false, "fd00::1": false, "fc00::1": false,
		"100.64.0.1": false, "100.127.255.254": false,
		"0.0.0.0": false, "0.1.2.3": false, "::": false,
		"224.0.0.1": false, "239.1.2.3": false, "ff02::1": false, "ff05::2": false,
		"255.255.255.255": false, "240.0.0.1": false, "198.18.0.1": false, "192.0.2.1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::ffff:169.254.169.254": false, "::ffff:8.8.8.8": true,
		"::127.0.0.1": false, "64:ff9b::a00:1": false, "2002:7f00:1::": false, "2001::1": false, "2001:db8::1": false,
		"fec0::1": false,
	} {
		if got := def.Permits(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Permits(%s) = %v, want %v", addr, got, want)
		}
	}
	p, err := notify.ParseAllowCIDRs("--webhook-allow-cidr", []string{"10.1.0.0/16", "fd12::7"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "10.2.0.1": false, "fd12::7": true, "fd12::8": false, "127.0.0.1": false} {
		if got := p.Permits(netip.MustParseAddr(addr)); got != want {
			t.Errorf("allowing 10.1.0.0/16: Permits(%s) = %v, want %v", addr, got, want)
		}
	}
	if _, err := notify.ParseAllowCIDRs("--webhook-allow-cidr", []string{"10.1.0.0/33"}); smartlic.ErrorCode(err) != smartlic.EInvalid {
		t.Errorf("bad range: %v", err)
	}
}

// receiver is a test endpoint that counts the requests it gets.
func receiver(t *testing.T, l net.Listener, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	if l != nil {
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func delivery(url string) smartlic.DueDelivery {
	return smartlic.DueDelivery{URL: url, Secret: "whsec_test",
		Delivery: smartlic.WebhookDelivery{ID: "d1", Event: "alert.raised", Payload: `{"event":"alert.raised"}`}}
}

// TestSenderRefusesNameOfLoopback: a name that resolves to an internal
// address (localhost here; any name under DNS rebinding) is refused when
// dialled, and the attempt says only that the destination is not allowed.
func TestSenderRefusesNameOfLoopback(t *testing.T) {
	t.Parallel()
	srv, hits := receiver(t, nil, nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	s := notify.NewWebhookSender(notify.DestinationPolicy{})
	for _, u := range []string{"http://localhost:" + port + "/hook", srv.URL + "/hook"} {
		a := s.Send(t.Context(), delivery(u), now)
		if a.OK() || a.StatusCode != 0 || a.Error != notify.DestinationNotAllowed {
			t.Errorf("%s: attempt %+v, want %q", u, a, notify.DestinationNotAllowed)
		}
	}
	// A closed port inside the network reads the same as an open one.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/hook"
	closed.Close()
	if a := s.Send(t.Context(), delivery(closedURL), now); a.Error != notify.DestinationNotAllowed {
		t.Errorf("closed port: attempt %+v", a)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the internal receiver got %d requests", n)
	}
	// With the range allowed, the same receiver is reached.
	if a := notify.NewWebhookSender(loopbackAllowed).Send(t.Context(), delivery(srv.URL+"/hook"), now); !a.OK() || hits.Load() != 1 {
		t.Fatalf("allowed loopback: attempt %+v, hits %d", a, hits.Load())
	}
}

// TestSenderDoesNotFollowRedirectInside: an allowed endpoint that
// redirects to an internal host does not get the sender there.
func TestSenderDoesNotFollowRedirectInside(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.2:0") // all of 127/8 is loopback on Linux
	if err != nil {
		t.Fatal(err)
	}
	internal, internalHits := receiver(t, l, nil)
	allowed, _ := receiver(t, nil, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/secret", http.StatusTemporaryRedirect)
	})
	a := notify.NewWebhookSender(loopbackAllowed).Send(t.Context(), delivery(allowed.URL+"/hook"), now)
	if a.OK() || a.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("attempt %+v, want the 307 recorded as a failure", a)
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("the redirect was followed to the internal host (%d requests)", n)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	var def notify.DestinationPolicy
	for _, u := range []string{"http://127.0.0.1/", "http://[::1]:8080/", "http://169.254.169.254/", "http://10.0.0.1/", "http://localhost/", "http://a.b.localhost./"} {
		err := def.CheckURL(u)
		var e *smartlic.Error
		if !errors.As(err, &e) || e.Code != smartlic.EInvalid || e.Field != "url" {
			t.Errorf("CheckURL(%s) = %v, want invalid url", u, err)
		}
	}
	for _, u := range []string{"https://hooks.acme.example/in", "https://8.8.8.8/", "http://localhost.example.com/"} {
		if err := def.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%s) = %v", u, err)
		}
	}
	if err := loopbackAllowed.CheckURL("http://127.0.0.1:9/"); err != nil {
		t.Errorf("allowed range refused: %v", err)
	}
	if !strings.Contains(def.CheckURL("http://10.0.0.1/").Error(), "--webhook-allow-cidr") {
		t.Error("the message does not name the operator's flag")
	}
}
