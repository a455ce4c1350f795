package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// SignatureHeader carries a delivery's signature:
//
//	Smartlic-Signature: t=1767603600,v1=5257a869e7…
//
// where v1 is hex(HMAC-SHA256(secret, t + "." + body)). Signing the time
// with the body lets a receiver refuse old deliveries replayed later.
const SignatureHeader = "Smartlic-Signature"

// Sign returns the signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks a signature header against body: one of its v1 values must
// match, and its time must be within tolerance of now. Receivers written
// in Go can call it; docs/notifications.md shows the same in a few lines.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("webhook signature: malformed header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook signature: timestamp outside the tolerance")
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook signature: no signature matches")
}

// WebhookSender posts deliveries.
type WebhookSender struct {
	// Client sends the requests; it should have a timeout (the runner's
	// default has 15 seconds) and may refuse redirects.
	Client *http.Client
}

// NewWebhookSender returns a sender with a 15-second timeout that does not
// follow redirects (a delivery goes to the URL its owner registered) and
// connects only to addresses policy permits. It ignores HTTP_PROXY and
// friends: through a proxy, the policy would check the proxy's address
// instead of the destination's.
func NewWebhookSender(policy DestinationPolicy) *WebhookSender {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = policy.dialer().DialContext
	return &WebhookSender{Client: &http.Client{
		Transport:     tr,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Send posts one delivery signed at now and reports the outcome; it never
// returns an error, since every failure is an outcome to record.
func (s *WebhookSender) Send(ctx context.Context, d smartlic.DueDelivery, now time.Time) smartlic.DeliveryAttempt {
	body := []byte(d.Delivery.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return smartlic.DeliveryAttempt{Error: "building the request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "smartlic-webhooks/1")
	req.Header.Set("Smartlic-Event", d.Delivery.Event)
	req.Header.Set("Smartlic-Delivery", d.Delivery.ID)
	req.Header.Set(SignatureHeader, Sign(d.Secret, now, body))
	resp, err := s.Client.Do(req)
	if errors.Is(err, ErrDestinationNotAllowed) {
		return smartlic.DeliveryAttempt{Error: DestinationNotAllowed}
	}
	if err != nil {
		return smartlic.DeliveryAttempt{Error: err.Error()}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	a := smartlic.DeliveryAttempt{StatusCode: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Error = fmt.Sprintf("endpoint answered %s", resp.Status)
	}
	return a
}
