package web_test

// Tests of what a browser does not show: headers, cookies, status codes,
// forged requests, downloads. Plain HTTP against the same real server.

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// client is a cookie-keeping HTTP client that does not follow redirects,
// so tests see them.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, p *portal) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: p.url, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs in through the form and returns the session's CSRF token
// as the pages carry it.
func (c *client) signIn(email, password string) string {
	c.t.Helper()
	resp, _ := c.signInAttempt(email, password)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: %s", email, resp.Status)
	}
	_, page := c.do("GET", "/sa/acme.example/va/Lab/general", nil)
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no CSRF field on the General page:\n%s", page)
	}
	return m[1]
}

func (c *client) signInAttempt(email, password string) (*http.Response, string) {
	c.t.Helper()
	_, page := c.do("GET", "/login", nil)
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no token on the sign-in form:\n%s", page)
	}
	return c.do("POST", "/login", url.Values{"csrf_token": {m[1]}, "email": {email}, "password": {password}})
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	t.Parallel()
	p := newPortal(t, storetest.OpenSQLite)
	sa := p.acme()
	p.user("jane@acme.example", smartlic.RoleSAUser, sa.Domain, "")
	c := newClient(t, p)

	resp, _ := c.do("GET", "/login", nil)
	for h, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"Cache-Control":          "no-store",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy allows inline code: %q", csp)
	}

	resp, _ = c.signInAttempt("jane@acme.example", testPassword)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "smartlic_session" && ck.Value != "" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("no session cookie after signing in: %v", resp.Header["Set-Cookie"])
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Errorf("session cookie over plain HTTP: HttpOnly %v, SameSite %v, Secure %v; want HttpOnly, Lax, not Secure", session.HttpOnly, session.SameSite, session.Secure)
	}

	// The portal's session is the API's: the same cookie reads the API.
	resp, body := c.do("GET", "/api/v1/me", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "jane@acme.example") {
		t.Fatalf("API with the portal's session: %s %s", resp.Status, body)
	}
}

// The operator signs in with its key as the password, but the browser never
// holds the key: it gets a session cookie that signing out ends on the
// server, and an old operator cookie (an earlier release kept the key in
// one) is no credential.
func TestOperatorSessionHoldsNoKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		p.acme()
		c := newClient(t, p)
		resp, _ := c.signInAttempt("ops@vendor.example", p.opKey)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("operator sign-in: %s", resp.Status)
		}
		var session string
		for _, ck := range resp.Cookies() {
			if strings.Contains(ck.Value, p.opKey) || (ck.Name == "smartlic_operator" && ck.Value != "") {
				t.Fatalf("cookie %s carries the operator key", ck.Name)
			}
			if ck.Name == "smartlic_session" {
				session = ck.Value
			}
		}
		if session == "" {
			t.Fatalf("no session cookie for the operator: %v", resp.Header["Set-Cookie"])
		}
		resp, page := c.do("GET", "/vendor/accounts", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("vendor page with the operator's session: %s", resp.Status)
		}
		m := csrfInput.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no CSRF field on the vendor page")
		}
		if resp, _ := c.do("POST", "/logout", url.Values{"csrf_token": {m[1]}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign out: %s", resp.Status)
		}

		// The ended session's cookie, replayed, and the key in the old
		// cookie both meet the sign-in page.
		for name, value := range map[string]string{"smartlic_session": session, "smartlic_operator": p.opKey} {
			req, _ := http.NewRequest("GET", p.url+"/vendor/accounts", nil)
			req.AddCookie(&http.Cookie{Name: name, Value: value})
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
				t.Errorf("%s cookie after sign-out: %s to %q, want the sign-in page", name, resp.Status, resp.Header.Get("Location"))
			}
		}
	})
}

// The sign-in form is refused without its own token (login CSRF), and
// repeated wrong passwords meet the API's limiter.
func TestSignInFormTokenAndRateLimit(t *testing.T) {
	t.Parallel()
	p := newPortal(t, storetest.OpenSQLite)
	sa := p.acme()
	p.user("jane@acme.example", smartlic.RoleSAUser, sa.Domain, "")

	c := newClient(t, p)
	resp, page := c.do("POST", "/login", url.Values{"email": {"jane@acme.example"}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Not allowed") {
		t.Fatalf("sign-in without the form's token: %s", resp.Status)
	}

	limited := false
	for range 12 {
		resp, page := c.signInAttempt("jane@acme.example", "wrong password!")
		if resp.StatusCode == http.StatusTooManyRequests {
			if !strings.Contains(page, "try again") {
				t.Fatalf("rate-limited sign-in page does not say when to retry:\n%s", page)
			}
			limited = true
			break
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %s", resp.Status)
		}
	}
	if !limited {
		t.Fatal("12 wrong passwords in a row were never limited")
	}
}

func TestPortalRefusesForgedAndBadRequests(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		p := newPortal(t, open)
		sa := p.acme()
		p.user("admin@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		c := newClient(t, p)
		csrf := c.signIn("admin@acme.example", testPassword)

		tok := must[smartlic.Token](t)(p.mgr.CreateToken(p.op, sa.Domain, "Lab", smartlic.TokenInput{Description: "lab", ExpiresInDays: 30}))
		revoke := "/sa/acme.example/va/Lab/tokens/" + tok.ID + "/revoke"
		if resp, _ := c.do("POST", revoke, url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("revoke without CSRF token: %s", resp.Status)
		}
		if got := must[smartlic.Token](t)(p.mgr.GetToken(p.op, sa.Domain, "Lab", tok.ID)); got.RevokedAt != nil {
			t.Fatal("a revoke without CSRF token revoked the token")
		}
		resp, _ := c.do("POST", revoke, url.Values{"csrf_token": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke with the CSRF token: %s", resp.Status)
		}
		if got := must[smartlic.Token](t)(p.mgr.GetToken(p.op, sa.Domain, "Lab", tok.ID)); got.RevokedAt == nil {
			t.Fatal("the revoke form did not revoke")
		}

		// Bytes no store should see are a 400 page on both stores.
		for _, path := range []string{"/sa/acme%00.example/va/Lab/general", "/sa/acme.example/va/Lab/licenses?q=a%00b", "/sa/acme.example/va/%ff%fe/general"} {
			if resp, body := c.do("GET", path, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<h1>") {
				t.Errorf("GET %s: %s, want the 400 page", path, resp.Status)
			}
		}
		resp, body := c.do("POST", "/sa/acme.example/va/Lab/general", url.Values{"csrf_token": {csrf}, "description": {"bad\x00name"}, "expires_in_days": {"30"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token description with NUL: %s\n%s", resp.Status, body)
		}

		if resp, body := c.do("GET", "/no/such/page", nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Not found") {
			t.Errorf("unknown path: %s", resp.Status)
		}
	})
}

func TestLicensesCSV(t *testing.T) {
	t.Parallel()
	p := newPortal(t, storetest.OpenSQLite)
	sa := p.acme()
	must[smartlic.LicenseType](t)(p.mgr.CreateLicenseType(p.op, smartlic.LicenseType{Tag: "formula", Name: "=HYPERLINK(\"http://evil\")", Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}))
	must[smartlic.Deposit](t)(p.mgr.CreateDeposit(p.op, sa.Domain, "Building A", smartlic.DepositInput{OrderNumber: "SO-2", License: "formula", Quantity: 1}))
	p.user("user@acme.example", smartlic.RoleSAUser, sa.Domain, "")
	c := newClient(t, p)
	c.signIn("user@acme.example", testPassword)

	resp, body := c.do("GET", "/sa/acme.example/va/Building%20A/licenses?format=csv&sort=purchased&dir=desc", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %s %v", resp.Status, resp.Header)
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	want := []string{
		"license,name,enforcement,purchased,in_use,reserved,available,overage,status,next_expiry",
		"network-advantage,Network Advantage,unenforced,4,0,0,4,0,in_compliance,",
		"dna-advantage,DNA Advantage,unenforced,2,0,0,2,0,in_compliance,",
		`formula,"'=HYPERLINK(""http://evil"")",unenforced,1,0,0,1,0,in_compliance,`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("CSV sorted by purchased, descending:\n%s\nwant\n%s", body, strings.Join(want, "\n"))
	}
}
