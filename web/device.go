package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// deviceView is /device: where a signed-in user confirms the code that
// `smartlic login --web` shows, giving that CLI a personal API key.
type deviceView struct {
	Shell
	Form *Form
	// Auth is what the code asks for, once a live code was given.
	Auth *smartlic.DeviceAuthorization
	Code string
}

func (h *Handler) deviceRoutes() {
	h.page("GET /device", h.devicePage)
	h.page("POST /device", h.decideDevice)
}

// devicePage asks for the code, or shows what a given code asks for.
// Opening it with ?code= only shows: confirming takes a POST with the
// session's CSRF token, so a link alone cannot sign anyone's CLI in.
func (h *Handler) devicePage(w http.ResponseWriter, r *http.Request, s *Session) error {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	f := newForm(url.Values{"code": {code}})
	if code == "" {
		return h.renderDevice(w, r, s, http.StatusOK, f, nil)
	}
	d, err := h.svc.GetDeviceAuthorization(r.Context(), code)
	if bindAll(f, err) {
		return h.renderDevice(w, r, s, http.StatusBadRequest, f, nil)
	}
	if err != nil {
		return err
	}
	return h.renderDevice(w, r, s, http.StatusOK, f, &d)
}

func (h *Handler) renderDevice(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form, d *smartlic.DeviceAuthorization) error {
	sh, err := h.baseShell(w, r, s)
	if err != nil {
		return err
	}
	sh.Title = "Sign in the command line"
	sh.Crumbs = []NavLink{{Label: "Your account"}, {Label: "Sign in the command line", Current: true}}
	return h.render(w, r, status, "device", &deviceView{Shell: sh, Form: f, Auth: d, Code: f.Get("code")})
}

// decideDevice confirms or refuses a code.
func (h *Handler) decideDevice(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	code := strings.TrimSpace(f.Get("code"))
	approve := f.Get("decision") == "approve"
	if !approve && f.Get("decision") != "deny" {
		f.Errors[""] = "choose Confirm or Refuse"
		return h.renderDevice(w, r, s, http.StatusBadRequest, f, nil)
	}
	d, err := h.svc.DecideDeviceAuthorization(r.Context(), code, approve)
	if bindAll(f, err) {
		return h.renderDevice(w, r, s, http.StatusBadRequest, f, nil)
	}
	if err != nil {
		return err
	}
	if approve {
		return redirectWithFlash(w, r, "/account/api-keys", "Confirmed: the command line gets the API key “"+d.KeyName+"”. Go back to your terminal.")
	}
	return redirectWithFlash(w, r, "/", "Refused: the command line that showed "+code+" gets no key.")
}
