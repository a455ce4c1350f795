package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

// policiesRoutes registers Policies: the reporting policies of Smart
// Licensing Using Policy, in force per VA, and the edit form of one scope.
func (h *Handler) policiesRoutes() {
	h.page("GET /sa/{sa}/policies", h.policiesPage)
	h.page("POST /sa/{sa}/policies", h.setPolicy)
	h.page("POST /sa/{sa}/policies/delete", h.deletePolicy)
}

// policiesView is the policy in force in each VA the user works in, and
// one scope (the account, or ?va=) with its rules, edit form and history.
type policiesView struct {
	Shell
	Rows    []policyRow
	Default smartlic.Policy
	// The scope on show: VA is "" for the Smart Account.
	VA        string
	ScopeName string
	InForce   smartlic.Policy
	// Rules are InForce's rules by form field, for its table: the form
	// may hold an edit the service refused, which is not in force.
	Rules   *Form
	Where   string
	Custom  *smartlic.Policy // set on the scope itself
	Form    *Form
	Classes []policyClassForm
	History []smartlic.Policy
	Delete  *Form
	// CanEdit hides the forms from readers (the service refuses them anyway).
	CanEdit bool
}

type policyRow struct {
	VA     smartlic.VirtualAccount
	Indent int
	Policy smartlic.Policy
	Where  string
	Link   string
}

// policyClassForm is one class's inputs; their names are the API's field
// names (classes.enforced.first_report_days), so the service's errors land
// beside them.
type policyClassForm struct {
	Label                                   string
	FirstName, FrequencyName, ChangeName    string
	AckName                                 string
	FirstLabel, FrequencyLabel, ChangeLabel string
	AckLabel                                string
}

func classForms() []policyClassForm {
	out := make([]policyClassForm, 0, len(smartlic.LicenseClasses))
	for _, c := range smartlic.LicenseClasses {
		p := "classes." + string(c) + "."
		// Each label names its class, so that it is unique on the page and
		// read out whole.
		l := classLabel(c)
		out = append(out, policyClassForm{Label: l, FirstName: p + "first_report_days", FrequencyName: p + "reporting_frequency_days",
			ChangeName: p + "report_after_change_days", AckName: p + "ack_required",
			FirstLabel: l + ": days to the first report", FrequencyLabel: l + ": reporting frequency in days",
			ChangeLabel: l + ": days to report after a usage change", AckLabel: l + ": ACK required"})
	}
	return out
}

func classLabel(c smartlic.LicenseClass) string {
	switch c {
	case smartlic.ClassUnenforcedPerpetual:
		return "Unenforced, perpetual"
	case smartlic.ClassUnenforcedSubscription:
		return "Unenforced, subscription"
	case smartlic.ClassEnforced:
		return "Enforced"
	}
	return "Export-controlled"
}

// policyForm is the form's values for a policy.
func policyForm(p smartlic.Policy, base int) *Form {
	v := url.Values{"name": {p.Name}}
	if base > 0 {
		v.Set("base_version", strconv.Itoa(base))
	}
	for _, c := range smartlic.LicenseClasses {
		r, pre := p.Rules.For(c), "classes."+string(c)+"."
		v.Set(pre+"first_report_days", strconv.Itoa(r.FirstReportDays))
		v.Set(pre+"reporting_frequency_days", strconv.Itoa(r.ReportingFrequencyDays))
		v.Set(pre+"report_after_change_days", strconv.Itoa(r.ReportAfterChangeDays))
		if r.AckRequired {
			v.Set(pre+"ack_required", "1")
		}
	}
	return newForm(v)
}

// policyInput reads the form; malformed numbers become errors beside
// their fields.
func policyInput(f *Form) smartlic.PolicyInput {
	in := smartlic.PolicyInput{Name: strings.TrimSpace(f.Get("name")), BaseVersion: int(f.Int("base_version"))}
	for _, c := range smartlic.LicenseClasses {
		pre := "classes." + string(c) + "."
		r := smartlic.ReportingRule{
			FirstReportDays:        int(f.Int(pre + "first_report_days")),
			ReportingFrequencyDays: int(f.Int(pre + "reporting_frequency_days")),
			ReportAfterChangeDays:  int(f.Int(pre + "report_after_change_days")),
			AckRequired:            f.Get(pre+"ack_required") != "",
		}
		_ = in.Rules.Set(c, r) // c is one of LicenseClasses
	}
	return in
}

func (h *Handler) policiesPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderPolicies(w, r, s, http.StatusOK, r.URL.Query().Get("va"), nil, nil)
}

func (h *Handler) renderPolicies(w http.ResponseWriter, r *http.Request, s *Session, status int, va string, form, del *Form) error {
	ctx := r.Context()
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	sa := sh.SA.ID
	sh.Title = sh.SA.Name + " · Policies"
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Policies", Current: true})
	v := &policiesView{Shell: sh, VA: va, Classes: classForms(),
		CanEdit: s.Operator || holdsAny(sh.roles, sa, []manager.Permission{manager.PermPolicyManage})}
	if v.Default, err = h.svc.GetDefaultPolicy(ctx); err != nil {
		return err
	}
	for _, row := range vaRows(sh) {
		if row.Link == "" {
			continue
		}
		in, err := h.svc.EffectivePolicy(ctx, sa, row.VA.ID)
		if err != nil {
			return err
		}
		v.Rows = append(v.Rows, policyRow{VA: row.VA, Indent: row.Indent, Policy: in.Policy, Where: policyWhere(in),
			Link: saPath(sh.SA.Domain) + "/policies?va=" + url.QueryEscape(row.VA.Name) + "#scope"})
	}

	// The scope on show.
	custom, err := h.svc.GetPolicy(ctx, sa, va)
	if smartlic.ErrorCode(err) == smartlic.EForbidden && va == "" {
		// The account's own policy is an SA role's to see; a VA role opens
		// its first VA.
		if first := firstReachable(sh.Tree); first != "" {
			http.Redirect(w, r, queryWith(r, "va", first), http.StatusSeeOther)
			return nil
		}
	}
	switch smartlic.ErrorCode(err) {
	case "":
		v.Custom = &custom
	case smartlic.ENotFound:
		if smartlic.ErrorField(err) == "va" {
			return err
		}
	default:
		return err
	}
	if va == "" {
		v.ScopeName = "the Smart Account"
		v.InForce, v.Where = v.Default, "the vendor default"
		if v.Custom != nil {
			v.InForce, v.Where = custom, "set on the Smart Account"
		}
	} else {
		in, err := h.svc.EffectivePolicy(ctx, sa, va)
		if err != nil {
			return err
		}
		v.ScopeName, v.InForce, v.Where = in.VirtualAccount, in.Policy, policyWhere(in)
		v.VA = in.VirtualAccount
	}
	if form == nil {
		base := 0
		if v.Custom != nil {
			base = v.Custom.Version
		}
		form = policyForm(v.InForce, base)
		if v.Custom == nil {
			form.Values.Set("name", strings.TrimPrefix(v.ScopeName+" policy", "the "))
		}
	}
	v.Form, v.Delete, v.Rules = form, del, policyForm(v.InForce, 0)
	if v.Delete == nil {
		v.Delete = newForm(nil)
	}
	if v.History, _, err = h.svc.PolicyHistory(ctx, sa, va, smartlic.Page{Limit: 50}); err != nil {
		return err
	}
	return h.render(w, r, status, "policies", v)
}

// policyWhere says where the policy in force for a VA is set.
func policyWhere(in smartlic.PolicyInForce) string {
	switch {
	case !in.Inherited:
		return "set on this Virtual Account"
	case in.Policy.Scope == smartlic.ScopeVirtualAccount:
		return "inherited from " + in.Policy.VirtualAccount
	case in.Policy.Scope == smartlic.ScopeSmartAccount:
		return "the Smart Account's"
	}
	return "the vendor default"
}

// bindPolicy puts a refusal beside its field: invalid input, or an edit
// based on a version that is no longer the latest (above the form).
func bindPolicy(f *Form, err error) bool {
	var e *smartlic.Error
	if !errors.As(err, &e) || (e.Code != smartlic.EInvalid && e.Code != smartlic.EConflict) {
		return false
	}
	field := e.Field
	if _, ok := f.Values[field]; !ok || field == "base_version" {
		field = ""
	}
	f.Errors[field] = e.Message
	return true
}

func (h *Handler) setPolicy(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	va := f.Get("va")
	in := policyInput(f)
	if len(f.Errors) > 0 {
		return h.renderPolicies(w, r, s, http.StatusBadRequest, va, f, nil)
	}
	p, err := h.svc.SetPolicy(r.Context(), r.PathValue("sa"), va, in)
	if bindPolicy(f, err) {
		return h.renderPolicies(w, r, s, http.StatusBadRequest, va, f, nil)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, policiesPath(r.PathValue("sa"), va), "Policy “"+p.Name+"” saved as version "+strconv.Itoa(p.Version)+".")
}

func (h *Handler) deletePolicy(w http.ResponseWriter, r *http.Request, s *Session) error {
	va := r.PostForm.Get("va")
	err := h.svc.DeletePolicy(r.Context(), r.PathValue("sa"), va)
	if smartlic.ErrorCode(err) == smartlic.ENotFound && smartlic.ErrorField(err) == "" {
		del := newForm(nil)
		del.Errors[""] = smartlic.ErrorMessage(err)
		return h.renderPolicies(w, r, s, http.StatusBadRequest, va, nil, del)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, policiesPath(r.PathValue("sa"), va), "Custom policy removed; the policy above it applies.")
}

func policiesPath(sa, va string) string {
	p := saPath(sa) + "/policies"
	if va != "" {
		p += "?va=" + url.QueryEscape(va)
	}
	return p
}
