package web

import (
	"net/http"
	"strings"

	"github.com/smartlic/smartlic"
)

// oauthView is Administration › OAuth clients: the account's
// client-credentials clients (suspended when their creator lost the role),
// the form that creates one and, right after, its secret.
type oauthView struct {
	Shell
	Clients     []oauthRow
	Pager       Pager
	Form        *Form
	RoleSelect  selectView
	ScopeSelect selectView
	Secret      *secretView
	Created     *smartlic.OAuthClient
}

type oauthRow struct {
	smartlic.OAuthClient
	RoleLabel string
}

// clientsPerPage is the length of the client list.
const clientsPerPage = 50

// clientRoles are the roles an account's client may act as (the service
// refuses the others); the default is the service's, SA user.
var clientRoles = []string{smartlic.RoleSAUser, smartlic.RoleSAAdmin, smartlic.RoleSAApprover}

func (h *Handler) oauthClientsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderOAuthClients(w, r, s, http.StatusOK, newForm(nil), nil)
}

func (h *Handler) renderOAuthClients(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form, created *smartlic.OAuthClient) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "OAuth clients")
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	clients, next, err := h.svc.ListOAuthClients(r.Context(), sh.SA.ID, smartlic.Page{Limit: clientsPerPage, After: after})
	if err != nil {
		return err
	}
	var roles []option
	for _, role := range clientRoles {
		roles = append(roles, option{Value: role, Label: roleLabel(role)})
	}
	v := &oauthView{Shell: sh, Pager: pager(r, after, next), Form: f, Created: created,
		RoleSelect:  choose(f, "role", "Acts as", "The client can do what this role allows, and never more than you can.", roles),
		ScopeSelect: choose(f, "scopes", "Scopes", "", []option{{Value: "read", Label: "read: view only"}, {Value: "read write", Label: "read and write: view and change"}})}
	for _, c := range clients {
		v.Clients = append(v.Clients, oauthRow{OAuthClient: c, RoleLabel: roleLabel(c.Role)})
	}
	if created != nil {
		v.Secret = newSecretView(w, "New client secret", "Client secret of "+created.Name, created.Secret,
			"The server keeps only a hash of it. The client obtains tokens with its client id and this secret (POST /api/v1/oauth/token).",
			"smartlic-oauth-client.txt")
	}
	return h.render(w, r, status, "admin-oauth", v)
}

// createOAuthClient creates a client and shows its secret once, in the
// answer to the form.
func (h *Handler) createOAuthClient(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.OAuthClientInput{Name: strings.TrimSpace(f.Get("name")), Role: f.Get("role"), Scopes: strings.Fields(f.Get("scopes"))}
	c, err := h.svc.CreateOAuthClient(r.Context(), r.PathValue("sa"), in)
	if bindAll(f, err) {
		return h.renderOAuthClients(w, r, s, http.StatusBadRequest, f, nil)
	}
	if err != nil {
		return err
	}
	return h.renderOAuthClients(w, r, s, http.StatusCreated, newForm(nil), &c)
}

// revokeOAuthClient revokes a client; its tokens stop working at once.
func (h *Handler) revokeOAuthClient(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	c, err := h.svc.RevokeOAuthClient(r.Context(), sa, r.PathValue("id"))
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/admin/oauth-clients", "OAuth client “"+c.Name+"” revoked: its tokens no longer work.")
}
