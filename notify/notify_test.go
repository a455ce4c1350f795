package notify_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/notify"
	"github.com/smartlic/smartlic/notify/smtptest"
)

var now = time.Date(2026, 4, 6, 8, 0, 0, 0, time.UTC)

func digest() smartlic.Digest {
	return smartlic.Digest{
		SmartAccount: smartlic.SmartAccount{ID: "sa1", Name: "Acme", Domain: "acme.example"},
		Email:        "ops@acme.example",
		Frequency:    smartlic.Daily,
		Alerts: []smartlic.Alert{
			{Type: smartlic.AlertInsufficient, Severity: smartlic.SeverityCritical, VirtualAccount: "Building A", Message: "network-essentials: 2 in use, 1 purchased (1 short) in Building A"},
			{Type: smartlic.AlertExpiring30, Severity: smartlic.SeverityCritical, VirtualAccount: "DEFAULT", Message: "network-advantage in DEFAULT: a subscription ends on 2026-04-26 (20 days)"},
			{Type: smartlic.AlertRenewalFailing, Severity: smartlic.SeverityWarning, VirtualAccount: "Building A", Message: "sw-2 (C9300-24T:FOC0002) in Building A is failing to renew"},
		},
	}
}

func startSMTP(t *testing.T, opts smtptest.Options) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// parts returns the decoded text/plain and text/html bodies of a message.
func parts(t *testing.T, m *mail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
		return string(b), ""
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable itself
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			html = string(b)
		} else {
			text = string(b)
		}
	}
}

func TestSummaryOverSMTP(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{})
	host, port := srv.Addr()
	m, err := notify.NewMailer(notify.SMTPConfig{Host: host, Port: port, StartTLS: notify.StartTLSNone, From: "smartlic@vendor.example"})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := notify.SummaryMessage(digest(), now, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server got %d messages", len(got))
	}
	if got[0].From != "smartlic@vendor.example" || len(got[0].To) != 1 || got[0].To[0] != "ops@acme.example" || got[0].TLS {
		t.Fatalf("envelope %+v", got[0])
	}
	pm, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	if subject != "[smartlic] acme.example: daily alert summary, 3 alerts (2 critical)" {
		t.Errorf("subject %q", subject)
	}
	if pm.Header.Get("To") != "ops@acme.example" || pm.Header.Get("From") != "smartlic@vendor.example" {
		t.Errorf("headers %v", pm.Header)
	}
	text, _ := parts(t, pm)
	for _, line := range []string{
		"Smart Account Acme (acme.example)",
		"Virtual Account Building A\n  [critical] license.insufficient: network-essentials: 2 in use, 1 purchased (1 short) in Building A\n  [warning] instance.renewal_failing: sw-2 (C9300-24T:FOC0002) in Building A is failing to renew\n",
		"Virtual Account DEFAULT\n  [critical] license.expiring_30: network-advantage in DEFAULT: a subscription ends on 2026-04-26 (20 days)\n",
	} {
		if !strings.Contains(strings.ReplaceAll(text, "\r\n", "\n"), line) {
			t.Errorf("text lacks %q:\n%s", line, text)
		}
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

func TestSummaryOverSTARTTLSWithAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := startSMTP(t, smtptest.Options{
		TLS:         &tls.Config{Certificates: []tls.Certificate{cert}},
		Users:       map[string]string{"smartlic": "s3cret"},
		RequireAuth: true,
	})
	host, port := srv.Addr()
	cfg := notify.SMTPConfig{Host: host, Port: port, StartTLS: notify.StartTLSRequired, Username: "smartlic", Password: "s3cret",
		From: "smartlic@vendor.example", TLSConfig: &tls.Config{RootCAs: pool}}
	m, err := notify.NewMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := notify.SummaryMessage(digest(), now, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	got := <-srv.Received
	if !got.TLS || got.AuthUser != "smartlic" {
		t.Fatalf("session TLS=%v auth=%q, want TLS and smartlic", got.TLS, got.AuthUser)
	}
	pm, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	text, html := parts(t, pm)
	if !strings.Contains(text, "license.insufficient") || !strings.Contains(html, "<h3>Virtual Account Building A</h3>") || !strings.Contains(html, "network-essentials: 2 in use") {
		t.Errorf("text:\n%s\nhtml:\n%s", text, html)
	}

	// A wrong password is refused, and the error does not show it.
	cfg.Password = "wrong-password"
	m, _ = notify.NewMailer(cfg)
	err = m.Send(t.Context(), msg)
	if err == nil || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("wrong password: %v", err)
	}
	// An untrusted certificate is refused.
	cfg.Password, cfg.TLSConfig = "s3cret", nil
	m, _ = notify.NewMailer(cfg)
	if err := m.Send(t.Context(), msg); err == nil {
		t.Error("sent over TLS with an untrusted certificate")
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server accepted %d messages, want 1", n)
	}
}

func TestStartTLSRequiredRefusesPlainServer(t *testing.T) {
	srv := startSMTP(t, smtptest.Options{})
	host, port := srv.Addr()
	m, err := notify.NewMailer(notify.SMTPConfig{Host: host, Port: port, StartTLS: notify.StartTLSRequired, From: "smartlic@vendor.example"})
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := notify.SummaryMessage(digest(), now, false)
	if err := m.Send(t.Context(), msg); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a STARTTLS refusal", err)
	}
	// Opportunistic sends in the clear.
	m, _ = notify.NewMailer(notify.SMTPConfig{Host: host, Port: port, StartTLS: notify.StartTLSOpportunistic, From: "smartlic@vendor.example"})
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	if len(srv.Messages()) != 1 {
		t.Fatal("opportunistic message not received")
	}
}

func TestWebhookSignature(t *testing.T) {
	const secret = "whsec_test"
	received := make(chan error, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		err := notify.Verify(secret, r.Header.Get(notify.SignatureHeader), body, now.Add(time.Minute), 5*time.Minute)
		if err == nil && (r.Header.Get("Smartlic-Event") != "alert.raised" || r.Header.Get("Smartlic-Delivery") != "d1") {
			err = io.ErrUnexpectedEOF
		}
		received <- err
	}))
	defer ts.Close()
	s := notify.NewWebhookSender(loopbackAllowed)
	a := s.Send(t.Context(), smartlic.DueDelivery{URL: ts.URL, Secret: secret,
		Delivery: smartlic.WebhookDelivery{ID: "d1", Event: "alert.raised", Payload: `{"event":"alert.raised"}`}}, now)
	if !a.OK() || a.StatusCode != 200 {
		t.Fatalf("attempt %+v", a)
	}
	if err := <-received; err != nil {
		t.Fatalf("receiver: %v", err)
	}

	body := []byte(`{"a":1}`)
	sig := notify.Sign(secret, now, body)
	for name, err := range map[string]error{
		"tampered body": notify.Verify(secret, sig, []byte(`{"a":2}`), now, time.Minute),
		"other secret":  notify.Verify("whsec_other", sig, body, now, time.Minute),
		"replayed late": notify.Verify(secret, sig, body, now.Add(time.Hour), 5*time.Minute),
		"malformed":     notify.Verify(secret, "v1=abc", body, now, time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if err := notify.Verify(secret, sig, body, now, time.Minute); err != nil {
		t.Errorf("valid signature: %v", err)
	}
}
