package store_test

import (
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestReservations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		storetest.RunReservations(t, func(t *testing.T) smartlic.Store { return open(t) })
	})
}
