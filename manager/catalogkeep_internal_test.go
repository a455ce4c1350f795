package manager

import (
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// TestKeptCatalogLifetime: entries are kept for later ingestions, not
// kept when a change was recorded while they were read, and dropped once
// the oldest is keptCatalogFor old (the bound on a change made elsewhere).
func TestKeptCatalogLifetime(t *testing.T) {
	var k keptCatalog
	c, gen := k.start()
	if c.kept != nil {
		t.Fatal("a new manager keeps something")
	}
	c.products["p1"] = smartlic.Product{ID: "p1"}
	k.keep(c, gen)
	c2, gen2 := k.start()
	if _, ok := c2.keptProduct("p1"); !ok {
		t.Fatal("a product read by one ingestion is not kept for the next")
	}

	// A change recorded while c2 read: what it read is not kept, and
	// what was kept before is gone.
	c2.types["t1"] = smartlic.LicenseType{Tag: "t1"}
	k.changed()
	k.keep(c2, gen2)
	c3, gen3 := k.start()
	if _, ok := c3.keptType("t1"); ok {
		t.Error("what an ingestion read across a change was kept")
	}
	if _, ok := c3.keptProduct("p1"); ok {
		t.Error("a change did not drop what was kept")
	}

	// Entries read long enough ago are dropped.
	c3.readAt = time.Now().Add(-keptCatalogFor - time.Millisecond)
	c3.products["p2"] = smartlic.Product{ID: "p2"}
	k.keep(c3, gen3)
	if c4, _ := k.start(); c4.kept != nil {
		t.Errorf("entries %v old are still kept", keptCatalogFor)
	}
}
