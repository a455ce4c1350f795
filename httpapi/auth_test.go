package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// Two callers at two addresses: the attacker and the person it attacks.
const (
	victimAddr   = "127.0.0.1"
	attackerAddr = "127.0.0.2"
)

// operator is the operator acting through the manager, for setting up.
func (e *env) operator() context.Context {
	e.t.Helper()
	return smartlic.WithActor(context.Background(), ok[smartlic.Actor](e.t)(e.mgr.Authenticate(context.Background(), e.key)))
}

// member creates a user holding role in sa (the operator does both) and
// returns it signed in, through the manager.
func (e *env) member(email, sa string, role smartlic.RoleInput) context.Context {
	e.t.Helper()
	op := e.operator()
	ok[smartlic.User](e.t)(e.mgr.CreateUser(op, smartlic.UserInput{Email: email, Name: email, Password: matrixPassword}))
	if role.Role != "" {
		role.User = email
		ok[smartlic.RoleAssignment](e.t)(e.mgr.GrantRole(op, sa, role))
	}
	l := ok[smartlic.Login](e.t)(e.mgr.Login(context.Background(), email, matrixPassword))
	a, _, err := e.mgr.AuthenticateSession(context.Background(), l.Secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return smartlic.WithActor(context.Background(), a)
}

func (e *env) login(from, email, password string) answer {
	e.t.Helper()
	return e.do(request{method: "POST", path: "/api/v1/auth/login", auth: "-", from: from,
		body: fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)})
}

// sessionOf is the session a login answer opened, as a signed-in actor.
func (e *env) sessionOf(login answer) context.Context {
	e.t.Helper()
	for _, c := range (&http.Response{Header: login.header}).Cookies() {
		if c.Name == httpapi.SessionCookie {
			a, _, err := e.mgr.AuthenticateSession(context.Background(), c.Value)
			if err != nil {
				e.t.Fatal(err)
			}
			return smartlic.WithActor(context.Background(), a)
		}
	}
	e.t.Fatalf("login answer %d set no session cookie", login.status)
	return nil
}

func retryAfter(t *testing.T, a answer) time.Duration {
	t.Helper()
	wantError(t, a, http.StatusTooManyRequests, httpapi.CodeRateLimited, "")
	n, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || n <= 0 {
		t.Fatalf("Retry-After = %q", a.header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// TestWrongPasswordsDoNotLockTheUserOut is finding 8 of issue 8: an
// attacker who knows an e-mail fails on purpose from its own address; the
// real user, from another address, still signs in, while the attacker's
// waits grow exponentially.
func TestWrongPasswordsDoNotLockTheUserOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		e.member("jane@acme.example", "acme.example", smartlic.RoleInput{Role: smartlic.RoleSAUser})

		var limited answer
		for i := 0; ; i++ {
			a := e.login(attackerAddr, "jane@acme.example", "not jane's password")
			if a.status == http.StatusTooManyRequests {
				limited = a
				break
			}
			wantError(t, a, http.StatusUnauthorized, smartlic.EUnauthorized, "")
			if i > 50 {
				t.Fatal("no limit after 50 wrong passwords from one address")
			}
		}
		first := retryAfter(t, limited)

		// Jane, at her own address, is not held back by the attacker.
		wantStatus(t, e.login(victimAddr, "jane@acme.example", matrixPassword), http.StatusOK)

		// The attacker's address waits, even with the right password, and
		// each further failure doubles the wait.
		retryAfter(t, e.login(attackerAddr, "jane@acme.example", matrixPassword))
		e.clock.Advance(first)
		wantStatus(t, e.login(attackerAddr, "jane@acme.example", "not jane's password"), http.StatusUnauthorized)
		if second := retryAfter(t, e.login(attackerAddr, "jane@acme.example", "not jane's password")); second < 2*first {
			t.Errorf("second wait %v, want at least twice the first (%v)", second, first)
		}

		// The same holds for an integration's client id at the token endpoint.
		c := ok[smartlic.OAuthClient](t)(e.mgr.CreateOAuthClient(e.operator(), "acme.example", smartlic.OAuthClientInput{Name: "erp"}))
		token := func(from, secret string) answer {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {secret}}
			return e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-", from: from, contentType: "application/x-www-form-urlencoded", body: form.Encode()})
		}
		for i := 0; token(attackerAddr, "slcs_guess").status != http.StatusTooManyRequests; i++ {
			if i > 50 {
				t.Fatal("no limit after 50 wrong client secrets from one address")
			}
		}
		wantStatus(t, token(victimAddr, c.Secret), http.StatusOK)
	})
}

// TestLogoutNeedsCSRF: a session is ended only by a request carrying its
// CSRF token, so another site cannot sign the user out.
func TestLogoutNeedsCSRF(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		e.member("jane@acme.example", "acme.example", smartlic.RoleInput{Role: smartlic.RoleSAUser})
		a := e.login(victimAddr, "jane@acme.example", matrixPassword)
		wantStatus(t, a, http.StatusOK)
		var l struct {
			CSRFToken string `json:"csrf_token"`
		}
		a.decode(t, &l)
		var cookie string
		for _, c := range (&http.Response{Header: a.header}).Cookies() {
			if c.Name == httpapi.SessionCookie {
				cookie = c.Name + "=" + c.Value
			}
		}
		withSession := func(method, path, csrf string) answer {
			h := http.Header{"Cookie": {cookie}}
			if csrf != "" {
				h.Set(httpapi.CSRFHeader, csrf)
			}
			return e.do(request{method: method, path: path, auth: "-", header: h})
		}
		wantError(t, withSession("POST", "/api/v1/auth/logout", ""), http.StatusForbidden, smartlic.EForbidden, httpapi.CSRFHeader)
		wantError(t, withSession("POST", "/api/v1/auth/logout", l.CSRFToken+"x"), http.StatusForbidden, smartlic.EForbidden, httpapi.CSRFHeader)
		wantStatus(t, withSession("GET", "/api/v1/me", ""), http.StatusOK)
		wantStatus(t, withSession("POST", "/api/v1/auth/logout", l.CSRFToken), http.StatusNoContent)
		wantError(t, withSession("GET", "/api/v1/me", ""), http.StatusUnauthorized, smartlic.EUnauthorized, "")
		// An ended session clears its cookie without a token: nothing is left to protect.
		wantStatus(t, withSession("POST", "/api/v1/auth/logout", ""), http.StatusNoContent)
	})
}

// TestUnauthorizedSaysOnlyInvalidCredentials: a refused credential does not
// tell the caller whether it exists, was revoked, expired or belongs to a
// disabled user; the log says why, without the secret.
func TestUnauthorizedSaysOnlyInvalidCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		jane := e.member("jane@acme.example", "acme.example", smartlic.RoleInput{Role: smartlic.RoleSAAdmin})
		revoked := ok[smartlic.UserAPIKey](t)(e.mgr.CreateAPIKey(jane, smartlic.APIKeyInput{Name: "revoked"}))
		ok[smartlic.UserAPIKey](t)(e.mgr.RevokeAPIKey(jane, revoked.ID))
		expiring := ok[smartlic.UserAPIKey](t)(e.mgr.CreateAPIKey(jane, smartlic.APIKeyInput{Name: "expiring", ExpiresInDays: 1}))
		bob := e.member("bob@acme.example", "acme.example", smartlic.RoleInput{Role: smartlic.RoleSAUser})
		bobs := ok[smartlic.UserAPIKey](t)(e.mgr.CreateAPIKey(bob, smartlic.APIKeyInput{Name: "bob"}))
		ok[smartlic.User](t)(e.mgr.DisableUser(e.operator(), "bob@acme.example"))
		c := ok[smartlic.OAuthClient](t)(e.mgr.CreateOAuthClient(e.operator(), "acme.example", smartlic.OAuthClientInput{Name: "erp"}))
		grant := ok[smartlic.TokenGrant](t)(e.mgr.IssueToken(context.Background(), c.ClientID, c.Secret, ""))
		ok[smartlic.OAuthClient](t)(e.mgr.RevokeOAuthClient(e.operator(), "acme.example", c.ID))
		e.clock.Advance(2 * smartlic.Day)

		for _, tc := range []struct{ name, secret, reason string }{
			{"unknown key", "slu_" + strings.Repeat("x", 43), "unknown personal API key"},
			{"revoked key", revoked.Secret, "personal API key revoked"},
			{"expired key", expiring.Secret, "personal API key expired"},
			{"disabled user's key", bobs.Secret, "user disabled"},
			{"revoked client's token", grant.AccessToken, "OAuth access token expired"},
		} {
			a := e.do(request{method: "GET", path: "/api/v1/me", auth: "Bearer " + tc.secret})
			if got := wantError(t, a, http.StatusUnauthorized, smartlic.EUnauthorized, ""); got.Message != "invalid credentials" {
				t.Errorf("%s: message %q, want only \"invalid credentials\"", tc.name, got.Message)
			}
			e.logs.wait(t, "authentication refused", tc.reason)
		}
		logs := e.logs.all()
		for _, secret := range []string{revoked.Secret, expiring.Secret, bobs.Secret, grant.AccessToken} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds a secret: %s", secret)
			}
		}
	})
}

// TestOAuthClientStopsWithItsCreator is finding 5 of issue 8: an SA
// administrator makes an sa_admin client, then loses the role and is
// disabled; the client must stop getting tokens and its tokens must stop
// working, and the account's administrators see it suspended.
func TestOAuthClientStopsWithItsCreator(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		jane := e.member("jane@acme.example", "acme.example", smartlic.RoleInput{Role: smartlic.RoleSAAdmin})
		janeKey := "Bearer " + ok[smartlic.UserAPIKey](t)(e.mgr.CreateAPIKey(jane, smartlic.APIKeyInput{Name: "jane"})).Secret
		e.member("bob@acme.example", "acme.example", smartlic.RoleInput{Role: smartlic.RoleSAUser})

		a := e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/oauth-clients", auth: janeKey,
			body: `{"name":"erp","role":"sa_admin","scopes":["read","write"]}`})
		wantStatus(t, a, http.StatusCreated)
		var c smartlic.OAuthClient
		a.decode(t, &c)
		token := func() answer {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.Secret}}
			return e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-", contentType: "application/x-www-form-urlencoded", body: form.Encode()})
		}
		a = token()
		wantStatus(t, a, http.StatusOK)
		var g smartlic.TokenGrant
		a.decode(t, &g)
		bearer := "Bearer " + g.AccessToken
		roles := "/api/v1/accounts/acme.example/roles"
		grantBob := request{method: "POST", path: roles, auth: bearer, body: `{"user":"bob@acme.example","role":"sa_approver"}`}
		wantStatus(t, e.do(grantBob), http.StatusCreated)

		// The operator takes Jane's administrator role away.
		a = e.do(request{method: "GET", path: roles})
		wantStatus(t, a, http.StatusOK)
		var list struct{ Items []smartlic.RoleAssignment }
		a.decode(t, &list)
		var janeRole string
		for _, r := range list.Items {
			if r.UserEmail == "jane@acme.example" && r.Role == smartlic.RoleSAAdmin {
				janeRole = r.ID
			}
		}
		wantStatus(t, e.do(request{method: "DELETE", path: roles + "/" + janeRole}), http.StatusNoContent)

		// Her client's token stops, and it gets no new one.
		wantError(t, e.do(request{method: "GET", path: roles, auth: bearer}), http.StatusUnauthorized, smartlic.EUnauthorized, "")
		grantBob.body = `{"user":"bob@acme.example","role":"sa_admin"}`
		wantError(t, e.do(grantBob), http.StatusUnauthorized, smartlic.EUnauthorized, "")
		wantError(t, token(), http.StatusUnauthorized, smartlic.EUnauthorized, "client_secret")
		clients := func() smartlic.OAuthClient {
			a := e.do(request{method: "GET", path: "/api/v1/accounts/acme.example/oauth-clients"})
			wantStatus(t, a, http.StatusOK)
			var l struct{ Items []smartlic.OAuthClient }
			a.decode(t, &l)
			if len(l.Items) != 1 {
				t.Fatalf("clients = %+v", l.Items)
			}
			return l.Items[0]
		}
		if got := clients(); !got.Suspended || !strings.Contains(got.SuspendedBecause, "jane@acme.example") {
			t.Errorf("listed client = %+v, want suspended because of jane", got)
		}

		// With the role back it works again; once Jane is disabled it stops.
		wantStatus(t, e.do(request{method: "POST", path: roles, body: `{"user":"jane@acme.example","role":"sa_admin"}`}), http.StatusCreated)
		wantStatus(t, e.do(request{method: "GET", path: roles, auth: bearer}), http.StatusOK)
		if got := clients(); got.Suspended {
			t.Errorf("listed client = %+v, want active again", got)
		}
		wantStatus(t, e.do(request{method: "POST", path: "/api/v1/users/jane@acme.example/disable"}), http.StatusOK)
		wantError(t, e.do(request{method: "GET", path: roles, auth: bearer}), http.StatusUnauthorized, smartlic.EUnauthorized, "")
		wantError(t, token(), http.StatusUnauthorized, smartlic.EUnauthorized, "client_secret")
		if got := clients(); !got.Suspended || !strings.Contains(got.SuspendedBecause, "disabled") {
			t.Errorf("listed client = %+v, want suspended because jane is disabled", got)
		}
	})
}
