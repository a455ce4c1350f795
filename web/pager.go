package web

import (
	"net/http"
)

// Pager is the "pager" partial: lists page by cursor, as the API does.
// Next is the link to the following page ("" on the last); First goes
// back to the start once the reader has moved on.
type Pager struct {
	Next, First string
}

// pager builds the links of a list page from its cursor (after) and the
// service's next cursor, keeping every other query parameter.
func pager(r *http.Request, after, next string) Pager {
	var p Pager
	if next != "" {
		p.Next = queryWith(r, "after", next)
	}
	if after != "" {
		p.First = queryWith(r, "after", "")
	}
	return p
}
