package manager

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// TestKeptCatalogLifetime: entries are kept for later ingestions while
// the store counts no catalogue change, not kept when a change was
// counted while they were read, and dropped once the oldest is
// keptCatalogFor old (the bound on a change made through another replica).
func TestKeptCatalogLifetime(t *testing.T) {
	var k keptCatalog
	c := k.start(7)
	if c.kept != nil {
		t.Fatal("a new manager keeps something")
	}
	c.products["p1"] = smartlic.Product{ID: "p1"}
	k.keep(c, 7)
	c2 := k.start(7)
	if _, ok := c2.keptProduct("p1"); !ok {
		t.Fatal("a product read by one ingestion is not kept for the next")
	}

	// A change counted while c2 read: what it read is not kept.
	c2.types["t1"] = smartlic.LicenseType{Tag: "t1"}
	k.keep(c2, 8)
	c3 := k.start(8)
	if _, ok := c3.keptType("t1"); ok {
		t.Error("what an ingestion read across a change was kept")
	}
	if _, ok := c3.keptProduct("p1"); ok {
		t.Error("what was read before a change is still served after it")
	}

	// Entries read long enough ago are dropped.
	c3.readAt = time.Now().Add(-keptCatalogFor - time.Millisecond)
	c3.products["p2"] = smartlic.Product{ID: "p2"}
	k.keep(c3, 8)
	if c4 := k.start(8); c4.kept != nil {
		t.Errorf("entries %v old are still kept", keptCatalogFor)
	}
}
