package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/smartlic/smartlic"
)

// maxChainBatch bounds the writes of one chain that share a PostgreSQL
// transaction.
const maxChainBatch = 64

// chainCommitter is group commit per event chain for PostgreSQL's other
// device writes (authorizations, renewals, deregistrations): every one
// that changes usage appends to its Smart Account's chain, so they queue on
// the chain head's row lock and each holds it through its COMMIT's WAL
// flush — a convoy, the registrations' before the registrar. Here the
// writes of one chain queue in this process (see chainBatches) and a batch
// runs in one transaction, each write under a SAVEPOINT of its own, as
// SQLite's committer does: a write that fails is rolled back alone and
// answered with its error; the others commit together, and nobody hears
// "committed" before that COMMIT.
//
// A write that lost a deadlock or a serialization check against another
// transaction (another replica's batch, a transfer) is run again alone
// after the batch, as a plain Write would have been; so is every write of
// a batch whose COMMIT failed.
type chainCommitter struct {
	db      *DB
	batches *chainBatches[*writeReq]
}

func newChainCommitter(db *DB) *chainCommitter {
	c := &chainCommitter{db: db}
	c.batches = newChainBatches(maxChainBatch, c.run)
	return c
}

func (c *chainCommitter) close() { c.batches.close() }

// write queues fn on chain and waits for its outcome. Once queued, a write
// is always answered, even when ctx ends meanwhile.
func (c *chainCommitter) write(ctx context.Context, chain string, fn func(smartlic.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, out: make(chan writeResult, 1)}
	if !c.batches.add(chain, r) {
		return smartlic.Internal(errClosed, "writing")
	}
	res := <-r.out
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

func (c *chainCommitter) run(_ string, batch []*writeReq) {
	var retry []*writeReq
	defer func() {
		// Whatever happened to the batch, every write gets an answer:
		// those to run again get theirs from a transaction of their own.
		for _, r := range retry {
			r.out <- c.alone(r)
		}
	}()
	if len(batch) == 1 {
		if err := batch[0].ctx.Err(); err != nil {
			// Its caller gave up before it started, as in a batch.
			batch[0].out <- writeResult{err: smartlic.Internal(err, "waiting for the database")}
			return
		}
		retry = batch // nothing to share: the plain path, no savepoint
		return
	}
	ctx := context.Background() // the batch's, not any one caller's
	// The batch keeps its connection at hand for Pipeline.
	conn, err := c.db.write.Conn(ctx)
	if err != nil {
		retry = batch
		return
	}
	defer conn.Close()
	sqlTx, err := conn.BeginTx(ctx, c.db.d.writeTx)
	if err != nil {
		retry = batch
		return
	}
	// applied are the writes in the transaction; again, those that lost
	// to another transaction and were rolled back to their savepoint.
	var applied, again []*writeReq
	changed := &tx{db: c.db} // see committer.apply
	broken := func(i int) {
		_ = sqlTx.Rollback()
		retry = append(append(applied, batch[i:]...), again...)
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.out <- writeResult{err: smartlic.Internal(err, "waiting for the database")}
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
			broken(i)
			return
		}
		t := &tx{db: c.db, sql: sqlTx, stmts: c.db.wstmts, detached: true, conn: conn}
		res := guarded(r.fn, t)
		changed.changes |= t.changes
		if res.err == nil && !res.panicked {
			if _, err := sqlTx.ExecContext(ctx, "RELEASE write"); err != nil {
				broken(i)
				return
			}
			applied = append(applied, r)
			continue
		}
		_, err := sqlTx.ExecContext(ctx, "ROLLBACK TO write")
		if err == nil {
			_, err = sqlTx.ExecContext(ctx, "RELEASE write")
		}
		if err != nil {
			broken(i)
			return
		}
		if !res.panicked && lostToAnother(res.err) {
			again = append(again, r)
			continue
		}
		r.out <- res
	}
	retry = again
	if len(applied) == 0 {
		_ = sqlTx.Rollback()
		return
	}
	err = sqlTx.Commit()
	changed.committed()
	if err != nil {
		retry = append(applied, again...)
		return
	}
	for _, r := range applied {
		r.out <- writeResult{}
	}
}

// alone runs r in a transaction of its own.
func (c *chainCommitter) alone(r *writeReq) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panicked: true, panicVal: p}
		}
	}()
	// Queued writes are always answered: the caller may have gone, but
	// not before its write was taken.
	ctx := context.WithoutCancel(r.ctx)
	return writeResult{err: c.db.run(ctx, c.db.write, c.db.d.writeTx, c.db.wstmts, r.fn)}
}

// lostToAnother reports whether err is PostgreSQL ending a statement to
// break a deadlock or a serialization conflict: the write itself was fine
// and succeeds when run again.
func lostToAnother(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40P01" || pg.Code == "40001")
}
