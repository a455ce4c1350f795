package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/smartlic/smartlic"
)

// alertsRoutes registers the account's alerts page.
func (h *Handler) alertsRoutes() {
	h.page("GET /sa/{sa}/alerts", h.alertsPage)
}

// alertsView is the alerts the AlertService computes for the account, or
// for one VA and the VAs below it. Alerts are computed from the pools and
// instances as they are: they clear when their condition does, and the API
// has no acknowledgement or snooze to offer here; who is e-mailed about
// which alerts is a notification preference.
type alertsView struct {
	Shell
	Form       *Form
	VAs        []option
	Severities []severityCount
	Types      []smartlic.AlertType
	Rows       []alertRow
	Total      int // before the severity and type filters
	Pager      Pager
	CSV        string
}

type alertRow struct {
	smartlic.Alert
	Subject, SubjectLink, TrendLink string
}

// alertsPerPage is the length of the alerts list.
const alertsPerPage = 50

func (h *Handler) alertsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	q := r.URL.Query()
	sh, err := h.accountShell(w, r, s, sa)
	if err != nil {
		return err
	}
	va := q.Get("va")
	alerts, err := h.svc.ListAlerts(r.Context(), sa, va)
	if smartlic.ErrorCode(err) == smartlic.EForbidden && va == "" {
		// The whole account is an SA role's; a VA role sees its own.
		if first := firstReachable(sh.Tree); first != "" {
			http.Redirect(w, r, queryWith(r, "va", first), http.StatusSeeOther)
			return nil
		}
	}
	f := newForm(url.Values{"va": {va}, "severity": {q.Get("severity")}, "type": {q.Get("type")}})
	if c := smartlic.ErrorCode(err); (c == smartlic.ENotFound || c == smartlic.EInvalid) && smartlic.ErrorField(err) == "va" {
		f.Errors["va"] = smartlic.ErrorMessage(err)
		alerts, err = nil, nil
	}
	if err != nil {
		return err
	}
	counts := map[smartlic.Severity]int{}
	for _, a := range alerts {
		counts[a.Severity]++
	}
	sev, typ := smartlic.Severity(q.Get("severity")), smartlic.AlertType(q.Get("type"))
	shown := slices.DeleteFunc(slices.Clone(alerts), func(a smartlic.Alert) bool {
		return (sev != "" && a.Severity != sev) || (typ != "" && a.Type != typ)
	})
	if q.Get("format") == "csv" {
		return writeCSV(w, "alerts.csv", alertTable(shown))
	}
	sh.Title = sh.SA.Name + " · Alerts"
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Alerts", Current: true})
	v := &alertsView{Shell: sh, Form: f, VAs: vaOptions(sh.Tree, 0), Types: smartlic.AlertTypes, Total: len(alerts), CSV: queryWith(r, "format", "csv", "after", "")}
	for _, s := range []smartlic.Severity{smartlic.SeverityCritical, smartlic.SeverityWarning, smartlic.SeverityInfo} {
		v.Severities = append(v.Severities, severityCount{Severity: s, Count: counts[s], Link: queryWith(r, "severity", string(s), "after", "")})
	}
	// The list is computed whole; it pages by position.
	start, _ := strconv.Atoi(q.Get("after"))
	start = max(0, min(start, len(shown)))
	end := min(start+alertsPerPage, len(shown))
	next := ""
	if end < len(shown) {
		next = strconv.Itoa(end)
	}
	v.Pager = pager(r, q.Get("after"), next)
	domain := sh.SA.Domain
	for _, a := range shown[start:end] {
		row := alertRow{Alert: a}
		switch {
		case a.LicenseTag != "":
			row.Subject = a.LicenseTag
			row.SubjectLink = vaPath(domain, a.VirtualAccount) + "/licenses?q=" + url.QueryEscape(a.LicenseTag)
			row.TrendLink = vaPath(domain, a.VirtualAccount) + "/dashboard?license=" + url.QueryEscape(a.LicenseTag) + "#chart"
		case a.UDI != "":
			row.Subject = a.UDI
			row.SubjectLink = saPath(domain) + "/instances/" + url.PathEscape(a.UDI)
		}
		v.Rows = append(v.Rows, row)
	}
	return h.render(w, r, http.StatusOK, "alerts", v)
}

// alertTable is the alerts as the CSV download has them, with the API's
// field names.
func alertTable(alerts []smartlic.Alert) smartlic.Table {
	t := smartlic.Table{Header: []string{"severity", "type", "virtual_account", "license_tag", "udi", "message", "due_at", "key"}}
	for _, a := range alerts {
		due := ""
		if a.DueAt != nil {
			due = a.DueAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		t.Rows = append(t.Rows, []string{string(a.Severity), string(a.Type), a.VirtualAccount, a.LicenseTag, a.UDI, a.Message, due, a.Key})
	}
	return t
}
