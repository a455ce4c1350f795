package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

// adminVARoutes are Administration › Virtual Accounts.
func (h *Handler) adminVARoutes() {
	h.page("GET /sa/{sa}/admin/vas", h.adminVAsPage)
	h.page("POST /sa/{sa}/admin/vas", h.createVA)
	h.page("GET /sa/{sa}/admin/vas/{va}", h.adminVAPage)
	h.page("POST /sa/{sa}/admin/vas/{va}/rename", h.renameVA)
	h.page("POST /sa/{sa}/admin/vas/{va}/move", h.moveVA)
	h.page("POST /sa/{sa}/admin/vas/{va}/delete", h.deleteVA)
}

// adminVAsView is the VA tree with a row per VA and the form that creates
// one; adminVAView one VA with its rename, move and delete forms.
type adminVAsView struct {
	Shell
	Rows   []vaRow
	Form   *Form
	Parent selectView
	// CanCreate shows the create form: the caller may manage some VA (a
	// VA administrator creates under its own VAs only, so "Top level" is
	// offered to account roles alone). Hiding is courtesy; the service refuses.
	CanCreate bool
	// VA pages.
	Edit   *smartlic.VirtualAccount
	Rename *Form
	Move   *Form
	Delete *Form
}

type vaRow struct {
	VA     smartlic.VirtualAccount
	Indent int // ems
	Link   string
}

func (h *Handler) adminVAsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderAdminVAs(w, r, s, http.StatusOK, newForm(nil))
}

// vaRows lists the account's VAs in tree order, parents first, the ones
// the caller works in linked to their administration page.
func vaRows(sh Shell) []vaRow {
	var rows []vaRow
	var walk func([]*TreeNode)
	walk = func(ns []*TreeNode) {
		for _, n := range ns {
			row := vaRow{VA: n.VA, Indent: max(n.VA.Depth-1, 0)}
			if n.Reachable {
				row.Link = saPath(sh.SA.Domain) + "/admin/vas/" + url.PathEscape(n.VA.Name)
			}
			rows = append(rows, row)
			walk(n.Children)
		}
	}
	walk(sh.Tree)
	return rows
}

func (h *Handler) renderAdminVAs(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "Virtual Accounts")
	if err != nil {
		return err
	}
	v := &adminVAsView{Shell: sh, Rows: vaRows(sh), Form: f, Parent: parentSelect(f, "Parent", reachableVAs(sh.Tree), "")}
	manage := []manager.Permission{manager.PermVAManage}
	v.CanCreate = s.Operator || holdsAny(sh.roles, sh.SA.ID, manage)
	if !s.Operator && !holdsAny(accountRoles(sh.roles), sh.SA.ID, manage) {
		v.Parent.Options = v.Parent.Options[1:] // no "Top level"
	}
	return h.render(w, r, status, "admin-vas", v)
}

// parentSelect offers the VAs a VA can go under, or the top level.
func parentSelect(f *Form, label string, vas []smartlic.VirtualAccount, except string) selectView {
	return vaSelect(f, "parent", label, "Top level (no parent)", vas, except)
}

// bindVA puts a refusal of the VA services beside the field it names:
// invalid input, a name taken (conflict), a cycle or too deep a tree
// (parent), a VA that is not empty (the delete button).
func bindVA(f *Form, err error) bool {
	var e *smartlic.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case smartlic.EInvalid, smartlic.EConflict, smartlic.ECycle, smartlic.EDepthExceeded, smartlic.ENotEmpty, smartlic.ELimitedUse:
	default:
		return false
	}
	field := e.Field
	if _, ok := f.Values[field]; !ok {
		field = ""
	}
	f.Errors[field] = e.Message
	return true
}

func (h *Handler) createVA(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.VirtualAccountInput{Name: strings.TrimSpace(f.Get("name")), Description: strings.TrimSpace(f.Get("description")), Parent: f.Get("parent")}
	va, err := h.svc.CreateVirtualAccount(r.Context(), r.PathValue("sa"), in)
	if bindVA(f, err) {
		return h.renderAdminVAs(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(r.PathValue("sa"))+"/admin/vas", "Virtual Account “"+va.Name+"” created.")
}

func (h *Handler) adminVAPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderAdminVA(w, r, s, http.StatusOK, nil, nil, nil)
}

func (h *Handler) renderAdminVA(w http.ResponseWriter, r *http.Request, s *Session, status int, rename, move, del *Form) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "Virtual Accounts")
	if err != nil {
		return err
	}
	va, err := h.svc.GetVirtualAccount(r.Context(), sh.SA.ID, r.PathValue("va"))
	if err != nil {
		return err
	}
	sh.Title = va.Name + " · Virtual Accounts · Administration"
	sh.Crumbs[len(sh.Crumbs)-1] = NavLink{Label: "Virtual Accounts", Path: saPath(sh.SA.Domain) + "/admin/vas"}
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: va.Name, Current: true})
	if rename == nil {
		rename = newForm(url.Values{"name": {va.Name}, "description": {va.Description}})
	}
	if move == nil {
		move = newForm(url.Values{"parent": {va.ParentID}})
	}
	if del == nil {
		del = newForm(url.Values{"va": {va.Name}})
	}
	v := &adminVAsView{Shell: sh, Edit: &va, Rename: rename, Move: move, Delete: del,
		Parent: parentSelect(move, "New parent", reachableVAs(sh.Tree), va.ID)}
	return h.render(w, r, status, "admin-va", v)
}

func (h *Handler) renameVA(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	name, desc := strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("description"))
	va, err := h.svc.UpdateVirtualAccount(r.Context(), r.PathValue("sa"), r.PathValue("va"), smartlic.VirtualAccountUpdate{Name: &name, Description: &desc})
	if bindVA(f, err) {
		return h.renderAdminVA(w, r, s, http.StatusBadRequest, f, nil, nil)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(r.PathValue("sa"))+"/admin/vas/"+url.PathEscape(va.Name), "Virtual Account saved as “"+va.Name+"”.")
}

func (h *Handler) moveVA(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	if _, ok := f.Values["parent"]; !ok {
		f.Values.Set("parent", "")
	}
	parent := f.Get("parent")
	va, err := h.svc.UpdateVirtualAccount(r.Context(), r.PathValue("sa"), r.PathValue("va"), smartlic.VirtualAccountUpdate{Parent: &parent})
	if bindVA(f, err) {
		return h.renderAdminVA(w, r, s, http.StatusBadRequest, nil, f, nil)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(r.PathValue("sa"))+"/admin/vas/"+url.PathEscape(va.Name), "Virtual Account “"+va.Name+"” moved.")
}

func (h *Handler) deleteVA(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(url.Values{"va": {r.PathValue("va")}})
	err := h.svc.DeleteVirtualAccount(r.Context(), r.PathValue("sa"), r.PathValue("va"))
	if bindVA(f, err) {
		return h.renderAdminVA(w, r, s, http.StatusBadRequest, nil, nil, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(r.PathValue("sa"))+"/admin/vas", "Virtual Account “"+r.PathValue("va")+"” deleted.")
}
