package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// usersView is Administration › Users: the account's role assignments,
// the form that grants one, and revoke buttons.
type usersView struct {
	Shell
	Roles []roleRow
	Pager Pager
	// Scoped says the caller sees the roles of the Virtual Accounts it
	// administers only (a VA administrator): the service refused the
	// account-wide list.
	Scoped     bool
	Form       *Form
	RoleSelect selectView
	VASelect   selectView
	invitationsView
}

// roleRow is one role assignment as the page shows it: its scope by name.
type roleRow struct {
	ID, Email, Role, Scope string
	CreatedAt              time.Time
}

// rolesPerPage is the length of the account-wide role list.
const rolesPerPage = 50

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderUsersWith(w, r, s, http.StatusOK, newForm(nil), newForm(nil), nil)
}

// renderUsersWith renders the page with the grant form f, the invite form
// inviteForm and, right after inviting, the new invitation with its code.
func (h *Handler) renderUsersWith(w http.ResponseWriter, r *http.Request, s *Session, status int, f, inviteForm *Form, invited *smartlic.Invitation) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "Users")
	if err != nil {
		return err
	}
	inv, err := h.loadInvitations(r, sh, inviteForm)
	if err != nil {
		return err
	}
	if invited != nil {
		inv.InvitedEmail = invited.Email
		inv.Invitation = newSecretView(w, "Invitation for "+invited.Email, "Invitation link for "+invited.Email, invitationLink(r, invited.Code),
			"Send this link to "+invited.Email+": it works once, within "+strconv.Itoa(int(smartlic.InvitationTTL/smartlic.Day))+" days. They choose their own password, or sign in if they already have an account.",
			"smartlic-invitation.txt")
	}
	v := &usersView{Shell: sh, Form: f, invitationsView: inv,
		RoleSelect: choose(f, "role", "Role", "SA roles apply to the whole account; VA roles to the Virtual Account and every one below it.", roleOptions()),
		VASelect:   choose(f, "va", "Virtual Account", "Required for VA roles, empty for SA roles.", scopeOptions(sh))}
	roles, err := h.listRoles(r, sh, v)
	if err != nil {
		return err
	}
	names := vaNames(sh)
	for _, a := range roles {
		row := roleRow{ID: a.ID, Email: a.UserEmail, Role: roleLabel(a.Role), Scope: "Smart Account", CreatedAt: a.CreatedAt}
		if a.VirtualAccountID != "" {
			row.Scope = cmp.Or(names[a.VirtualAccountID], "a Virtual Account you cannot see")
		}
		v.Roles = append(v.Roles, row)
	}
	return h.render(w, r, status, "admin-users", v)
}

// listRoles loads the role assignments the caller may see: the whole
// account's, a page at a time, or, when the service refuses that (a VA
// administrator), those of each Virtual Account it may see the users of.
func (h *Handler) listRoles(r *http.Request, sh Shell, v *usersView) ([]smartlic.RoleAssignment, error) {
	ctx, sa := r.Context(), sh.SA.ID
	after := r.URL.Query().Get("after")
	roles, next, err := h.svc.ListRoles(ctx, sa, "", smartlic.Page{Limit: rolesPerPage, After: after})
	if err == nil {
		v.Pager = pager(r, after, next)
		return roles, nil
	}
	if smartlic.ErrorCode(err) != smartlic.EForbidden {
		return nil, err
	}
	accountErr, seen := err, false
	for id := range vaNames(sh) {
		p := smartlic.Page{Limit: smartlic.MaxPageLimit}
		for {
			page, next, err := h.svc.ListRoles(ctx, sa, id, p)
			if smartlic.ErrorCode(err) == smartlic.EForbidden {
				break // a VA the caller only works in
			}
			if err != nil {
				return nil, err
			}
			seen = true
			roles = append(roles, page...)
			if next == "" {
				break
			}
			p.After = next
		}
	}
	if !seen {
		return nil, accountErr
	}
	v.Scoped = true
	slices.SortFunc(roles, func(a, b smartlic.RoleAssignment) int {
		return cmp.Or(strings.Compare(a.UserEmail, b.UserEmail), strings.Compare(a.Role, b.Role), strings.Compare(a.ID, b.ID))
	})
	return roles, nil
}

// grantRole grants a role to a user by e-mail; the service decides
// whether the caller may grant it there.
func (h *Handler) grantRole(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.RoleInput{User: strings.TrimSpace(f.Get("user")), Role: f.Get("role"), VA: f.Get("va")}
	a, err := h.svc.GrantRole(r.Context(), r.PathValue("sa"), in)
	if bindAll(f, err) {
		return h.renderUsersWith(w, r, s, http.StatusBadRequest, f, newForm(nil), nil)
	}
	if err != nil {
		return err
	}
	msg := a.UserEmail + " is now " + roleLabel(a.Role)
	if in.VA != "" {
		msg += " on " + in.VA
	}
	return redirectWithFlash(w, r, saPath(r.PathValue("sa"))+"/admin/users", msg+".")
}

// revokeRole removes a role assignment.
func (h *Handler) revokeRole(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	if err := h.svc.RevokeRole(r.Context(), sa, r.PathValue("id")); err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/admin/users", "The role was revoked.")
}
