package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// invitationsView is the invitations part of Administration › Users: the
// form that invites an address with a role, the account's invitations,
// and, right after inviting, the code and link to send (shown once).
type invitationsView struct {
	InviteForm       *Form
	InviteRole       selectView
	InviteVA         selectView
	Invitations      []inviteRow
	InvitationsPager Pager
	Invitation       *secretView
	InvitedEmail     string
}

type inviteRow struct {
	smartlic.Invitation
	RoleLabel, Scope string
}

// invitationsPerPage is the length of the invitation list.
const invitationsPerPage = 50

// loadInvitations fills the invitations part of the users page; its list
// pages with its own cursor (inv_after), beside the roles'.
func (h *Handler) loadInvitations(r *http.Request, sh Shell, f *Form) (invitationsView, error) {
	v := invitationsView{InviteForm: f,
		InviteRole: choose(f, "role", "Invited role", "", roleOptions()),
		InviteVA:   choose(f, "va", "Invited to Virtual Account", "Required for VA roles, empty for SA roles.", scopeOptions(sh))}
	// The grant form has inputs of the same names on the page.
	v.InviteRole.ID, v.InviteVA.ID = "f-invite-role", "f-invite-va"
	after := r.URL.Query().Get("inv_after")
	invs, next, err := h.svc.ListInvitations(r.Context(), sh.SA.ID, smartlic.Page{Limit: invitationsPerPage, After: after})
	if err != nil {
		return v, err
	}
	if next != "" {
		v.InvitationsPager.Next = queryWith(r, "inv_after", next)
	}
	if after != "" {
		v.InvitationsPager.First = queryWith(r, "inv_after", "")
	}
	names := vaNames(sh)
	for _, inv := range invs {
		row := inviteRow{Invitation: inv, RoleLabel: roleLabel(inv.Role), Scope: "Smart Account"}
		if inv.VirtualAccountID != "" {
			row.Scope = cmp.Or(names[inv.VirtualAccountID], "a Virtual Account you cannot see")
		}
		v.Invitations = append(v.Invitations, row)
	}
	return v, nil
}

// inviteUser invites an address with a role and shows the code and the
// link to send once, in the answer to the form: only its hash is kept.
func (h *Handler) inviteUser(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.InvitationInput{Email: strings.TrimSpace(f.Get("email")), Role: f.Get("role"), VA: f.Get("va")}
	inv, err := h.svc.InviteUser(r.Context(), r.PathValue("sa"), in)
	if bindAll(f, err) {
		return h.renderUsersWith(w, r, s, http.StatusBadRequest, newForm(nil), f, nil)
	}
	if err != nil {
		return err
	}
	return h.renderUsersWith(w, r, s, http.StatusCreated, newForm(nil), newForm(nil), &inv)
}

// invitationLink is the accept page's address with the code, on the host
// the administrator reached the portal by.
func invitationLink(r *http.Request, code string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/invite?code=" + url.QueryEscape(code)
}

// revokeInvitation withdraws a pending invitation.
func (h *Handler) revokeInvitation(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	inv, err := h.svc.RevokeInvitation(r.Context(), sa, r.PathValue("id"))
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/admin/users", "The invitation of "+inv.Email+" was revoked: its code no longer works.")
}
