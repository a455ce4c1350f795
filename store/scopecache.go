package store

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/smartlic/smartlic"
)

// A rollout registers thousands of devices with one token and one PID, and
// every registration read the same token, Virtual Account, Smart Account
// and product again: on SQLite a query on a WAL reader that first re-reads
// the pages the last commit changed, about a tenth of a registration's CPU.
// scopeCache keeps what that read found for a moment.
//
// Serving a scope a moment old is safe because the writes check again
// what can change under it: the batch re-reads each token (revoked,
// expired, used up; a Virtual Account's deletion deletes its tokens) and
// takes its uses there, a Smart Account that is active stays active, and a
// token's Virtual Account and export permission never change. What a
// stale scope could still carry is a name in the ID certificate (a Virtual
// Account or Smart Account renamed, a product's PID changed or the product
// deleted): writes through this store that change them invalidate the
// cache when they commit (scopeChange), so only another replica's
// change is seen up to scopeTTL late.
type scopeCache struct {
	mu      sync.Mutex
	entries map[scopeKey]scopeEntry
	// gen moves when a write that changes a scope commits; an entry read
	// under an older gen is not served.
	gen atomic.Uint64
}

type scopeKey struct{ tokenHash, pid string }

type scopeEntry struct {
	scope smartlic.RegistrationScope
	gen   uint64
	at    time.Time
}

const (
	// scopeTTL bounds how late another replica's rename reaches this
	// one's ID certificates.
	scopeTTL = time.Second
	// maxScopes bounds the cache: a rollout uses a few tokens at a time.
	maxScopes = 1024
)

// get returns the scope read for key, if it is fresh.
func (c *scopeCache) get(key scopeKey) (smartlic.RegistrationScope, bool) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.gen != c.gen.Load() || time.Since(e.at) >= scopeTTL {
		return smartlic.RegistrationScope{}, false
	}
	s := e.scope
	if s.Token.MaxUses != nil {
		m := *s.Token.MaxUses // the caller's own
		s.Token.MaxUses = &m
	}
	return s, true
}

// put keeps s, read at readAt after gen was observed as gen. A write that
// committed since then may have changed what s says, so s is then dropped.
func (c *scopeCache) put(key scopeKey, s smartlic.RegistrationScope, gen uint64, readAt time.Time) {
	if s.Token.MaxUses != nil {
		m := *s.Token.MaxUses
		s.Token.MaxUses = &m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Load() {
		return
	}
	if c.entries == nil || len(c.entries) >= maxScopes {
		c.entries = make(map[scopeKey]scopeEntry)
	}
	c.entries[key] = scopeEntry{scope: s, gen: gen, at: readAt}
}

// drop forgets the scopes of the token with this hash: the write found it
// unusable, so a later registration should read why.
func (c *scopeCache) drop(tokenHash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if k.tokenHash == tokenHash {
			delete(c.entries, k)
		}
	}
}

// invalidate makes every scope read so far stale. It is called after the
// commit of a write that changed one: a read that began before the commit
// may have seen the old rows, and put refuses it since gen moved.
func (c *scopeCache) invalidate() { c.gen.Add(1) }

// changeKinds are the kinds of rows kept between transactions that a
// transaction changed.
type changeKinds uint8

const (
	// scopeChange: a token, Virtual Account, Smart Account or product a
	// registration scope holds.
	scopeChange changeKinds = 1 << iota
	// catalogChange: a product, license type, policy or Virtual Account,
	// which usage ingestion keeps (manager/catalogkeep.go).
	catalogChange
)

// committed invalidates what t changed; called once t's transaction has
// committed.
func (t *tx) committed() {
	if t.changes&scopeChange != 0 {
		t.db.scopes.invalidate()
	}
	if t.changes&catalogChange != 0 {
		t.db.catalogChanges.Add(1)
	}
}

// CatalogChanges counts the committed writes through this store that
// changed a product, a license type, a policy or a Virtual Account. A
// cache of those rows read after the count was n is current while it is
// still n; another replica's writes are not counted.
func (db *DB) CatalogChanges() uint64 { return db.catalogChanges.Load() }
