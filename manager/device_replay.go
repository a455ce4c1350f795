package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// replayMemory is how long past its sent_at an accepted device request is
// remembered. checkFresh accepts it until sent_at + DeviceClockSkew by this
// replica's clock; another replica's clock, or the job that forgets
// requests, may run ahead of it, so the request is kept a second window.
const replayMemory = 2 * smartlic.DeviceClockSkew

// forgetBatch is how many expired requests one delete removes.
const forgetBatch = 5000

// once makes a verified device request single-use, inside the transaction
// that acts on it. The request is claimed by the hash of what it signed;
// act runs only for the first copy, and its answer payload is kept with
// the claim, so a second copy — a device retrying after a lost answer, or
// an attacker replaying a captured request — gets the same answer and
// changes nothing. For an instance, a request older than one it already had
// accepted is refused, so a captured request that never arrived cannot
// undo a later one (an older authorization setting usage back).
//
// The answer goes back as its payload, to be sealed after the transaction:
// Ed25519 signatures are deterministic, so sealing the same payload again
// gives the same bytes, and no signing happens on SQLite's single writer.
func once(ctx context.Context, tx smartlic.Tx, env smartlic.Envelope, instanceID string, sentAt time.Time, act func() (any, error)) (json.RawMessage, error) {
	r := smartlic.SeenRequest{Hash: requestHash(env), InstanceID: instanceID, SentAt: sentAt, ExpiresAt: sentAt.Add(replayMemory)}
	prior, ok, err := tx.ClaimDeviceRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		if prior.Answer == nil {
			// Claimed in this very transaction by a copy whose act
			// failed: cannot happen, since a failed act rolls back.
			return nil, smartlic.Errorf(smartlic.EConflict, "", "this request is being answered; retry")
		}
		return prior.Answer, nil
	}
	if instanceID != "" {
		newer, err := tx.NewerDeviceRequest(ctx, instanceID, sentAt)
		if err != nil {
			return nil, err
		}
		if newer {
			return nil, smartlic.Errorf(smartlic.EConflict, "sent_at",
				"a request this instance sent after %s was already accepted: requests are answered in the order they were sent, so an older one (a replay, or one delayed in transit) is refused",
				sentAt.UTC().Format(time.RFC3339Nano))
		}
	}
	payload, err := act()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, smartlic.Internal(err, "encoding the answer")
	}
	r.Answer = b
	if err := tx.AnswerDeviceRequest(ctx, r); err != nil {
		return nil, err
	}
	return b, nil
}

// requestHash identifies a signed request by what its signature covers.
func requestHash(env smartlic.Envelope) string {
	h := sha256.Sum256(sign.Message(env.Type, env.Payload))
	return hex.EncodeToString(h[:])
}

// checkNonce bounds a request's optional nonce.
func checkNonce(nonce string) error {
	if len(nonce) > smartlic.MaxNonceLength {
		return smartlic.Invalid("nonce", "at most %d characters (got %d)", smartlic.MaxNonceLength, len(nonce))
	}
	return nil
}

// ForgetDeviceRequests deletes the device requests whose window has
// closed: a copy of them is refused as stale by now. The background jobs
// call it.
func (m *Manager) ForgetDeviceRequests(ctx context.Context) (int64, error) {
	now := m.clock.Now()
	return m.deleteInBatches(ctx, func(tx smartlic.Tx) (int64, error) { return tx.ForgetDeviceRequests(ctx, now, forgetBatch) })
}

// deleteInBatches runs del, which deletes up to forgetBatch rows, in one
// write transaction after another until a run deletes fewer: a job that
// clears a backlog never holds SQLite's writer (or many PostgreSQL row
// locks) for long. It returns how many rows went.
func (m *Manager) deleteInBatches(ctx context.Context, del func(smartlic.Tx) (int64, error)) (int64, error) {
	var total int64
	for {
		var n int64
		err := m.st.Write(ctx, func(tx smartlic.Tx) error {
			var err error
			n, err = del(tx)
			return err
		})
		total += n
		if err != nil || n < forgetBatch {
			return total, err
		}
	}
}
