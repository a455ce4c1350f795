package httpapi

import (
	"context"

	"github.com/smartlic/smartlic"
)

// accountPoolsQuery and poolsQuery (routes.go) page, filter and order a
// license view with the same parameters; huma reads parameters of named
// fields only, so each struct spells them out.
type accountPoolsQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	Status string `query:"status" enum:"insufficient,expired,expiring,in_compliance,empty" doc:"Only rows with this status"`
	Q      string `query:"q" maxLength:"100" doc:"Only rows whose license tag or name contains this, ignoring case"`
	Sort   string `query:"sort" enum:"tag,status,available" default:"tag" doc:"Order: tag (A to Z), status (most severe first), available (fewest first, the largest overage leading); then by tag"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Rows per page"`
	After  string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page (of the same sort)"`
}

func poolQueryOf(status, q, sort string, limit int, after string) smartlic.PoolQuery {
	return smartlic.PoolQuery{Status: smartlic.PoolStatus(status), Search: q, Sort: smartlic.PoolSort(sort), Limit: limit, After: after}
}

func (in accountPoolsQuery) query() smartlic.PoolQuery {
	return poolQueryOf(in.Status, in.Q, in.Sort, in.Limit, in.After)
}

func (in poolsQuery) query() smartlic.PoolQuery {
	return poolQueryOf(in.Status, in.Q, in.Sort, in.Limit, in.After)
}

type vaSummaryQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	VA     string `path:"va" doc:"Virtual Account id or name"`
	Rollup bool   `query:"rollup" doc:"Add up the Virtual Account and all its descendants"`
}

func poolPage(p smartlic.PoolPage, err error) (*body[smartlic.PoolPage], error) {
	if err != nil {
		return nil, err
	}
	if p.Items == nil {
		p.Items = []smartlic.Pool{} // an empty page is [], not null
	}
	return &body[smartlic.PoolPage]{Body: p}, nil
}

// registerLicenseViewRoutes adds the summaries of license views; the
// paged views themselves are beside the accounts they belong to.
func (s *Server) registerLicenseViewRoutes() {
	svc := s.svc
	const sa = "/api/v1/accounts/{sa}"
	handle(s, route{method: get, path: sa + "/licenses/summary", id: "summarize-account-licenses", tag: "licenses",
		summary: "The whole Smart Account's license types counted by status"},
		func(ctx context.Context, in *saPath) (*body[smartlic.PoolSummary], error) {
			return one(svc.SummarizePools(ctx, in.SA, "", false))
		})
	handle(s, route{method: get, path: sa + "/virtual-accounts/{va}/licenses/summary", id: "summarize-licenses", tag: "licenses",
		summary: "A Virtual Account's license pools counted by status"},
		func(ctx context.Context, in *vaSummaryQuery) (*body[smartlic.PoolSummary], error) {
			return one(svc.SummarizePools(ctx, in.SA, in.VA, in.Rollup))
		})
}
