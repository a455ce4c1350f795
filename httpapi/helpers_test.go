package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
	"github.com/smartlic/smartlic/sign"
)

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes the one error shape strictly: nothing but "error", and
// in it nothing but code, message and field.
func (a answer) errorBody(t *testing.T) wire.ErrorBody {
	t.Helper()
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type = %q, want application/json; body %s", ct, a.body)
	}
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	var e wire.ErrorResponse
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s is not the error shape: %v", a.body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %s lacks code or message", a.body)
	}
	if strings.Contains(string(a.body), `"field":""`) {
		t.Fatalf("error body %s has an empty field; it should be omitted", a.body)
	}
	return e.Error
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// request is a raw HTTP request; zero fields mean: operator key, JSON.
type request struct {
	method, path string
	body         string
	contentType  string // "application/json" when empty and body is set; "-" for none
	auth         string // Authorization header; the operator key when empty; "-" for none
	header       http.Header
	from         string // the connection's source address (127.0.0.x); the default when empty
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip, so that a test can be two callers at two addresses.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func doRequest(t *testing.T, base, key string, r request) answer {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	switch {
	case r.contentType == "-":
	case r.contentType != "":
		req.Header.Set("Content-Type", r.contentType)
	case r.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	switch r.auth {
	case "-":
	case "":
		req.Header.Set("Authorization", "Bearer "+key)
	default:
		req.Header.Set("Authorization", r.auth)
	}
	hc := http.DefaultClient
	if r.from != "" {
		hc = clientFrom(r.from)
		defer hc.CloseIdleConnections()
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantError checks an answer is the error shape with this status, code and field.
func wantError(t *testing.T, a answer, status int, code, field string) wire.ErrorBody {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d; body %s", a.status, status, a.body)
	}
	e := a.errorBody(t)
	if e.Code != code || e.Field != field {
		t.Fatalf("error = %+v, want code %q field %q", e, code, field)
	}
	return e
}

func wantStatus(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status = %d, want %d; body %s", a.status, status, a.body)
	}
}

// logSink collects log lines and lets a test wait for one: the request line
// is written after the answer may already have reached the client.
type logSink struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, string(p))
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return len(p), nil
}

func (s *logSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "")
}

// wait returns the first line containing every one of want.
func (s *logSink) wait(t *testing.T, want ...string) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		for _, l := range s.lines {
			if containsAll(l, want) {
				s.mu.Unlock()
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				return m
			}
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no log line with %q; have:\n%s", want, s.all())
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// device is a minimal product instance speaking the protocol.
type device struct {
	udi  smartlic.UDI
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newDevice(t *testing.T, pid, sn string) *device {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &device{udi: smartlic.UDI{PID: pid, SN: sn}, pub: pub, priv: priv}
}

func (d *device) registerRequest(t *testing.T, token string, now time.Time) string {
	t.Helper()
	env, err := sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(d.pub), d.priv, smartlic.RegisterRequest{
		Token: token, UDI: d.udi, Hostname: "sw1", PublicKey: d.pub, SentAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
