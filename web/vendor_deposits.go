package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/smartlic/smartlic"
)

// depositsView is Vendor › Deposits: licenses from an order entering a
// customer's Virtual Account, and the deposits a VA has.
type depositsView struct {
	Shell
	Activity []smartlic.Event
	// Chooser picks the Smart Account and VA the page is about.
	Account, VAChoice selectView
	Chosen            *smartlic.SmartAccount
	ChosenVA          string
	Deposits          []smartlic.Deposit
	Pager             Pager
	Form              *Form
	License           selectView
	DepositVA         selectView
}

// depositsPerPage is the length of the deposits list.
const depositsPerPage = 25

// maxAccountChoices bounds the Smart Accounts offered in the chooser; the
// operator types a domain beyond that.
const maxAccountChoices = 1000

func (h *Handler) depositsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	q := r.URL.Query()
	return h.renderDeposits(w, r, s, http.StatusOK, newForm(url.Values{"va": {q.Get("va")}, "quantity": {"1"}}))
}

func (h *Handler) renderDeposits(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, activity, err := h.vendorShell(w, r, s, "/vendor/deposits")
	if err != nil {
		return err
	}
	v := &depositsView{Shell: sh, Activity: activity, Form: f}
	q := r.URL.Query()
	sa := q.Get("sa")
	if r.Method == http.MethodPost {
		sa = f.Get("sa")
	}
	if v.Account, v.Chosen, err = h.accountChooser(r, sa); err != nil {
		return err
	}
	if v.Chosen == nil {
		return h.render(w, r, status, "vendor_deposits", v)
	}
	vas, err := h.allVAs(r, v.Chosen.ID)
	if err != nil {
		return err
	}
	v.ChosenVA = q.Get("va")
	if v.ChosenVA == "" {
		v.ChosenVA = smartlic.DefaultVAName
	}
	vaOpts := make([]option, 0, len(vas))
	for _, va := range vas {
		vaOpts = append(vaOpts, option{Value: va.Name, Label: va.Name})
	}
	v.VAChoice = choose(newForm(url.Values{"va": {v.ChosenVA}}), "va", "Virtual Account", "", vaOpts)
	v.VAChoice.ID = "choose-va"
	if f.Get("va") == "" {
		f.Values.Set("va", v.ChosenVA)
	}
	v.DepositVA = choose(f, "va", "Into Virtual Account", "", vaOpts)
	types, err := h.allLicenseTypes(r)
	if err != nil {
		return err
	}
	v.License = choose(f, "license", "License type", "Subscriptions need an end date; perpetual licenses have none.", licenseOptions(types))
	after := q.Get("after")
	deps, next, err := h.svc.ListDeposits(r.Context(), v.Chosen.Domain, v.ChosenVA, smartlic.Page{Limit: depositsPerPage, After: after})
	if err != nil {
		return err
	}
	v.Deposits, v.Pager = deps, pager(r, after, next)
	return h.render(w, r, status, "vendor_deposits", v)
}

// accountChooser is the select of Smart Accounts of the vendor pages, with
// the account chosen (nil when none is) loaded through the service.
func (h *Handler) accountChooser(r *http.Request, sa string) (selectView, *smartlic.SmartAccount, error) {
	accts, err := allPages(maxAccountChoices, func(p smartlic.Page) ([]smartlic.SmartAccount, string, error) {
		return h.svc.ListSmartAccounts(r.Context(), smartlic.SmartAccountFilter{}, p)
	})
	if err != nil {
		return selectView{}, nil, err
	}
	opts := []option{{Value: "", Label: "Choose a Smart Account"}}
	for _, a := range accts {
		opts = append(opts, option{Value: a.Domain, Label: a.Name + " (" + a.Domain + ")"})
	}
	var chosen *smartlic.SmartAccount
	if sa != "" {
		acct, err := h.svc.GetSmartAccount(r.Context(), sa)
		if err != nil {
			return selectView{}, nil, err
		}
		chosen, sa = &acct, acct.Domain
	}
	v := choose(newForm(url.Values{"sa": {sa}}), "sa", "Smart Account", "", opts)
	v.ID = "choose-sa"
	return v, chosen, nil
}

func (h *Handler) createDeposit(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.DepositInput{OrderNumber: strings.TrimSpace(f.Get("order_number")), License: f.Get("license"),
		Quantity: f.Int("quantity"), StartsAt: date(f, "starts_at"), EndsAt: date(f, "ends_at")}
	sa, va := f.Get("sa"), f.Get("va")
	if len(f.Errors) > 0 {
		return h.renderDeposits(w, r, s, http.StatusBadRequest, f)
	}
	d, err := h.svc.CreateDeposit(r.Context(), sa, va, in)
	if f.Bind(err) {
		return h.renderDeposits(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, queryOf("/vendor/deposits", url.Values{"sa": {sa}, "va": {va}}),
		fmt.Sprintf("%d × %s deposited into %s of %s (order %s).", d.Quantity, d.LicenseTag, va, sa, d.OrderNumber))
}

// paksView is Vendor › PAKs: classic orders deposited into a Smart
// Account, for its users to convert.
type paksView struct {
	Shell
	Activity []smartlic.Event
	Account  selectView
	Chosen   *smartlic.SmartAccount
	PAKs     []smartlic.PAK
	Pager    Pager
	Form     *Form
}

func (h *Handler) paksPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderPAKs(w, r, s, http.StatusOK, newForm(nil))
}

func (h *Handler) renderPAKs(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, activity, err := h.vendorShell(w, r, s, "/vendor/paks")
	if err != nil {
		return err
	}
	v := &paksView{Shell: sh, Activity: activity, Form: f}
	sa := r.URL.Query().Get("sa")
	if r.Method == http.MethodPost {
		sa = f.Get("sa")
	}
	if v.Account, v.Chosen, err = h.accountChooser(r, sa); err != nil {
		return err
	}
	if v.Chosen != nil {
		after := r.URL.Query().Get("after")
		paks, next, err := h.svc.ListPAKs(r.Context(), v.Chosen.Domain, smartlic.Page{Limit: paksPerPage, After: after})
		if err != nil {
			return err
		}
		v.PAKs, v.Pager = paks, pager(r, after, next)
	}
	return h.render(w, r, status, "vendor_paks", v)
}

// paksPerPage is the length of a PAK list.
const paksPerPage = 25

func (h *Handler) depositPAK(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.PAKInput{Number: strings.TrimSpace(f.Get("number")), OrderNumber: strings.TrimSpace(f.Get("order_number"))}
	in.Lines = parsePAKLines(f)
	sa := f.Get("sa")
	if len(f.Errors) > 0 {
		return h.renderPAKs(w, r, s, http.StatusBadRequest, f)
	}
	p, err := h.svc.DepositPAK(r.Context(), sa, in)
	if bindAs(f, err, "lines.fulfilled", "fulfilled") || bindAs(f, err, "lines", "lines") || f.Bind(err) || bindConflict(f, err, "number") {
		return h.renderPAKs(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, queryOf("/vendor/paks", url.Values{"sa": {sa}}),
		fmt.Sprintf("PAK %s deposited into %s with %d lines.", p.Number, sa, len(p.Lines)))
}

// parsePAKLines reads the lines ("SKU,QUANTITY" per line) and the
// fulfillments ("SKU,PID:SN,COUNT" per line) of a PAK form, as the CLI's
// --line and --fulfilled take them. What does not parse is an error beside
// its input; the rules of a PAK are the service's.
func parsePAKLines(f *Form) []smartlic.PAKLineInput {
	var lines []smartlic.PAKLineInput
	index := map[string]int{}
	for i, l := range nonEmptyLines(f.Get("lines")) {
		sku, qty, ok := strings.Cut(l, ",")
		n, err := strconv.ParseInt(strings.TrimSpace(qty), 10, 64)
		if !ok || err != nil {
			f.Errors["lines"] = fmt.Sprintf("line %d: must be SKU,QUANTITY such as L-C3850-24-S-E,10 (got %q)", i+1, l)
			return nil
		}
		index[strings.TrimSpace(sku)] = len(lines)
		lines = append(lines, smartlic.PAKLineInput{SKU: strings.TrimSpace(sku), Quantity: n})
	}
	for i, l := range nonEmptyLines(f.Get("fulfilled")) {
		parts := strings.Split(l, ",")
		if len(parts) != 3 {
			f.Errors["fulfilled"] = fmt.Sprintf("line %d: must be SKU,PID:SN,COUNT such as L-C3850-24-S-E,WS-C3850-24T:FOC1234X0AB,1 (got %q)", i+1, l)
			return nil
		}
		sku := strings.TrimSpace(parts[0])
		udi, err := smartlic.ParseUDI("fulfilled", strings.TrimSpace(parts[1]))
		if err != nil {
			f.Errors["fulfilled"] = fmt.Sprintf("line %d: %s", i+1, smartlic.ErrorMessage(err))
			return nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(parts[2]), 10, 64)
		if err != nil {
			f.Errors["fulfilled"] = fmt.Sprintf("line %d: the count must be a whole number (got %q)", i+1, parts[2])
			return nil
		}
		j, ok := index[sku]
		if !ok {
			f.Errors["fulfilled"] = fmt.Sprintf("line %d: SKU %q is not among the PAK's lines", i+1, sku)
			return nil
		}
		lines[j].Fulfilled = append(lines[j].Fulfilled, smartlic.FulfillmentInput{UDI: udi, Count: n})
	}
	return lines
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
