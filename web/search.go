package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
)

// searchView is the global search: what the header's box finds in every
// Smart Account the user can see, each result linking to its page.
type searchView struct {
	Shell
	Query   string
	Form    *Form
	Results smartlic.SearchResults
	Found   bool
}

func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sh, err := h.baseShell(w, r, s)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	sh.Title = "Search"
	if q != "" {
		sh.Title = "Search: " + q
	}
	v := &searchView{Shell: sh, Query: q, Form: newForm(url.Values{"q": {q}})}
	if q == "" {
		return h.render(w, r, http.StatusOK, "search", v)
	}
	v.Results, err = h.svc.Search(r.Context(), smartlic.SearchQuery{Q: q})
	if v.Form.Bind(err) {
		return h.render(w, r, http.StatusBadRequest, "search", v)
	}
	if err != nil {
		return err
	}
	v.Found = len(v.Results.Instances)+len(v.Results.Tokens)+len(v.Results.Deposits) > 0
	return h.render(w, r, http.StatusOK, "search", v)
}
