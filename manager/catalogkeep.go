package manager

import (
	"maps"
	"strings"
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
//   - dropped at once when this manager records a change to a product, a
//     license type, a policy or a Virtual Account (its event is recorded
//     in the changing transaction, so the next ingestion reads again);
//   - dropped keptCatalogFor after the oldest of them was read, which
//     bounds how long a change made through another replica, or one that
//     commits while an ingestion is reading, goes unseen here: reports
//     are then judged as if they had arrived that much earlier, which is
//     what the read before the write already did within a round.
const keptCatalogFor = time.Second

// maxKeptCatalog bounds the entries kept of each kind.
const maxKeptCatalog = 4096

// keptCatalog holds the latest snapshot; a snapshot's maps are never
// written once published, so ingestions read them without a lock.
type keptCatalog struct {
	mu   sync.Mutex
	gen  uint64 // counts the changes recorded
	snap *catalogSnapshot
}

type catalogSnapshot struct {
	at        time.Time // when its oldest entry was read (monotonic)
	types     map[string]smartlic.LicenseType
	products  map[string]smartlic.Product
	resolvers map[string]policyResolver
}

// start returns a catalogCache for one ingestion over what is kept, and
// the count of changes it starts after.
func (k *keptCatalog) start() (*catalogCache, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.snap != nil && time.Since(k.snap.at) >= keptCatalogFor {
		k.snap = nil
	}
	c := &catalogCache{types: map[string]smartlic.LicenseType{}, products: map[string]smartlic.Product{}, resolvers: map[string]policyResolver{},
		kept: k.snap, readAt: time.Now()}
	return c, k.gen
}

// keep adds what an ingestion read to what is kept, unless a change was
// recorded since it started (what it read may be from before it).
func (k *keptCatalog) keep(c *catalogCache, gen uint64) {
	if len(c.types)+len(c.products)+len(c.resolvers) == 0 {
		return // read nothing new
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gen != gen {
		return
	}
	next := &catalogSnapshot{at: c.readAt, types: map[string]smartlic.LicenseType{}, products: map[string]smartlic.Product{}, resolvers: map[string]policyResolver{}}
	if old := k.snap; old != nil && time.Since(old.at) < keptCatalogFor &&
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

// changed drops what is kept; record calls it for every event that
// changes what ingestion reads.
func (k *keptCatalog) changed() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	k.snap = nil
}

// changesCatalog says whether an event type is a change to what
// ingestion keeps: products, license types, policies, Virtual Accounts.
func changesCatalog(typ string) bool {
	for _, p := range []string{"product.", "license_type.", "policy.", "va."} {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
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
