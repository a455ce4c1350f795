package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
)

// inventoryRoutes are the Product Instances and Event Log tabs, an
// instance's page and a license type's page.
func (h *Handler) inventoryRoutes() {
	h.page("GET /sa/{sa}/va/{va}/instances", h.instancesPage)
	h.page("POST /sa/{sa}/va/{va}/instances/transfer", h.transferInstances)
	h.page("GET /sa/{sa}/instances/{udi}", h.instancePage)
	h.page("GET /sa/{sa}/instances/{udi}/remove", h.confirmRemoveInstance)
	h.page("POST /sa/{sa}/instances/{udi}/remove", h.removeInstance)
	h.page("POST /sa/{sa}/instances/{udi}/transfer", h.transferInstance)
	h.page("GET /sa/{sa}/va/{va}/events", h.eventsPage)
	h.page("GET /sa/{sa}/licenses/{tag}", h.licenseTypePage)
	h.page("GET /search", h.searchPage)
}

// instancesPerPage is the length of the instance list.
const instancesPerPage = 50

// instancesView is Inventory › Product Instances: the VA's instances (with
// roll-up, those of the VAs below it too), searchable, each with a
// checkbox for the transfer form below the list.
type instancesView struct {
	Shell
	Query     string
	Instances []smartlic.InstanceHit
	Pager     Pager
	Form      *Form // the transfer form
	Targets   []smartlic.VirtualAccount
	Selected  map[string]bool
	CanManage bool
}

func (h *Handler) instancesPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderInstances(w, r, s, http.StatusOK, newForm(nil))
}

func (h *Handler) renderInstances(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sa, va := r.PathValue("sa"), r.PathValue("va")
	sh, err := h.vaShell(w, r, s, sa, va, "instances")
	if err != nil {
		return err
	}
	sh.Title = sh.VA.Name + " · Product Instances"
	q := r.URL.Query()
	v := &instancesView{Shell: sh, Query: strings.TrimSpace(q.Get("q")), Form: f, Selected: map[string]bool{}}
	for _, id := range f.Values["instances"] {
		v.Selected[id] = true
	}
	after := q.Get("after")
	res, err := h.svc.Search(r.Context(), smartlic.SearchQuery{Q: v.Query, SA: sh.SA.ID, VA: sh.VA.ID, Rollup: sh.Rollup,
		Kind: smartlic.SearchInstances, Limit: instancesPerPage, After: after})
	search := newForm(url.Values{"q": {v.Query}})
	if search.Bind(err) {
		// A query too short to search: say so beside the search box.
		f.Errors["q"] = search.Errors["q"]
	} else if err != nil {
		return err
	}
	v.Instances = res.Instances
	v.Pager = pager(r, after, res.Next)
	v.Targets = reachableVAs(sh.Tree)
	v.CanManage = h.mayManage(sh)
	return h.render(w, r, status, "instances", v)
}

// mayManage reports whether the caller's roles manage licensing in the
// shell's VA, to offer the forms; the service decides when they are sent.
func (h *Handler) mayManage(sh Shell) bool {
	return sh.Session.Operator || holdsAny(sh.roles, sh.SA.ID, []manager.Permission{manager.PermLicenseManage})
}

// reachableVAs lists the tree's VAs the caller works in, in tree order:
// the destinations a transfer form offers.
func reachableVAs(ns []*TreeNode) []smartlic.VirtualAccount {
	var out []smartlic.VirtualAccount
	for _, n := range ns {
		if n.Reachable {
			out = append(out, n.VA)
		}
		out = append(out, reachableVAs(n.Children)...)
	}
	return out
}

// transferInstances moves the instances ticked on the list to the VA
// chosen below it, in one transfer: all of them or none.
func (h *Handler) transferInstances(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, va := r.PathValue("sa"), r.PathValue("va")
	f := newForm(r.PostForm)
	var from string
	var ids []string
	for _, v := range f.Values["instances"] {
		// Each checkbox is "VA id/instance id", so a rolled-up list knows
		// where each instance is.
		vaID, id, ok := strings.Cut(v, "/")
		if !ok {
			f.Errors["instances"] = "is not a selection this page offered"
			break
		}
		if from != "" && vaID != from {
			f.Errors["instances"] = "must all be in one Virtual Account: transfer those of each Virtual Account separately"
			break
		}
		from = vaID
		ids = append(ids, id)
	}
	if len(ids) == 0 && len(f.Errors) == 0 {
		f.Errors["instances"] = "select at least one product instance"
	}
	if len(f.Errors) > 0 {
		return h.renderInstances(w, r, s, http.StatusBadRequest, f)
	}
	tr, err := h.svc.Transfer(r.Context(), sa, smartlic.TransferInput{From: from, To: f.Get("to"), Instances: ids})
	if bindTransfer(f, err) {
		return h.renderInstances(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	back := vaPath(sa, va) + "/instances"
	if r.URL.RawQuery != "" {
		back += "?" + r.URL.RawQuery
	}
	return redirectWithFlash(w, r, back, transferMessage(tr))
}

func transferMessage(tr smartlic.Transfer) string {
	n := "1 product instance"
	if tr.Quantity != 1 {
		n = itoa(tr.Quantity) + " product instances"
	}
	return "Moved " + n + " from " + tr.FromName + " to " + tr.ToName + "."
}

// instanceView is one product instance: what it is, where, its usage with
// the last authorization it received beside the pool's status now, and
// its history from the event log.
type instanceView struct {
	Shell
	Hit       smartlic.InstanceHit
	Path      string // /sa/{sa}/instances/{udi}
	Usage     []usageRow
	History   []smartlic.Event
	Pager     Pager
	Hidden    string // why the history is not shown
	Targets   []smartlic.VirtualAccount
	Form      *Form
	CanManage bool
	// Reporting is the instance's reporting state under Using Policy.
	Reporting *smartlic.PolicyReporting
	// SLACs are the device's export authorizations, active and returned.
	SLACs []smartlic.SLAC
}

type usageRow struct {
	smartlic.Usage
	Pool *smartlic.Pool // the pool of the instance's VA now; nil when it has none
}

// historyPerPage is the length of an instance's history.
const historyPerPage = 50

// findInstance finds an instance of Smart Account sa by UDI (or id),
// through the search the API offers, so only an instance in a VA the
// caller may view is found.
func (h *Handler) findInstance(r *http.Request, sa, key string) (smartlic.InstanceHit, error) {
	res, err := h.svc.Search(r.Context(), smartlic.SearchQuery{Q: key, SA: sa, Kind: smartlic.SearchInstances, Limit: smartlic.MaxSearchLimit})
	if err != nil && smartlic.ErrorCode(err) != smartlic.EInvalid {
		return smartlic.InstanceHit{}, err
	}
	for _, hit := range res.Instances {
		if strings.EqualFold(hit.Instance.UDI.String(), key) || hit.Instance.ID == key {
			return hit, nil
		}
	}
	return smartlic.InstanceHit{}, smartlic.NotFound("no product instance %s in %s that you may see", key, sa)
}

func (h *Handler) instancePage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderInstance(w, r, s, http.StatusOK, newForm(nil))
}

func (h *Handler) renderInstance(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	hit, err := h.findInstance(r, r.PathValue("sa"), r.PathValue("udi"))
	if err != nil {
		return err
	}
	sh, err := h.vaShell(w, r, s, hit.SmartAccountID, hit.VirtualAccountID, "instances")
	if err != nil {
		return err
	}
	udi := hit.Instance.UDI.String()
	sh.Title = udi
	sh.Crumbs = append(sh.Crumbs[:len(sh.Crumbs)-1], NavLink{Label: "Product Instances", Path: sh.VAPath + "/instances"}, NavLink{Label: udi, Current: true})
	v := &instanceView{Shell: sh, Hit: hit, Path: instancePath(sh.SA.Domain, hit.Instance), Form: f,
		Targets: reachableVAs(sh.Tree), CanManage: h.mayManage(sh)}
	pools, err := h.svc.ListPools(r.Context(), sh.SA.ID, hit.VirtualAccountID, false)
	if err != nil {
		return err
	}
	if hit.Instance.Mode == smartlic.ModePolicy {
		inst, err := h.svc.GetInstance(r.Context(), sh.SA.ID, hit.VirtualAccountID, hit.Instance.ID)
		if err != nil {
			return err
		}
		v.Reporting = inst.Reporting
	}
	if v.SLACs, err = h.instanceSLACs(r, sh.SA.Domain, hit.Instance.UDI); err != nil {
		return err
	}
	for _, u := range hit.Instance.Usage {
		row := usageRow{Usage: u}
		for i := range pools {
			if pools[i].LicenseTag == u.LicenseTag {
				row.Pool = &pools[i]
			}
		}
		v.Usage = append(v.Usage, row)
	}
	after := r.URL.Query().Get("after")
	evs, next, err := h.svc.ListEvents(r.Context(), sh.SA.ID, smartlic.EventFilter{Subject: hit.Instance.ID}, smartlic.Page{Limit: historyPerPage, After: after})
	switch smartlic.ErrorCode(err) {
	case "":
		v.History, v.Pager = evs, pager(r, after, next)
	case smartlic.EForbidden:
		v.Hidden = smartlic.ErrorMessage(err)
	default:
		return err
	}
	return h.render(w, r, status, "instance", v)
}

func instancePath(sa string, i smartlic.Instance) string {
	return saPath(sa) + "/instances/" + url.PathEscape(i.UDI.String())
}

// confirmRemoveInstance asks before removing: removing cannot be undone,
// and the device must register again to come back.
func (h *Handler) confirmRemoveInstance(w http.ResponseWriter, r *http.Request, s *Session) error {
	hit, err := h.findInstance(r, r.PathValue("sa"), r.PathValue("udi"))
	if err != nil {
		return err
	}
	sh, err := h.vaShell(w, r, s, hit.SmartAccountID, hit.VirtualAccountID, "instances")
	if err != nil {
		return err
	}
	sh.Title = "Remove " + hit.Instance.UDI.String()
	return h.render(w, r, http.StatusOK, "instance-remove", &instanceView{Shell: sh, Hit: hit, Path: instancePath(sh.SA.Domain, hit.Instance)})
}

func (h *Handler) removeInstance(w http.ResponseWriter, r *http.Request, s *Session) error {
	hit, err := h.findInstance(r, r.PathValue("sa"), r.PathValue("udi"))
	if err != nil {
		return err
	}
	if err := h.svc.RemoveInstance(r.Context(), hit.SmartAccountID, hit.VirtualAccountID, hit.Instance.ID); err != nil {
		return err
	}
	return redirectWithFlash(w, r, vaPath(hit.SmartAccount, hit.VirtualAccount)+"/instances",
		"Removed "+hit.Instance.UDI.String()+"; its licenses are back in the pool. The device must register again to be licensed.")
}

// transferInstance moves one instance from its page.
func (h *Handler) transferInstance(w http.ResponseWriter, r *http.Request, s *Session) error {
	hit, err := h.findInstance(r, r.PathValue("sa"), r.PathValue("udi"))
	if err != nil {
		return err
	}
	f := newForm(r.PostForm)
	tr, err := h.svc.Transfer(r.Context(), hit.SmartAccountID, smartlic.TransferInput{From: hit.VirtualAccountID, To: f.Get("to"), Instances: []string{hit.Instance.ID}})
	if bindTransfer(f, err) {
		return h.renderInstance(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, instancePath(hit.SmartAccount, hit.Instance), transferMessage(tr))
}

// bindTransfer shows a transfer's refusal on the form: invalid input
// beside its field, and too few licenses in the destination (an enforced
// license type) above the form, where the user can choose another VA.
func bindTransfer(f *Form, err error) bool {
	if smartlic.ErrorCode(err) == smartlic.EInsufficient {
		f.Errors["to"] = smartlic.ErrorMessage(err)
		return true
	}
	return f.Bind(err)
}

// vaSelect offers the Virtual Accounts vas (by id) under name, after a
// first choice blank (value ""), leaving out except (the one the thing is
// in) and keeping the user's choice. It is a "select" partial.
func vaSelect(f *Form, name, label, blank string, vas []smartlic.VirtualAccount, except string) selectView {
	v := choose(f, name, label, "", []option{{Value: "", Label: blank}})
	chosen := f.Get(name)
	for _, va := range vas {
		if va.ID == except {
			continue
		}
		indent := strings.Repeat("\u00a0\u00a0", max(va.Depth-1, 0))
		v.Options = append(v.Options, option{Value: va.ID, Label: indent + va.Name, Selected: chosen == va.ID || chosen == va.Name})
	}
	return v
}
