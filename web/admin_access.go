package web

import (
	"net/http"

	"github.com/smartlic/smartlic"
)

// accessView is Administration › Access requests: people asking to join
// the account, each pending one with a role to approve it with, or deny.
type accessView struct {
	Shell
	Requests []accessRow
	Pager    Pager
	// Form holds what was chosen for the request whose approval failed
	// (FailedID), with the service's error.
	Form     *Form
	FailedID string
}

type accessRow struct {
	smartlic.AccessRequest
	Pending              bool
	RoleSelect, VASelect selectView
}

// accessPerPage is the length of the access request list.
const accessPerPage = 50

func (h *Handler) accessPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderAccess(w, r, s, http.StatusOK, "", newForm(nil))
}

func (h *Handler) renderAccess(w http.ResponseWriter, r *http.Request, s *Session, status int, failedID string, f *Form) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "Access requests")
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	reqs, next, err := h.svc.ListAccessRequests(r.Context(), sh.SA.ID, smartlic.Page{Limit: accessPerPage, After: after})
	if err != nil {
		return err
	}
	v := &accessView{Shell: sh, Pager: pager(r, after, next), Form: f, FailedID: failedID}
	for _, q := range reqs {
		rf := newForm(nil)
		if q.ID == failedID {
			rf = f
		}
		row := accessRow{AccessRequest: q, Pending: q.Status == smartlic.AccessPending,
			RoleSelect: choose(rf, "role", "Role for "+q.UserEmail, "", roleOptions()),
			VASelect:   choose(rf, "va", "Virtual Account for "+q.UserEmail, "For VA roles.", scopeOptions(sh))}
		row.RoleSelect.ID += "-" + q.ID
		row.VASelect.ID += "-" + q.ID
		v.Requests = append(v.Requests, row)
	}
	return h.render(w, r, status, "admin-access", v)
}

// approveAccess grants the chosen role and closes the request.
func (h *Handler) approveAccess(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, id := r.PathValue("sa"), r.PathValue("id")
	f := newForm(r.PostForm)
	q, err := h.svc.ApproveAccessRequest(r.Context(), sa, id, smartlic.RoleInput{Role: f.Get("role"), VA: f.Get("va")})
	if bindAll(f, err) {
		return h.renderAccess(w, r, s, http.StatusBadRequest, id, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/admin/access", "Approved: "+q.UserEmail+" is now "+roleLabel(f.Get("role"))+".")
}

// denyAccess closes a request without granting anything.
func (h *Handler) denyAccess(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	q, err := h.svc.DenyAccessRequest(r.Context(), sa, r.PathValue("id"))
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/admin/access", "Denied the request of "+q.UserEmail+".")
}
