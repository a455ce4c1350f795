package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

// adminRoutes registers the Administration pages of a Smart Account, the
// signed-in user's own pages (/account/…) and the public page that
// accepts an invitation.
func (h *Handler) adminRoutes() {
	h.page("GET /sa/{sa}/admin/users", h.usersPage)
	h.page("POST /sa/{sa}/admin/users", h.grantRole)
	h.page("POST /sa/{sa}/admin/roles/{id}/revoke", h.revokeRole)
	h.page("POST /sa/{sa}/admin/invitations", h.inviteUser)
	h.page("POST /sa/{sa}/admin/invitations/{id}/revoke", h.revokeInvitation)

	h.page("GET /sa/{sa}/admin/access", h.accessPage)
	h.page("POST /sa/{sa}/admin/access/{id}/approve", h.approveAccess)
	h.page("POST /sa/{sa}/admin/access/{id}/deny", h.denyAccess)

	h.page("GET /sa/{sa}/admin/oauth-clients", h.oauthClientsPage)
	h.page("POST /sa/{sa}/admin/oauth-clients", h.createOAuthClient)
	h.page("POST /sa/{sa}/admin/oauth-clients/{id}/revoke", h.revokeOAuthClient)

	h.page("GET /sa/{sa}/admin/notifications", h.notificationsPage)
	h.page("POST /sa/{sa}/admin/notifications", h.setNotificationPreference)
	h.page("POST /sa/{sa}/admin/notifications/delete", h.deleteNotificationPreference)

	h.page("GET /sa/{sa}/admin/webhooks", h.webhooksPage)
	h.page("POST /sa/{sa}/admin/webhooks", h.createWebhook)
	h.page("GET /sa/{sa}/admin/webhooks/{id}", h.webhookPage)
	h.page("POST /sa/{sa}/admin/webhooks/{id}/delete", h.deleteWebhook)

	h.page("GET /account/api-keys", h.apiKeysPage)
	h.page("POST /account/api-keys", h.createAPIKey)
	h.page("POST /account/api-keys/{id}/revoke", h.revokeAPIKey)

	h.public("GET /invite", h.invitePage)
	h.public("POST /invite", h.acceptInvite)
}

// adminTabs are the pages of Administration, each shown to those whose
// roles hold one of its permissions in the account (on the account as a
// whole when saOnly). As with the main navigation this only hides what
// the services would refuse.
var adminTabs = []struct {
	label, path string
	needs       []manager.Permission
	saOnly      bool
}{
	{"Virtual Accounts", "/admin/vas", []manager.Permission{manager.PermVAManage}, false},
	{"Users", "/admin/users", []manager.Permission{manager.PermUsersView}, false},
	{"Access requests", "/admin/access", []manager.Permission{manager.PermUsersView}, false},
	{"OAuth clients", "/admin/oauth-clients", []manager.Permission{manager.PermUsersView}, true},
	{"Notifications", "/admin/notifications", []manager.Permission{manager.PermNotifyManage}, true},
	{"Webhooks", "/admin/webhooks", []manager.Permission{manager.PermNotifyManage}, true},
}

// adminShell is the shell of an Administration page of Smart Account sa:
// the account's shell, the Administration tabs (as .Tabs) and the
// breadcrumbs down to the page.
func (h *Handler) adminShell(w http.ResponseWriter, r *http.Request, s *Session, sa, title string) (Shell, error) {
	sh, err := h.accountShell(w, r, s, sa)
	if err != nil {
		return sh, err
	}
	sh.Title = title + " · Administration"
	base := saPath(sh.SA.Domain)
	for _, t := range adminTabs {
		roles := sh.roles
		if t.saOnly {
			roles = accountRoles(roles)
		}
		if !s.Operator && !holdsAny(roles, sh.SA.ID, t.needs) {
			continue
		}
		// A webhook's own page belongs to the Webhooks tab, and the answers
		// to the invitation and role forms to the Users tab.
		cur := strings.HasPrefix(r.URL.Path+"/", base+t.path+"/") ||
			(t.path == "/admin/users" && (strings.HasPrefix(r.URL.Path, base+"/admin/invitations") || strings.HasPrefix(r.URL.Path, base+"/admin/roles/")))
		sh.Tabs = append(sh.Tabs, NavLink{Label: t.label, Path: base + t.path, Current: cur})
	}
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Administration"}, NavLink{Label: title, Current: true})
	return sh, nil
}

// roleLabels are the five roles as a person reads them.
var roleLabels = map[string]string{
	smartlic.RoleSAAdmin:    "SA administrator",
	smartlic.RoleSAUser:     "SA user",
	smartlic.RoleSAApprover: "SA approver",
	smartlic.RoleVAAdmin:    "VA administrator",
	smartlic.RoleVAUser:     "VA user",
}

func roleLabel(role string) string {
	if l, ok := roleLabels[role]; ok {
		return l
	}
	return role
}

// roleOptions are the roles a grant, an invitation or an approval may
// choose, in the role table's order.
func roleOptions() []option {
	out := []option{{Value: "", Label: "Choose a role"}}
	for _, r := range smartlic.Roles {
		out = append(out, option{Value: r, Label: roleLabel(r)})
	}
	return out
}

// scopeOptions are the Virtual Accounts the caller works in, by name, for
// a VA role's scope; the first choice is none (an SA role).
func scopeOptions(sh Shell) []option {
	return append([]option{{Value: "", Label: "None (a Smart Account role)"}}, vaOptions(sh.Tree, 0)...)
}

// vaNames maps the ids of the account's Virtual Accounts the tree holds
// to their names, so a page says "Lab", not a UUID.
func vaNames(sh Shell) map[string]string {
	out := map[string]string{}
	var walk func([]*TreeNode)
	walk = func(nodes []*TreeNode) {
		for _, n := range nodes {
			out[n.VA.ID] = n.VA.Name
			walk(n.Children)
		}
	}
	walk(sh.Tree)
	return out
}

// bindAll puts a service's answer to a form beside the input it names, or
// above the form: invalid input as Form.Bind does, and also a name that
// is not found (a user, a VA), a conflict (already granted) or a refusal
// of this particular choice (a VA administrator choosing an SA role).
// Reports whether it did; other errors are the caller's to return.
func bindAll(f *Form, err error) bool {
	if f.Bind(err) {
		return true
	}
	var e *smartlic.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case smartlic.ENotFound, smartlic.EConflict, smartlic.EForbidden, smartlic.EUnauthorized:
	default:
		return false
	}
	if _, typed := f.Values[e.Field]; typed && e.Field != "" {
		f.Errors[e.Field] = e.Message
	} else {
		f.Errors[""] = e.Message
	}
	return true
}

// secretView is a secret shown once, in the answer to the form that made
// it: the "admin-secret" partial, with Copy and Download.
type secretView struct {
	Heading, Label, Value, Help, File string
	Download                          template.URL
}

func newSecretView(w http.ResponseWriter, heading, label, value, help, file string) *secretView {
	// The secret is on this page only: not in a cache, not in history.
	w.Header().Set("Cache-Control", "no-store")
	return &secretView{Heading: heading, Label: label, Value: value, Help: help, File: file,
		Download: template.URL("data:text/plain;charset=utf-8," + url.PathEscape(value+"\n"))}
}
