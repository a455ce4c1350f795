package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var _ smartlic.UsageService = (*Client)(nil)

// RequestTrust sends a signed trust request; it needs no API key.
func (c *Client) RequestTrust(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "trust", req)
}

// MoveToPolicy sends a signed policy-mode request; it needs no API key.
func (c *Client) MoveToPolicy(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error) {
	return c.device(ctx, "policy-mode", req)
}

// ReportUsage sends signed reports online; it needs no API key.
func (c *Client) ReportUsage(ctx context.Context, f smartlic.UsageFile) (smartlic.AckFile, error) {
	var ack smartlic.AckFile
	err := c.do(ctx, request{method: http.MethodPost, path: "/device/v1/usage", in: f, out: &ack, public: true})
	return ack, err
}

// UploadUsageFile uploads an offline usage file as it is.
func (c *Client) UploadUsageFile(ctx context.Context, saKey, name string, data []byte) (smartlic.AckFile, error) {
	var ack smartlic.AckFile
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if data == nil {
		data = []byte{}
	}
	err := c.call(ctx, http.MethodPost, request{query: q, raw: data, out: &ack}, accounts, sa(saKey), "usage-files")
	return ack, err
}

func (c *Client) ListUsageUploads(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.UsageUpload, string, error) {
	return list[smartlic.UsageUpload](ctx, c, p, accounts, sa(saKey), "usage-files")
}

func (c *Client) GetUsageUploadAck(ctx context.Context, saKey, id string) (smartlic.AckFile, error) {
	return get[smartlic.AckFile](ctx, c, accounts, sa(saKey), "usage-files", segment{"upload", id}, "ack")
}

func (c *Client) GenerateTrustFile(ctx context.Context, saKey, vaKey string, udis []smartlic.UDI) (smartlic.TrustFile, error) {
	req := wire.TrustFileRequest{UDIs: make([]string, len(udis))}
	for i, u := range udis {
		req.UDIs[i] = u.String()
	}
	return send[smartlic.TrustFile](ctx, c, http.MethodPost, req, accounts, sa(saKey), vas, va(vaKey), "trust-files")
}
