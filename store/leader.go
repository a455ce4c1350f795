package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"

	"github.com/smartlic/smartlic"
)

// leaderKey is the advisory lock of the background jobs. It is keyed by the
// schema too, so that several smartlic schemas in one database (the tests
// make one per test) each elect their own leader.
const leaderKey = `hashtext('smartlic.jobs'), hashtext(coalesce(current_schema(), ''))`

// leadership is the jobs leadership one store holds. It lives in the DB
// value, so two stores in one process (the tests open many) elect apart.
type leadership struct {
	// sqlite is SQLite's lock: a single process owns the file, so
	// leadership is only a question between goroutines.
	sqlite sync.Mutex
	// conn is, on PostgreSQL, the connection whose session holds the
	// jobs lock while this store leads; nil otherwise.
	mu   sync.Mutex
	conn *sql.Conn
}

// held returns the connection holding the lock, nil when not leading.
func (l *leadership) held() *sql.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn
}

func (l *leadership) hold(conn *sql.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn = conn
}

// drop forgets conn if it still is the one holding the lock.
func (l *leadership) drop(conn *sql.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == conn {
		l.conn = nil
	}
}

// TryLeader tries to become the one replica that runs background jobs, and
// does not wait. On PostgreSQL it takes a session advisory lock
// (pg_try_advisory_lock) on a connection set aside for it; the lock lasts
// until release is called, and ends by itself if that connection or the
// process dies, so a crashed leader never blocks the others. On SQLite an
// in-process mutex plays the lock. When ok is false, release is nil;
// calling release more than once is harmless.
func (db *DB) TryLeader(ctx context.Context) (release func(), ok bool, err error) {
	if db.d.name != "postgres" {
		if !db.leader.sqlite.TryLock() {
			return nil, false, nil
		}
		var once sync.Once
		return func() { once.Do(db.leader.sqlite.Unlock) }, true, nil
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, false, smartlic.Internal(err, "taking a connection for leader election")
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+leaderKey+")").Scan(&got); err != nil {
		conn.Close()
		return nil, false, smartlic.Internal(err, "electing the jobs leader")
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	db.leader.hold(conn)
	var once sync.Once
	return func() {
		once.Do(func() {
			db.leader.drop(conn)
			unlockLeader(conn)
		})
	}, true, nil
}

// CheckLeader reports whether the leadership TryLeader granted still
// holds. A session advisory lock lasts exactly as long as its session, so
// on PostgreSQL this pings the lock's connection: if the connection was
// cut (a server restart, a network partition, an administrator ending the
// session), the lock is gone and another replica may hold it now. The
// caller should then release and stop acting as the leader. On SQLite, and
// when this store holds no leadership, it returns nil.
func (db *DB) CheckLeader(ctx context.Context) error {
	conn := db.leader.held()
	if conn == nil {
		return nil
	}
	if err := conn.PingContext(ctx); err != nil {
		return smartlic.Internal(err, "checking the jobs leader's lock")
	}
	return nil
}

// unlockLeader gives the lock back and returns the connection to the pool.
// Should the unlock fail, the connection is discarded instead, which ends
// the session and with it the lock.
func unlockLeader(conn *sql.Conn) {
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+leaderKey+")"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}
