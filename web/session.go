package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
)

// Cookies. A user's session is the API's session (the same cookie, the
// same store): signing in here also signs in to the API, and signing out
// ends both. The vendor operator has no user: it signs in with its e-mail
// and operator API key as the password and gets a session of its own, so
// the browser never holds the key (see docs/portal.md).
const (
	sessionCookie  = httpapi.SessionCookie
	operatorCookie = "smartlic_operator" // an earlier release kept the operator key in it; cleared on sight
	loginCookie    = "smartlic_login"    // double-submit token of the sign-in form
	flashCookie    = "smartlic_flash"
	csrfField      = "csrf_token"
)

// Session is the signed-in caller of a page.
type Session struct {
	Actor smartlic.Actor
	// CSRF is the token every form of this session posts in csrf_token.
	CSRF string
	// Operator is true for the vendor operator.
	Operator bool
}

// ctx returns ctx carrying the session's actor, as the API's
// authentication does: services authorise by it.
func (s *Session) ctx(ctx context.Context) context.Context { return smartlic.WithActor(ctx, s.Actor) }

// session resolves the request's cookies to a session; nil without one or
// with one that has ended (the stale cookie is cleared).
func (h *Handler) session(w http.ResponseWriter, r *http.Request) (*Session, error) {
	if c, err := r.Cookie(operatorCookie); err == nil && c.Value != "" {
		// An earlier release kept the operator's key itself in this
		// cookie; it is no credential any more and leaves the browser.
		clearCookie(w, r, operatorCookie)
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		actor, sess, err := h.svc.AuthenticateSession(r.Context(), c.Value)
		switch smartlic.ErrorCode(err) {
		case "":
			return &Session{Actor: actor, CSRF: sess.CSRFToken, Operator: actor.Role == smartlic.RoleOperator}, nil
		case smartlic.EUnauthorized:
			clearCookie(w, r, sessionCookie)
			return nil, nil
		default:
			return nil, err
		}
	}
	return nil, nil
}

// checkCSRF refuses a form that does not carry the expected token.
func checkCSRF(r *http.Request, want string) error {
	got := r.PostFormValue(csrfField)
	if got == "" || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return smartlic.Errorf(smartlic.EForbidden, csrfField,
			"this form was not sent by a page of this portal for your session (its CSRF token is missing or wrong); reload the page and try again")
	}
	return nil
}

// setCookie sets a portal cookie: HttpOnly, SameSite=Lax (a link from an
// e-mail keeps the session, a form posted from another site does not
// carry it) and Secure when the request came over TLS. A lifetime of 0
// makes a browser-session cookie; a lifetime is relative (Max-Age), so a
// browser whose clock differs from the server's keeps it as long.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, lifetime time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(lifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// toLogin sends a signed-out visitor to the sign-in page, remembering
// where they were going when it was a page they could simply reload.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath keeps a redirect target on this site: a path, not a URL
// ("//evil.example" and "/\evil.example" are URLs to browsers).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// loginView is the sign-in page.
type loginView struct {
	Shell
	Form     *Form
	Next     string
	Token    string // the form's double-submit token
	NoUsers  bool
	SetupCmd string
	// SSO labels the "Sign in with …" button; empty without single sign-on.
	SSO string
	// SSOError says why a single sign-on just failed.
	SSOError string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	if s, err := h.session(w, r); err == nil && s != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return h.renderLogin(w, r, http.StatusOK, newForm(nil))
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, f *Form) error {
	return h.renderLoginView(w, r, status, f, "")
}

func (h *Handler) renderLoginView(w http.ResponseWriter, r *http.Request, status int, f *Form, ssoError string) error {
	has, err := h.svc.HasUsers(r.Context())
	if err != nil {
		return err
	}
	// A fresh token per rendering: the form proves it came from this page,
	// so another site cannot sign a victim in to the attacker's account.
	tok := randomToken()
	setCookie(w, r, loginCookie, tok, 0)
	v := &loginView{Shell: Shell{Title: "Sign in", Flash: takeFlash(w, r)}, Form: f, Next: localPath(r.FormValue("next")), Token: tok,
		NoUsers: !has, SetupCmd: h.hint, SSOError: ssoError}
	if h.sso != nil {
		v.SSO = h.sso.Name()
	}
	return h.render(w, r, status, "login", v)
}

// login signs in with an e-mail and a password, or, for the vendor
// operator, an e-mail and an operator API key.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if c, err := r.Cookie(loginCookie); err != nil || checkCSRF(r, c.Value) != nil {
		return smartlic.Errorf(smartlic.EForbidden, csrfField, "the sign-in form expired or was not sent by this portal; reload the page and sign in again")
	}
	f := newForm(r.PostForm)
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	switch {
	case email == "":
		f.Errors["email"] = "Enter your e-mail address."
	case password == "":
		f.Errors["password"] = "Enter your password."
	}
	if len(f.Errors) > 0 {
		return h.renderLogin(w, r, http.StatusBadRequest, f)
	}
	done := func(bool) {}
	if h.limit != nil {
		var err error
		if done, err = h.limit.LimitSignIn(r, email); err != nil {
			f.Errors["password"] = smartlic.ErrorMessage(err)
			return h.renderLogin(w, r, http.StatusTooManyRequests, f)
		}
	}
	// The operator signs in with its key as the password; the service
	// answers a session for it as for a user, never keeping the key here.
	l, err := h.svc.Login(r.Context(), email, password)
	done(err == nil)
	if err != nil {
		return h.loginFailed(w, r, f, err)
	}
	setCookie(w, r, sessionCookie, l.Secret, l.ExpiresAt.Sub(h.clock.Now()))
	clearCookie(w, r, loginCookie)
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

// loginFailed shows a refused sign-in beside the password, keeping the
// e-mail; other errors take their usual page.
func (h *Handler) loginFailed(w http.ResponseWriter, r *http.Request, f *Form, err error) error {
	if smartlic.ErrorCode(err) != smartlic.EUnauthorized {
		return err
	}
	f.Errors["password"] = "Wrong e-mail or password."
	return h.renderLogin(w, r, http.StatusUnauthorized, f)
}

// logout ends the session (the API's too) and clears the cookies.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *Session) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := h.svc.Logout(r.Context(), c.Value, s.CSRF); err != nil {
			return err
		}
	}
	clearCookie(w, r, sessionCookie)
	setFlash(w, r, "You are signed out.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
