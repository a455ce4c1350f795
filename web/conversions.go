package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/smartlic/smartlic"
)

// conversionsView is a Smart Account's Conversions page: the classic
// licenses (PAKs) the vendor deposited, with what is left to convert.
type conversionsView struct {
	Shell
	PAKs  []smartlic.PAK
	Pager Pager
	CSV   string
}

func (h *Handler) conversionsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	if r.URL.Query().Get("format") == "csv" {
		return h.paksCSV(w, r, sa)
	}
	sh, err := h.accountShell(w, r, s, sa)
	if err != nil {
		return err
	}
	sh.Title = "Conversions · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Conversions", Current: true})
	after := r.URL.Query().Get("after")
	paks, next, err := h.svc.ListPAKs(r.Context(), sh.SA.Domain, smartlic.Page{Limit: paksPerPage, After: after})
	if err != nil {
		return err
	}
	v := &conversionsView{Shell: sh, PAKs: paks, Pager: pager(r, after, next), CSV: queryWith(r, "format", "csv", "after", "")}
	return h.render(w, r, http.StatusOK, "conversions", v)
}

// paksCSV is every line of every PAK of the account, with what is
// converted and what remains.
func (h *Handler) paksCSV(w http.ResponseWriter, r *http.Request, sa string) error {
	paks, err := allPages(maxCSVRows, func(p smartlic.Page) ([]smartlic.PAK, string, error) {
		return h.svc.ListPAKs(r.Context(), sa, p)
	})
	if err != nil {
		return err
	}
	t := smartlic.Table{Header: []string{"pak", "order_number", "line", "sku", "quantity", "converted", "remaining"}}
	for _, p := range paks {
		for _, l := range p.Lines {
			t.Rows = append(t.Rows, []string{p.Number, p.OrderNumber, strconv.Itoa(l.Line), l.SKU, itoa(l.Quantity), itoa(l.Converted), itoa(l.Remaining())})
		}
	}
	return writeCSV(w, "paks-"+sa+".csv", t)
}

// pakView is one PAK: its lines, the form that converts them and what was
// converted so far.
type pakView struct {
	Shell
	PAK          smartlic.PAK
	Remaining    int64
	Conversions  []smartlic.Conversion
	CSV          string
	Form         *Form
	IntoVA, Line selectView
	VANames      map[string]string // id → name, for the conversions' VAs
}

func (h *Handler) pakPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, pak := r.PathValue("sa"), r.PathValue("pak")
	if r.URL.Query().Get("format") == "csv" {
		convs, err := h.svc.ListConversions(r.Context(), sa, pak)
		if err != nil {
			return err
		}
		return writeCSV(w, "conversions-"+pak+".csv", conversionTable(convs))
	}
	return h.renderPAK(w, r, s, http.StatusOK, newForm(nil))
}

func (h *Handler) renderPAK(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	p, err := h.svc.GetPAK(r.Context(), sh.SA.Domain, r.PathValue("pak"))
	if err != nil {
		return err
	}
	convs, err := h.svc.ListConversions(r.Context(), sh.SA.Domain, p.ID)
	if err != nil {
		return err
	}
	sh.Title = "PAK " + p.Number + " · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Conversions", Path: saPath(sh.SA.Domain) + "/conversions"}, NavLink{Label: "PAK " + p.Number, Current: true})
	v := &pakView{Shell: sh, PAK: p, Conversions: convs, Form: f, CSV: queryWith(r, "format", "csv"), VANames: map[string]string{}}
	walkTree(sh.Tree, func(n *TreeNode) { v.VANames[n.VA.ID] = n.VA.Name })
	lines := []option{{Value: "", Label: "Every line with a smart equivalent"}}
	for _, l := range p.Lines {
		v.Remaining += l.Remaining()
		lines = append(lines, option{Value: strconv.Itoa(l.Line), Label: fmt.Sprintf("Line %d: %s (%d left)", l.Line, l.SKU, l.Remaining())})
	}
	v.Line = choose(f, "line", "Line", "", lines)
	v.IntoVA = choose(f, "va", "Into Virtual Account", "The smart licenses are deposited there.", vaOptions(sh.Tree, 0))
	return h.render(w, r, status, "pak", v)
}

// walkTree calls fn on every node of a VA tree.
func walkTree(nodes []*TreeNode, fn func(*TreeNode)) {
	for _, n := range nodes {
		fn(n)
		walkTree(n.Children, fn)
	}
}

// convertPAK converts a line (or every line) of a PAK and shows the PAK
// again with the conversions it made.
func (h *Handler) convertPAK(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.ConvertInput{VA: f.Get("va"), EndsAt: date(f, "ends_at")}
	line := f.Int("line")
	qty := f.Int("quantity")
	if line != 0 {
		in.Lines = []smartlic.ConvertLineInput{{Line: int(line), Quantity: qty}}
	} else if qty != 0 {
		f.Errors["quantity"] = "choose a line to convert part of it; without a line everything that remains converts"
	}
	if len(f.Errors) > 0 {
		return h.renderPAK(w, r, s, http.StatusBadRequest, f)
	}
	sa, pak := r.PathValue("sa"), r.PathValue("pak")
	res, err := h.svc.ConvertPAK(r.Context(), sa, pak, in)
	if bindAs(f, err, "lines.quantity", "quantity") || bindAs(f, err, "lines", "line") || f.Bind(err) ||
		bindCode(f, err, smartlic.EAlreadyConverted, "quantity") {
		return h.renderPAK(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	var units, licenses int64
	for _, c := range res.Conversions {
		units += c.Units
		licenses += c.Quantity
	}
	return redirectWithFlash(w, r, saPath(sa)+"/conversions/"+url.PathEscape(res.PAK.Number),
		fmt.Sprintf("%d classic units of PAK %s converted: %d smart licenses deposited into %s.", units, res.PAK.Number, licenses, in.VA))
}

// conversionTable is a PAK's conversions as the CSV download has them.
func conversionTable(convs []smartlic.Conversion) smartlic.Table {
	t := smartlic.Table{Header: []string{"created_at", "pak", "line", "sku", "units", "license", "quantity", "virtual_account_id", "udi"}}
	for _, c := range convs {
		udi := ""
		if c.UDI != nil {
			udi = c.UDI.String()
		}
		t.Rows = append(t.Rows, []string{c.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), c.PAKNumber, strconv.Itoa(c.Line), c.SKU,
			itoa(c.Units), c.LicenseTag, itoa(c.Quantity), c.VirtualAccountID, udi})
	}
	return t
}
