package manager

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Key rotation. Every replica holds a keyring loaded from the store; the
// ring is replaced whole, so a request sees one consistent set. A replica
// learns of a key another one added in two ways: a document whose kid it
// does not know makes it reload (at most once per minKeyReload, so forged
// kids cannot turn into a query each), and serve refreshes every replica's
// ring periodically, which is how a replica starts signing with the new key.

// minKeyReload is the least time between two reloads caused by unknown kids.
const minKeyReload = time.Second

// DefaultKeyGrace is how long a rotated-out key keeps verifying. It is
// longer than the longest-lived document the manager signs (ID
// certificates, 365 days) plus a renewal window, so that nothing signed
// just before a rotation is refused while it is still meant to be valid.
const DefaultKeyGrace = 400 * 24 * time.Hour

// keyring is one load of the signing keys.
type keyring struct {
	signer smartlic.SigningKey            // newest active key; signs everything
	keys   map[string]smartlic.SigningKey // public halves, by kid, retired ones included
	// private halves of the keys that were active at load, which sign the
	// key rollover documents (and nothing else but the signer's).
	private map[string]ed25519.PrivateKey
}

// keyState is the Manager's view of its signing keys.
type keyState struct {
	ring atomic.Pointer[keyring]
	// mu serialises reloads; last is when the latest one ran (manager clock).
	mu      sync.Mutex
	last    time.Time
	reloads atomic.Int64
}

func newKeyring(keys []smartlic.SigningKey, now time.Time) (*keyring, error) {
	r := &keyring{keys: make(map[string]smartlic.SigningKey, len(keys)), private: map[string]ed25519.PrivateKey{}}
	// The signer is the last active key in this order: a key that is not
	// retiring after one that is (a rotation retires all but the new key,
	// whatever the clocks of the replicas say), then the newest, then the
	// greater id, so that every replica picks the same one.
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if (a.RetiresAt == nil) != (b.RetiresAt == nil) {
			return a.RetiresAt != nil
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	for _, k := range keys {
		priv := k.PrivateKey
		k.PrivateKey = nil
		r.keys[k.ID] = k
		if k.ActiveAt(now) {
			r.signer = k
			r.signer.PrivateKey = priv
			if len(priv) == ed25519.PrivateKeySize {
				r.private[k.ID] = ed25519.PrivateKey(priv)
			}
		}
	}
	if r.signer.ID == "" {
		return nil, fmt.Errorf("no active signing key: every stored key has retired (run smartlic admin rotate-key)")
	}
	if len(r.signer.PrivateKey) != ed25519.PrivateKeySize {
		// A store opened without the secret key reads a sealed private key
		// as missing.
		return nil, fmt.Errorf("signing key %s has no usable private key (is it encrypted at rest? %s)", r.signer.ID,
			"pass --secret-key-file or set SMARTLIC_SECRET_KEY_FILE")
	}
	return r, nil
}

// reloadKeys reads the keys again unless a reload ran less than minGap
// ago; either way it returns the ring to use.
func (m *Manager) reloadKeys(ctx context.Context, minGap time.Duration) (*keyring, error) {
	m.ks.mu.Lock()
	defer m.ks.mu.Unlock()
	now := m.clock.Now()
	if cur := m.ks.ring.Load(); cur != nil && now.Sub(m.ks.last) < minGap {
		return cur, nil
	}
	m.ks.last = now
	m.ks.reloads.Add(1)
	keys, err := m.loadKeys(ctx)
	if err != nil {
		return nil, err
	}
	r, err := newKeyring(keys, now)
	if err != nil {
		return nil, err
	}
	m.ks.ring.Store(r)
	return r, nil
}

// RefreshKeys reloads the signing keys now, so that a key rotated in by
// another process (or replica) signs from here on.
func (m *Manager) RefreshKeys(ctx context.Context) error {
	_, err := m.reloadKeys(ctx, 0)
	return err
}

// KeepKeysFresh refreshes the keys every interval until ctx ends. Every
// replica runs it (unlike the jobs, which run on the elected one). A
// failed refresh keeps the ring it had and is reported to onErr.
func (m *Manager) KeepKeysFresh(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.RefreshKeys(ctx); err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// signer is the key that signs now.
func (m *Manager) signer() smartlic.SigningKey { return m.ks.ring.Load().signer }

// verifyingKeys is the key set to open env with: the active keys, after a
// rate-limited reload when env names a kid this replica has not seen. A
// retired key is refused by name, so the operator sees why.
func (m *Manager) verifyingKeys(ctx context.Context, env smartlic.Envelope) (sign.KeySet, error) {
	r := m.ks.ring.Load()
	if _, ok := r.keys[env.KeyID]; !ok {
		var err error
		if r, err = m.reloadKeys(ctx, minKeyReload); err != nil {
			return nil, err
		}
	}
	now := m.clock.Now()
	if k, ok := r.keys[env.KeyID]; ok && !k.ActiveAt(now) {
		return nil, smartlic.Errorf(smartlic.ESignature, "kid", "signing key %q retired at %s; documents it signed are no longer accepted",
			env.KeyID, k.RetiresAt.UTC().Format(time.RFC3339))
	}
	return sign.NewKeySet(activeKeys(r, now)), nil
}

func activeKeys(r *keyring, now time.Time) []smartlic.SigningKey {
	out := make([]smartlic.SigningKey, 0, len(r.keys))
	for _, k := range r.keys {
		if k.ActiveAt(now) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

// PublicKeys returns the manager's verification keys that are still
// active, oldest first; a rotated-out key carries its retirement time. The
// set is at most minKeyReload older than the store, so a device that meets
// a new kid and asks again finds it on any replica.
func (m *Manager) PublicKeys(ctx context.Context) (smartlic.PublicKeySet, error) {
	r, err := m.reloadKeys(ctx, minKeyReload)
	if err != nil {
		return smartlic.PublicKeySet{}, err
	}
	now := m.clock.Now()
	return rolloverSet(r, activeKeys(r, now), now)
}

// rolloverSet publishes keys with a KeyRollover document of them signed by
// each: a device that pinned any of them can follow a rotation by itself
// (see docs/protocols.md, "Signing key rollover").
func rolloverSet(r *keyring, keys []smartlic.SigningKey, now time.Time) (smartlic.PublicKeySet, error) {
	set := smartlic.PublicKeySet{Keys: keys}
	doc := smartlic.KeyRollover{Keys: keys, IssuedAt: now}
	for _, k := range keys {
		priv, ok := r.private[k.ID]
		if !ok {
			continue
		}
		env, err := sign.Seal(smartlic.TypeKeyRollover, k.ID, priv, doc)
		if err != nil {
			return set, smartlic.Internal(err, "signing the key rollover")
		}
		set.Rollover = append(set.Rollover, env)
	}
	return set, nil
}

// RotateKey adds a new signing key, which signs from now on, and retires
// every older key at now+grace: until then they still verify. A zero grace
// retires them at once (after a leak). Other replicas pick the key up on
// their next refresh, or at once when they meet its kid.
func (m *Manager) RotateKey(ctx context.Context, grace time.Duration) (smartlic.SigningKey, error) {
	if grace < 0 {
		return smartlic.SigningKey{}, smartlic.Invalid("grace", "must not be negative (got %s)", grace)
	}
	// The store keeps microseconds; so does the time reported.
	now := m.clock.Now().Truncate(time.Microsecond)
	k, err := sign.NewKey(now)
	if err != nil {
		return smartlic.SigningKey{}, smartlic.Internal(err, "making a signing key")
	}
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := tx.InsertSigningKey(ctx, k); err != nil {
			return err
		}
		_, err := tx.RetireSigningKeys(ctx, k.ID, now.Add(grace))
		return err
	})
	if err != nil {
		return smartlic.SigningKey{}, fmt.Errorf("rotate signing key: %w", err)
	}
	if err := m.RefreshKeys(ctx); err != nil {
		return smartlic.SigningKey{}, err
	}
	k.PrivateKey = nil
	return k, nil
}

// currentKeys is the active key set as this replica last loaded it,
// without a reload: for checks made inside a transaction, where a reload
// would need a read of its own.
func (m *Manager) currentKeys() sign.KeySet {
	return sign.NewKeySet(activeKeys(m.ks.ring.Load(), m.clock.Now()))
}

// currentPublicKeys is currentKeys as published.
func (m *Manager) currentPublicKeys() smartlic.PublicKeySet {
	return smartlic.PublicKeySet{Keys: activeKeys(m.ks.ring.Load(), m.clock.Now())}
}
