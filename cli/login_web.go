package cli

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
)

// webLogin is the device sign-in (RFC 8628): the server gives a user code
// and a device code; the user confirms the user code in the portal, signed
// in there however they sign in (password or single sign-on), while the
// CLI polls with the device code at the pace the server sets.
func (e *env) webLogin(ctx context.Context, server, keyName string) (credentials, error) {
	anon := client.New(server, "", httpClient())
	dc, err := anon.StartDeviceAuthorization(ctx, keyName)
	if err != nil {
		return credentials{}, err
	}
	// The server gives an absolute URI when it knows where users reach it
	// (serve --public-url), else the portal's path on the server we use.
	open := dc.VerificationURIComplete
	if u, err := url.Parse(open); err != nil || !u.IsAbs() {
		open = server + open
	}
	fmt.Fprintf(e.stdout, "Open %s in a browser, sign in, and confirm the code %s.\nWaiting (the code expires in %d minutes)…\n",
		open, dc.UserCode, dc.ExpiresIn/60)
	interval := time.Duration(dc.Interval) * time.Second
	deadline := time.Duration(dc.ExpiresIn) * time.Second
	for waited := time.Duration(0); ; waited += interval {
		if waited > deadline {
			return credentials{}, smartlic.Errorf(smartlic.EExpiredToken, "", "the code %s was not confirmed in time; run `smartlic login --web` again", dc.UserCode)
		}
		if err := e.pause(ctx, interval); err != nil {
			return credentials{}, err
		}
		k, err := anon.PollDeviceAuthorization(ctx, dc.DeviceCode)
		switch smartlic.ErrorCode(err) {
		case "":
			id, err := client.New(server, k.Secret, httpClient()).WhoAmI(ctx)
			if err != nil {
				return credentials{}, err
			}
			return credentials{Server: server, Email: id.Actor.Email, KeyID: k.ID, KeyName: k.Name, APIKey: k.Secret, CreatedAt: k.CreatedAt}, nil
		case smartlic.EAuthorizationPending:
		case smartlic.ESlowDown:
			interval += 5 * time.Second
		default:
			return credentials{}, err
		}
	}
}

// pause waits d, or less if ctx ends first.
func (e *env) pause(ctx context.Context, d time.Duration) error {
	if e.wait != nil {
		return e.wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
