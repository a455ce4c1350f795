package web

import (
	"encoding/base64"
	"net/http"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
)

// Shell is what the layout around every page shows: who is signed in, the
// Smart Account switcher, the navigation, the breadcrumbs, the flash
// message and, on inventory pages, the VA tree and the tabs. A page's
// view embeds it and fills it with h.baseShell, h.accountShell or
// h.vaShell.
type Shell struct {
	Title    string
	Session  *Session // nil when signed out
	Accounts []smartlic.SmartAccount
	// MoreAccounts is set when the caller sees more Smart Accounts than
	// the switcher lists.
	MoreAccounts bool
	SA           *smartlic.SmartAccount // the Smart Account the page is about
	Nav          []NavLink
	Crumbs       []NavLink
	Flash        string
	Search       string // the search box's text

	// Inventory pages.
	VA     *smartlic.VirtualAccount
	VAPath string // /sa/{sa}/va/{va}, the base of the VA's pages and forms
	Tree   []*TreeNode
	Tabs   []NavLink
	// Rollup is the roll-up toggle (query parameter rollup=1): the page
	// adds up the VA and every VA below it. RollupToggle is the same page
	// with it switched.
	Rollup       bool
	RollupToggle string

	roles []smartlic.RoleAssignment
}

// CSRF is the token the layout's forms (sign out) and the page's post.
func (s Shell) CSRF() string {
	if s.Session == nil {
		return ""
	}
	return s.Session.CSRF
}

// switcherSize is how many Smart Accounts the switcher lists.
const switcherSize = 50

// baseShell is the shell of a page that belongs to no Smart Account: the
// user, the switcher, the vendor's navigation and the flash message.
func (h *Handler) baseShell(w http.ResponseWriter, r *http.Request, s *Session) (Shell, error) {
	ctx := r.Context()
	sh := Shell{Session: s, Flash: takeFlash(w, r), Search: r.URL.Query().Get("q")}
	accts, next, err := h.svc.ListSmartAccounts(ctx, smartlic.SmartAccountFilter{}, smartlic.Page{Limit: switcherSize})
	if err != nil {
		return sh, err
	}
	sh.Accounts, sh.MoreAccounts = accts, next != ""
	if !s.Operator {
		id, err := h.svc.WhoAmI(ctx)
		if err != nil {
			return sh, err
		}
		sh.roles = id.Roles
	}
	sh.Nav = navigation(s, sh.roles, nil, "", r.URL.Path)
	return sh, nil
}

// accountShell is the shell of a page about Smart Account sa (id or
// domain, as in the URL). The account is loaded through the service, so a
// caller without a role in it gets its 404 or 403 here.
func (h *Handler) accountShell(w http.ResponseWriter, r *http.Request, s *Session, sa string) (Shell, error) {
	sh, err := h.baseShell(w, r, s)
	if err != nil {
		return sh, err
	}
	acct, err := h.svc.GetSmartAccount(r.Context(), sa)
	if err != nil {
		return sh, err
	}
	sh.SA = &acct
	vas, err := h.allVAs(r, acct.ID)
	if err != nil {
		return sh, err
	}
	sh.Tree = buildTree(vas, h.reachable(s, sh.roles, acct.ID, vas))
	sh.Nav = navigation(s, sh.roles, &acct, firstReachable(sh.Tree), r.URL.Path)
	sh.Crumbs = []NavLink{{Label: acct.Name, Path: saPath(acct.Domain)}}
	return sh, nil
}

// vaShell is the shell of an inventory tab (general, licenses, …) of
// Virtual Account va: the account's shell with the VA tree, the tabs and
// the breadcrumbs down to the VA. The roll-up toggle is the query
// parameter rollup=1, kept by the tree's and tabs' links.
func (h *Handler) vaShell(w http.ResponseWriter, r *http.Request, s *Session, sa, va, tab string) (Shell, error) {
	sh, err := h.accountShell(w, r, s, sa)
	if err != nil {
		return sh, err
	}
	v, err := h.svc.GetVirtualAccount(r.Context(), sa, va)
	if err != nil {
		return sh, err
	}
	sh.VA = &v
	sh.VAPath = vaPath(sh.SA.Domain, v.Name)
	sh.Rollup = r.URL.Query().Get("rollup") == "1"
	query, toggle := "", "1"
	if sh.Rollup {
		query, toggle = "?rollup=1", ""
	}
	sh.RollupToggle = queryWith(r, "rollup", toggle)
	linkTree(sh.Tree, sh.SA.Domain, v.ID, tab, query)
	for _, t := range inventoryTabs {
		sh.Tabs = append(sh.Tabs, NavLink{Label: t.label, Path: vaPath(sh.SA.Domain, v.Name) + "/" + t.tab + query, Current: t.tab == tab})
	}
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Inventory"})
	for _, n := range pathTo(sh.Tree, v.ID) {
		sh.Crumbs = append(sh.Crumbs, NavLink{Label: n.VA.Name, Path: n.Link})
	}
	for _, t := range sh.Tabs {
		if t.Current {
			sh.Crumbs = append(sh.Crumbs, NavLink{Label: t.Label, Current: true})
		}
	}
	return sh, nil
}

// allVAs loads every Virtual Account of a Smart Account, page by page.
func (h *Handler) allVAs(r *http.Request, saID string) ([]smartlic.VirtualAccount, error) {
	var all []smartlic.VirtualAccount
	p := smartlic.Page{Limit: smartlic.MaxPageLimit}
	for {
		vas, next, err := h.svc.ListVirtualAccounts(r.Context(), saID, p)
		if err != nil {
			return nil, err
		}
		all = append(all, vas...)
		if next == "" {
			return all, nil
		}
		p.After = next
	}
}

// reachable returns the ids of the Virtual Accounts the caller works in:
// all of them for the operator and SA roles; for VA roles the granted VA
// and everything below it, as the role model defines them. It only
// decides which tree entries are links; the services refuse the rest.
func (h *Handler) reachable(s *Session, roles []smartlic.RoleAssignment, saID string, vas []smartlic.VirtualAccount) map[string]bool {
	out := map[string]bool{}
	var granted []string
	for _, r := range roles {
		if r.SmartAccountID != saID {
			continue
		}
		if !smartlic.IsVARole(r.Role) {
			s = &Session{Operator: true} // an SA role reaches every VA
			break
		}
		granted = append(granted, r.VirtualAccountID)
	}
	parent := map[string]string{}
	for _, v := range vas {
		parent[v.ID] = v.ParentID
	}
	for _, v := range vas {
		if s.Operator {
			out[v.ID] = true
			continue
		}
		for id, depth := v.ID, 0; id != "" && depth <= smartlic.MaxVADepth; id, depth = parent[id], depth+1 {
			if slices.Contains(granted, id) {
				out[v.ID] = true
				break
			}
		}
	}
	return out
}

// setFlash leaves a message for the next page the browser shows (after
// the redirect of a successful form: Post/Redirect/Get).
func setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(msg)), Path: "/",
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}

// takeFlash reads the flash message and clears it, so it shows once.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	clearCookie(w, r, flashCookie)
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || smartlic.ValidateIdentifier("flash", string(b)) != nil {
		return ""
	}
	return string(b)
}

// redirectWithFlash ends a successful form: the message shows on the page
// the browser is sent to.
func redirectWithFlash(w http.ResponseWriter, r *http.Request, to, msg string) error {
	setFlash(w, r, msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// queryWith returns r's query with the given parameters replaced ("" removes
// one), for links that change one thing: a sort, a filter, a page.
func queryWith(r *http.Request, kv ...string) string {
	q := r.URL.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

// daysUntil is a whole number of days from now until t, for "expires in".
func daysUntil(now, t time.Time) int { return int(t.Sub(now).Hours() / 24) }
