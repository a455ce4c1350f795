package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

// agreementsView is a Smart Account's Enterprise Agreements: every
// agreement deposited into a Virtual Account the caller sees, with its
// term and suite.
type agreementsView struct {
	Shell
	Agreements []agreementRow
	CSV        string
	// Hidden is the service's refusal when the caller may list the
	// agreements of none of its VAs.
	Hidden string
	// CanAccept shows the Accept buttons to who holds agreement.accept
	// (the service decides; this only spares others a button that fails).
	CanAccept bool
}

type agreementRow struct {
	smartlic.Agreement
	VA    string
	State string // upcoming, active, ended
}

// maxAgreements bounds the agreements of one account the page gathers.
const maxAgreements = 10_000

func (h *Handler) agreementsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	rows, hidden, err := h.accountAgreements(r, sh)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "csv" {
		return writeCSV(w, "agreements-"+sh.SA.Domain+".csv", agreementTable(rows))
	}
	sh.Title = "Agreements · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Agreements", Current: true})
	return h.render(w, r, http.StatusOK, "agreements", &agreementsView{Shell: sh, Agreements: rows, CSV: queryWith(r, "format", "csv"), Hidden: hidden,
		CanAccept: s.Operator || holdsAny(sh.roles, sh.SA.ID, []manager.Permission{manager.PermAgreementAccept})})
}

// accountAgreements gathers the agreements of every Virtual Account the
// caller works in (ListAgreements is per VA, as the API's), newest first.
// hidden is the service's refusal when it refused every VA.
func (h *Handler) accountAgreements(r *http.Request, sh Shell) (rows []agreementRow, hidden string, err error) {
	now := h.clock.Now()
	allowed := false
	walkTree(sh.Tree, func(n *TreeNode) {
		if !n.Reachable || err != nil || len(rows) >= maxAgreements {
			return
		}
		var as []smartlic.Agreement
		as, err = allPages(maxAgreements, func(p smartlic.Page) ([]smartlic.Agreement, string, error) {
			return h.svc.ListAgreements(r.Context(), sh.SA.Domain, n.VA.ID, p)
		})
		if smartlic.ErrorCode(err) == smartlic.EForbidden {
			hidden, err = smartlic.ErrorMessage(err), nil // a role without licensing here
			return
		}
		allowed = true
		for _, a := range as {
			rows = append(rows, agreementRow{Agreement: a, VA: n.VA.Name, State: agreementState(a, now)})
		}
	})
	if err != nil {
		return nil, "", err
	}
	if allowed {
		hidden = ""
	}
	slices.SortFunc(rows, func(a, b agreementRow) int { return b.StartsAt.Compare(a.StartsAt) })
	return rows, hidden, nil
}

func agreementState(a smartlic.Agreement, now time.Time) string {
	switch {
	case now.Before(a.StartsAt):
		return "upcoming"
	case now.Before(a.EndsAt):
		return "active"
	}
	return "ended"
}

func agreementTable(rows []agreementRow) smartlic.Table {
	t := smartlic.Table{Header: []string{"number", "virtual_account", "starts_at", "ends_at", "state", "license", "quantity"}}
	for _, a := range rows {
		for _, l := range a.Lines {
			t.Rows = append(t.Rows, []string{a.Number, a.VA, csvTime(&a.StartsAt), csvTime(&a.EndsAt), a.State, l.LicenseTag, itoa(l.Quantity)})
		}
	}
	return t
}

// agreementView is one agreement: its suite as deposited, and the
// true-forward measure of its term so far.
type agreementView struct {
	Shell
	Agreement   smartlic.Agreement
	VAName      string
	State       string
	OrderNumber string
	TrueForward smartlic.TrueForward
}

func (h *Handler) agreementPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	tf, err := h.svc.TrueForward(r.Context(), sh.SA.Domain, r.PathValue("agreement"))
	if err != nil {
		return err
	}
	a := tf.Agreement
	v := &agreementView{Agreement: a, State: agreementState(a, h.clock.Now()), OrderNumber: "EA " + a.Number, TrueForward: tf}
	walkTree(sh.Tree, func(n *TreeNode) {
		if n.VA.ID == a.VirtualAccountID {
			v.VAName = n.VA.Name
		}
	})
	if v.VAName == "" && len(tf.Lines) > 0 {
		v.VAName = tf.Lines[0].VirtualAccount // a VA the tree does not show
	}
	sh.Title = "Agreement " + a.Number + " · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Agreements", Path: saPath(sh.SA.Domain) + "/agreements"}, NavLink{Label: a.Number, Current: true})
	v.Shell = sh
	return h.render(w, r, http.StatusOK, "agreement", v)
}

// acceptAgreement accepts an agreement's terms and goes back to the list.
func (h *Handler) acceptAgreement(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	a, err := h.svc.AcceptAgreement(r.Context(), sa, r.PathValue("agreement"))
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/agreements", "Enterprise Agreement "+a.Number+" accepted.")
}
