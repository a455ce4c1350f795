package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/smartlic/smartlic"
)

// SSO is an OpenID provider the portal signs people in with
// (sso.Provider). Begin and Finish keep the flow's state (state, nonce,
// PKCE verifier) in a sealed cookie, not in this server's memory, so that
// the callback may reach another replica than the one that began.
type SSO interface {
	// Name labels the button: "Sign in with <Name>".
	Name() string
	// Issuer names the provider in log lines.
	Issuer() string
	// Begin answers the provider's authorization URL and the sealed state.
	Begin(next string) (authURL, cookie string, err error)
	// Finish checks the provider's answer against the sealed state and
	// answers the verified ID token's claims and the path to return to.
	Finish(ctx context.Context, cookie string, query url.Values) (smartlic.OIDCClaims, string, error)
}

const (
	ssoCookie     = "smartlic_sso"
	ssoCookiePath = "/login/oidc" // sent to the callback only, not with every page
	ssoStateTTL   = 10 * time.Minute
)

func (h *Handler) ssoRoutes() {
	h.public("GET /login/oidc", h.ssoStart)
	h.public("GET /login/oidc/callback", h.ssoCallback)
}

// ssoStart sends the browser to the provider.
func (h *Handler) ssoStart(w http.ResponseWriter, r *http.Request) error {
	if h.sso == nil {
		return h.notFound(w, r)
	}
	authURL, cookie, err := h.sso.Begin(localPath(r.URL.Query().Get("next")))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: cookie, Path: ssoCookiePath, MaxAge: int(ssoStateTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, authURL, http.StatusSeeOther)
	return nil
}

// ssoCallback is where the provider sends the browser back: check its
// answer, find or make the user, open the same session the password
// sign-in opens. Every refusal is the sign-in page with the reason, and a
// log line with the cause (never a code, token or cookie).
func (h *Handler) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	if h.sso == nil {
		return h.notFound(w, r)
	}
	// The state is good for one answer, whatever it is: a replayed
	// callback finds no state.
	var cookie string
	if c, err := r.Cookie(ssoCookie); err == nil {
		cookie = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: ssoCookiePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	done := func(bool) {}
	if h.limit != nil {
		// Failures count per client address, as the password form's do.
		var err error
		if done, err = h.limit.LimitSignIn(r, "sso:"+h.sso.Issuer()); err != nil {
			return h.ssoRefused(w, r, http.StatusTooManyRequests, err)
		}
	}
	claims, next, err := h.sso.Finish(r.Context(), cookie, r.URL.Query())
	if err != nil {
		done(false)
		return h.ssoRefused(w, r, 0, err)
	}
	l, err := h.svc.SignInWithOIDC(r.Context(), claims)
	if err != nil {
		done(false)
		return h.ssoRefused(w, r, 0, err)
	}
	done(true)
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "single sign-on", slog.String("issuer", h.sso.Issuer()),
		slog.String("user", l.User.ID), slog.String("request_id", smartlic.RequestIDFrom(r.Context())))
	clearCookie(w, r, operatorCookie)
	setCookie(w, r, sessionCookie, l.Secret, l.ExpiresAt.Sub(h.clock.Now()))
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
	return nil
}

// ssoRefused shows a refused single sign-on on the sign-in page. Errors
// that are not refusals (the database is down) take their usual page.
func (h *Handler) ssoRefused(w http.ResponseWriter, r *http.Request, status int, err error) error {
	var e *smartlic.Error
	if !errors.As(err, &e) || e.Code == smartlic.EInternal {
		return err
	}
	if status == 0 {
		status = http.StatusUnauthorized
		if e.Code == smartlic.EForbidden {
			status = http.StatusForbidden
		}
	}
	reason := e.Message
	if e.Err != nil {
		reason = e.Err.Error()
	}
	h.log.LogAttrs(r.Context(), slog.LevelWarn, "single sign-on refused", slog.String("issuer", h.sso.Issuer()),
		slog.String("reason", reason), slog.String("request_id", smartlic.RequestIDFrom(r.Context())))
	return h.renderLoginView(w, r, status, newForm(nil), e.Message)
}
