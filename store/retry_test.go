package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tickflow/tickflow/store"
)

var errTransient = fmt.Errorf("connection lost: %w", store.ErrUnavailable)

// failing returns an op that fails with err its first n calls, and counts calls.
func failing(n int, err error, calls *int) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if *calls <= n {
			return err
		}
		return nil
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		name      string
		b         store.Backoff
		failures  int
		err       error
		wantCalls int
		wantWait  time.Duration
		wantErr   string
	}{
		{"succeeds after three failures", store.Backoff{}, 3, errTransient, 4, 1400 * time.Millisecond, ""},
		{"gives up", store.Backoff{Attempts: 4}, 100, errTransient, 4, 1400 * time.Millisecond, "gave up after 4 attempts in 1.4s"},
		{"waits are capped", store.Backoff{Attempts: 5, Initial: time.Second, Max: 2 * time.Second}, 100, errTransient, 5, 7 * time.Second, "5 attempts"},
		{"permanent error is not retried", store.Backoff{}, 100, store.ErrConstraint, 1, 0, "violates"},
		{"no retry", store.Backoff{Attempts: -1}, 100, errTransient, 1, 0, "unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				start := time.Now()
				err := tc.b.Do(context.Background(), failing(tc.failures, tc.err, &calls))
				if calls != tc.wantCalls || time.Since(start) != tc.wantWait {
					t.Fatalf("%d calls in %v, want %d in %v", calls, time.Since(start), tc.wantCalls, tc.wantWait)
				}
				if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if err != nil && !errors.Is(err, tc.err) {
					t.Fatalf("err = %v does not wrap %v", err, tc.err)
				}
			})
		})
	}
	t.Run("context ends the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			calls := 0
			var retried []time.Duration
			b := store.Backoff{OnRetry: func(_ int, wait time.Duration, _ error) { retried = append(retried, wait) }}
			err := b.Do(ctx, failing(100, errTransient, &calls))
			if !errors.Is(err, context.DeadlineExceeded) || calls != 2 || len(retried) != 2 {
				t.Fatalf("err = %v after %d calls, waits %v", err, calls, retried)
			}
		})
	})
}

func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errTransient, true},
		{&pgconn.PgError{Code: "57P01"}, true}, // admin shutdown
		{&pgconn.PgError{Code: "08006"}, true}, // connection failure
		{&pgconn.PgError{Code: "40001"}, true}, // serialization failure
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "42P01"}, false},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{store.ErrConstraint, false},
		{errors.New("disk full"), false},
		{nil, false},
	} {
		if got := store.IsTransient(tc.err); got != tc.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
