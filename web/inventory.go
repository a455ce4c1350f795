package web

import (
	"cmp"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/smartlic/smartlic"
)

// home sends the user to their first Smart Account, or shows what to do
// when they have none yet.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *Session) error {
	sh, err := h.baseShell(w, r, s)
	if err != nil {
		return err
	}
	if len(sh.Accounts) > 0 {
		if sh.Flash != "" {
			setFlash(w, r, sh.Flash) // keep it for the page the redirect shows
		}
		http.Redirect(w, r, saPath(sh.Accounts[0].Domain), http.StatusSeeOther)
		return nil
	}
	sh.Title = "Welcome"
	return h.render(w, r, http.StatusOK, "home", &struct{ Shell }{sh})
}

// vaHome is /sa/{sa}/va/{va}: the General tab.
func (h *Handler) vaHome(w http.ResponseWriter, r *http.Request, s *Session) error {
	http.Redirect(w, r, vaPath(r.PathValue("sa"), r.PathValue("va"))+"/general", http.StatusSeeOther)
	return nil
}

// generalView is Inventory › General: the VA, its tokens, the form that
// creates one and, right after, the new token's secret.
type generalView struct {
	Shell
	Tokens []tokenRow
	Pager  Pager
	// TokensHidden explains why the tokens are not listed (the caller's
	// roles do not include licensing here).
	TokensHidden string
	Form         *Form
	Created      *smartlic.Token
	// SecretFile is the secret as a data: URL, so "Download" saves it
	// without asking the server, which no longer has it.
	SecretFile template.URL
}

type tokenRow struct {
	smartlic.Token
	State smartlic.TokenState
}

// tokensPerPage is the length of the token list.
const tokensPerPage = 25

func (h *Handler) generalPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderGeneral(w, r, s, http.StatusOK, newForm(url.Values{"expires_in_days": {"30"}}), nil)
}

func (h *Handler) renderGeneral(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form, created *smartlic.Token) error {
	sa, va := r.PathValue("sa"), r.PathValue("va")
	sh, err := h.vaShell(w, r, s, sa, va, "general")
	if err != nil {
		return err
	}
	sh.Title = sh.VA.Name + " · General"
	v := &generalView{Shell: sh, Form: f, Created: created}
	after := r.URL.Query().Get("after")
	toks, next, err := h.svc.ListTokens(r.Context(), sa, va, smartlic.Page{Limit: tokensPerPage, After: after})
	switch smartlic.ErrorCode(err) {
	case "":
		now := h.clock.Now()
		for _, t := range toks {
			v.Tokens = append(v.Tokens, tokenRow{Token: t, State: t.State(now)})
		}
		v.Pager = pager(r, after, next)
	case smartlic.EForbidden:
		v.TokensHidden = smartlic.ErrorMessage(err)
	default:
		return err
	}
	if created != nil {
		v.SecretFile = template.URL("data:text/plain;charset=utf-8," + url.PathEscape(created.Secret+"\n"))
		// The secret is on this page only: not in a cache, not in history.
		w.Header().Set("Cache-Control", "no-store")
	}
	return h.render(w, r, status, "general", v)
}

// createToken creates a registration token and shows its secret once, on
// the answer to the form itself: a redirect would need the secret stored
// somewhere to show it on the next page.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.TokenInput{
		Description:           strings.TrimSpace(f.Get("description")),
		ExpiresInDays:         int(f.Int("expires_in_days")),
		MaxUses:               f.OptionalInt("max_uses"),
		AllowExportControlled: f.Bool("allow_export_controlled"),
	}
	if len(f.Errors) > 0 {
		return h.renderGeneral(w, r, s, http.StatusBadRequest, f, nil)
	}
	t, err := h.svc.CreateToken(r.Context(), r.PathValue("sa"), r.PathValue("va"), in)
	if f.Bind(err) {
		return h.renderGeneral(w, r, s, http.StatusBadRequest, f, nil)
	}
	if err != nil {
		return err
	}
	v := newForm(url.Values{"expires_in_days": {"30"}})
	return h.renderGeneral(w, r, s, http.StatusCreated, v, &t)
}

// revokeToken revokes a token and goes back to the General tab.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, va := r.PathValue("sa"), r.PathValue("va")
	t, err := h.svc.RevokeToken(r.Context(), sa, va, r.PathValue("token"))
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, vaPath(sa, va)+"/general", "Token “"+t.Description+"” revoked: it can no longer register product instances.")
}

// licensesView is Inventory › Licenses: one row per license type.
type licensesView struct {
	Shell
	Pools    []smartlic.Pool
	Status   string // filter; "" for all
	Text     string // filter on tag and name
	Sort     string
	Desc     bool
	Statuses []smartlic.PoolStatus
	Columns  []sortLink
	CSV      string
	Total    int // rows before filtering
}

type sortLink struct {
	Label, Key, Link string
	Current, Desc    bool
	Numeric          bool
}

var poolStatuses = []smartlic.PoolStatus{smartlic.InCompliance, smartlic.Insufficient, smartlic.Expiring, smartlic.Expired, smartlic.Empty}

// poolColumns are the sortable columns of the licenses table.
var poolColumns = []struct {
	label, key string
	numeric    bool
	cmp        func(a, b smartlic.Pool) int
}{
	{"License", "license", false, func(a, b smartlic.Pool) int {
		return cmp.Compare(strings.ToLower(a.LicenseName), strings.ToLower(b.LicenseName))
	}},
	{"Purchased", "purchased", true, func(a, b smartlic.Pool) int { return cmp.Compare(a.Purchased, b.Purchased) }},
	{"In use", "in_use", true, func(a, b smartlic.Pool) int { return cmp.Compare(a.InUse, b.InUse) }},
	{"Reserved", "reserved", true, func(a, b smartlic.Pool) int { return cmp.Compare(a.Reserved, b.Reserved) }},
	{"Available", "available", true, func(a, b smartlic.Pool) int { return cmp.Compare(a.Available, b.Available) }},
	{"Status", "status", false, func(a, b smartlic.Pool) int { return cmp.Compare(a.Status, b.Status) }},
}

func (h *Handler) licensesPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, va := r.PathValue("sa"), r.PathValue("va")
	q := r.URL.Query()
	rollup := q.Get("rollup") == "1"
	pools, err := h.svc.ListPools(r.Context(), sa, va, rollup)
	if err != nil {
		return err
	}
	v := &licensesView{Status: q.Get("status"), Text: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Desc: q.Get("dir") == "desc",
		Statuses: poolStatuses, Total: len(pools)}
	pools = slices.DeleteFunc(pools, func(p smartlic.Pool) bool {
		if v.Status != "" && string(p.Status) != v.Status {
			return true
		}
		t := strings.ToLower(v.Text)
		return t != "" && !strings.Contains(strings.ToLower(p.LicenseTag), t) && !strings.Contains(strings.ToLower(p.LicenseName), t)
	})
	sortKey := "license"
	for _, c := range poolColumns {
		if c.key == v.Sort {
			sortKey = c.key
		}
	}
	for _, c := range poolColumns {
		if c.key == sortKey {
			slices.SortStableFunc(pools, c.cmp)
			if v.Desc {
				slices.Reverse(pools)
			}
		}
		dir := ""
		if c.key == sortKey && !v.Desc {
			dir = "desc"
		}
		v.Columns = append(v.Columns, sortLink{Label: c.label, Key: c.key, Link: queryWith(r, "sort", c.key, "dir", dir),
			Current: c.key == sortKey, Desc: v.Desc, Numeric: c.numeric})
	}
	v.Pools = pools
	if q.Get("format") == "csv" {
		return writeCSV(w, "licenses-"+va+".csv", poolTable(pools))
	}
	sh, err := h.vaShell(w, r, s, sa, va, "licenses")
	if err != nil {
		return err
	}
	sh.Title = sh.VA.Name + " · Licenses"
	v.Shell = sh
	v.CSV = queryWith(r, "format", "csv")
	return h.render(w, r, http.StatusOK, "licenses", v)
}

// poolTable is the licenses table as the CSV download has it, with the
// API's column names.
func poolTable(pools []smartlic.Pool) smartlic.Table {
	t := smartlic.Table{Header: []string{"license", "name", "enforcement", "purchased", "in_use", "reserved", "available", "overage", "status", "next_expiry"}}
	for _, p := range pools {
		exp := ""
		if p.NextExpiry != nil {
			exp = p.NextExpiry.UTC().Format("2006-01-02T15:04:05Z")
		}
		t.Rows = append(t.Rows, []string{p.LicenseTag, p.LicenseName, string(p.Enforcement), itoa(p.Purchased), itoa(p.InUse),
			itoa(p.Reserved), itoa(p.Available), itoa(p.Overage), string(p.Status), exp})
	}
	return t
}
