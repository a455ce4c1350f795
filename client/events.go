package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.EventService = (*Client)(nil)

func eventQuery(f smartlic.EventFilter) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"va": f.VirtualAccountID, "actor": f.Actor, "type": f.Type, "subject": f.Subject} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339Nano))
	}
	return q
}

// ListEvents lists a Smart Account's events ("vendor" for the vendor's).
func (c *Client) ListEvents(ctx context.Context, saKey string, f smartlic.EventFilter, p smartlic.Page) ([]smartlic.Event, string, error) {
	var v wire.Page[smartlic.Event]
	q := eventQuery(f)
	for k, vs := range pageQuery(p) {
		q[k] = vs
	}
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, accounts, sa(saKey), "events")
	return v.Items, v.Next, err
}

// ExportEvents returns the whole filtered log as CSV or JSON bytes.
func (c *Client) ExportEvents(ctx context.Context, saKey string, f smartlic.EventFilter, format string) ([]byte, error) {
	var raw []byte
	q := eventQuery(f)
	q.Set("format", format)
	err := c.call(ctx, http.MethodGet, request{query: q, out: &raw}, accounts, sa(saKey), "events", "export")
	return raw, err
}

// VerifyEvents checks a Smart Account's chain, or every chain when saKey
// is empty.
func (c *Client) VerifyEvents(ctx context.Context, saKey string) ([]smartlic.ChainVerdict, error) {
	var v wire.Items[smartlic.ChainVerdict]
	err := c.call(ctx, http.MethodGet, request{out: &v}, eventsPath(saKey, "verify")...)
	return v.Items, err
}

// EventHeads returns the manager's signed heads of a Smart Account's chain,
// or of every chain when saKey is empty, to be kept outside the database.
func (c *Client) EventHeads(ctx context.Context, saKey string) (smartlic.Envelope, error) {
	var env smartlic.Envelope
	err := c.call(ctx, http.MethodGet, request{out: &env}, eventsPath(saKey, "head")...)
	return env, err
}

// VerifyEventsAgainst verifies like VerifyEvents and also holds each chain
// to the heads anchored in a document EventHeads returned earlier.
func (c *Client) VerifyEventsAgainst(ctx context.Context, saKey string, anchor smartlic.Envelope) ([]smartlic.ChainVerdict, error) {
	var v wire.Items[smartlic.ChainVerdict]
	err := c.call(ctx, http.MethodPost, request{in: anchor, out: &v}, eventsPath(saKey, "verify")...)
	return v.Items, err
}

// eventsPath is the path of an event-log operation on one Smart Account's
// chain, or on every chain when saKey is empty.
func eventsPath(saKey, op string) []any {
	if saKey == "" {
		return []any{"api/v1/events", op}
	}
	return []any{accounts, sa(saKey), "events", op}
}
