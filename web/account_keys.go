package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// apiKeysView is /account/api-keys: the signed-in user's personal API
// keys. They belong to the person, not to a Smart Account (a key acts
// with all of its user's roles), so the page is under /account, linked
// from the header, rather than under one account's Administration.
type apiKeysView struct {
	Shell
	Keys   []apiKeyRow
	Pager  Pager
	Form   *Form
	Secret *secretView
}

type apiKeyRow struct {
	smartlic.UserAPIKey
	State string // active, expired or revoked
}

// keysPerPage is the length of the key list.
const keysPerPage = 50

func (h *Handler) apiKeysPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderAPIKeys(w, r, s, http.StatusOK, newForm(url.Values{"expires_in_days": {"90"}}), nil)
}

func (h *Handler) renderAPIKeys(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form, created *smartlic.UserAPIKey) error {
	sh, err := h.baseShell(w, r, s)
	if err != nil {
		return err
	}
	sh.Title = "API keys"
	sh.Crumbs = []NavLink{{Label: "Your account"}, {Label: "API keys", Current: true}}
	after := r.URL.Query().Get("after")
	keys, next, err := h.svc.ListAPIKeys(r.Context(), smartlic.Page{Limit: keysPerPage, After: after})
	if err != nil {
		return err
	}
	v := &apiKeysView{Shell: sh, Pager: pager(r, after, next), Form: f}
	now := h.clock.Now()
	for _, k := range keys {
		row := apiKeyRow{UserAPIKey: k, State: "active"}
		switch {
		case k.RevokedAt != nil:
			row.State = "revoked"
		case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
			row.State = "expired"
		}
		v.Keys = append(v.Keys, row)
	}
	if created != nil {
		v.Secret = newSecretView(w, "New API key", "API key "+created.Name, created.Secret,
			"The server keeps only a hash of it. It acts as you, with all your roles: use it with the CLI (SMARTLIC_API_KEY) or as a Bearer token.",
			"smartlic-api-key.txt")
	}
	return h.render(w, r, status, "account-keys", v)
}

// createAPIKey creates a key and shows its secret once, in the answer to
// the form.
func (h *Handler) createAPIKey(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.APIKeyInput{Name: strings.TrimSpace(f.Get("name")), ExpiresInDays: int(f.Int("expires_in_days"))}
	if len(f.Errors) > 0 {
		return h.renderAPIKeys(w, r, s, http.StatusBadRequest, f, nil)
	}
	k, err := h.svc.CreateAPIKey(r.Context(), in)
	if bindAll(f, err) {
		return h.renderAPIKeys(w, r, s, http.StatusBadRequest, f, nil)
	}
	if err != nil {
		return err
	}
	return h.renderAPIKeys(w, r, s, http.StatusCreated, newForm(url.Values{"expires_in_days": {"90"}}), &k)
}

// revokeAPIKey revokes one of the user's keys.
func (h *Handler) revokeAPIKey(w http.ResponseWriter, r *http.Request, s *Session) error {
	k, err := h.svc.RevokeAPIKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/account/api-keys", "API key “"+k.Name+"” revoked.")
}
