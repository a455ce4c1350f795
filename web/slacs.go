package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// slacsView is the Export authorization page of a Smart Account: whether
// the vendor allows export-controlled functionality, a SLAC issued from a
// device's request code, a device's return code entered, and the SLACs.
type slacsView struct {
	Shell
	Export     smartlic.ExportControl
	VA         selectView
	Form       *Form // issue from a request code
	ReturnForm *Form // a return code
	SLACs      []smartlic.SLAC
	Pager      Pager
	UDI        string
	Status     string
	ListVA     string // the VA the list is narrowed to, for VA roles
	ListNote   string
}

// slacView is one SLAC, with its authorization code while it is active.
type slacView struct {
	Shell
	S smartlic.SLAC
}

const slacsPerPage = 25

func slacsPath(sa string) string { return saPath(sa) + "/slacs" }

func (h *Handler) slacRoutes() {
	h.page("GET /sa/{sa}/slacs", func(w http.ResponseWriter, r *http.Request, s *Session) error {
		return h.renderSLACs(w, r, s, http.StatusOK, newForm(nil), newForm(nil))
	})
	h.page("POST /sa/{sa}/slacs", h.issueSLAC)
	h.page("POST /sa/{sa}/slacs/returns", h.returnSLAC)
	h.page("GET /sa/{sa}/slacs/{id}", h.slacPage)
}

func (h *Handler) renderSLACs(w http.ResponseWriter, r *http.Request, s *Session, status int, f, ret *Form) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	sh.Title = "Export authorization (SLAC) · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Export authorization", Current: true})
	q := r.URL.Query()
	v := &slacsView{Shell: sh, Form: f, ReturnForm: ret, UDI: strings.TrimSpace(q.Get("udi")), Status: q.Get("status")}
	if v.Export, err = h.svc.GetExportControl(r.Context(), sh.SA.Domain); err != nil {
		return err
	}
	vas := vaOptions(sh.Tree, 0)
	v.VA = choose(f, "va", "Virtual Account", "The SLAC holds one license of this Virtual Account until the device returns it. Empty: the device's own Virtual Account if it is registered here, else DEFAULT.",
		append([]option{{Value: "", Label: "The device's own (or DEFAULT)"}}, vas...))

	filter := smartlic.SLACFilter{Status: smartlic.SLACStatus(v.Status)}
	if v.UDI != "" {
		udi, err := smartlic.ParseUDI("udi", v.UDI)
		if err != nil {
			v.ListNote = smartlic.ErrorMessage(err)
			return h.render(w, r, status, "slacs", v)
		}
		filter.UDI = &udi
	}
	after := q.Get("after")
	list, next, err := h.svc.ListSLACs(r.Context(), sh.SA.Domain, filter, smartlic.Page{Limit: slacsPerPage, After: after})
	if smartlic.ErrorCode(err) == smartlic.EForbidden && len(vas) > 0 {
		// A VA role sees the SLACs of its Virtual Account only.
		filter.VA, v.ListVA = vas[0].Value, vas[0].Label
		list, next, err = h.svc.ListSLACs(r.Context(), sh.SA.Domain, filter, smartlic.Page{Limit: slacsPerPage, After: after})
	}
	switch smartlic.ErrorCode(err) {
	case "":
		v.SLACs, v.Pager = list, pager(r, after, next)
	case smartlic.EInvalid:
		v.ListNote = smartlic.ErrorMessage(err)
	default:
		return err
	}
	return h.render(w, r, status, "slacs", v)
}

// bindSLACError shows a refusal beside the input it is about; false for
// errors that are not about the input.
func bindSLACError(f *Form, err error, input string) bool {
	var e *smartlic.Error
	if err == nil || !errors.As(err, &e) {
		return false
	}
	switch {
	case e.Code == smartlic.EInternal, e.Code == smartlic.EForbidden && e.Field == "", e.Code == smartlic.ENotFound && e.Field == "":
		return false
	case e.Field == "license" || e.Field == "va":
		f.Errors[e.Field] = e.Message
	case e.Field == "virtual_account":
		f.Errors["va"] = e.Message
	default:
		// The code's own check, a replay, another device or account, the
		// account not allowed, no license left: all about the pasted code.
		f.Errors[input] = e.Message
	}
	return true
}

func (h *Handler) issueSLAC(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	f := newForm(r.PostForm)
	in := smartlic.SLACIssueInput{RequestCode: f.Get("request_code"), LicenseTag: strings.TrimSpace(f.Get("license")), VirtualAccount: f.Get("va")}
	got, err := h.svc.IssueSLAC(r.Context(), sa, in)
	if smartlic.ErrorCode(err) == smartlic.EForbidden && smartlic.ErrorField(err) == "" {
		// A VA role may not take licenses from the default (the device's
		// VA, or DEFAULT): say so beside the choice, not with a 403 page.
		f.Errors["va"] = smartlic.ErrorMessage(err) + " Choose a Virtual Account you work in."
		return h.renderSLACs(w, r, s, http.StatusForbidden, f, newForm(nil))
	}
	if bindSLACError(f, err, "request_code") {
		return h.renderSLACs(w, r, s, http.StatusBadRequest, f, newForm(nil))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, slacsPath(sa)+"/"+url.PathEscape(got.ID),
		fmt.Sprintf("SLAC for %s issued to %s. Enter the authorization code on the device.", got.LicenseTag, got.UDI))
}

func (h *Handler) returnSLAC(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	f := newForm(r.PostForm)
	got, err := h.svc.ReturnSLAC(r.Context(), sa, f.Get("code"))
	if bindSLACError(f, err, "code") {
		return h.renderSLACs(w, r, s, http.StatusBadRequest, newForm(nil), f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, slacsPath(sa)+"/"+url.PathEscape(got.ID),
		fmt.Sprintf("SLAC for %s of %s returned: its license is back in %s.", got.LicenseTag, got.UDI, got.VirtualAccount))
}

func (h *Handler) slacPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	got, err := h.svc.GetSLAC(r.Context(), sh.SA.Domain, r.PathValue("id"))
	if err != nil {
		return err
	}
	sh.Title = "SLAC " + got.UDI.String() + " · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Export authorization", Path: slacsPath(sh.SA.Domain)}, NavLink{Label: got.UDI.String() + " " + got.LicenseTag, Current: true})
	return h.render(w, r, http.StatusOK, "slac", &slacView{Shell: sh, S: got})
}

// instanceSLACs lists the SLACs of a device for its instance page: the
// whole account's for SA roles, its VA's for VA roles.
func (h *Handler) instanceSLACs(r *http.Request, sa, va string, udi smartlic.UDI) ([]smartlic.SLAC, error) {
	f := smartlic.SLACFilter{UDI: &udi}
	list, _, err := h.svc.ListSLACs(r.Context(), sa, f, smartlic.Page{Limit: 100})
	if smartlic.ErrorCode(err) == smartlic.EForbidden {
		f.VA = va
		list, _, err = h.svc.ListSLACs(r.Context(), sa, f, smartlic.Page{Limit: 100})
	}
	if smartlic.ErrorCode(err) == smartlic.EForbidden {
		return nil, nil
	}
	return list, err
}
