package store

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/internal/retry"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The operation types the store's components report to their Observer.
const (
	OpRead    = "store.read"    // one read of a symbol's bars (or of the symbol list)
	OpWrite   = "store.write"   // one transaction of bars
	OpJournal = "store.journal" // one journal commit
)

// RetryPolicy is the I/O layer's retry policy; its zero value means 3
// retries waiting 1, 2 and 4 s (jittered) and 30 s per attempt. Only
// transient errors (see IsTransient) are retried.
type RetryPolicy = retry.Policy

// Observer receives every read, write and journal commit (type, start,
// end, error class); *metrics.Metrics and *health.Monitor implement it.
type Observer = observe.Observer

// do runs op under p, retrying transient errors only, each attempt
// reported to obs as an operation of type opType.
func do(ctx context.Context, p RetryPolicy, obs Observer, opType string, op func(ctx context.Context) error) error {
	return p.Do(ctx, obs, opType, func(ctx context.Context) error {
		err := op(ctx)
		if err != nil && !IsTransient(err) && ctx.Err() == nil {
			return retry.Permanent(err)
		}
		return err
	})
}

// IsTransient reports whether err is one a retry may cure: a lost or refused
// connection, a server shutting down or starting, a serialization failure or
// deadlock, too many connections, or a busy or locked SQLite file. A
// cancelled context is not transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection exception
			return true
		}
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin/crash shutdown, cannot connect now
			"40001", "40P01", // serialization failure, deadlock
			"53300": // too many connections
			return true
		}
		return false
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.Is(err, ErrUnavailable),
		errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true
	}
	// pgx reports a connection that died under a query as "conn closed" or
	// a failure to receive or write a message, without a typed error.
	var pgConnErr interface{ SafeToRetry() bool }
	if errors.As(err, &pgConnErr) {
		return true
	}
	return false
}

// observeDeclare declares a component's operation types to its observer.
func observeDeclare(o Observer, ops ...string) { observe.Declare(o, ops...) }
