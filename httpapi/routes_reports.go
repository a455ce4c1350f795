package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"time"

	"github.com/smartlic/smartlic"
)

// reportBody is a report answer: JSON or CSV, the bytes written as they
// are.
type reportBody struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

// report encodes r as JSON, or its table as CSV with a header row.
func report(format, name string, r any, t smartlic.Table, err error) (*reportBody, error) {
	if err != nil {
		return nil, err
	}
	if format == "csv" {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write(t.Header)
		_ = w.WriteAll(t.Rows) // a bytes.Buffer does not fail
		return &reportBody{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="` + name + `.csv"`, Body: b.Bytes()}, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, smartlic.Internal(err, "encoding a report")
	}
	return &reportBody{ContentType: "application/json", Body: append(b, '\n')}, nil
}

// instant parses a report's time parameter: RFC 3339, or a day (midnight
// UTC). Empty gives the zero time.
func instant(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, smartlic.Invalid(field, "must be a date such as 2026-12-31 or 2026-12-31T00:00:00Z (got %q)", s)
}

type usageQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	VA     string `query:"va" maxLength:"100" doc:"One Virtual Account (id or name); default every VA"`
	At     string `query:"at" maxLength:"40" doc:"The moment, RFC 3339 or YYYY-MM-DD; default now"`
	Format string `query:"format" enum:"json,csv" default:"json" doc:"Answer as JSON or as CSV with a header row"`
}

type trueUpQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	VA     string `query:"va" maxLength:"100" doc:"One Virtual Account (id or name); default every VA"`
	From   string `query:"from" maxLength:"40" required:"true" doc:"Start of the period (inclusive), RFC 3339 or YYYY-MM-DD"`
	To     string `query:"to" maxLength:"40" required:"true" doc:"End of the period (exclusive), RFC 3339 or YYYY-MM-DD; cut at now"`
	Format string `query:"format" enum:"json,csv" default:"json" doc:"Answer as JSON or as CSV with a header row"`
}

type expiringQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	VA     string `query:"va" maxLength:"100" doc:"One Virtual Account (id or name); default every VA"`
	Days   int    `query:"days" minimum:"1" maximum:"3650" default:"90" doc:"Window: subscriptions ending within this many days"`
	Format string `query:"format" enum:"json,csv" default:"json" doc:"Answer as JSON or as CSV with a header row"`
}

type instancesQuery struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	VA     string `query:"va" maxLength:"100" doc:"One Virtual Account (id or name); default every VA"`
	Format string `query:"format" enum:"json,csv" default:"json" doc:"Answer as JSON or as CSV with a header row"`
}

// registerReportRoutes adds the reports.
func (s *Server) registerReportRoutes() {
	svc := s.svc
	const reports = "/api/v1/accounts/{sa}/reports"
	handle(s, route{method: get, path: reports + "/usage", id: "report-usage", tag: "reports",
		summary: "License usage per Virtual Account at a point in time: purchased, in use, available, overage"},
		func(ctx context.Context, in *usageQuery) (*reportBody, error) {
			q := smartlic.UsageQuery{VA: in.VA}
			at, err := instant("at", in.At)
			if err != nil {
				return nil, err
			}
			if !at.IsZero() {
				q.At = &at
			}
			r, err := svc.UsageReport(ctx, in.SA, q)
			return report(in.Format, "usage", r, r.Table(), err)
		})
	handle(s, route{method: get, path: reports + "/true-up", id: "report-true-up", tag: "reports",
		summary: "True-up per Virtual Account and license type: peak in use, and peak in use above purchased, over a period"},
		func(ctx context.Context, in *trueUpQuery) (*reportBody, error) {
			from, err := instant("from", in.From)
			if err != nil {
				return nil, err
			}
			to, err := instant("to", in.To)
			if err != nil {
				return nil, err
			}
			r, err := svc.TrueUpReport(ctx, in.SA, smartlic.TrueUpQuery{VA: in.VA, From: from, To: to})
			return report(in.Format, "true-up", r, r.Table(), err)
		})
	handle(s, route{method: get, path: reports + "/expiring", id: "report-expiring", tag: "reports",
		summary: "Subscription licenses ending within a number of days"},
		func(ctx context.Context, in *expiringQuery) (*reportBody, error) {
			r, err := svc.ExpiringReport(ctx, in.SA, smartlic.ExpiringQuery{VA: in.VA, Days: in.Days})
			return report(in.Format, "expiring", r, r.Table(), err)
		})
	handle(s, route{method: get, path: reports + "/instances", id: "report-instances", tag: "reports",
		summary: "Product instances with their authorization state"},
		func(ctx context.Context, in *instancesQuery) (*reportBody, error) {
			r, err := svc.InstancesReport(ctx, in.SA, smartlic.InstancesQuery{VA: in.VA})
			return report(in.Format, "instances", r, r.Table(), err)
		})
}
