package manager

import (
	"maps"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
)

// What usage ingestion reads of the catalogue and the policies is kept
// between ingestions. Every round of online reports looks up its
// instances' products, their license types and their accounts' policy
// trees; on SQLite each round's read transaction starts cold (a commit by
// the writer empties a reader's page cache), so those few statements cost
// about as much as reading the instances themselves, for rows that almost
// never change. Kept entries are:
//
//   - used only while the store counts no committed change to a product,
//     a license type, a policy or a Virtual Account since before they
//     were read (store.DB.CatalogChanges), so a change made through this
//     server is seen by the next ingestion;
//   - dropped keptCatalogFor after the oldest of them was read, which
//     bounds how long a change made through another replica goes unseen
//     here: reports are then judged as if they had arrived that much
//     earlier, as the read before the write already did within a round.
const keptCatalogFor = time.Second

// maxKeptCatalog bounds the entries kept of each kind.
const maxKeptCatalog = 4096

// keptCatalog holds the latest snapshot; a snapshot's maps are never
// written once published, so ingestions read them without a lock.
type keptCatalog struct {
	mu   sync.Mutex
	snap *catalogSnapshot
}

type catalogSnapshot struct {
	changes   uint64    // the store's count of catalogue changes it was read after
	at        time.Time // when its oldest entry was read (monotonic)
	types     map[string]smartlic.LicenseType
	products  map[string]smartlic.Product
	resolvers map[string]policyResolver
}

// catalogChanges is the store's count of committed catalogue changes;
// ok is false for a store that does not count them, which keeps nothing.
func catalogChanges(st smartlic.Store) (n uint64, ok bool) {
	s, ok := st.(interface{ CatalogChanges() uint64 })
	if !ok {
		return 0, false
	}
	return s.CatalogChanges(), true
}

// start returns a catalogCache for one ingestion, begun when the store's
// count of catalogue changes is changes, over what is kept if that is
// still current.
func (k *keptCatalog) start(changes uint64) *catalogCache {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.snap; s != nil && (s.changes != changes || time.Since(s.at) >= keptCatalogFor) {
		k.snap = nil
	}
	return &catalogCache{types: map[string]smartlic.LicenseType{}, products: map[string]smartlic.Product{}, resolvers: map[string]policyResolver{},
		kept: k.snap, changes: changes, readAt: time.Now()}
}

// keep adds what an ingestion read to what is kept, unless the store
// counts a change since it started (what it read may be from before it).
func (k *keptCatalog) keep(c *catalogCache, changes uint64) {
	if len(c.types)+len(c.products)+len(c.resolvers) == 0 || changes != c.changes {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	next := &catalogSnapshot{changes: changes, at: c.readAt,
		types: map[string]smartlic.LicenseType{}, products: map[string]smartlic.Product{}, resolvers: map[string]policyResolver{}}
	if old := k.snap; old != nil && old.changes == changes && time.Since(old.at) < keptCatalogFor &&
		len(old.types) < maxKeptCatalog && len(old.products) < maxKeptCatalog && len(old.resolvers) < maxKeptCatalog {
		if old.at.Before(next.at) {
			next.at = old.at
		}
		next.types, next.products, next.resolvers = maps.Clone(old.types), maps.Clone(old.products), maps.Clone(old.resolvers)
	}
	maps.Copy(next.types, c.types)
	maps.Copy(next.products, c.products)
	maps.Copy(next.resolvers, c.resolvers)
	k.snap = next
}

func (c *catalogCache) keptType(tag string) (smartlic.LicenseType, bool) {
	return ownOrKept(c.types, c.kept, func(s *catalogSnapshot) map[string]smartlic.LicenseType { return s.types }, tag)
}

func (c *catalogCache) keptProduct(id string) (smartlic.Product, bool) {
	return ownOrKept(c.products, c.kept, func(s *catalogSnapshot) map[string]smartlic.Product { return s.products }, id)
}

func (c *catalogCache) keptResolver(saID string) (policyResolver, bool) {
	return ownOrKept(c.resolvers, c.kept, func(s *catalogSnapshot) map[string]policyResolver { return s.resolvers }, saID)
}

// ownOrKept looks key up in what this ingestion read, then in what is
// kept.
func ownOrKept[V any](own map[string]V, kept *catalogSnapshot, of func(*catalogSnapshot) map[string]V, key string) (V, bool) {
	if v, ok := own[key]; ok {
		return v, true
	}
	if kept != nil {
		v, ok := of(kept)[key]
		return v, ok
	}
	var zero V
	return zero, false
}
