package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/smartlic/smartlic"
)

// maxBatch bounds how many writes share one SQLite commit, so that a
// steady stream of writers still sees its commits at a steady pace.
const maxBatch = 64

// errClosed answers a Write that arrives after Close.
var errClosed = errors.New("store: closed")

// committer is SQLite's group commit. SQLite has one writer, and most of
// the cost of a small write transaction is its COMMIT: every page the
// transaction dirtied is written to the WAL again, and a registration
// dirties a dozen pages (the instance and its indexes, the event and its
// indexes, the chain head, the token) that the next registration dirties
// too. So the single writer goroutine keeps its transaction open while
// other writers are waiting, runs each one's fn under a SAVEPOINT of its
// own, and commits them together: shared pages go to the WAL once per
// batch. Each Write still behaves as its own transaction: a fn that fails
// (or panics) is rolled back to its savepoint and changes nothing, and no
// caller hears "committed" before the COMMIT that holds its changes.
//
// The first fn of a batch runs without a savepoint: there is nothing
// before it to keep, so when it fails the whole transaction is rolled
// back and the batch starts again with the next writer. A savepoint is not
// free: SQLite copies every page a write touches under one to its
// sub-journal first, and at moderate load the first fn is often the only
// one (a batch of registrations, say).
//
// The writers wait on an unbuffered channel, so the queue is exactly the
// goroutines blocked in Write, and one that gives up (its context ends)
// before the writer takes it is gone without a trace.
type committer struct {
	db   *DB
	reqs chan *writeReq
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// ckpt runs the WAL checkpoints in the background.
	ckpt *checkpointer
}

// writeReq is one Write waiting for the committer.
type writeReq struct {
	ctx context.Context
	fn  func(smartlic.Tx) error
	out chan writeResult // buffered: the committer never waits for the caller
}

// writeResult is what the committer tells a writer. A panic in fn is
// carried back and raised again in the caller's goroutine, where it would
// have happened without group commit.
type writeResult struct {
	err      error
	panicked bool
	panicVal any
}

func startCommitter(db *DB) *committer {
	c := &committer{db: db, reqs: make(chan *writeReq), stop: make(chan struct{}), done: make(chan struct{}), ckpt: startCheckpointer(db)}
	go c.loop()
	return c
}

// close stops the committer after the batch in progress, if any. Writes
// arriving later get errClosed. Closing twice is harmless.
func (c *committer) close() {
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		c.ckpt.close()
	})
}

// write hands fn to the committer and waits for its outcome. Once taken,
// a write is always answered, even when ctx ends meanwhile: walking away
// could leave a caller believing a change failed that in fact committed.
func (c *committer) write(ctx context.Context, fn func(smartlic.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, out: make(chan writeResult, 1)}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		return smartlic.Internal(ctx.Err(), "waiting for the database writer")
	case <-c.stop:
		return smartlic.Internal(errClosed, "writing")
	}
	res := <-r.out
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		select {
		case r := <-c.reqs:
			c.batch(r)
		case <-c.stop:
			return
		}
	}
}

// batch runs first and every writer that is waiting meanwhile, up to
// maxBatch, in one transaction, and answers them after its COMMIT.
func (c *committer) batch(first *writeReq) {
	for r := first; r != nil; {
		r = c.group(r)
	}
}

// group is one transaction of batch. When its first write fails, the
// transaction is rolled back and next is a writer that was waiting, to
// start the next transaction with (nil when none was).
func (c *committer) group(first *writeReq) (next *writeReq) {
	// The transaction belongs to the batch, not to any one caller, so no
	// caller's context may end it: statements run with their contexts
	// detached (see tx.c), and BEGIN and COMMIT with none.
	ctx := context.Background()
	sqlTx, err := c.db.write.BeginTx(ctx, c.db.d.writeTx)
	if err != nil {
		first.out <- writeResult{err: smartlic.Internal(err, "beginning a transaction")}
		return nil
	}
	var applied []*writeReq
	// changed is the batch's writes that changed a registration scope.
	changed := &tx{db: c.db}
	fail := func(err error) {
		_ = sqlTx.Rollback()
		for _, r := range applied {
			r.out <- writeResult{err: smartlic.Internal(err, "committing a transaction")}
		}
	}
	for r := first; r != nil; {
		switch err := r.ctx.Err(); {
		case err != nil:
			// Its caller gave up before it started: nothing to undo.
			r.out <- writeResult{err: smartlic.Internal(err, "waiting for the database writer")}
		case len(applied) == 0:
			// Nothing has run in the transaction yet: no savepoint.
			t := &tx{db: c.db, sql: sqlTx, stmts: c.db.wstmts, detached: true}
			res := guarded(r.fn, t)
			if res.err != nil || res.panicked {
				_ = sqlTx.Rollback()
				r.out <- res
				select {
				case next = <-c.reqs:
				default:
				}
				return next
			}
			changed.changes = t.changes
			applied = append(applied, r)
		default:
			ok, err := c.apply(ctx, sqlTx, r, changed)
			if err != nil {
				fail(err)
				return nil
			}
			if ok {
				applied = append(applied, r)
			}
		}
		r = nil
		if len(applied) < maxBatch {
			select {
			case r = <-c.reqs:
			default:
			}
		}
	}
	if len(applied) == 0 {
		_ = sqlTx.Rollback()
		return nil
	}
	err = sqlTx.Commit()
	changed.committed()
	if err != nil {
		// Commit has ended the transaction either way; fail's rollback
		// only reports that there is none.
		fail(err)
		return nil
	}
	for _, r := range applied {
		r.out <- writeResult{}
	}
	if c.ckpt.committed() {
		c.ckpt.writerCheckpoint(ctx, c.db.write)
	}
	return nil
}

// apply runs one writer's fn under its own savepoint. ok reports that its
// changes stay in the batch; when fn failed, they have been rolled back and
// the writer has had its answer. A non-nil err means the batch's
// transaction can no longer be trusted: the writer whose fn failed has its
// answer, and the caller must abandon the batch. A write that changed
// something kept (a registration scope, the catalogue) marks changed
// (rolled back or not: invalidating once too often costs a read).
func (c *committer) apply(ctx context.Context, sqlTx *sql.Tx, r *writeReq, changed *tx) (ok bool, err error) {
	if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
		r.out <- writeResult{err: smartlic.Internal(err, "beginning a transaction")}
		return false, err
	}
	t := &tx{db: c.db, sql: sqlTx, stmts: c.db.wstmts, detached: true}
	res := guarded(r.fn, t)
	changed.changes |= t.changes
	if res.err == nil && !res.panicked {
		if _, err := sqlTx.ExecContext(ctx, "RELEASE write"); err != nil {
			r.out <- writeResult{err: smartlic.Internal(err, "committing a transaction")}
			return false, err
		}
		return true, nil
	}
	// ROLLBACK TO undoes fn's changes but keeps the savepoint open, so
	// RELEASE must follow. If either fails, SQLite has already rolled the
	// whole transaction back (an I/O error, a full disk): fn's own answer
	// still stands, since none of its changes survive.
	_, rerr := sqlTx.ExecContext(ctx, "ROLLBACK TO write")
	if rerr == nil {
		_, rerr = sqlTx.ExecContext(ctx, "RELEASE write")
	}
	r.out <- res
	if rerr != nil {
		return false, rerr
	}
	return false, nil
}

// guarded runs fn and turns a panic into a result instead of taking the
// committer's goroutine, and with it every other writer, down.
func guarded(fn func(smartlic.Tx) error, t *tx) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panicked: true, panicVal: p}
		}
	}()
	return writeResult{err: fn(t)}
}
