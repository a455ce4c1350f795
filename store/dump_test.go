package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestDumpPlans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		plans, err := store.QueryPlans(t.Context(), open(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plans {
			fmt.Printf("---- %s\n  %s\n", strings.Join(strings.Fields(p.SQL), " "), strings.Join(p.Lines, "\n  "))
		}
	})
}
