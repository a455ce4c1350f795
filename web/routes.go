package web

import (
	"net/http"
	"net/url"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
)

// routes registers every page. A page that needs a signed-in user goes
// through h.page, a public one through h.public; both map a returned
// error to its page in one place (errors.go).
//
// Inventory tabs not written yet (instances, events), transfers,
// conversions, agreements, administration, vendor and search are in the
// navigation (nav.go) and answer the portal's
// 404 page until their handlers are added here.
func (h *Handler) routes() {
	h.mux.Handle("GET /static/", staticHandler())

	h.public("GET /login", h.loginPage)
	h.public("POST /login", h.login)
	h.page("POST /logout", h.logout)
	h.ssoRoutes()

	h.page("GET /{$}", h.home)
	h.dashboardRoutes()
	h.alertsRoutes()
	h.reportsRoutes()
	h.policiesRoutes()

	// Inventory of one Virtual Account.
	h.page("GET /sa/{sa}/va/{va}", h.vaHome)
	h.page("GET /sa/{sa}/va/{va}/general", h.generalPage)
	h.page("POST /sa/{sa}/va/{va}/general", h.createToken)
	h.page("POST /sa/{sa}/va/{va}/tokens/{token}/revoke", h.revokeToken)
	h.page("GET /sa/{sa}/va/{va}/licenses", h.licensesPage)
	h.inventoryRoutes()
	h.adminVARoutes()

	// Licenses entering and moving: the vendor's pages, transfers,
	// conversions, agreements (vendor.go).
	h.commerceRoutes()

	// Reserve licenses: SLR/PLR codes (reservations.go).
	h.reservationRoutes()
	// Export authorization: SLACs from request and return codes (slacs.go).
	h.slacRoutes()

	// Usage data files and offline trust-code files (usagefiles.go).
	h.usageFileRoutes()

	// Administration, the user's own pages, invitations.
	h.adminRoutes()

	// Confirming the code of `smartlic login --web` (device.go).
	h.deviceRoutes()

	// Anything else is the portal's 404 page, not the router's plain text.
	h.public("/", func(w http.ResponseWriter, r *http.Request) error {
		return h.notFound(w, r)
	})
}

// pageFunc is a page handler: it writes the page or returns an error,
// which the wrapper turns into the right page (errors.go).
type pageFunc func(w http.ResponseWriter, r *http.Request, s *Session) error

// page registers a handler for signed-in users. Without a session it
// redirects to /login (and back afterwards); every method but GET and HEAD
// must carry the session's CSRF token in the form field csrf_token.
func (h *Handler) page(pattern string, fn pageFunc) {
	h.pageReading(pattern, parseForm, fn)
}

// pageReading is page with its own reader of a posted body (parse), for a
// form that is not a few fields: an upload reads a file as
// multipart/form-data under a larger limit. The CSRF check follows it, as
// on every page. A body that parse refuses (too large, not a form) is
// shown by refused, when given, as a page with the error where the person
// looks; the form's CSRF token is unread then, so refused must change
// nothing.
func (h *Handler) pageReading(pattern string, parse func(http.ResponseWriter, *http.Request) error, fn pageFunc, refused ...func(http.ResponseWriter, *http.Request, *Session, error) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := cleanRequest(r); err != nil {
			h.fail(w, r, nil, err)
			return
		}
		s, err := h.session(w, r)
		if err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if s == nil {
			h.toLogin(w, r)
			return
		}
		if !safeMethod(r.Method) {
			if err := parse(w, r); err != nil {
				if len(refused) > 0 {
					err = refused[0](w, r.WithContext(s.ctx(r.Context())), s, err)
				}
				if err != nil {
					h.fail(w, r, s, err)
				}
				return
			}
			if err := checkCSRF(r, s.CSRF); err != nil {
				h.fail(w, r, s, err)
				return
			}
		}
		if err := fn(w, r.WithContext(s.ctx(r.Context())), s); err != nil {
			h.fail(w, r, s, err)
		}
	})
}

// public registers a handler that needs no session. The session is still
// read when there is one, so the page shows who is signed in.
func (h *Handler) public(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := cleanRequest(r); err != nil {
			h.fail(w, r, nil, err)
			return
		}
		if err := fn(w, r); err != nil {
			h.fail(w, r, nil, err)
		}
	})
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// cleanRequest applies the API's edge check to a page's address before
// any service sees it: the path (whose segments are the page's
// parameters) and the query hold identifiers only.
func cleanRequest(r *http.Request) error {
	if err := smartlic.ValidateIdentifier("path", r.URL.Path); err != nil {
		return err
	}
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		return smartlic.Invalid("query", "is not a valid query string")
	}
	return httpapi.CheckURL(r)
}
