package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/internal/oidctest"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/sso"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
	"github.com/smartlic/smartlic/web"
)

// ssoPortal is the portal with single sign-on at a provider run in the
// test (internal/oidctest), wired as serve wires them.
type ssoPortal struct {
	*portal
	idp *oidctest.Provider
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newSSOPortal(t *testing.T, open func(*testing.T) *store.DB, cfg sso.Config, idpOpts oidctest.Options) *ssoPortal {
	t.Helper()
	clock := smartlic.NewFakeClock(epoch)
	mgr, err := manager.New(context.Background(), open(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := mgr.CreateOperator(context.Background(), "ops@vendor.example")
	if err != nil {
		t.Fatal(err)
	}
	// The portal's address is needed before the portal: it is the
	// redirect URI the provider knows.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	idpOpts.Now = clock.Now
	idp := oidctest.New(t, base+sso.CallbackPath, idpOpts)
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL = idp.Issuer, idp.ClientID(), idp.ClientSecret(), base+sso.CallbackPath
	cfg.Keys, cfg.Clock = storetest.SecretKeys(t, base), clock
	prov, err := sso.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	buf := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, nil))
	api := httpapi.New(mgr, httpapi.Options{Logger: log, Version: "test", Clock: clock})
	ui := web.New(mgr, web.Options{Logger: log, Limiter: api, Clock: clock, SSO: prov})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: web.Mux(api, ui)}}
	srv.Start()
	t.Cleanup(srv.Close)
	op := smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@vendor.example", Role: smartlic.RoleOperator, Kind: smartlic.ActorOperatorKey})
	return &ssoPortal{portal: &portal{t: t, url: base, mgr: mgr, clock: clock, op: op, opKey: key}, idp: idp, log: buf}
}

// ssoClient is a browser without a screen: it keeps cookies and follows
// the sign-in's redirects one at a time, so a test can step in between.
type ssoClient struct {
	t    *testing.T
	http *http.Client
}

func newSSOClient(t *testing.T) *ssoClient {
	jar, _ := cookiejar.New(nil)
	return &ssoClient{t: t, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *ssoClient) get(u string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Get(u)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

// begin asks the portal for the provider's address.
func (c *ssoClient) begin(p *ssoPortal, next string) string {
	c.t.Helper()
	resp, _ := c.get(p.url + "/login/oidc?next=" + url.QueryEscape(next))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), p.idp.Issuer+"/authorize?") {
		c.t.Fatalf("start: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	return resp.Header.Get("Location")
}

// authorize visits the provider, which answers with the callback address.
func (c *ssoClient) authorize(authURL string) string {
	c.t.Helper()
	resp, body := c.get(authURL)
	if resp.StatusCode != http.StatusFound {
		c.t.Fatalf("provider: %s %s", resp.Status, body)
	}
	return resp.Header.Get("Location")
}

// signIn runs the whole sign-in: the callback's answer and address.
func (c *ssoClient) signIn(p *ssoPortal, next string) (*http.Response, string, string) {
	c.t.Helper()
	callback := c.authorize(c.begin(p, next))
	resp, body := c.get(callback)
	return resp, body, callback
}

func TestSSOSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		p := newSSOPortal(t, open, sso.Config{Name: "Acme SSO"}, oidctest.Options{})
		sa := p.acme()

		// The sign-in page offers the provider by its name.
		c := newSSOClient(t)
		_, page := c.get(p.url + "/login")
		if !strings.Contains(page, "Sign in with Acme SSO") || !strings.Contains(page, `href="/login/oidc?next=%2f"`) {
			t.Fatalf("sign-in page without the SSO button:\n%s", page)
		}

		// The start sets the state cookie, HttpOnly, SameSite=Lax, for the
		// callback's path only, sealed (neither state nor nonce readable).
		authURL := c.begin(p, "/sa/acme.example")
		u, _ := url.Parse(p.url)
		var state *http.Cookie
		for _, ck := range c.http.Jar.Cookies(&url.URL{Scheme: "http", Host: u.Host, Path: sso.CallbackPath}) {
			if ck.Name == "smartlic_sso" {
				state = ck
			}
		}
		au, _ := url.Parse(authURL)
		q := au.Query()
		if state == nil || strings.Contains(state.Value, q.Get("state")) || strings.Contains(state.Value, q.Get("nonce")) {
			t.Fatalf("state cookie: %+v", state)
		}
		if q.Get("code_challenge_method") != "S256" || q.Get("scope") != "openid email profile" || q.Get("redirect_uri") != p.url+sso.CallbackPath {
			t.Fatalf("authorization request: %s", q)
		}
		resp, _ := newSSOClient(t).get(p.url + "/login/oidc")
		if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || !strings.Contains(sc, "Path=/login/oidc") {
			t.Fatalf("state cookie attributes: %s", sc)
		}

		// A new person: a user is made, signed in, and has no role yet.
		p.idp.SignInAs(oidctest.Verified("sub-nia", "Nia@Acme.example"))
		resp, _ = c.get(c.authorize(authURL))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sa/acme.example" {
			t.Fatalf("callback: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
		_, page = c.get(p.url + "/")
		if !strings.Contains(page, "You have no role in any Smart Account yet") {
			t.Fatalf("new SSO user's home:\n%s", page)
		}
		// Roles are granted here, not by the provider: once granted, the
		// same session sees the account.
		must[smartlic.RoleAssignment](t)(p.mgr.GrantRole(p.op, sa.Domain, smartlic.RoleInput{User: "nia@acme.example", Role: smartlic.RoleSAUser}))
		resp, _ = c.get(p.url + "/")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sa/acme.example" {
			t.Fatalf("home after the grant: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
		// The session is the API's too.
		apiResp, _ := c.get(p.url + "/api/v1/me")
		if apiResp.StatusCode != http.StatusOK {
			t.Fatalf("API with the SSO session: %s", apiResp.Status)
		}

		// An existing user with a password is matched by e-mail and lands
		// where it was going.
		p.user("jane@acme.example", smartlic.RoleSAAdmin, sa.Domain, "")
		p.idp.SignInAs(oidctest.Verified("sub-jane", "JANE@acme.example"))
		jane := newSSOClient(t)
		resp, _, callback := jane.signIn(p, "/sa/acme.example/va/Lab/general")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sa/acme.example/va/Lab/general" {
			t.Fatalf("jane: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
		_, page = jane.get(p.url + "/sa/acme.example/va/Lab/general")
		if !strings.Contains(page, "jane@acme.example") {
			t.Fatalf("jane's page:\n%s", page)
		}

		// Replaying the callback (same code, same state) finds no sign-in
		// in progress: the state cookie went with the first answer.
		resp, page = jane.get(callback)
		wantRefused(t, resp, page, http.StatusUnauthorized, "No sign-in with Acme SSO is in progress")
		// And in another browser neither state nor cookie match.
		resp, page = newSSOClient(t).get(callback)
		wantRefused(t, resp, page, http.StatusUnauthorized, "No sign-in with Acme SSO is in progress")

		// A provider that releases no e-mail is refused: there is no one to
		// match.
		p.idp.SignInAs(oidctest.Identity{Subject: "sub-anon"})
		resp, page, _ = newSSOClient(t).signIn(p, "/")
		wantRefused(t, resp, page, http.StatusForbidden, "did not give a usable e-mail address")

		// The provider's open redirect is no way out: next stays local.
		p.idp.SignInAs(oidctest.Verified("sub-jane", "jane@acme.example"))
		resp, _, _ = newSSOClient(t).signIn(p, "//evil.example/x")
		if resp.Header.Get("Location") != "/" {
			t.Fatalf("next //evil.example: %s to %q", resp.Status, resp.Header.Get("Location"))
		}

		// Log lines name the issuer and the user, never a code or state.
		logs := p.log.String()
		cu, _ := url.Parse(callback)
		if !strings.Contains(logs, "single sign-on") || strings.Contains(logs, cu.Query().Get("code")) || strings.Contains(logs, cu.Query().Get("state")) {
			t.Fatalf("log:\n%s", logs)
		}
	})
}

func wantRefused(t *testing.T, resp *http.Response, page string, status int, text string) {
	t.Helper()
	if resp.StatusCode != status || !strings.Contains(page, text) || !strings.Contains(page, `id="sso-error"`) {
		t.Fatalf("got %s, want %d with %q:\n%s", resp.Status, status, text, page)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "smartlic_session" && c.Value != "" {
			t.Fatalf("a refused sign-in set a session cookie")
		}
	}
}

// TestSSORefusals: what the portal must refuse, each with a page that
// says why (not a 500) and a log line, and no session.
func TestSSORefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		p := newSSOPortal(t, open, sso.Config{Name: "Acme SSO", AllowedDomains: []string{"acme.example"}}, oidctest.Options{Algorithm: "ES256"})
		sa := p.acme()
		p.user("bound@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		p.user("off@acme.example", smartlic.RoleSAUser, sa.Domain, "")
		must[smartlic.User](t)(p.mgr.DisableUser(p.op, "off@acme.example"))
		// bound@ is bound to sub-bound by a first sign-in.
		p.idp.SignInAs(oidctest.Verified("sub-bound", "bound@acme.example"))
		if resp, _, _ := newSSOClient(t).signIn(p, "/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first sign-in of bound@: %s", resp.Status)
		}
		f := false
		for _, tc := range []struct {
			name   string
			who    oidctest.Identity
			edit   func(map[string]any)
			tamper bool
			status int
			says   string
			log    string
		}{
			{name: "wrong nonce", edit: func(c map[string]any) { c["nonce"] = "another sign-in's nonce" },
				status: 401, says: "not issued for this sign-in", log: "nonce mismatch"},
			{name: "no nonce", edit: func(c map[string]any) { delete(c, "nonce") },
				status: 401, says: "not issued for this sign-in", log: "nonce mismatch"},
			{name: "wrong audience", edit: func(c map[string]any) { c["aud"] = "another-client" },
				status: 401, says: "did not verify", log: "expected audience"},
			{name: "two audiences without azp", edit: func(c map[string]any) { c["aud"] = []string{"smartlic", "another-client"} },
				status: 401, says: "issued to another application", log: "azp"},
			{name: "wrong issuer", edit: func(c map[string]any) { c["iss"] = "https://evil.example" },
				status: 401, says: "did not verify", log: "different provider"},
			{name: "expired token", edit: func(c map[string]any) { c["exp"] = p.clock.Now().Add(-time.Minute).Unix() },
				status: 401, says: "has expired", log: "expired"},
			{name: "tampered signature", tamper: true,
				status: 401, says: "did not verify", log: "signature"},
			{name: "e-mail not verified", who: oidctest.Identity{Subject: "sub-eve", Email: "eve@acme.example", EmailVerified: &f},
				status: 403, says: "has not verified your e-mail address", log: "email_verified is not true"},
			{name: "e-mail_verified missing", who: oidctest.Identity{Subject: "sub-eve", Email: "eve@acme.example"},
				status: 403, says: "has not verified your e-mail address", log: "email_verified is not true"},
			{name: "no e-mail", who: oidctest.Identity{Subject: "sub-eve"},
				status: 403, says: "may not sign in here", log: `is not allowed`},
			{name: "domain not allowed", who: oidctest.Verified("sub-eve", "eve@evil.example"),
				status: 403, says: "may not sign in here", log: `evil.example\" is not allowed`},
			{name: "subdomain not allowed", who: oidctest.Verified("sub-eve", "eve@eu.acme.example"),
				status: 403, says: "may not sign in here", log: "is not allowed"},
			{name: "another subject for a bound user", who: oidctest.Verified("sub-mallory", "Bound@acme.example"),
				status: 403, says: "already linked to another account", log: "is bound to subject sub-bound"},
			{name: "disabled user", who: oidctest.Verified("sub-off", "off@acme.example"),
				status: 403, says: "is disabled", log: "is disabled"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// Past the sign-in limiter's back-off of the failures before.
				p.clock.Advance(time.Hour)
				who := tc.who
				if who.Subject == "" && who.Email == "" {
					who = oidctest.Verified("sub-ok-"+strings.ReplaceAll(tc.name, " ", "-"), "ok@acme.example")
				}
				if who.Subject == "" {
					who.Subject = "sub-noemail"
				}
				p.idp.SignInAs(who)
				p.idp.EditClaims(tc.edit)
				p.idp.TamperSignature(tc.tamper)
				t.Cleanup(func() { p.idp.EditClaims(nil); p.idp.TamperSignature(false) })
				resp, page, _ := newSSOClient(t).signIn(p, "/")
				wantRefused(t, resp, page, tc.status, tc.says)
				if logs := p.log.String(); !strings.Contains(logs, tc.log) {
					t.Fatalf("no log line with %q:\n%s", tc.log, logs)
				}
			})
		}
		// None of them made a user.
		for _, email := range []string{"eve@acme.example", "eve@evil.example", "eve@eu.acme.example", "ok@acme.example"} {
			if _, err := p.mgr.GetUser(p.op, email); smartlic.ErrorCode(err) != smartlic.ENotFound {
				t.Errorf("%s: %v, want not found", email, err)
			}
		}

		p.clock.Advance(time.Hour)
		// A code obtained with someone else's PKCE challenge (an injected
		// code) does not exchange with this browser's verifier.
		p.idp.SignInAs(oidctest.Verified("sub-ok", "ok@acme.example"))
		c := newSSOClient(t)
		au, _ := url.Parse(c.begin(p, "/"))
		q := au.Query()
		sum := sha256.Sum256([]byte("the attacker's own verifier, which the victim's cookie does not hold"))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		au.RawQuery = q.Encode()
		before := p.idp.Exchanges()
		resp, page := c.get(c.authorize(au.String()))
		wantRefused(t, resp, page, http.StatusUnauthorized, "did not accept the sign-in")
		if p.idp.Exchanges() != before || !strings.Contains(p.log.String(), "invalid_grant") {
			t.Fatalf("verifier mismatch: exchanges %d → %d", before, p.idp.Exchanges())
		}

		// A state that is not this browser's.
		c = newSSOClient(t)
		au, _ = url.Parse(c.begin(p, "/"))
		q = au.Query()
		q.Set("state", "not-the-state")
		au.RawQuery = q.Encode()
		resp, page = c.get(c.authorize(au.String()))
		wantRefused(t, resp, page, http.StatusUnauthorized, "does not belong to the sign-in begun in this browser")

		// The provider refused (the person cancelled).
		c = newSSOClient(t)
		c.begin(p, "/")
		resp, page = c.get(p.url + sso.CallbackPath + "?error=access_denied&error_description=The+user+cancelled")
		wantRefused(t, resp, page, http.StatusUnauthorized, "did not sign you in: The user cancelled")

		// The state expires after 10 minutes.
		p.clock.Advance(time.Hour)
		c = newSSOClient(t)
		callback := c.authorize(c.begin(p, "/"))
		p.clock.Advance(sso.StateTTL + 1)
		resp, page = c.get(callback)
		wantRefused(t, resp, page, http.StatusUnauthorized, "took too long")

		// Failures from one address are limited as the password form's are.
		p.clock.Advance(time.Hour)
		p.idp.SignInAs(oidctest.Verified("sub-off", "off@acme.example"))
		for range 5 {
			resp, page, _ := newSSOClient(t).signIn(p, "/")
			wantRefused(t, resp, page, http.StatusForbidden, "is disabled")
		}
		resp, page, _ = newSSOClient(t).signIn(p, "/")
		wantRefused(t, resp, page, http.StatusTooManyRequests, "too many attempts")
	})
}
