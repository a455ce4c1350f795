package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/smartlic/smartlic"
)

// dashboardRoutes registers the dashboards of a Smart Account and of a
// Virtual Account (with the VAs below it).
func (h *Handler) dashboardRoutes() {
	h.page("GET /sa/{sa}", h.accountDashboard)
	h.page("GET /sa/{sa}/va/{va}/dashboard", h.vaDashboard)
}

// dashboardView is a dashboard: alert counts by severity, the license
// types closest to running out and soonest to expire, and one license
// type's history with its projection.
type dashboardView struct {
	Shell
	Scope      string // "Acme Corporation" or "Campus and the VAs below it"
	Base       string // the dashboard's path, for its links and form
	AlertsLink string
	Severities []severityCount
	Closest    []poolRank
	Expiring   []poolRank
	Licenses   []smartlic.Pool // the chart's choices
	License    string          // the chosen tag
	Days       int
	DayChoices []int
	History    *smartlic.LicenseHistory
	Chart      *usageChart
}

type severityCount struct {
	Severity smartlic.Severity
	Count    int
	Link     string
}

type poolRank struct {
	smartlic.Pool
	Percent int    // in use of purchased; -1 when nothing is purchased
	Link    string // the dashboard with this license type charted
}

// dashboardTop is how many license types each ranking lists.
const dashboardTop = 5

var dashboardDays = []int{30, 90, 180, 366}

// accountDashboard is /sa/{sa}. Its numbers are the whole account's, which
// only SA roles may read; a VA role is sent to the dashboard of the first
// VA it works in, and a role without licensing to the inventory, where
// the services decide again what it sees.
func (h *Handler) accountDashboard(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	sh, err := h.accountShell(w, r, s, sa)
	if err != nil {
		return err
	}
	alerts, err := h.svc.ListAlerts(r.Context(), sa, "")
	if smartlic.ErrorCode(err) == smartlic.EForbidden {
		va := firstReachable(sh.Tree)
		if va == "" {
			return err
		}
		if sh.Flash != "" {
			setFlash(w, r, sh.Flash) // keep it for the page the redirect shows
		}
		to := vaPath(sh.SA.Domain, va) + "/dashboard"
		if _, err := h.svc.ListAlerts(r.Context(), sa, va); smartlic.ErrorCode(err) == smartlic.EForbidden {
			to = vaPath(sh.SA.Domain, va) + "/general"
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	pools, err := h.svc.ListAccountPools(r.Context(), sa)
	if err != nil {
		return err
	}
	sh.Title = sh.SA.Name + " · Dashboard"
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Dashboard", Current: true})
	v := &dashboardView{Shell: sh, Scope: sh.SA.Name, Base: saPath(sh.SA.Domain), AlertsLink: saPath(sh.SA.Domain) + "/alerts"}
	return h.renderDashboard(w, r, v, "", alerts, pools)
}

// vaDashboard is /sa/{sa}/va/{va}/dashboard: the VA and every VA below it,
// as its alerts count them.
func (h *Handler) vaDashboard(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, va := r.PathValue("sa"), r.PathValue("va")
	sh, err := h.vaShell(w, r, s, sa, va, "dashboard")
	if err != nil {
		return err
	}
	alerts, err := h.svc.ListAlerts(r.Context(), sa, va)
	if err != nil {
		return err
	}
	pools, err := h.svc.ListPools(r.Context(), sa, va, true)
	if err != nil {
		return err
	}
	sh.Title = sh.VA.Name + " · Dashboard"
	// The dashboard always adds up the subtree; the toggle would do nothing.
	sh.Rollup = true
	v := &dashboardView{Shell: sh, Scope: sh.VA.Name + " and the Virtual Accounts below it", Base: sh.VAPath + "/dashboard",
		AlertsLink: saPath(sh.SA.Domain) + "/alerts?va=" + url.QueryEscape(sh.VA.Name)}
	return h.renderDashboard(w, r, v, sh.VA.ID, alerts, pools)
}

func (h *Handler) renderDashboard(w http.ResponseWriter, r *http.Request, v *dashboardView, va string, alerts []smartlic.Alert, pools []smartlic.Pool) error {
	counts := map[smartlic.Severity]int{}
	for _, a := range alerts {
		counts[a.Severity]++
	}
	for _, sev := range []smartlic.Severity{smartlic.SeverityCritical, smartlic.SeverityWarning, smartlic.SeverityInfo} {
		v.Severities = append(v.Severities, severityCount{Severity: sev, Count: counts[sev], Link: v.AlertsLink + sep(v.AlertsLink) + "severity=" + string(sev)})
	}
	link := func(tag string) string { return v.Base + "?license=" + url.QueryEscape(tag) + "#chart" }
	rank := func(p smartlic.Pool) poolRank {
		pr := poolRank{Pool: p, Percent: -1, Link: link(p.LicenseTag)}
		if p.Purchased > 0 {
			pr.Percent = int(p.InUse * 100 / p.Purchased)
		}
		return pr
	}
	// Closest to running out: the highest share of purchases in use (in
	// use with nothing purchased first), then the fewest available.
	closest := slices.Clone(pools)
	slices.SortStableFunc(closest, func(a, b smartlic.Pool) int {
		return cmp.Or(cmp.Compare(usageShare(b), usageShare(a)), cmp.Compare(a.Available, b.Available), cmp.Compare(a.LicenseTag, b.LicenseTag))
	})
	for _, p := range closest {
		if len(v.Closest) == dashboardTop {
			break
		}
		if p.InUse > 0 || p.Purchased > 0 {
			v.Closest = append(v.Closest, rank(p))
		}
	}
	for _, p := range pools {
		if p.NextExpiry != nil {
			v.Expiring = append(v.Expiring, rank(p))
		}
	}
	slices.SortStableFunc(v.Expiring, func(a, b poolRank) int { return a.NextExpiry.Compare(*b.NextExpiry) })
	v.Expiring = v.Expiring[:min(len(v.Expiring), dashboardTop)]

	v.Licenses = slices.Clone(pools)
	slices.SortFunc(v.Licenses, func(a, b smartlic.Pool) int { return cmp.Compare(a.LicenseName, b.LicenseName) })
	q := r.URL.Query()
	v.License, v.DayChoices = q.Get("license"), dashboardDays
	if v.License == "" && len(v.Closest) > 0 {
		v.License = v.Closest[0].LicenseTag
	}
	v.Days = smartlic.DefaultHistoryDays
	if d := q.Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return smartlic.Invalid("days", "must be a number of days (got %q)", d)
		}
		v.Days = n
	}
	if v.License != "" {
		hist, err := h.svc.LicenseHistory(r.Context(), v.SA.Domain, v.License, smartlic.HistoryQuery{VA: va, Days: v.Days})
		if err != nil {
			return err
		}
		v.History, v.Chart = &hist, newUsageChart(hist)
	}
	return h.render(w, r, http.StatusOK, "dashboard", v)
}

// usageShare is the share of purchases in use, any use of nothing
// purchased being the highest.
func usageShare(p smartlic.Pool) float64 {
	switch {
	case p.Purchased > 0:
		return float64(p.InUse) / float64(p.Purchased)
	case p.InUse > 0:
		return 1e18
	default:
		return 0
	}
}

func sep(link string) string {
	if strings.Contains(link, "?") {
		return "&"
	}
	return "?"
}
