package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/smartlic/smartlic"
)

// report asks for one report as JSON and decodes it.
func report[T any](ctx context.Context, c *Client, saKey, name string, q url.Values) (T, error) {
	var v T
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, accounts, sa(saKey), "reports", name)
	return v, err
}

// ReportCSV fetches a report as CSV (header row first): name is usage,
// true-up, expiring or instances, q its query parameters.
func (c *Client) ReportCSV(ctx context.Context, saKey, name string, q url.Values) ([]byte, error) {
	var b []byte
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	q2.Set("format", "csv")
	err := c.call(ctx, http.MethodGet, request{query: q2, out: &b}, accounts, sa(saKey), "reports", name)
	return b, err
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// UsageQueryValues is the query string of a usage report.
func UsageQueryValues(q smartlic.UsageQuery) url.Values {
	v := url.Values{}
	if q.VA != "" {
		v.Set("va", q.VA)
	}
	if q.At != nil {
		v.Set("at", stamp(*q.At))
	}
	return v
}

// TrueUpQueryValues is the query string of a true-up report.
func TrueUpQueryValues(q smartlic.TrueUpQuery) url.Values {
	v := url.Values{}
	if q.VA != "" {
		v.Set("va", q.VA)
	}
	if !q.From.IsZero() {
		v.Set("from", stamp(q.From))
	}
	if !q.To.IsZero() {
		v.Set("to", stamp(q.To))
	}
	return v
}

// ExpiringQueryValues is the query string of an expiring report.
func ExpiringQueryValues(q smartlic.ExpiringQuery) url.Values {
	v := url.Values{}
	if q.VA != "" {
		v.Set("va", q.VA)
	}
	v.Set("days", strconv.Itoa(q.Days))
	return v
}

// InstancesQueryValues is the query string of an instances report.
func InstancesQueryValues(q smartlic.InstancesQuery) url.Values {
	v := url.Values{}
	if q.VA != "" {
		v.Set("va", q.VA)
	}
	return v
}

func (c *Client) UsageReport(ctx context.Context, saKey string, q smartlic.UsageQuery) (smartlic.UsageReport, error) {
	return report[smartlic.UsageReport](ctx, c, saKey, "usage", UsageQueryValues(q))
}

func (c *Client) TrueUpReport(ctx context.Context, saKey string, q smartlic.TrueUpQuery) (smartlic.TrueUpReport, error) {
	return report[smartlic.TrueUpReport](ctx, c, saKey, "true-up", TrueUpQueryValues(q))
}

func (c *Client) ExpiringReport(ctx context.Context, saKey string, q smartlic.ExpiringQuery) (smartlic.ExpiringReport, error) {
	return report[smartlic.ExpiringReport](ctx, c, saKey, "expiring", ExpiringQueryValues(q))
}

func (c *Client) InstancesReport(ctx context.Context, saKey string, q smartlic.InstancesQuery) (smartlic.InstancesReport, error) {
	return report[smartlic.InstancesReport](ctx, c, saKey, "instances", InstancesQueryValues(q))
}

// LicenseHistory fetches the daily history of a license type, with its
// projection.
func (c *Client) LicenseHistory(ctx context.Context, saKey, license string, q smartlic.HistoryQuery) (smartlic.LicenseHistory, error) {
	var h smartlic.LicenseHistory
	v := url.Values{}
	if q.VA != "" {
		v.Set("va", q.VA)
	}
	if q.Days != 0 {
		v.Set("days", strconv.Itoa(q.Days))
	}
	err := c.call(ctx, http.MethodGet, request{query: v, out: &h}, accounts, sa(saKey), "licenses", license, "history")
	return h, err
}
