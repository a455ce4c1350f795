package httpapi

import (
	"context"
	"net/http"
	"reflect"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type usageUploadInput struct {
	SA          string `path:"sa" doc:"Smart Account id or domain"`
	Name        string `query:"name" maxLength:"200" doc:"File name to remember the upload by (default usage.json)"`
	rawJSONBody        // the file (route.file), as the bytes a device saved
}

type usageUploadPath struct {
	SA     string `path:"sa" doc:"Smart Account id or domain"`
	Upload string `path:"upload" doc:"Upload id"`
}

// registerUsageRoutes adds Smart Licensing Using Policy: the device side
// (trust, online reports, moving from registration) and the account side
// (offline usage files and trust files).
func (s *Server) registerUsageRoutes() {
	svc := s.svc

	s.deviceRoute("trust", "device-trust", "Establish trust under Using Policy (a token, or an offline trust code); answers a signed trust code", nil, svc.RequestTrust)
	s.deviceRoute("policy-mode", "device-policy-mode", "Move a registered instance to Using Policy; answers a trust code bound to its key", nil, svc.MoveToPolicy)
	handle(s, route{method: post, path: "/device/v1/usage", id: "device-usage", summary: "Send signed RUM reports (a usage file); answers an ACK file with one signed ACK per instance", tag: "device", public: true,
		maxBody: smartlic.MaxOnlineUsageBytes, errors: []int{http.StatusForbidden}, body: reflect.TypeFor[smartlic.UsageFile]()},
		func(ctx context.Context, in *rawJSONBody) (*body[smartlic.AckFile], error) {
			// Parsed here, in one strict pass, rather than by huma: its
			// schema check ran a regular expression over every base64
			// payload, a quarter of an exchange's CPU.
			f, err := smartlic.ParseUsageFile(in.take())
			if err != nil {
				return nil, err
			}
			return one(svc.ReportUsage(ctx, f))
		})

	const files = "/api/v1/accounts/{sa}/usage-files"
	handle(s, route{method: post, path: files, id: "upload-usage-file", summary: "Upload an offline usage file; answers the ACK file for the devices (good reports are accepted, each bad one listed with its reason)", tag: "usage",
		maxBody: smartlic.MaxUsageFileBytes, errors: []int{http.StatusForbidden}, file: "The usage file (smartlic.usage-file/v1) as a device saved it"},
		func(ctx context.Context, in *usageUploadInput) (*body[smartlic.AckFile], error) {
			return one(svc.UploadUsageFile(ctx, in.SA, in.Name, in.take()))
		})
	handle(s, route{method: get, path: files, id: "list-usage-files", summary: "List the usage files uploaded to a Smart Account", tag: "usage"},
		func(ctx context.Context, in *saPage) (*body[wire.Page[smartlic.UsageUpload]], error) {
			return page(svc.ListUsageUploads(ctx, in.SA, in.page()))
		})
	handle(s, route{method: get, path: files + "/{upload}/ack", id: "get-usage-file-ack", summary: "Download the ACK file of an upload again", tag: "usage"},
		func(ctx context.Context, in *usageUploadPath) (*body[smartlic.AckFile], error) {
			return one(svc.GetUsageUploadAck(ctx, in.SA, in.Upload))
		})
	handle(s, route{method: post, path: "/api/v1/accounts/{sa}/virtual-accounts/{va}/trust-files", id: "generate-trust-file", summary: "Generate an offline trust file for listed UDIs (each device imports it; its first report binds its key)", tag: "usage"},
		func(ctx context.Context, in *vaBody[wire.TrustFileRequest]) (*body[smartlic.TrustFile], error) {
			udis, err := in.Body.Parse()
			if err != nil {
				return nil, err
			}
			return one(svc.GenerateTrustFile(ctx, in.SA, in.VA, udis))
		})
}
