package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
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
	ListNote   string
}

// slacView is one SLAC, with its authorization code while it is active,
// and the administrator's cancel form.
type slacView struct {
	Shell
	S smartlic.SLAC
	// CanCancel: the SLAC is active and the caller administers its VA (or
	// the account); the manager checks again on the post.
	CanCancel  bool
	CancelForm *Form
}

const slacsPerPage = 25

func slacsPath(sa string) string { return saPath(sa) + "/slacs" }

func (h *Handler) slacRoutes() {
	h.page("GET /sa/{sa}/slacs", func(w http.ResponseWriter, r *http.Request, s *Session) error {
		return h.renderSLACs(w, r, s, http.StatusOK, newForm(nil), newForm(nil))
	})
	h.page("POST /sa/{sa}/slacs", h.issueSLAC)
	h.page("POST /sa/{sa}/slacs/returns", h.returnSLAC)
	h.page("GET /sa/{sa}/slacs/{id}", func(w http.ResponseWriter, r *http.Request, s *Session) error {
		return h.renderSLAC(w, r, s, http.StatusOK, newForm(nil))
	})
	h.page("POST /sa/{sa}/slacs/{id}/cancel", h.cancelSLAC)
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
	// A VA role's list holds the SLACs of every VA it may see.
	list, next, err := h.svc.ListSLACs(r.Context(), sh.SA.Domain, filter, smartlic.Page{Limit: slacsPerPage, After: after})
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

func (h *Handler) renderSLAC(w http.ResponseWriter, r *http.Request, s *Session, status int, cancel *Form) error {
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
	v := &slacView{Shell: sh, S: got, CancelForm: cancel}
	v.CanCancel = got.Status == smartlic.SLACActive && administers(sh, got.VirtualAccountID)
	return h.render(w, r, status, "slac", v)
}

// cancelSLAC is the administrator's cancel of a SLAC whose device is lost:
// a refusal about the reason, or the SLAC closed meanwhile, shows beside
// the form.
func (h *Handler) cancelSLAC(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, id := r.PathValue("sa"), r.PathValue("id")
	f := newForm(r.PostForm)
	got, err := h.svc.CancelSLAC(r.Context(), sa, id, f.Get("reason"))
	switch smartlic.ErrorCode(err) {
	case "":
	case smartlic.EInvalid:
		f.Errors["reason"] = smartlic.ErrorMessage(err)
		return h.renderSLAC(w, r, s, http.StatusBadRequest, f)
	case smartlic.ESLACClosed:
		f.Errors[""] = smartlic.ErrorMessage(err)
		return h.renderSLAC(w, r, s, http.StatusConflict, f)
	default:
		return err
	}
	return redirectWithFlash(w, r, slacsPath(sa)+"/"+url.PathEscape(got.ID),
		fmt.Sprintf("SLAC for %s of %s cancelled: its license is back in %s.", got.LicenseTag, got.UDI, got.VirtualAccount))
}

// administers reports whether the caller holds va.manage on the Virtual
// Account vaID: an operator, an SA role that allows it, or a VA role
// granted on vaID or one of its ancestors.
func administers(sh Shell, vaID string) bool {
	if sh.Session.Operator {
		return true
	}
	path := vaAncestry(sh.Tree, vaID)
	return slices.ContainsFunc(sh.roles, func(r smartlic.RoleAssignment) bool {
		if r.SmartAccountID != sh.SA.ID || !manager.RoleAllows(r.Role, manager.PermVAManage) {
			return false
		}
		return !smartlic.IsVARole(r.Role) || slices.Contains(path, r.VirtualAccountID)
	})
}

// vaAncestry is the ids from the tree's root down to vaID, or nil.
func vaAncestry(ns []*TreeNode, vaID string) []string {
	for _, n := range ns {
		if n.VA.ID == vaID {
			return []string{n.VA.ID}
		}
		if below := vaAncestry(n.Children, vaID); below != nil {
			return append([]string{n.VA.ID}, below...)
		}
	}
	return nil
}

// instanceSLACs lists the SLACs of a device for its instance page, from
// the Virtual Accounts the user may see.
func (h *Handler) instanceSLACs(r *http.Request, sa string, udi smartlic.UDI) ([]smartlic.SLAC, error) {
	list, _, err := h.svc.ListSLACs(r.Context(), sa, smartlic.SLACFilter{UDI: &udi}, smartlic.Page{Limit: 100})
	if smartlic.ErrorCode(err) == smartlic.EForbidden {
		return nil, nil
	}
	return list, err
}
