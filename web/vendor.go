package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// commerceRoutes registers the pages where licenses enter and move: the
// vendor operator's catalogue, deposits, PAKs and account requests, and a
// Smart Account's transfers, conversions and agreements.
func (h *Handler) commerceRoutes() {
	h.page("GET /vendor/{$}", h.vendorHome)
	h.page("GET /vendor/catalog", h.catalogPage)
	h.page("POST /vendor/catalog/license-types", h.createLicenseType)
	h.page("POST /vendor/catalog/license-types/{tag}/delete", h.deleteLicenseType)
	h.page("GET /vendor/catalog/products", h.productsPage)
	h.page("POST /vendor/catalog/products", h.createProduct)
	h.page("GET /vendor/catalog/products/{pid}", h.productPage)
	h.page("POST /vendor/catalog/products/{pid}", h.updateProduct)
	h.page("POST /vendor/catalog/products/{pid}/delete", h.deleteProduct)
	h.page("GET /vendor/catalog/skus", h.skusPage)
	h.page("POST /vendor/catalog/skus", h.createSKU)
	h.page("POST /vendor/catalog/skus/{sku}/delete", h.deleteSKU)
	h.page("GET /vendor/deposits", h.depositsPage)
	h.page("POST /vendor/deposits", h.createDeposit)
	h.page("GET /vendor/paks", h.paksPage)
	h.page("POST /vendor/paks", h.depositPAK)
	h.page("GET /vendor/accounts", h.accountsPage)
	h.page("POST /vendor/accounts", h.createAccount)
	h.page("POST /vendor/accounts/{sa}/approve", h.approveAccount)
	h.page("GET /vendor/accounts/{sa}/deny", h.confirmDenyAccount)
	h.page("POST /vendor/accounts/{sa}/deny", h.denyAccount)
	h.vendorSettingRoutes()

	h.page("GET /sa/{sa}/transfers", h.transfersPage)
	h.page("POST /sa/{sa}/transfers", h.createTransfer)
	h.page("GET /sa/{sa}/conversions", h.conversionsPage)
	h.page("GET /sa/{sa}/conversions/{pak}", h.pakPage)
	h.page("POST /sa/{sa}/conversions/{pak}", h.convertPAK)
	h.page("GET /sa/{sa}/agreements", h.agreementsPage)
	h.page("GET /sa/{sa}/agreements/{agreement}", h.agreementPage)
	h.page("POST /sa/{sa}/agreements/{agreement}/accept", h.acceptAgreement)
}

// vendorTabs are the operator's pages, as tabs under the Vendor section.
var vendorTabs = []struct{ label, path string }{
	{"License types", "/vendor/catalog"},
	{"Products", "/vendor/catalog/products"},
	{"Classic SKUs", "/vendor/catalog/skus"},
	{"Deposits", "/vendor/deposits"},
	{"PAKs", "/vendor/paks"},
	{"Smart Accounts", "/vendor/accounts"},
}

// vendorActivityDays is how far back the vendor pages list the vendor's
// own event log.
const vendorActivityDays = 7

// vendorShell is the shell of an operator's page. It reads the vendor's
// own event log, which only the operator may (the manager refuses anyone
// else, as the API does), so a customer who types a /vendor/ address gets
// the 403 page from the service rather than from a check kept here. The
// last entries show on the page as recent activity.
func (h *Handler) vendorShell(w http.ResponseWriter, r *http.Request, s *Session, current string) (Shell, []smartlic.Event, error) {
	sh, err := h.baseShell(w, r, s)
	if err != nil {
		return sh, nil, err
	}
	since := h.clock.Now().Add(-vendorActivityDays * smartlic.Day)
	events, _, err := h.svc.ListEvents(r.Context(), smartlic.VendorChain, smartlic.EventFilter{From: since}, smartlic.Page{Limit: smartlic.MaxPageLimit})
	if err != nil {
		return sh, nil, err
	}
	if n := len(events); n > 8 {
		events = events[n-8:]
	}
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i] // newest first
	}
	sh.Crumbs = []NavLink{{Label: "Vendor", Path: "/vendor/catalog"}}
	for _, t := range vendorTabs {
		sh.Tabs = append(sh.Tabs, NavLink{Label: t.label, Path: t.path, Current: t.path == current})
		if t.path == current {
			sh.Title = t.label
			sh.Crumbs = append(sh.Crumbs, NavLink{Label: t.label, Current: true})
		}
	}
	return sh, events, nil
}

func (h *Handler) vendorHome(w http.ResponseWriter, r *http.Request, s *Session) error {
	http.Redirect(w, r, "/vendor/catalog", http.StatusSeeOther)
	return nil
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// selectView is the "select" partial: a labelled select with its hint and
// error, like the "field" partial for inputs.
type selectView struct {
	ID, Name, Label, Hint, Error string
	Options                      []option
}

// choose describes the select name of form f, marking what the user chose
// (or def when the form has nothing yet).
func choose(f *Form, name, label, hint string, opts []option) selectView {
	v := selectView{ID: "f-" + name, Name: name, Label: label, Hint: hint, Error: f.Errors[name]}
	cur := f.Get(name)
	for _, o := range opts {
		o.Selected = o.Value == cur
		v.Options = append(v.Options, o)
	}
	return v
}

// bindAs is Form.Bind for a service error whose field is prefix or a path
// inside it ("lines.quantity"), shown beside the input that holds the
// whole (lines). Other errors are left to Form.Bind.
func bindAs(f *Form, err error, prefix, input string) bool {
	var e *smartlic.Error
	if errors.As(err, &e) && e.Code == smartlic.EInvalid && (e.Field == prefix || strings.HasPrefix(e.Field, prefix+".")) {
		f.Errors[input] = e.Message
		return true
	}
	return false
}

// date reads a date input (YYYY-MM-DD, as <input type=date> sends it) as
// midnight UTC; empty is nil. A malformed date is an error beside the
// field.
func date(f *Form, name string) *time.Time {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		f.Errors[name] = "must be a date such as 2026-12-31 (got \"" + s + "\")"
		return nil
	}
	return &t
}

// cursorPager is pager for a page with several lists, each paged by its
// own query parameter.
func cursorPager(r *http.Request, param, next string) Pager {
	var p Pager
	if next != "" {
		p.Next = queryWith(r, param, next)
	}
	if r.URL.Query().Get(param) != "" {
		p.First = queryWith(r, param, "")
	}
	return p
}

// allPages calls list page by page, up to max items, for CSV downloads and
// account-wide views that gather what several lists hold.
func allPages[T any](max int, list func(smartlic.Page) ([]T, string, error)) ([]T, error) {
	var all []T
	p := smartlic.Page{Limit: smartlic.MaxPageLimit}
	for {
		items, next, err := list(p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" || len(all) >= max {
			return all, nil
		}
		p.After = next
	}
}

// optionalDate formats a date for a CSV cell.
func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// queryOf returns the URL of path with the query q.
func queryOf(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
