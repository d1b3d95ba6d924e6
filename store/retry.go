package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Default retry parameters used where a Backoff field is zero: 8 attempts
// waiting 0.2, 0.4, 0.8, 1.6, 3.2, 5, 5 s between them (about 16 s in all).
const (
	DefaultAttempts = 8
	DefaultInitial  = 200 * time.Millisecond
	DefaultMax      = 5 * time.Second
)

// Backoff retries operations that fail with a transient error, doubling the
// wait each time. Its zero value means the defaults above; Attempts < 0 means
// one attempt, no retry.
type Backoff struct {
	Attempts int           // attempts in all, first one included
	Initial  time.Duration // first wait
	Max      time.Duration // longest wait
	// OnRetry, if set, is told of each failed attempt before the wait.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Do runs op until it succeeds, fails with an error that is not transient
// (see IsTransient), ctx is done or the attempts run out; it returns op's last
// error, annotated with the attempts when there was more than one.
func (b Backoff) Do(ctx context.Context, op func(ctx context.Context) error) error {
	attempts, wait, maxWait := b.Attempts, b.Initial, b.Max
	if attempts == 0 {
		attempts = DefaultAttempts
	}
	if attempts < 0 {
		attempts = 1
	}
	if wait <= 0 {
		wait = DefaultInitial
	}
	if maxWait <= 0 {
		maxWait = DefaultMax
	}
	start := time.Now()
	for i := 1; ; i++ {
		err := op(ctx)
		if err == nil || !IsTransient(err) || ctx.Err() != nil {
			return err
		}
		if i >= attempts {
			return fmt.Errorf("gave up after %d attempts in %v: %w", i, time.Since(start).Round(time.Millisecond), err)
		}
		if b.OnRetry != nil {
			b.OnRetry(i, wait, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while retrying: %v)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
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
