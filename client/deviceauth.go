package client

import (
	"context"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

// StartDeviceAuthorization starts a device sign-in asking for a personal
// API key named keyName: show the user code and the verification URI (a
// path on this server) to the user, then poll with the device code.
func (c *Client) StartDeviceAuthorization(ctx context.Context, keyName string) (smartlic.DeviceCode, error) {
	var v smartlic.DeviceCode
	err := c.call(ctx, http.MethodPost, request{in: wire.DeviceAuthRequest{Name: keyName}, out: &v, public: true}, "api/v1/auth/device")
	return v, err
}

// PollDeviceAuthorization polls once. Until the user confirms, the error
// is coded authorization_pending or slow_down (poll again after the
// interval; slow_down adds 5 seconds to it), or expired_token or
// access_denied (stop).
func (c *Client) PollDeviceAuthorization(ctx context.Context, deviceCode string) (smartlic.UserAPIKey, error) {
	var v smartlic.UserAPIKey
	err := c.call(ctx, http.MethodPost, request{in: wire.DeviceTokenRequest{DeviceCode: deviceCode}, out: &v, public: true}, "api/v1/auth/device/token")
	return v, err
}
