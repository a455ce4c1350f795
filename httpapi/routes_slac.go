package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type slacList struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	VA     string `query:"va" maxLength:"200" doc:"Only SLACs issued from this Virtual Account (id or name); needed by VA roles"`
	UDI    string `query:"udi" maxLength:"200" doc:"Only SLACs of this device (PID:SN)"`
	Status string `query:"status" enum:"active,returned,cancelled," doc:"Only active, returned or cancelled SLACs"`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After  string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

type slacBody[B any] struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	SLAC string `path:"slac" doc:"SLAC id"`
	Body B
}

type slacPath struct {
	SA   string `path:"sa" doc:"Smart Account id or domain"`
	SLAC string `path:"slac" doc:"SLAC id"`
}

// ExportControlRequest allows or forbids a Smart Account export-controlled
// functionality.
type ExportControlRequest struct {
	Allowed bool `json:"allowed" doc:"Whether the Smart Account may use export-controlled functionality (SLACs are issued to its devices)"`
}

// registerSLACRoutes adds export control: the vendor's per-account
// setting, SLACs, and the device protocol to request and return them.
func (s *Server) registerSLACRoutes() {
	svc := s.svc
	const setting = "/api/v1/accounts/{sa}/export-control"
	handle(s, route{method: get, path: setting, id: "get-export-control", summary: "Whether the Smart Account may use export-controlled functionality", tag: "export-control"},
		func(ctx context.Context, in *saPath) (*body[smartlic.ExportControl], error) {
			return one(svc.GetExportControl(ctx, in.SA))
		})
	handle(s, route{method: patch, path: setting, id: "set-export-control", summary: "Allow or forbid the Smart Account export-controlled functionality (vendor operator)", tag: "export-control"},
		func(ctx context.Context, in *saBody[ExportControlRequest]) (*body[smartlic.ExportControl], error) {
			return one(svc.SetExportControl(ctx, in.SA, in.Body.Allowed))
		})
	handle(s, route{method: get, path: "/api/v1/export-controls", id: "list-export-controls", summary: "The Smart Accounts allowed export-controlled functionality (vendor operator)", tag: "export-control"},
		func(ctx context.Context, _ *struct{}) (*body[wire.Items[smartlic.ExportControl]], error) {
			return all(svc.ListExportControls(ctx))
		})

	const slacs = "/api/v1/accounts/{sa}/slacs"
	handle(s, route{method: get, path: slacs, id: "list-slacs", summary: "List the Smart License Authorization Codes (SLACs) of a Smart Account", tag: "export-control"},
		func(ctx context.Context, in *slacList) (*body[wire.Page[smartlic.SLAC]], error) {
			f := smartlic.SLACFilter{VA: in.VA, Status: smartlic.SLACStatus(in.Status)}
			if in.UDI != "" {
				udi, err := smartlic.ParseUDI("udi", in.UDI)
				if err != nil {
					return nil, err
				}
				f.UDI = &udi
			}
			return page(svc.ListSLACs(ctx, in.SA, f, smartlic.Page{Limit: in.Limit, After: in.After}))
		})
	handle(s, route{method: get, path: slacs + "/{slac}", id: "get-slac", summary: "Get a SLAC", tag: "export-control"},
		func(ctx context.Context, in *slacPath) (*body[smartlic.SLAC], error) {
			return one(svc.GetSLAC(ctx, in.SA, in.SLAC))
		})

	handle(s, route{method: post, path: slacs, id: "issue-slac", tag: "export-control",
		summary: "Issue a SLAC for a device's offline request code; the answer carries the authorization code the device installs"},
		func(ctx context.Context, in *saBody[wire.SLACIssue]) (*body[smartlic.SLAC], error) {
			return one(svc.IssueSLAC(ctx, in.SA, smartlic.SLACIssueInput{RequestCode: in.Body.RequestCode, LicenseTag: in.Body.License, VirtualAccount: in.Body.VirtualAccount}))
		})
	handle(s, route{method: post, path: slacs + "/{slac}/cancel", id: "cancel-slac", tag: "export-control",
		summary: "Cancel a SLAC without the device's return (administrators, with a reason for the event log); its license goes back to the pool"},
		func(ctx context.Context, in *slacBody[wire.SLACCancel]) (*body[smartlic.SLAC], error) {
			return one(svc.CancelSLAC(ctx, in.SA, in.SLAC, in.Body.Reason))
		})
	handle(s, route{method: post, path: "/api/v1/accounts/{sa}/slac-returns", id: "return-slac", tag: "export-control",
		summary: "Enter a device's SLAC return code: the SLAC's license goes back to the pool"},
		func(ctx context.Context, in *saBody[wire.SLACReturnCode]) (*body[smartlic.SLAC], error) {
			return one(svc.ReturnSLAC(ctx, in.SA, in.Body.Code))
		})

	s.deviceRoute("slac", "device-slac", "Ask for a SLAC for an export-controlled license; answers the signed SLAC", []int{http.StatusConflict}, svc.RequestSLAC)
	s.deviceRoute("slac-return", "device-slac-return", "Return a SLAC; answers a signed confirmation", []int{http.StatusConflict}, svc.ReturnSLACOnline)
}
