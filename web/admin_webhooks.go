package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/smartlic/smartlic"
)

// webhooksView is Administration › Webhooks: the account's endpoints, the
// form that adds one (the service refuses internal addresses) and, right
// after, its signing secret.
type webhooksView struct {
	Shell
	Hooks      []webhookRow
	Form       *Form
	AlertTypes []checkView
	TypesError string
	Secret     *secretView
}

type webhookRow struct {
	smartlic.Webhook
	Types string
}

func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderWebhooks(w, r, s, http.StatusOK, newForm(nil), nil)
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form, created *smartlic.Webhook) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "Webhooks")
	if err != nil {
		return err
	}
	hooks, err := h.svc.ListWebhooks(r.Context(), sh.SA.ID)
	if err != nil {
		return err
	}
	v := &webhooksView{Shell: sh, Form: f, TypesError: f.Errors["alert_types"]}
	for _, hk := range hooks {
		v.Hooks = append(v.Hooks, webhookRow{Webhook: hk, Types: alertTypesText(hk.AlertTypes)})
	}
	for _, t := range smartlic.AlertTypes {
		v.AlertTypes = append(v.AlertTypes, checkView{ID: "f-type-" + strings.ReplaceAll(string(t), ".", "-"), Name: "alert_types", Value: string(t),
			Label: alertTypeLabel(t), Checked: slices.Contains(f.Values["alert_types"], string(t))})
	}
	if created != nil {
		v.Secret = newSecretView(w, "New webhook's signing secret", "Signing secret of the webhook to "+created.URL, created.Secret,
			"Every delivery carries an HMAC-SHA256 signature made with it: check it on your endpoint (docs/alerts.md).",
			"smartlic-webhook-secret.txt")
	}
	return h.render(w, r, status, "admin-webhooks", v)
}

// alertTypesText lists alert types for a person; none means all.
func alertTypesText(types []smartlic.AlertType) string {
	if len(types) == 0 {
		return "All alerts"
	}
	var out []string
	for _, t := range types {
		out = append(out, alertTypeLabel(t))
	}
	return strings.Join(out, ", ")
}

// createWebhook adds a webhook and shows its secret once, in the answer
// to the form.
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.WebhookInput{URL: strings.TrimSpace(f.Get("url")), Description: strings.TrimSpace(f.Get("description"))}
	for _, t := range f.Values["alert_types"] {
		in.AlertTypes = append(in.AlertTypes, smartlic.AlertType(t))
	}
	hk, err := h.svc.CreateWebhook(r.Context(), r.PathValue("sa"), in)
	if bindAll(f, err) {
		return h.renderWebhooks(w, r, s, http.StatusBadRequest, f, nil)
	}
	if err != nil {
		return err
	}
	return h.renderWebhooks(w, r, s, http.StatusCreated, newForm(nil), &hk)
}

// deleteWebhook removes a webhook and its delivery log.
func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	if err := h.svc.DeleteWebhook(r.Context(), sa, r.PathValue("id")); err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/admin/webhooks", "Webhook deleted, with its delivery log.")
}

// webhookView is one webhook and its delivery log, newest first.
type webhookView struct {
	Shell
	Hook       webhookRow
	Deliveries []smartlic.WebhookDelivery
	Pager      Pager
}

// deliveriesPerPage is the length of the delivery log.
const deliveriesPerPage = 50

func (h *Handler) webhookPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "Webhook")
	if err != nil {
		return err
	}
	id, after := r.PathValue("id"), r.URL.Query().Get("after")
	ds, next, err := h.svc.ListWebhookDeliveries(r.Context(), sh.SA.ID, id, smartlic.Page{Limit: deliveriesPerPage, After: after})
	if err != nil {
		return err
	}
	hooks, err := h.svc.ListWebhooks(r.Context(), sh.SA.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(hooks, func(hk smartlic.Webhook) bool { return hk.ID == id })
	if i < 0 {
		return smartlic.NotFound("webhook %q not found", id)
	}
	v := &webhookView{Shell: sh, Hook: webhookRow{Webhook: hooks[i], Types: alertTypesText(hooks[i].AlertTypes)}, Deliveries: ds, Pager: pager(r, after, next)}
	sh.Crumbs[len(sh.Crumbs)-1] = NavLink{Label: "Webhooks", Path: saPath(sh.SA.Domain) + "/admin/webhooks"}
	v.Shell.Crumbs = append(sh.Crumbs, NavLink{Label: hooks[i].URL, Current: true})
	return h.render(w, r, http.StatusOK, "admin-webhook", v)
}
