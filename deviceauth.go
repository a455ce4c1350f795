package smartlic

import (
	"context"
	"time"
)

// Error codes of the device authorization grant (RFC 8628 §3.5): the
// answers a CLI polling for its key acts on.
const (
	EAuthorizationPending = "authorization_pending" // the user has not confirmed yet: poll again after the interval
	ESlowDown             = "slow_down"             // polled too soon: add 5 seconds to the interval
	EExpiredToken         = "expired_token"         // the codes expired, or were used: start again
	EAccessDenied         = "access_denied"         // the user refused
)

// Device authorization states.
const (
	DeviceAuthPending  = "pending"
	DeviceAuthApproved = "approved"
	DeviceAuthDenied   = "denied"
	DeviceAuthUsed     = "used" // the key was handed out; the codes are spent
)

// DeviceAuthorization is a sign-in of a device without a browser (the CLI
// on a server, say): it shows the user a short code to confirm in the
// portal while it polls with a long one. Both codes are stored hashed.
type DeviceAuthorization struct {
	ID             string     `json:"id"`
	DeviceCodeHash string     `json:"-"`
	UserCodeHash   string     `json:"-"`
	KeyName        string     `json:"key_name"` // the personal API key it asks for
	Status         string     `json:"status"`
	UserID         string     `json:"user_id,omitempty"` // who confirmed or refused
	APIKeyID       string     `json:"api_key_id,omitempty"`
	Interval       int        `json:"interval"` // seconds between polls
	CreatedAt      time.Time  `json:"created_at"`
	ExpiresAt      time.Time  `json:"expires_at"`
	LastPolledAt   *time.Time `json:"last_polled_at,omitempty"`
}

// DeviceCode is the answer that starts a device sign-in (RFC 8628 §3.2).
// VerificationURI is the portal page: absolute when the server knows its
// public URL (serve --public-url), else its path, which the client puts
// its server in front of.
type DeviceCode struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// DeviceAuthService is the device sign-in. Start and Poll are public (the
// codes are the credentials); Get and Decide are the signed-in user's.
type DeviceAuthService interface {
	StartDeviceAuthorization(ctx context.Context, keyName string) (DeviceCode, error)
	// GetDeviceAuthorization shows the signed-in user what a user code asks for.
	GetDeviceAuthorization(ctx context.Context, userCode string) (DeviceAuthorization, error)
	// DecideDeviceAuthorization confirms (approve) or refuses the code as the calling user.
	DecideDeviceAuthorization(ctx context.Context, userCode string, approve bool) (DeviceAuthorization, error)
	// PollDeviceAuthorization answers the personal API key once the user
	// confirmed, or an error coded as in RFC 8628.
	PollDeviceAuthorization(ctx context.Context, deviceCode string) (UserAPIKey, error)
}

// DeviceAuthTx is the storage of device authorizations.
type DeviceAuthTx interface {
	InsertDeviceAuthorization(ctx context.Context, d DeviceAuthorization) error
	// GetDeviceAuthorization finds one by the hash of its user code or of its device code.
	GetDeviceAuthorization(ctx context.Context, codeHash string) (DeviceAuthorization, error)
	// UpdateDeviceAuthorization writes d's status, user, key, interval and
	// last poll if the stored status is still from: a conflict otherwise,
	// so that two racing polls hand out one key.
	UpdateDeviceAuthorization(ctx context.Context, d DeviceAuthorization, from string) error
	// DeleteDeviceAuthorizations forgets those that expired before t.
	DeleteDeviceAuthorizations(ctx context.Context, before time.Time) (int64, error)
}
