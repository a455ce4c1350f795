package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// accountsView is Vendor › Smart Accounts: the requests waiting for the
// vendor's approval, every account page by page, and the form that
// creates one.
type accountsView struct {
	Shell
	Activity []smartlic.Event
	Pending  []smartlic.SmartAccount
	// PendingMore is set when more requests wait than the page lists.
	PendingMore bool
	All         []smartlic.SmartAccount
	// Settings are the vendor's settings of the listed accounts, by id.
	Settings map[string]accountSettings
	After    string // the list's place, kept by the settings' buttons
	Pager    Pager
	Form     *Form
}

// accountsPerPage is the length of the list of every account.
const accountsPerPage = 25

// pendingPerPage is how many requests the page lists at once; the
// operator approves or denies them, and the next ones move up.
const pendingPerPage = 100

func (h *Handler) accountsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderAccounts(w, r, s, http.StatusOK, newForm(url.Values{"active": {"1"}}))
}

func (h *Handler) renderAccounts(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, activity, err := h.vendorShell(w, r, s, "/vendor/accounts")
	if err != nil {
		return err
	}
	v := &accountsView{Shell: sh, Activity: activity, Form: f}
	pending, more, err := h.svc.ListSmartAccounts(r.Context(), smartlic.SmartAccountFilter{Status: smartlic.SARequested}, smartlic.Page{Limit: pendingPerPage})
	if err != nil {
		return err
	}
	v.Pending, v.PendingMore = pending, more != ""
	after := r.URL.Query().Get("after")
	var next string
	if v.All, next, err = h.svc.ListSmartAccounts(r.Context(), smartlic.SmartAccountFilter{}, smartlic.Page{Limit: accountsPerPage, After: after}); err != nil {
		return err
	}
	v.Pager, v.After = pager(r, after, next), after
	if v.Settings, err = h.accountSettingsOf(r, v.All); err != nil {
		return err
	}
	return h.render(w, r, status, "vendor_accounts", v)
}

// createAccount creates a Smart Account, active at once when the operator
// ticks it (which is the approval), requested otherwise.
func (h *Handler) createAccount(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.SmartAccount{Name: strings.TrimSpace(f.Get("name")), Domain: strings.TrimSpace(f.Get("domain")),
		LimitedUse: f.Bool("limited_use"), Status: smartlic.SARequested}
	if f.Bool("active") {
		in.Status = smartlic.SAActive
	}
	sa, err := h.svc.CreateSmartAccount(r.Context(), in)
	if f.Bind(err) || bindConflict(f, err, "domain") {
		return h.renderAccounts(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/accounts", "Smart Account “"+sa.Name+"” ("+sa.Domain+") created, "+string(sa.Status)+".")
}

func (h *Handler) approveAccount(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, err := h.svc.ApproveSmartAccount(r.Context(), r.PathValue("sa"))
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/accounts", "Smart Account “"+sa.Name+"” ("+sa.Domain+") approved: its users can work in it now.")
}

// denyView is the page that asks for the reason of a refusal.
type denyView struct {
	Shell
	Account smartlic.SmartAccount
	Form    *Form
}

func (h *Handler) confirmDenyAccount(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderDeny(w, r, s, http.StatusOK, newForm(nil))
}

func (h *Handler) renderDeny(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, _, err := h.vendorShell(w, r, s, "/vendor/accounts")
	if err != nil {
		return err
	}
	sa, err := h.svc.GetSmartAccount(r.Context(), r.PathValue("sa"))
	if err != nil {
		return err
	}
	return h.render(w, r, status, "vendor_account_deny", &denyView{Shell: sh, Account: sa, Form: f})
}

// denyAccount refuses a request; the reason is required and lands in the
// account's event log, where its requester reads it.
func (h *Handler) denyAccount(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	sa, err := h.svc.DenySmartAccount(r.Context(), r.PathValue("sa"), f.Get("reason"))
	if f.Bind(err) {
		return h.renderDeny(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, "/vendor/accounts", "Smart Account request “"+sa.Name+"” ("+sa.Domain+") denied.")
}
