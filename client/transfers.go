package client

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

var (
	_ smartlic.TransferService = (*Client)(nil)
	_ smartlic.HistoryService  = (*Client)(nil)
	_ smartlic.ReportService   = (*Client)(nil)
)

// Transfer moves licenses or instances between two Virtual Accounts.
func (c *Client) Transfer(ctx context.Context, saKey string, in smartlic.TransferInput) (smartlic.Transfer, error) {
	return send[smartlic.Transfer](ctx, c, http.MethodPost, wire.FromTransferInput(in), accounts, sa(saKey), "transfers")
}

func (c *Client) ListTransfers(ctx context.Context, saKey string, p smartlic.Page) ([]smartlic.Transfer, string, error) {
	return list[smartlic.Transfer](ctx, c, p, accounts, sa(saKey), "transfers")
}

// Enterprise Agreements.

func (c *Client) CreateAgreement(ctx context.Context, saKey, vaKey string, in smartlic.AgreementInput) (smartlic.Agreement, error) {
	return send[smartlic.Agreement](ctx, c, http.MethodPost, wire.FromAgreementInput(in), accounts, sa(saKey), vas, va(vaKey), "agreements")
}

func (c *Client) ListAgreements(ctx context.Context, saKey, vaKey string, p smartlic.Page) ([]smartlic.Agreement, string, error) {
	return list[smartlic.Agreement](ctx, c, p, accounts, sa(saKey), vas, va(vaKey), "agreements")
}

func (c *Client) AcceptAgreement(ctx context.Context, saKey, id string) (smartlic.Agreement, error) {
	return send[smartlic.Agreement](ctx, c, http.MethodPost, nil, accounts, sa(saKey), "agreements", segment{"agreement", id}, "accept")
}

func (c *Client) TrueForward(ctx context.Context, saKey, id string) (smartlic.TrueForward, error) {
	return get[smartlic.TrueForward](ctx, c, accounts, sa(saKey), "agreements", segment{"agreement", id}, "true-forward")
}
