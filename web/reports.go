package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// reportsRoutes registers the four reports of the API, each a page with
// the API report's filters and its CSV.
func (h *Handler) reportsRoutes() {
	h.page("GET /sa/{sa}/reports/{$}", func(w http.ResponseWriter, r *http.Request, s *Session) error {
		http.Redirect(w, r, saPath(r.PathValue("sa"))+"/reports/usage", http.StatusSeeOther)
		return nil
	})
	for _, k := range reportKinds {
		h.page("GET /sa/{sa}/reports/"+k.path, func(w http.ResponseWriter, r *http.Request, s *Session) error {
			return h.reportPage(w, r, s, k)
		})
	}
}

// reportKind is one report: its path, its filters (the API's query
// parameters, which are also the names of the errors' fields) and how to
// run it. run reads the filters from the form and returns the report's
// Table, the rows the API's CSV is made of.
type reportKind struct {
	path, label, intro string
	filters            []string
	defaults           func(now time.Time) url.Values
	run                func(h *Handler, r *http.Request, sa string, f *Form) (smartlic.Table, string, error)
}

var reportKinds = []reportKind{
	{path: "usage", label: "Usage", filters: []string{"va", "at"},
		intro: "Licenses per Virtual Account at a moment: purchased (the deposits active then), in use (from the pool history), available and overage.",
		run: func(h *Handler, r *http.Request, sa string, f *Form) (smartlic.Table, string, error) {
			q := smartlic.UsageQuery{VA: f.Get("va"), At: f.day("at")}
			if len(f.Errors) > 0 {
				return smartlic.Table{}, "", nil
			}
			rep, err := h.svc.UsageReport(r.Context(), sa, q)
			return rep.Table(), "As of " + rep.At.UTC().Format("2006-01-02 15:04 UTC") + ".", err
		}},
	{path: "true-up", label: "True-up", filters: []string{"va", "from", "to"},
		intro: "Per Virtual Account and license type, the peak in use and the peak in use above purchased over a period (up to now): what a true-up bills.",
		defaults: func(now time.Time) url.Values {
			return url.Values{"from": {now.AddDate(0, 0, -90).Format(time.DateOnly)}, "to": {now.AddDate(0, 0, 1).Format(time.DateOnly)}}
		},
		run: func(h *Handler, r *http.Request, sa string, f *Form) (smartlic.Table, string, error) {
			from, to := f.day("from"), f.day("to")
			if len(f.Errors) > 0 {
				return smartlic.Table{}, "", nil
			}
			q := smartlic.TrueUpQuery{VA: f.Get("va")}
			if from != nil {
				q.From = *from
			}
			if to != nil {
				q.To = *to
			}
			rep, err := h.svc.TrueUpReport(r.Context(), sa, q)
			return rep.Table(), "From " + rep.From.UTC().Format("2006-01-02 15:04") + " to " + rep.To.UTC().Format("2006-01-02 15:04 UTC") + ".", err
		}},
	{path: "expiring", label: "Expiring", filters: []string{"va", "days"},
		intro:    "Subscription licenses that end within the window, per Virtual Account, license type and end date, net of transfers.",
		defaults: func(time.Time) url.Values { return url.Values{"days": {"90"}} },
		run: func(h *Handler, r *http.Request, sa string, f *Form) (smartlic.Table, string, error) {
			days := f.Int("days")
			if len(f.Errors) > 0 {
				return smartlic.Table{}, "", nil
			}
			rep, err := h.svc.ExpiringReport(r.Context(), sa, smartlic.ExpiringQuery{VA: f.Get("va"), Days: int(days)})
			return rep.Table(), "Ending within " + strconv.Itoa(rep.Days) + " days of " + rep.At.UTC().Format("2006-01-02 15:04 UTC") + ".", err
		}},
	{path: "instances", label: "Instances", filters: []string{"va"},
		intro: "Product instances with their authorization now and their usage (tag=count/status).",
		run: func(h *Handler, r *http.Request, sa string, f *Form) (smartlic.Table, string, error) {
			rep, err := h.svc.InstancesReport(r.Context(), sa, smartlic.InstancesQuery{VA: f.Get("va")})
			return rep.Table(), "As of " + rep.At.UTC().Format("2006-01-02 15:04 UTC") + ".", err
		}},
}

// reportView is a report page: the reports' tabs, the filters, the table.
type reportView struct {
	Shell
	Kind    string
	Intro   string
	Tabs    []NavLink
	Form    *Form
	Filters map[string]bool
	VAs     []option
	Header  []reportColumn
	Rows    [][]reportCell
	Total   int
	Summary string
	Pager   Pager
	CSV     string
}

type reportColumn struct {
	Label   string
	Numeric bool
}

type reportCell struct {
	Text    string
	Time    *time.Time
	Numeric bool
}

// reportRowsPerPage is how many rows a report page shows; the CSV has all.
const reportRowsPerPage = 100

// numericColumns are the report columns that hold counts.
var numericColumns = map[string]bool{"purchased": true, "in_use": true, "reserved": true, "available": true, "overage": true, "peak_in_use": true,
	"peak_overage": true, "purchased_at_peak": true, "quantity": true, "days_left": true}

func (h *Handler) reportPage(w http.ResponseWriter, r *http.Request, s *Session, k reportKind) error {
	sa := r.PathValue("sa")
	q := r.URL.Query()
	values := url.Values{}
	if k.defaults != nil {
		values = k.defaults(h.clock.Now().UTC())
	}
	for _, name := range k.filters {
		if v, ok := q[name]; ok {
			values[name] = []string{strings.TrimSpace(v[0])}
		} else if _, ok := values[name]; !ok {
			values[name] = []string{""}
		}
	}
	f := newForm(values)
	table, summary, err := k.run(h, r, sa, f)
	if smartlic.ErrorCode(err) == smartlic.EForbidden && f.Get("va") == "" {
		// The whole account is an SA role's; a VA role reports on its own.
		sh, serr := h.accountShell(w, r, s, sa)
		if serr != nil {
			return serr
		}
		if first := firstReachable(sh.Tree); first != "" {
			http.Redirect(w, r, queryWith(r, "va", first), http.StatusSeeOther)
			return nil
		}
	}
	status := http.StatusOK
	if c := smartlic.ErrorCode(err); c == smartlic.ENotFound && smartlic.ErrorField(err) == "va" {
		f.Errors["va"], err = smartlic.ErrorMessage(err), nil
	} else if f.Bind(err) {
		err = nil
	}
	if err != nil {
		return err
	}
	if len(f.Errors) > 0 {
		status, table = http.StatusBadRequest, smartlic.Table{}
	} else if q.Get("format") == "csv" {
		return writeCSV(w, k.path+".csv", table)
	}
	sh, err := h.accountShell(w, r, s, sa)
	if err != nil {
		return err
	}
	sh.Title = sh.SA.Name + " · " + k.label + " report"
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Reports"}, NavLink{Label: k.label, Current: true})
	v := &reportView{Shell: sh, Kind: k.path, Intro: k.intro, Form: f, Filters: map[string]bool{}, VAs: vaOptions(sh.Tree, 0),
		Total: len(table.Rows), Summary: summary, CSV: queryWith(r, "format", "csv", "after", "")}
	for _, name := range k.filters {
		v.Filters[name] = true
	}
	for _, o := range reportKinds {
		v.Tabs = append(v.Tabs, NavLink{Label: o.label, Path: saPath(sh.SA.Domain) + "/reports/" + o.path, Current: o.path == k.path})
	}
	for _, c := range table.Header {
		v.Header = append(v.Header, reportColumn{Label: title(c), Numeric: numericColumns[c]})
	}
	start, _ := strconv.Atoi(q.Get("after"))
	start = max(0, min(start, len(table.Rows)))
	end := min(start+reportRowsPerPage, len(table.Rows))
	next := ""
	if end < len(table.Rows) {
		next = strconv.Itoa(end)
	}
	v.Pager = pager(r, q.Get("after"), next)
	for _, row := range table.Rows[start:end] {
		cells := make([]reportCell, len(row))
		for i, text := range row {
			cells[i] = reportCell{Text: text, Numeric: numericColumns[table.Header[i]]}
			if strings.HasSuffix(table.Header[i], "_at") && text != "" {
				if t, err := time.Parse(time.RFC3339, text); err == nil {
					cells[i].Time = &t
				}
			}
		}
		v.Rows = append(v.Rows, cells)
	}
	return h.render(w, r, status, "report", v)
}

// day reads a date input (YYYY-MM-DD, midnight UTC, or RFC 3339 as the
// API takes); empty is nil. A malformed date is an error beside the field,
// in the API's words.
func (f *Form) day(name string) *time.Time {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t
		}
	}
	f.Errors[name] = "must be a date such as 2026-12-31 or 2026-12-31T00:00:00Z (got " + strconv.Quote(s) + ")"
	return nil
}

// title is a column name for people: "peak_in_use" → "Peak in use".
func title(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
