package manager

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

var _ smartlic.DeviceAuthService = (*Manager)(nil)

// The device sign-in (RFC 8628) of the CLI: `smartlic login --web`.
const (
	deviceCodePrefix = "sld_"
	// DeviceAuthTTL is how long a user has to confirm a code.
	DeviceAuthTTL = 10 * time.Minute
	// DeviceAuthInterval is the least time between polls; polling sooner
	// adds deviceAuthSlowDown to it (RFC 8628 §3.5).
	DeviceAuthInterval = 5
	deviceAuthSlowDown = 5
	// userCodeAlphabet has no vowels (no words by accident) and nothing
	// that reads like another character (0/O, 1/I).
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8 // 20^8 ≈ 2.6e10 codes; each lives ten minutes
	// DeviceVerificationPath is the portal page where a user confirms a code.
	DeviceVerificationPath = "/device"
)

func newUserCode() (string, error) {
	b := make([]byte, userCodeLength)
	if _, err := rand.Read(b); err != nil {
		return "", smartlic.Internal(err, "generating a user code")
	}
	for i := range b {
		// 256 is not a multiple of 20: reject the top values to stay uniform.
		for b[i] >= 240 {
			var one [1]byte
			if _, err := rand.Read(one[:]); err != nil {
				return "", smartlic.Internal(err, "generating a user code")
			}
			b[i] = one[0]
		}
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:]), nil
}

// userCodeHash normalises what a person typed (any case, with or without
// the dash or spaces) and hashes it; ok is false when it cannot be a code.
func userCodeHash(code string) (hash string, ok bool) {
	c := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(c) != userCodeLength {
		return "", false
	}
	for _, r := range c {
		if !strings.ContainsRune(userCodeAlphabet, r) {
			return "", false
		}
	}
	// The prefix keeps user-code hashes apart from device-code hashes,
	// which share the lookup.
	return hashSecret("user-code:" + c), true
}

// StartDeviceAuthorization opens a device sign-in asking for a personal
// API key named keyName. It needs no credentials: the codes it answers are
// worth nothing until a signed-in user confirms the user code.
func (m *Manager) StartDeviceAuthorization(ctx context.Context, keyName string) (smartlic.DeviceCode, error) {
	if err := smartlic.ValidateName("name", keyName, 200); err != nil {
		return smartlic.DeviceCode{}, err
	}
	device, err := newSecret(deviceCodePrefix)
	if err != nil {
		return smartlic.DeviceCode{}, err
	}
	now := m.clock.Now()
	for attempt := 0; ; attempt++ {
		user, err := newUserCode()
		if err != nil {
			return smartlic.DeviceCode{}, err
		}
		hash, _ := userCodeHash(user)
		d := smartlic.DeviceAuthorization{ID: newID(), DeviceCodeHash: hashSecret(device), UserCodeHash: hash, KeyName: keyName,
			Status: smartlic.DeviceAuthPending, Interval: DeviceAuthInterval, CreatedAt: now, ExpiresAt: now.Add(DeviceAuthTTL)}
		err = m.st.Write(ctx, func(tx smartlic.Tx) error {
			// Expired codes are forgotten here too, not only by the
			// sessions job: the index on expires_at makes this cheap, and
			// a busy sign-in page then never meets many.
			if _, err := tx.DeleteDeviceAuthorizations(ctx, now); err != nil {
				return err
			}
			return tx.InsertDeviceAuthorization(ctx, d)
		})
		if smartlic.ErrorCode(err) == smartlic.EConflict && attempt < 3 {
			continue // a user code still alive was drawn again
		}
		if err != nil {
			return smartlic.DeviceCode{}, err
		}
		return smartlic.DeviceCode{DeviceCode: device, UserCode: user, VerificationURI: DeviceVerificationPath,
			VerificationURIComplete: DeviceVerificationPath + "?code=" + user, ExpiresIn: int(DeviceAuthTTL / time.Second), Interval: d.Interval}, nil
	}
}

// pendingDeviceAuth finds the live, unconfirmed authorization of a user code.
func (m *Manager) pendingDeviceAuth(ctx context.Context, tx smartlic.Tx, userCode string) (smartlic.DeviceAuthorization, error) {
	unknown := smartlic.Errorf(smartlic.ENotFound, "code", "the code %q is unknown, expired or already used; start again with `smartlic login --web`", userCode)
	hash, ok := userCodeHash(userCode)
	if !ok {
		return smartlic.DeviceAuthorization{}, smartlic.Invalid("code", "must be a code such as BCDF-GHJK, as the CLI showed it (got %q)", userCode)
	}
	d, err := tx.GetDeviceAuthorization(ctx, hash)
	if smartlic.ErrorCode(err) == smartlic.ENotFound || (err == nil && (d.Status != smartlic.DeviceAuthPending || !m.clock.Now().Before(d.ExpiresAt))) {
		return d, unknown
	}
	return d, err
}

// GetDeviceAuthorization shows the signed-in user what a code asks for.
func (m *Manager) GetDeviceAuthorization(ctx context.Context, userCode string) (d smartlic.DeviceAuthorization, err error) {
	if _, err := actorUser(ctx); err != nil {
		return d, err
	}
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		d, err = m.pendingDeviceAuth(ctx, tx, userCode)
		return err
	})
	return d, err
}

// DecideDeviceAuthorization confirms or refuses a code as the calling
// user: confirmed, the device gets a personal API key of this user.
func (m *Manager) DecideDeviceAuthorization(ctx context.Context, userCode string, approve bool) (d smartlic.DeviceAuthorization, err error) {
	a, err := actorUser(ctx)
	if err != nil {
		return d, err
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if d, err = m.pendingDeviceAuth(ctx, tx, userCode); err != nil {
			return err
		}
		d.Status, d.UserID = smartlic.DeviceAuthDenied, a.UserID
		if approve {
			d.Status = smartlic.DeviceAuthApproved
		}
		if err := tx.UpdateDeviceAuthorization(ctx, d, smartlic.DeviceAuthPending); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "device_auth." + d.Status, Subject: d.ID,
			Message: a.Email + " " + d.Status + " a device sign-in for API key " + d.KeyName})
	})
	return d, err
}

// PollDeviceAuthorization is the device's poll: the key once the user
// confirmed, otherwise an error coded as RFC 8628 says. A poll sooner than
// the interval is answered slow_down and lengthens the interval.
func (m *Manager) PollDeviceAuthorization(ctx context.Context, deviceCode string) (k smartlic.UserAPIKey, err error) {
	if !strings.HasPrefix(deviceCode, deviceCodePrefix) || len(deviceCode) > maxCredentialBytes {
		return k, smartlic.Invalid("device_code", "is not a device code")
	}
	var answer error // committed with the poll's bookkeeping, then returned
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		d, err := tx.GetDeviceAuthorization(ctx, hashSecret(deviceCode))
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.Invalid("device_code", "unknown device code")
		}
		if err != nil {
			return err
		}
		now := m.clock.Now()
		if !now.Before(d.ExpiresAt) {
			return smartlic.Errorf(smartlic.EExpiredToken, "device_code", "the code expired before it was confirmed; start again")
		}
		switch d.Status {
		case smartlic.DeviceAuthUsed:
			return smartlic.Errorf(smartlic.EExpiredToken, "device_code", "the code was already used; start again")
		case smartlic.DeviceAuthDenied:
			return smartlic.Errorf(smartlic.EAccessDenied, "", "the sign-in was refused in the portal")
		case smartlic.DeviceAuthPending:
			before := d
			if d.LastPolledAt != nil && now.Before(d.LastPolledAt.Add(time.Duration(d.Interval)*time.Second)) {
				d.Interval += deviceAuthSlowDown
				answer = smartlic.Errorf(smartlic.ESlowDown, "", "polled too soon; wait %d seconds between polls", d.Interval)
			} else {
				answer = smartlic.Errorf(smartlic.EAuthorizationPending, "", "waiting for the code to be confirmed in the portal")
			}
			d.LastPolledAt = &now
			return tx.UpdateDeviceAuthorization(ctx, d, before.Status)
		}
		u, err := tx.GetUser(ctx, d.UserID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return smartlic.Errorf(smartlic.EAccessDenied, "", "the user who confirmed the code is disabled")
		}
		ctx := smartlic.WithActor(ctx, smartlic.Actor{KeyID: d.ID, Email: u.Email, Role: "user", UserID: u.ID, Kind: smartlic.ActorSession})
		if k, err = m.insertAPIKey(ctx, tx, u.ID, u.Email, smartlic.APIKeyInput{Name: d.KeyName}); err != nil {
			return err
		}
		d.Status, d.APIKeyID = smartlic.DeviceAuthUsed, k.ID
		// From approved only: of two racing polls, one gets the key.
		if err := tx.UpdateDeviceAuthorization(ctx, d, smartlic.DeviceAuthApproved); err != nil {
			if smartlic.ErrorCode(err) == smartlic.EConflict {
				return smartlic.Errorf(smartlic.EExpiredToken, "device_code", "the code was already used; start again")
			}
			return err
		}
		return nil
	})
	if err == nil {
		err = answer
	}
	return k, err
}
