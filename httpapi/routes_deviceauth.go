package httpapi

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

type deviceKeyOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         smartlic.UserAPIKey
}

// registerDeviceAuthRoutes adds the device sign-in of `smartlic login
// --web` (RFC 8628): start, then poll. The user confirms the code in the
// portal, at /device.
func (s *Server) registerDeviceAuthRoutes() {
	svc := s.svc
	handle(s, route{method: post, path: "/api/v1/auth/device", id: "start-device-authorization", tag: "auth", public: true,
		summary: "Start a device sign-in: a user code to confirm in the portal at /device, a device code to poll with (RFC 8628 §3.2)",
		errors:  []int{http.StatusTooManyRequests}},
		func(ctx context.Context, in *struct{ Body wire.DeviceAuthRequest }) (*body[smartlic.DeviceCode], error) {
			// Every start counts against the address: codes cost storage,
			// and a flood of them would be a way to phish with fresh ones.
			done, err := s.limit(ctx, "device", "")
			if err != nil {
				return nil, err
			}
			defer done(false)
			dc, err := svc.StartDeviceAuthorization(ctx, in.Body.Name)
			if err == nil && s.publicURL != "" {
				dc.VerificationURI = s.publicURL + dc.VerificationURI
				dc.VerificationURIComplete = s.publicURL + dc.VerificationURIComplete
			}
			return one(dc, err)
		})
	handle(s, route{method: post, path: "/api/v1/auth/device/token", id: "poll-device-authorization", tag: "auth", public: true,
		summary: "Poll for the personal API key of a device sign-in: authorization_pending, slow_down, expired_token or access_denied until the user confirms (RFC 8628 §3.4)",
		errors:  []int{http.StatusTooManyRequests}},
		func(ctx context.Context, in *struct{ Body wire.DeviceTokenRequest }) (*deviceKeyOutput, error) {
			// Guessing device codes is what fails here; waiting does not.
			done, err := s.limit(ctx, "device-token", "")
			if err != nil {
				return nil, err
			}
			k, err := svc.PollDeviceAuthorization(ctx, in.Body.DeviceCode)
			switch smartlic.ErrorCode(err) {
			case smartlic.EInvalid:
				done(false)
			default:
				done(true)
			}
			if err != nil {
				return nil, err
			}
			return &deviceKeyOutput{CacheControl: "no-store", Body: k}, nil
		})
}
