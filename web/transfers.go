package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// transfersView is a Smart Account's Transfers page: the form that moves
// licenses from one Virtual Account to another, and the transfers made.
type transfersView struct {
	Shell
	Transfers     []smartlic.Transfer
	Pager         Pager
	CSV           string
	Form          *Form
	License       selectView
	From, To      selectView
	CanTransfer   bool
	TransfersNote string
}

// transfersPerPage is the length of the transfers list.
const transfersPerPage = 25

// maxCSVRows bounds a CSV download of an account-wide list.
const maxCSVRows = 100_000

func (h *Handler) transfersPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	if r.URL.Query().Get("format") == "csv" {
		return h.transfersCSV(w, r)
	}
	return h.renderTransfers(w, r, s, http.StatusOK, newForm(url.Values{"quantity": {"1"}}))
}

func (h *Handler) renderTransfers(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	sh.Title = "Transfers · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Transfers", Current: true})
	v := &transfersView{Shell: sh, Form: f, CSV: queryWith(r, "format", "csv", "after", "")}
	after := r.URL.Query().Get("after")
	trs, next, err := h.svc.ListTransfers(r.Context(), sh.SA.Domain, smartlic.Page{Limit: transfersPerPage, After: after})
	switch smartlic.ErrorCode(err) {
	case "":
		v.Transfers, v.Pager = trs, pager(r, after, next)
	case smartlic.EForbidden:
		// A VA role sees no account-wide list; it may still transfer
		// between the VAs it manages.
		v.TransfersNote = smartlic.ErrorMessage(err)
	default:
		return err
	}
	vas := vaOptions(sh.Tree, 0)
	v.CanTransfer = len(vas) > 1
	v.From = choose(f, "from", "From Virtual Account", "", vas)
	v.To = choose(f, "to", "To Virtual Account", "", vas)
	lic, err := h.licenseChoices(r, sh.SA.Domain)
	if err != nil {
		return err
	}
	v.License = choose(f, "license", "License type", "Only licenses available in the source (purchased, active, not in use) move.", lic)
	return h.render(w, r, status, "transfers", v)
}

// licenseChoices offers the license types of a Smart Account's pools, or
// the catalogue's to a caller who may not see the whole account.
func (h *Handler) licenseChoices(r *http.Request, sa string) ([]option, error) {
	pools, err := h.svc.ListAccountPools(r.Context(), sa)
	if smartlic.ErrorCode(err) == smartlic.EForbidden {
		types, err := h.allLicenseTypes(r)
		return licenseOptions(types), err
	}
	if err != nil {
		return nil, err
	}
	opts := make([]option, 0, len(pools))
	for _, p := range pools {
		opts = append(opts, option{Value: p.LicenseTag, Label: p.LicenseName + " (" + p.LicenseTag + ")"})
	}
	return opts, nil
}

// vaOptions lists the Virtual Accounts of a tree the caller works in,
// depth first, indented by level.
func vaOptions(nodes []*TreeNode, depth int) []option {
	var out []option
	for _, n := range nodes {
		if n.Reachable {
			out = append(out, option{Value: n.VA.Name, Label: strings.Repeat("— ", depth) + n.VA.Name})
		}
		out = append(out, vaOptions(n.Children, depth+1)...)
	}
	return out
}

func (h *Handler) createTransfer(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.TransferInput{From: f.Get("from"), To: f.Get("to"), License: f.Get("license"), Quantity: f.Int("quantity")}
	if len(f.Errors) > 0 {
		return h.renderTransfers(w, r, s, http.StatusBadRequest, f)
	}
	sa := r.PathValue("sa")
	tr, err := h.svc.Transfer(r.Context(), sa, in)
	if f.Bind(err) || bindCode(f, err, smartlic.EInsufficient, "quantity") {
		return h.renderTransfers(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/transfers",
		fmt.Sprintf("%d × %s transferred from %s to %s.", tr.Quantity, tr.LicenseTag, tr.FromName, tr.ToName))
}

// bindCode shows a service error of one code beside an input: a refusal
// that is about what the user typed (not enough licenses for the
// quantity, units already converted).
func bindCode(f *Form, err error, code, input string) bool {
	if smartlic.ErrorCode(err) != code {
		return false
	}
	f.Errors[input] = smartlic.ErrorMessage(err)
	return true
}

// transfersCSV is every transfer of the account as a CSV download.
func (h *Handler) transfersCSV(w http.ResponseWriter, r *http.Request) error {
	sa := r.PathValue("sa")
	trs, err := allPages(maxCSVRows, func(p smartlic.Page) ([]smartlic.Transfer, string, error) {
		return h.svc.ListTransfers(r.Context(), sa, p)
	})
	if err != nil {
		return err
	}
	t := smartlic.Table{Header: []string{"id", "created_at", "kind", "from", "to", "license", "quantity", "actor"}}
	for _, tr := range trs {
		t.Rows = append(t.Rows, []string{tr.ID, tr.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), tr.Kind, tr.FromName, tr.ToName,
			tr.LicenseTag, itoa(tr.Quantity), tr.ActorEmail})
	}
	return writeCSV(w, "transfers-"+sa+".csv", t)
}
