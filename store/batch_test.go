package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
)

// These tests drive the SQLite committer's batch by hand: the requests
// are queued before the batch starts, so they are certain to share one
// transaction, which the concurrent conformance test only makes likely.

func openBatchTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "batch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if db.commits == nil {
		t.Fatal("SQLite store has no group commit")
	}
	return db
}

// queued returns a committer over db whose queue already holds reqs. Its
// loop is not running: the test calls batch itself.
func queued(db *DB, reqs ...*writeReq) *committer {
	c := &committer{db: db, reqs: make(chan *writeReq, len(reqs)), ckpt: db.commits.ckpt}
	for _, r := range reqs {
		c.reqs <- r
	}
	return c
}

func newReq(ctx context.Context, fn func(smartlic.Tx) error) *writeReq {
	return &writeReq{ctx: ctx, fn: fn, out: make(chan writeResult, 1)}
}

func insertType(tag string) func(smartlic.Tx) error {
	return func(tx smartlic.Tx) error {
		return tx.InsertLicenseType(context.Background(), smartlic.LicenseType{ID: "id-" + tag, Tag: tag, Name: tag, Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced, CreatedAt: time.Unix(0, 0)})
	}
}

// insertThenFail inserts a license type and then fails with err.
func insertThenFail(tag string, err error) func(smartlic.Tx) error {
	return func(tx smartlic.Tx) error {
		if ierr := insertType(tag)(tx); ierr != nil {
			return ierr
		}
		return err
	}
}

// insertThenPanic inserts a license type and then panics with "oops".
func insertThenPanic(tag string) func(smartlic.Tx) error {
	return func(tx smartlic.Tx) error {
		if err := insertType(tag)(tx); err != nil {
			return err
		}
		panic("oops")
	}
}

func exists(t *testing.T, db *DB, tag string) bool {
	t.Helper()
	var found bool
	err := db.Read(t.Context(), func(tx smartlic.Tx) error {
		_, err := tx.GetLicenseType(t.Context(), tag)
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestBatchKeepsWritesApart(t *testing.T) {
	db := openBatchTestDB(t)
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	ranCancelled := false

	first := newReq(t.Context(), insertType("first"))
	failing := newReq(t.Context(), insertThenFail("failing", boom))
	panicking := newReq(t.Context(), insertThenPanic("panicking"))
	gaveUp := newReq(cancelled, func(tx smartlic.Tx) error {
		ranCancelled = true
		return insertType("gave-up")(tx)
	})
	// It sees what the writes before it in the batch did, as it would
	// have after their commits.
	var sawFirst, sawFailing bool
	last := newReq(t.Context(), func(tx smartlic.Tx) error {
		_, err := tx.GetLicenseType(context.Background(), "first")
		sawFirst = err == nil
		_, err = tx.GetLicenseType(context.Background(), "failing")
		sawFailing = err == nil
		return insertType("last")(tx)
	})

	queued(db, failing, panicking, gaveUp, last).batch(first)

	if res := <-first.out; res.err != nil || res.panicked {
		t.Errorf("first: %+v, want success", res)
	}
	if res := <-failing.out; !errors.Is(res.err, boom) {
		t.Errorf("failing: %+v, want its own error", res)
	}
	if res := <-panicking.out; !res.panicked || res.panicVal != "oops" {
		t.Errorf("panicking: %+v, want its panic carried back", res)
	}
	if res := <-gaveUp.out; !errors.Is(res.err, context.Canceled) {
		t.Errorf("cancelled caller: %+v, want context.Canceled", res)
	}
	if ranCancelled {
		t.Error("the fn of a caller that had given up ran")
	}
	if res := <-last.out; res.err != nil || res.panicked {
		t.Errorf("last: %+v, want success", res)
	}
	if !sawFirst || sawFailing {
		t.Errorf("inside the batch, last saw first = %v (want true), failing = %v (want false)", sawFirst, sawFailing)
	}
	for tag, want := range map[string]bool{"first": true, "failing": false, "panicking": false, "gave-up": false, "last": true} {
		if got := exists(t, db, tag); got != want {
			t.Errorf("after the batch, %q stored = %v, want %v", tag, got, want)
		}
	}
}

// TestBatchFirstWriteFails: the first write of a batch runs without a
// savepoint, so its failure rolls the whole transaction back; the writers
// queued behind it must still be written, each on its own terms, and
// nothing of the failed ones kept.
func TestBatchFirstWriteFails(t *testing.T) {
	db := openBatchTestDB(t)
	boom := errors.New("boom")
	failing := newReq(t.Context(), insertThenFail("failing", boom))
	panicking := newReq(t.Context(), insertThenPanic("panicking"))
	good := newReq(t.Context(), insertType("good"))
	alsoFailing := newReq(t.Context(), insertThenFail("also-failing", boom))
	after := newReq(t.Context(), insertType("after"))

	queued(db, panicking, good, alsoFailing, after).batch(failing)

	if res := <-failing.out; !errors.Is(res.err, boom) {
		t.Errorf("failing: %+v, want its own error", res)
	}
	if res := <-panicking.out; !res.panicked || res.panicVal != "oops" {
		t.Errorf("panicking: %+v, want its panic carried back", res)
	}
	if res := <-alsoFailing.out; !errors.Is(res.err, boom) {
		t.Errorf("alsoFailing: %+v, want its own error", res)
	}
	for name, r := range map[string]*writeReq{"good": good, "after": after} {
		if res := <-r.out; res.err != nil || res.panicked {
			t.Errorf("%s: %+v, want success", name, res)
		}
	}
	for tag, want := range map[string]bool{"failing": false, "panicking": false, "good": true, "also-failing": false, "after": true} {
		if got := exists(t, db, tag); got != want {
			t.Errorf("after the batch, %q stored = %v, want %v", tag, got, want)
		}
	}
}

// TestBatchFailedCommitFailsEveryWrite makes the COMMIT itself fail (a
// deferred foreign key that is still broken): every write of the batch
// must hear so, and none of them may be stored.
func TestBatchFailedCommitFailsEveryWrite(t *testing.T) {
	db := openBatchTestDB(t)
	good := newReq(t.Context(), insertType("good"))
	breaksCommit := newReq(t.Context(), func(stx smartlic.Tx) error {
		tx := stx.(*tx)
		if _, err := tx.execBuilt(context.Background(), "PRAGMA defer_foreign_keys = ON"); err != nil {
			return err
		}
		_, err := tx.execBuilt(context.Background(), "INSERT INTO virtual_accounts (id, smart_account_id, parent_id, name, description, depth, created_at) VALUES ('va', 'no-such-account', NULL, 'X', '', 1, 0)")
		return err
	})

	queued(db, breaksCommit).batch(good)

	for name, r := range map[string]*writeReq{"good": good, "breaksCommit": breaksCommit} {
		if res := <-r.out; res.err == nil || smartlic.ErrorCode(res.err) != smartlic.EInternal {
			t.Errorf("%s: %+v, want an internal error from the failed commit", name, res)
		}
	}
	if exists(t, db, "good") {
		t.Error("a write of a batch whose commit failed was stored")
	}
	// The writer connection is usable again.
	if err := db.Write(t.Context(), insertType("after")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	err = db.Write(t.Context(), insertType("late"))
	if !errors.Is(err, errClosed) {
		t.Errorf("Write after Close: %v, want errClosed", err)
	}
}

// TestWALStaysBounded writes one small transaction after another, far
// more WAL pages than walRestartFrames, with SQLite's own checkpoint off:
// the store's checkpoints must keep the WAL file from growing with them,
// also when the background checkpoints never get to run (a machine whose
// cores are busy elsewhere), which the second case forces by stopping them.
func TestWALStaysBounded(t *testing.T) {
	for _, starved := range []bool{false, true} {
		t.Run(fmt.Sprintf("background_stopped=%v", starved), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "wal.db")
			db, err := Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if starved {
				db.commits.ckpt.close()
			}
			const writes = 6000 // each dirties at least the table's and the index's leaf
			for i := range writes {
				if err := db.Write(t.Context(), insertType(fmt.Sprintf("t%05d", i))); err != nil {
					t.Fatal(err)
				}
			}
			info, err := os.Stat(path + "-wal")
			if err != nil {
				t.Fatal(err)
			}
			// Without checkpoints the WAL would hold at least 2 pages per
			// write. A WAL file is a 32-byte header and frames of a 24-byte
			// header and a page each; the bound is 2 × walRestartFrames
			// frames (not pages alone: a WAL just past walRestartFrames
			// pages measured 5 frames over a pages-only bound).
			const pageSize, frameHeader, walHeader = 4096, 24, 32
			if limit := int64(walHeader + 2*walRestartFrames*(pageSize+frameHeader)); info.Size() > limit {
				t.Errorf("WAL is %d bytes after %d writes, want at most %d: checkpoints are not keeping up", info.Size(), writes, limit)
			}
			if got := exists(t, db, "t05999"); !got {
				t.Error("the last write is not readable")
			}
		})
	}
}
