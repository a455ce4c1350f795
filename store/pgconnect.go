package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL refuses a new connection outright when it has none to give:
// max_connections (or a role's CONNECTION LIMIT) is reached, or the server
// is starting up or shutting down. database/sql passes that refusal to the
// query that needed the connection, so a moment when other clients of a
// shared server hold every slot — other replicas, a backup, a busy test
// machine — failed requests that would have succeeded a moment later.
// retryConnector waits for a slot instead, for a bounded time.
const (
	// connectRetryFor bounds how long one connection attempt waits for
	// the server to have a slot; past it the refusal is the answer.
	connectRetryFor = 30 * time.Second
	connectBackoff  = 20 * time.Millisecond
	connectMaxPause = time.Second
)

// retryConnector retries opening a connection while the server refuses it
// for lack of room (SQLSTATE 53300 too_many_connections, 57P03
// cannot_connect_now), backing off up to connectMaxPause between attempts
// and stopping at connectRetryFor or when ctx ends. Any other error (a
// wrong password, an unreachable host) is returned at once.
type retryConnector struct {
	driver.Connector
	retryFor time.Duration
	// retried, when set, is told of each refusal that will be retried
	// (tests wait on it instead of the clock).
	retried func(error)
}

func (c retryConnector) Connect(ctx context.Context) (driver.Conn, error) {
	deadline := time.Now().Add(c.retryFor)
	pause := connectBackoff
	for {
		conn, err := c.Connector.Connect(ctx)
		if err == nil || !serverFull(err) || time.Now().Add(pause).After(deadline) {
			return conn, err
		}
		if c.retried != nil {
			c.retried(err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
		pause = min(2*pause, connectMaxPause)
	}
}

// serverFull reports whether err is the server refusing a connection for
// lack of room rather than for who asked or what was asked.
func serverFull(err error) bool {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "53300", // too_many_connections (max_connections or a role's limit)
		"57P03": // cannot_connect_now (starting up, shutting down)
		return true
	}
	return false
}

// connectRetriedKey carries, in the context given to Open, a function told
// of each connection refusal that will be retried (WithConnectRetried in
// the tests).
type connectRetriedKey struct{}

func connectRetried(ctx context.Context) func(error) {
	fn, _ := ctx.Value(connectRetriedKey{}).(func(error))
	return fn
}
