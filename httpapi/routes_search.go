package httpapi

import (
	"context"

	"github.com/smartlic/smartlic"
)

type searchInput struct {
	Q       string `query:"q" maxLength:"100" doc:"What to find: a UDI (PID:SN), serial number, host name or PID (instances), a token description, an order number (deposits); a case-insensitive substring of at least 2 characters"`
	SA      string `query:"sa" maxLength:"253" doc:"Only this Smart Account (id or domain); by default every account the caller can see"`
	VA      string `query:"va" maxLength:"100" doc:"Only this Virtual Account of sa (id or name); q may then be empty"`
	Rollup  bool   `query:"rollup" doc:"With va: also every Virtual Account below it"`
	License string `query:"license" maxLength:"100" doc:"Only instances using this license type (tag or id); q may then be empty"`
	Kind    string `query:"kind" enum:"instances,tokens,deposits" doc:"Only results of this kind; only a search of one kind pages"`
	Limit   int    `query:"limit" minimum:"1" maximum:"200" default:"20" doc:"Results of each kind"`
	After   string `query:"after" maxLength:"100" doc:"Cursor (with kind): the next value of the previous page"`
}

// registerSearchRoutes adds the search across accounts.
func (s *Server) registerSearchRoutes() {
	svc := s.svc
	handle(s, route{method: get, path: "/api/v1/search", id: "search", tag: "search",
		summary: "Find product instances, registration tokens and deposits in the accounts the caller can see"},
		func(ctx context.Context, in *searchInput) (*body[smartlic.SearchResults], error) {
			return one(svc.Search(ctx, smartlic.SearchQuery{Q: in.Q, SA: in.SA, VA: in.VA, Rollup: in.Rollup, License: in.License, Kind: in.Kind, Limit: in.Limit, After: in.After}))
		})
}
