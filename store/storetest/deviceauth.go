package storetest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// RunDeviceAuth runs the conformance tests of device authorizations (the
// CLI's browser sign-in); open returns a new, empty store for each subtest.
func RunDeviceAuth(t *testing.T, open func(*testing.T) smartlic.Store) {
	runCases(t, open, []testCase{
		{"DeviceAuthorizations", testDeviceAuthorizations},
		{"ConcurrentDeviceAuthorizationClaim", testConcurrentDeviceAuthorizationClaim},
	})
}

func (f *fixture) deviceAuth(code string) smartlic.DeviceAuthorization {
	f.t.Helper()
	d := smartlic.DeviceAuthorization{ID: newID(f.t), DeviceCodeHash: "dev-" + code, UserCodeHash: "user-" + code, KeyName: "cli on host",
		Status: smartlic.DeviceAuthPending, Interval: 5, CreatedAt: f.now, ExpiresAt: f.now.Add(10 * time.Minute)}
	f.write(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertDeviceAuthorization(ctx, d) })
	return d
}

func (f *fixture) getDeviceAuth(hash string) smartlic.DeviceAuthorization {
	f.t.Helper()
	var d smartlic.DeviceAuthorization
	f.read(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		d, err = tx.GetDeviceAuthorization(ctx, hash)
		return err
	})
	return d
}

func testDeviceAuthorizations(t *testing.T, f *fixture) {
	d := f.deviceAuth("a")
	// Found by either code, never by anything else.
	if got := f.getDeviceAuth("dev-a"); got.ID != d.ID || got.Status != smartlic.DeviceAuthPending || got.UserID != "" || got.LastPolledAt != nil ||
		!got.ExpiresAt.Equal(d.ExpiresAt) || got.Interval != 5 || got.KeyName != "cli on host" {
		t.Fatalf("by device code: %+v", got)
	}
	if got := f.getDeviceAuth("user-a"); got.ID != d.ID {
		t.Fatalf("by user code: %+v", got)
	}
	wantErrCode(t, f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetDeviceAuthorization(ctx, d.ID)
		return err
	}), smartlic.ENotFound)
	// A code is unique.
	dup := d
	dup.ID, dup.DeviceCodeHash = newID(f.t), "dev-other"
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error { return tx.InsertDeviceAuthorization(ctx, dup) }), smartlic.EConflict)

	// Approve, then claim: each step only from the state before it.
	u := f.user("ada@example.com")
	polled := f.now.Add(time.Minute)
	d.Status, d.UserID, d.LastPolledAt, d.Interval = smartlic.DeviceAuthApproved, u.ID, &polled, 10
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.UpdateDeviceAuthorization(ctx, d, smartlic.DeviceAuthPending)
	})
	wantErrCode(t, f.writeErr(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.UpdateDeviceAuthorization(ctx, d, smartlic.DeviceAuthPending)
	}), smartlic.EConflict)
	got := f.getDeviceAuth("user-a")
	if got.Status != smartlic.DeviceAuthApproved || got.UserID != u.ID || got.Interval != 10 || got.LastPolledAt == nil || !got.LastPolledAt.Equal(polled) {
		t.Fatalf("approved: %+v", got)
	}

	// Expired ones are forgotten; live ones stay.
	f.deviceAuth("b")
	var n int64
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		var err error
		n, err = tx.DeleteDeviceAuthorizations(ctx, f.now.Add(10*time.Minute+time.Second))
		return err
	})
	if n != 2 {
		t.Fatalf("forgot %d, want 2", n)
	}
	wantErrCode(t, f.readErr(func(ctx context.Context, tx smartlic.Tx) error {
		_, err := tx.GetDeviceAuthorization(ctx, "dev-a")
		return err
	}), smartlic.ENotFound)
}

// testConcurrentDeviceAuthorizationClaim: of polls racing to hand out the
// key of one approved authorization, exactly one wins.
func testConcurrentDeviceAuthorizationClaim(t *testing.T, f *fixture) {
	d := f.deviceAuth("c")
	u := f.user("ada@example.com")
	d.Status, d.UserID = smartlic.DeviceAuthApproved, u.ID
	f.write(func(ctx context.Context, tx smartlic.Tx) error {
		return tx.UpdateDeviceAuthorization(ctx, d, smartlic.DeviceAuthPending)
	})
	var won atomic.Int64
	done := make(chan error, 8)
	for range 8 {
		claim := d
		claim.Status, claim.APIKeyID = smartlic.DeviceAuthUsed, newID(f.t)
		go func() {
			err := f.st.Write(f.ctx(), func(tx smartlic.Tx) error {
				return tx.UpdateDeviceAuthorization(f.ctx(), claim, smartlic.DeviceAuthApproved)
			})
			if err == nil {
				won.Add(1)
			} else if smartlic.ErrorCode(err) == smartlic.EConflict {
				err = nil
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if won.Load() != 1 {
		t.Fatalf("%d claims won, want 1", won.Load())
	}
}
