package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.SLACService = (*Client)(nil)

// GetExportControl says whether a Smart Account may use export-controlled
// functionality.
func (c *Client) GetExportControl(ctx context.Context, saKey string) (smartlic.ExportControl, error) {
	return get[smartlic.ExportControl](ctx, c, accounts, sa(saKey), "export-control")
}

// SetExportControl allows or forbids it (vendor operator).
func (c *Client) SetExportControl(ctx context.Context, saKey string, allowed bool) (smartlic.ExportControl, error) {
	return send[smartlic.ExportControl](ctx, c, http.MethodPatch, map[string]bool{"allowed": allowed}, accounts, sa(saKey), "export-control")
}

// ListExportControls lists the Smart Accounts allowed export control.
func (c *Client) ListExportControls(ctx context.Context) ([]smartlic.ExportControl, error) {
	v, err := get[wire.Items[smartlic.ExportControl]](ctx, c, "api/v1/export-controls")
	return v.Items, err
}

// ListSLACs lists a Smart Account's SLACs.
func (c *Client) ListSLACs(ctx context.Context, saKey string, f smartlic.SLACFilter, p smartlic.Page) ([]smartlic.SLAC, string, error) {
	var v wire.Page[smartlic.SLAC]
	q := url.Values{}
	for k, vs := range pageQuery(p) {
		q[k] = vs
	}
	if f.VA != "" {
		q.Set("va", f.VA)
	}
	if f.UDI != nil {
		q.Set("udi", f.UDI.String())
	}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	err := c.call(ctx, http.MethodGet, request{query: q, out: &v}, accounts, sa(saKey), "slacs")
	return v.Items, v.Next, err
}

// GetSLAC gets one SLAC.
func (c *Client) GetSLAC(ctx context.Context, saKey, id string) (smartlic.SLAC, error) {
	return get[smartlic.SLAC](ctx, c, accounts, sa(saKey), "slacs", segment{"slac", id})
}

// IssueSLAC issues a SLAC for a device's offline request code; the answer
// carries the authorization code.
func (c *Client) IssueSLAC(ctx context.Context, saKey string, in smartlic.SLACIssueInput) (smartlic.SLAC, error) {
	return send[smartlic.SLAC](ctx, c, http.MethodPost, wire.SLACIssue{RequestCode: in.RequestCode, License: in.LicenseTag, VirtualAccount: in.VirtualAccount},
		accounts, sa(saKey), "slacs")
}

// CancelSLAC cancels a SLAC without the device's return (administrators,
// with a reason for the event log).
func (c *Client) CancelSLAC(ctx context.Context, saKey, id, reason string) (smartlic.SLAC, error) {
	return send[smartlic.SLAC](ctx, c, http.MethodPost, wire.SLACCancel{Reason: reason}, accounts, sa(saKey), "slacs", segment{"slac", id}, "cancel")
}

// ReturnSLAC enters a device's SLAC return code.
func (c *Client) ReturnSLAC(ctx context.Context, saKey, code string) (smartlic.SLAC, error) {
	return send[smartlic.SLAC](ctx, c, http.MethodPost, wire.SLACReturnCode{Code: code}, accounts, sa(saKey), "slac-returns")
}

// RequestSLAC sends a signed SLAC request; it needs no API key.
func (c *Client) RequestSLAC(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "slac", req)
}

// ReturnSLACOnline sends a signed SLAC return; it needs no API key.
func (c *Client) ReturnSLACOnline(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "slac-return", req)
}
