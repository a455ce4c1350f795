package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// inviteCookie is the double-submit token of the accept form when nobody
// is signed in (a signed-in form posts the session's CSRF token).
const inviteCookie = "smartlic_invite"

// inviteView is /invite: accept an invitation with its code. Signed out,
// the invitee chooses a name and a password (twice); the user of an
// address that already has one signs in and accepts, since an invitation
// never changes a password.
type inviteView struct {
	Shell
	Form  *Form
	Token string // double-submit token when signed out
	// SignInLink signs in and comes back to this page with the code.
	SignInLink string
}

func (h *Handler) invitePage(w http.ResponseWriter, r *http.Request) error {
	f := newForm(url.Values{"code": {r.URL.Query().Get("code")}})
	return h.renderInvite(w, r, http.StatusOK, f)
}

func (h *Handler) renderInvite(w http.ResponseWriter, r *http.Request, status int, f *Form) error {
	s, err := h.session(w, r)
	if err != nil {
		return err
	}
	v := &inviteView{Form: f, SignInLink: "/login?next=" + url.QueryEscape("/invite?code="+url.QueryEscape(f.Get("code")))}
	if s != nil {
		if v.Shell, err = h.baseShell(w, r.WithContext(s.ctx(r.Context())), s); err != nil {
			return err
		}
	} else {
		v.Token = randomToken()
		setCookie(w, r, inviteCookie, v.Token, 0)
		v.Shell.Flash = takeFlash(w, r)
	}
	v.Title = "Accept an invitation"
	// The code is a credential: keep the page out of caches and history.
	w.Header().Set("Cache-Control", "no-store")
	return h.render(w, r, status, "invite", v)
}

// acceptInvite spends the code. A new invitee is signed in with the
// password it just chose; a signed-in user accepts as itself.
func (h *Handler) acceptInvite(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	s, err := h.session(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if s != nil {
		if err := checkCSRF(r, s.CSRF); err != nil {
			return err
		}
		ctx = s.ctx(ctx)
	} else if c, err := r.Cookie(inviteCookie); err != nil || checkCSRF(r, c.Value) != nil {
		return smartlic.Errorf(smartlic.EForbidden, csrfField, "the form expired or was not sent by this portal; reload the page and try again")
	}
	f := newForm(r.PostForm)
	in := smartlic.AcceptInvitationInput{Code: strings.TrimSpace(f.Get("code")), Name: strings.TrimSpace(f.Get("name")), Password: f.Get("password")}
	if s == nil && in.Password != f.Get("password_again") {
		f.Errors["password_again"] = "The two passwords differ; type the same one twice."
		return h.renderInvite(w, r, http.StatusBadRequest, f)
	}
	done := func(bool) {}
	if h.limit != nil {
		// Limited per address like sign-in: an existing user's password
		// may be checked here.
		if done, err = h.limit.LimitSignIn(r, "invitation"); err != nil {
			f.Errors["code"] = smartlic.ErrorMessage(err)
			return h.renderInvite(w, r, http.StatusTooManyRequests, f)
		}
	}
	ra, err := h.svc.AcceptInvitation(ctx, in)
	done(err == nil)
	if bindAll(f, err) {
		return h.renderInvite(w, r, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	if s == nil {
		l, err := h.svc.Login(r.Context(), ra.UserEmail, in.Password)
		if err != nil {
			return err
		}
		setCookie(w, r, sessionCookie, l.Secret, l.ExpiresAt.Sub(h.clock.Now()))
	}
	clearCookie(w, r, inviteCookie)
	return redirectWithFlash(w, r, saPath(ra.SmartAccountID), "Welcome: you are now "+roleLabel(ra.Role)+" here.")
}
