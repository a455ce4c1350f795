package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func insertType(tag string) func(smartlic.Tx) error {
	return func(tx smartlic.Tx) error {
		return tx.InsertLicenseType(context.Background(), smartlic.LicenseType{ID: "id-" + tag, Tag: tag, Name: tag, Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: time.Unix(0, 0)})
	}
}

func typeName(t *testing.T, db *store.DB, tag string) (string, bool) {
	t.Helper()
	var name string
	var found bool
	err := db.Read(t.Context(), func(tx smartlic.Tx) error {
		lt, err := tx.GetLicenseType(t.Context(), tag)
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return nil
		}
		name, found = lt.Name, err == nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return name, found
}

// TestChainBatchKeepsWritesApart: on PostgreSQL the writes of one event
// chain share a transaction, each under its own savepoint — one that fails
// or panics is undone alone and told so, one whose caller gave up never
// runs, later ones see what earlier ones did, and the rest commit.
func TestChainBatchKeepsWritesApart(t *testing.T) {
	db := storetest.OpenPostgres(t)
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	ranCancelled := false
	var sawFirst, sawFailing bool
	ctx := t.Context()
	got := store.ChainBatch(db, []context.Context{ctx, ctx, ctx, cancelled, ctx}, []func(smartlic.Tx) error{
		insertType("first"),
		func(tx smartlic.Tx) error {
			if err := insertType("failing")(tx); err != nil {
				return err
			}
			return boom
		},
		func(tx smartlic.Tx) error {
			if err := insertType("panicking")(tx); err != nil {
				return err
			}
			panic("oops")
		},
		func(tx smartlic.Tx) error {
			ranCancelled = true
			return insertType("gave-up")(tx)
		},
		func(tx smartlic.Tx) error {
			_, err := tx.GetLicenseType(context.Background(), "first")
			sawFirst = err == nil
			_, err = tx.GetLicenseType(context.Background(), "failing")
			sawFailing = err == nil
			return insertType("last")(tx)
		},
	})
	if got[0].Err != nil || got[4].Err != nil {
		t.Errorf("first %v, last %v: want both committed", got[0].Err, got[4].Err)
	}
	if !errors.Is(got[1].Err, boom) {
		t.Errorf("failing: %+v, want its own error", got[1])
	}
	if !got[2].Panicked || got[2].PanicVal != "oops" {
		t.Errorf("panicking: %+v, want its panic carried back", got[2])
	}
	if !errors.Is(got[3].Err, context.Canceled) || ranCancelled {
		t.Errorf("cancelled caller: %+v (ran: %v), want context.Canceled without running", got[3], ranCancelled)
	}
	if !sawFirst || sawFailing {
		t.Errorf("inside the batch, last saw first = %v (want true), failing = %v (want false)", sawFirst, sawFailing)
	}
	for tag, want := range map[string]bool{"first": true, "failing": false, "panicking": false, "gave-up": false, "last": true} {
		if _, ok := typeName(t, db, tag); ok != want {
			t.Errorf("after the batch, %q stored = %v, want %v", tag, ok, want)
		}
	}
}

// TestChainBatchLosesADeadlockAndRetries: a write of a batch that
// PostgreSQL picks as the victim of a deadlock with another transaction is
// rolled back to its savepoint, the rest of the batch commits, and the
// write runs again on its own and succeeds — its caller never sees the
// deadlock.
func TestChainBatchLosesADeadlockAndRetries(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	db := storetest.Open(t, dsn)
	for _, tag := range []string{"x", "y"} {
		if err := db.Write(t.Context(), insertType(tag)); err != nil {
			t.Fatal(err)
		}
	}
	raw := storetest.OpenRaw(t, dsn)
	other, err := raw.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// The other transaction waits long before it looks for deadlocks, so
	// the batch's session (1 s, the default) finds the cycle and loses.
	if _, err := other.ExecContext(t.Context(), "SET deadlock_timeout = '20s'"); err != nil {
		t.Fatal(err)
	}
	otx, err := other.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otx.ExecContext(t.Context(), "UPDATE license_types SET name = 'other' WHERE tag = 'y'"); err != nil {
		t.Fatal(err)
	}
	otherDone := make(chan error, 1)

	waiting := func() bool {
		var n int
		err := raw.QueryRowContext(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%tag = ''x''%'`).Scan(&n)
		return err == nil && n > 0
	}
	runs := 0
	ctx := t.Context()
	got := store.ChainBatch(db, []context.Context{ctx, ctx}, []func(smartlic.Tx) error{
		func(tx smartlic.Tx) error {
			if err := store.ExecIn(tx, "UPDATE license_types SET name = 'batch' WHERE tag = ?", "x"); err != nil {
				return err
			}
			// Now the other transaction wants x, held by this batch.
			go func() {
				_, err := otx.ExecContext(context.Background(), "UPDATE license_types SET name = 'other' WHERE tag = 'x'")
				if err == nil {
					err = otx.Commit()
				}
				otherDone <- err
			}()
			for deadline := time.Now().Add(30 * time.Second); !waiting(); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					return errors.New("the other transaction never waited for x")
				}
			}
			return nil
		},
		func(tx smartlic.Tx) error {
			runs++
			// Wants y, held by the other transaction, which waits for x:
			// a deadlock the first time; alone, after both committed, not.
			return store.ExecIn(tx, "UPDATE license_types SET name = 'batch' WHERE tag = ?", "y")
		},
	})
	if got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("batch writes told %v and %v; want both to succeed", got[0].Err, got[1].Err)
	}
	if err := <-otherDone; err != nil {
		t.Fatalf("the other transaction: %v", err)
	}
	if runs != 2 {
		t.Errorf("the deadlocked write ran %d times, want 2 (lost, then alone)", runs)
	}
	// x: the batch, then the other transaction after it; y: the other,
	// then the retried write.
	for tag, want := range map[string]string{"x": "other", "y": "batch"} {
		if name, _ := typeName(t, db, tag); name != want {
			t.Errorf("%s is named %q, want %q", tag, name, want)
		}
	}
}
