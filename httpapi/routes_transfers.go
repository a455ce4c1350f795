package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type agreementPath struct {
	SA        string `path:"sa" doc:"Smart Account id or domain"`
	Agreement string `path:"agreement" doc:"Agreement id"`
	Format    string `query:"format" enum:"json,csv" default:"json" doc:"Answer as JSON or as CSV with a header row"`
}

type agreementAcceptPath struct {
	SA        string `path:"sa" doc:"Smart Account id or domain"`
	Agreement string `path:"agreement" doc:"Agreement id"`
}

// registerTransferRoutes adds transfers and Enterprise Agreements.
func (s *Server) registerTransferRoutes() {
	svc := s.svc
	const transfers = "/api/v1/accounts/{sa}/transfers"
	handle(s, route{method: post, path: transfers, id: "create-transfer", status: http.StatusCreated, tag: "transfers",
		summary: "Move licenses or product instances between two Virtual Accounts (only what is available)"},
		func(ctx context.Context, in *saBody[wire.TransferRequest]) (*body[smartlic.Transfer], error) {
			return one(svc.Transfer(ctx, in.SA, in.Body.Input()))
		})
	handle(s, route{method: get, path: transfers, id: "list-transfers", summary: "List a Smart Account's transfers", tag: "transfers"},
		func(ctx context.Context, in *saPage) (*body[wire.Page[smartlic.Transfer]], error) {
			return page(svc.ListTransfers(ctx, in.SA, in.page()))
		})

	const agreements = "/api/v1/accounts/{sa}/virtual-accounts/{va}/agreements"
	handle(s, route{method: post, path: agreements, id: "create-agreement", status: http.StatusCreated, tag: "agreements",
		summary: "Deposit an Enterprise Agreement's suite into a Virtual Account for a term"},
		func(ctx context.Context, in *vaBody[wire.AgreementRequest]) (*body[smartlic.Agreement], error) {
			return one(svc.CreateAgreement(ctx, in.SA, in.VA, in.Body.Input()))
		})
	handle(s, route{method: get, path: agreements, id: "list-agreements", summary: "List a Virtual Account's Enterprise Agreements", tag: "agreements"},
		func(ctx context.Context, in *vaPage) (*body[wire.Page[smartlic.Agreement]], error) {
			return page(svc.ListAgreements(ctx, in.SA, in.VA, in.page()))
		})
	handle(s, route{method: post, path: "/api/v1/accounts/{sa}/agreements/{agreement}/accept", id: "accept-agreement", tag: "agreements",
		summary: "Accept an Enterprise Agreement's terms for the Smart Account (SA approver or administrator; once)"},
		func(ctx context.Context, in *agreementAcceptPath) (*body[smartlic.Agreement], error) {
			return one(svc.AcceptAgreement(ctx, in.SA, in.Agreement))
		})
	handle(s, route{method: get, path: "/api/v1/accounts/{sa}/agreements/{agreement}/true-forward", id: "agreement-true-forward", tag: "agreements",
		summary: "True-forward of an agreement: peak consumption above purchased per license type over its term so far"},
		func(ctx context.Context, in *agreementPath) (*reportBody, error) {
			r, err := svc.TrueForward(ctx, in.SA, in.Agreement)
			return report(in.Format, "true-forward", r, r.Table(), err)
		})
}
