package manager_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

// TestUsageIngestionStatements counts the statements ingestion runs, so
// that a query per report or per instance creeping back (N+1) fails here
// rather than only in the bench numbers: a report more costs at most its
// claim, and an instance more at most one, whatever the file's size.
func TestUsageIngestionStatements(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		db := open(t)
		clock := smartlic.NewFakeClock(epoch)
		mgr, err := manager.New(context.Background(), db, clock)
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{t: t, ctx: smartlic.WithActor(context.Background(), smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator}), mgr: mgr, clock: clock}
		f.catalog()
		sa := f.account("acme.example")
		tok := f.token(sa.Domain, smartlic.DefaultVAName, smartlic.TokenInput{})
		n := 0
		// statements ingests, as one file, reports reports from each of
		// instances new instances (every one's usage changes) and returns
		// how many statements that took.
		statements := func(instances, reports int) int64 {
			t.Helper()
			t0 := f.clock.Now()
			f.clock.Advance(time.Hour)
			var file smartlic.UsageFile
			file.Type = smartlic.FileTypeUsage
			for range instances {
				n++
				d := newDevice(t, fmt.Sprintf("STMT%04d", n))
				f.trust(d, tok)
				for r := range reports {
					end := t0.Add(time.Duration(r+1) * time.Minute)
					file.Reports = append(file.Reports, d.report(t, fmt.Sprintf("r%d", r), end,
						measure("network-advantage", int64(r+1), t0, end), measure("network-essentials", 2, t0, end)))
				}
			}
			before := db.Statements()
			ack := must[smartlic.AckFile](t)(f.mgr.ReportUsage(context.Background(), file))
			if ack.Summary.Accepted != instances*reports || len(ack.Acks) != instances {
				t.Fatalf("summary %+v, %d ACKs", ack.Summary, len(ack.Acks))
			}
			return db.Statements() - before
		}
		one := statements(1, 1)
		perReport := statements(1, 7) - one
		perInstance := statements(5, 1) - one
		t.Logf("statements: one report %d; 6 more reports of it +%d; 4 more instances +%d", one, perReport, perInstance)
		if perReport > 0 {
			t.Errorf("6 more reports of one instance cost %d more statements, want none (claims go in one statement)", perReport)
		}
		// Reading (and locking) the instances, their claims, marks,
		// SLACs, changed usage lines, reporting times, pool moves and
		// events share the batch's multi-row statements: an instance
		// more adds one only where a statement splits into another
		// chunk (five rows go as four and one).
		const perInstanceBudget = 1
		if perInstance > 4*perInstanceBudget {
			t.Errorf("4 more instances cost %d more statements, want at most %d each", perInstance, perInstanceBudget)
		}
	})
}
