package store_test

import (
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestSLAC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		storetest.RunSLAC(t, func(t *testing.T) smartlic.Store { return open(t) })
	})
}
