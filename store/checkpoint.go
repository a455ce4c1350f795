package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// SQLite's WAL grows with every commit until a checkpoint copies its pages
// back into the database file, fsyncing both files. Left to SQLite, the
// committing writer does that itself every 1,000 pages, and every writer
// queued behind it waits for two fsyncs. So the store turns the automatic
// checkpoint off and runs checkpoints on a reader connection in the
// background, where they overlap with the writer's work.
//
// A checkpoint that runs beside the writer never quite catches up with it
// under sustained load (the writer keeps appending), and SQLite can only
// start the WAL over from its beginning once it has been copied entirely.
// When the WAL has grown past walRestartFrames, the writer therefore runs
// one checkpoint itself between two batches; most of the WAL is copied
// already, so that one is short, and the next write starts the WAL over.
//
// The background goroutine may also not run at all for a while, on a
// machine whose cores are busy elsewhere; nothing would then start the WAL
// over. So the writer also checkpoints itself once writerCheckpointAfter
// commits have passed since its last complete checkpoint, and asks again
// after every commit until one completes: that bounds the WAL whatever the
// background goroutine manages, and costs little, as the background has
// copied most pages already. The two checkpoints take turns (mu): a
// background one starved of CPU in the middle of its copy held SQLite's
// checkpoint lock, so the writer's passive checkpoint failed commit after
// commit while the WAL grew past its bound; now the writer waits for that
// copy to end, which is the work its own would have done.
const (
	// checkpointEvery is how many commits pass between two background
	// checkpoints.
	checkpointEvery = 64
	// walRestartFrames is the WAL size (in pages) from which the writer
	// checkpoints itself; 16 MiB at SQLite's default page size.
	walRestartFrames = 4096
	// writerCheckpointAfter is how many commits the writer lets pass
	// after its last complete checkpoint before it runs one again.
	// A commit appends at least one page, usually two to four, so this
	// stays below walRestartFrames pages.
	writerCheckpointAfter = walRestartFrames / 4
)

// checkpointer runs the background checkpoints of one SQLite store.
type checkpointer struct {
	db *DB
	// kick wakes the checkpointer; a kick while it is busy is kept, and
	// further ones fold into it.
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// mu makes the background and the writer's checkpoints take turns.
	mu sync.Mutex
	// walFull asks the writer for a checkpoint of its own (see above).
	walFull atomic.Bool
	// Only the writer's goroutine touches these two: the commits since
	// the background checkpoint was last kicked, and since the writer's
	// last complete checkpoint.
	sinceKick, unchecked int
}

func startCheckpointer(db *DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed is told of every commit by the writer, and answers whether
// the writer should now checkpoint itself.
func (c *checkpointer) committed() (writerShouldCheckpoint bool) {
	c.sinceKick++
	if c.sinceKick >= checkpointEvery {
		c.sinceKick = 0
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	c.unchecked++
	return c.walFull.CompareAndSwap(true, false) || c.unchecked >= writerCheckpointAfter
}

func (c *checkpointer) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		// A failed checkpoint loses nothing: the pages stay in the WAL,
		// where readers find them, and the writer's own checkpoint
		// copies them instead, as SQLite's automatic one would have.
		c.mu.Lock()
		frames, _, err := checkpoint(context.Background(), c.db.read)
		c.mu.Unlock()
		if err != nil || frames >= walRestartFrames {
			c.walFull.Store(true)
		}
	}
}

// close stops the background checkpoints; calling it again is harmless.
func (c *checkpointer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

// rowQuerier is a *sql.DB or *sql.Conn.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkpoint runs a passive checkpoint (one that never waits for readers
// or the writer) through pool and returns the WAL's size in pages and
// whether every page of it is now in the database file.
func checkpoint(ctx context.Context, pool rowQuerier) (walFrames int, complete bool, err error) {
	var busy, logFrames, copied int
	err = pool.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
	return logFrames, err == nil && busy == 0 && copied >= logFrames, err
}

// writerCheckpoint is the writer's own checkpoint, between two batches.
// One that could not copy everything (a reader's snapshot pinned the
// newest pages) is asked for again
// after the next commit: otherwise the WAL could not start over and would
// grow until the background one next found it full.
func (c *checkpointer) writerCheckpoint(ctx context.Context, write rowQuerier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, complete, _ := checkpoint(ctx, write); complete {
		c.unchecked = 0
	} else {
		c.walFull.Store(true)
	}
}
