package httpapi

import (
	"context"

	"github.com/smartlic/smartlic"
)

type historyQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	Tag    string `path:"tag" maxLength:"100" doc:"License type tag or id"`
	VA     string `query:"va" maxLength:"100" doc:"One Virtual Account (id or name) and every VA below it; default the whole Smart Account"`
	Days   int    `query:"days" minimum:"2" maximum:"366" default:"90" doc:"How many days, today included"`
	Format string `query:"format" enum:"json,csv" default:"json" doc:"Answer as JSON or as CSV with a header row (one row per day)"`
}

// registerHistoryRoutes adds the history of a license type.
func (s *Server) registerHistoryRoutes() {
	svc := s.svc
	handle(s, route{method: get, path: "/api/v1/accounts/{sa}/licenses/{tag}/history", id: "license-history", tag: "licenses",
		summary: "Daily purchased and in use of one license type, with the least-squares trend of the last 30 days and the day it would exceed purchases"},
		func(ctx context.Context, in *historyQuery) (*reportBody, error) {
			h, err := svc.LicenseHistory(ctx, in.SA, in.Tag, smartlic.HistoryQuery{VA: in.VA, Days: in.Days})
			return report(in.Format, "history-"+h.LicenseTag, h, h.Table(), err)
		})
}
