// Package manager is the license manager (the seed's CSSM): it implements
// the smartlic services over a Store, a Clock and the signing keys. Rules
// live here; SQL lives in the store; HTTP lives in httpapi.
package manager

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/notify"
	"github.com/smartlic/smartlic/sign"
)

// Manager implements every smartlic service.
type Manager struct {
	st    smartlic.Store
	clock smartlic.Clock
	ks    keyState // signing keys (signingkeys.go)
	// webhooks decides which webhook URLs may be saved; the sender
	// enforces the same policy again when it dials.
	webhooks notify.DestinationPolicy
	// argonRuns counts password checks, each one argon2 run: a sign-in
	// must cost one whether or not the user exists (see Login).
	argonRuns atomic.Int64
	// views keeps computed license views between changes (viewcache.go).
	views viewCache
	// catalog keeps what usage ingestion reads of the catalogue and the
	// policies between ingestions (catalogkeep.go).
	catalog keptCatalog
	// combiner folds concurrent online usage reports into one ingestion
	// (usagecombine.go).
	combiner usageCombiner
}

// Option configures a Manager.
type Option func(*Manager)

// WithWebhookPolicy sets which destinations webhooks may be saved with
// (default: public addresses only). Pass the policy the webhook sender
// dials with, so that what is saved can also be delivered.
func WithWebhookPolicy(p notify.DestinationPolicy) Option {
	return func(m *Manager) { m.webhooks = p }
}

var (
	_ smartlic.CatalogService  = (*Manager)(nil)
	_ smartlic.AccountService  = (*Manager)(nil)
	_ smartlic.LicenseService  = (*Manager)(nil)
	_ smartlic.TokenService    = (*Manager)(nil)
	_ smartlic.InstanceService = (*Manager)(nil)
	_ smartlic.DeviceService   = (*Manager)(nil)
	_ smartlic.AuthService     = (*Manager)(nil)
)

// New returns a Manager over st. On first start it generates the signing
// key and persists it; every later start (and every replica) uses the
// stored keys.
func New(ctx context.Context, st smartlic.Store, clock smartlic.Clock, opts ...Option) (*Manager, error) {
	if clock == nil {
		clock = smartlic.SystemClock{}
	}
	m := &Manager{st: st, clock: clock}
	for _, o := range opts {
		o(m)
	}
	keys, err := m.loadKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		k, err := sign.NewKey(clock.Now())
		if err != nil {
			return nil, err
		}
		err = st.Write(ctx, func(tx smartlic.Tx) error { return tx.InsertSigningKey(ctx, k) })
		// A replica starting at the same moment may have won; its key is as good.
		if err != nil && smartlic.ErrorCode(err) != smartlic.EConflict {
			return nil, fmt.Errorf("store signing key: %w", err)
		}
		if keys, err = m.loadKeys(ctx); err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("signing key vanished after insert")
		}
	}
	r, err := newKeyring(keys, clock.Now())
	if err != nil {
		return nil, err
	}
	m.ks.ring.Store(r)
	m.ks.last = clock.Now()
	return m, nil
}

func (m *Manager) loadKeys(ctx context.Context) ([]smartlic.SigningKey, error) {
	var keys []smartlic.SigningKey
	err := m.st.Read(ctx, func(tx smartlic.Tx) error {
		var err error
		keys, err = tx.ListSigningKeys(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	return keys, nil
}

// Clock returns the manager's clock (the demo seeder and tests share it).
func (m *Manager) Clock() smartlic.Clock { return m.clock }

// newID returns a time-ordered id, so that ordering by id is creation order
// and a page cursor is simply the last id seen.
func newID() string {
	// NewV7 fails only when crypto/rand does, and since Go 1.24
	// crypto/rand.Read never returns an error (it aborts the program).
	id, _ := uuid.NewV7()
	return id.String()
}

// newSecret returns a random secret with a recognisable prefix, so that a
// leaked one is easy to spot in logs and scanners.
func newSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", smartlic.Internal(err, "generating a secret")
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret hashes a high-entropy secret for storage and lookup. A fast
// hash is right here: the secrets are 256-bit random, so there is nothing to
// brute-force, and lookups must be O(1) by hash.
func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// fetchPage asks the store for one row more than the caller wants, so that
// the answer knows whether a next page exists without a second query.
func fetchPage(p smartlic.Page) (smartlic.Page, error) {
	return fetchOneMore(p.Normalize())
}

// fetchSeqPage is fetchPage for a list whose cursor is a sequence number.
func fetchSeqPage(p smartlic.Page) (smartlic.Page, error) {
	return fetchOneMore(p.NormalizeSeq())
}

func fetchOneMore(p smartlic.Page, err error) (smartlic.Page, error) {
	if err != nil {
		return p, err
	}
	p.Limit++
	return p, nil
}

// cutPage trims the extra row fetchPage asked for and returns the cursor of
// the next page, "" on the last.
func cutPage[T any](p smartlic.Page, items []T, id func(T) string) ([]T, string) {
	want := p.Limit - 1
	if len(items) <= want {
		return items, ""
	}
	items = items[:want]
	return items, id(items[want-1])
}

func formatSeq(n int64) string { return strconv.FormatInt(n, 10) }
