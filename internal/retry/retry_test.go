package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tickflow/tickflow/internal/retry"
)

func TestBackoffBounds(t *testing.T) {
	p := retry.Policy{Initial: time.Second, Max: 30 * time.Second, Factor: 2}
	for attempt := range 12 {
		d := p.Backoff(attempt)
		full := min(time.Duration(1<<attempt)*time.Second, 30*time.Second)
		if d < full/2 || d > full {
			t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, full/2, full)
		}
	}
}

type afterErr struct{ d time.Duration }

func (e afterErr) Error() string             { return "busy" }
func (e afterErr) RetryAfter() time.Duration { return e.d }

func TestDo(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		attempts int
		fail     int // attempts that fail before success
		err      error
		wantRuns int
		wantErr  error
		resolved bool // resolved first, as a client does before its I/O layer resolves it again
	}{
		{"zero means the default 3 retries", 0, 10, boom, 4, retry.ErrExhausted, false},
		{"negative means none", -1, 10, boom, 1, retry.ErrExhausted, false},
		{"none stays none resolved twice", -1, 10, boom, 1, retry.ErrExhausted, true},
		{"success after retries", 2, 2, boom, 3, nil, false},
		{"permanent is not retried", 5, 10, retry.Permanent(boom), 1, boom, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				runs := 0
				p := retry.Policy{Attempts: tc.attempts, Initial: time.Millisecond}
				if tc.resolved {
					p = p.Resolved()
				}
				err := p.Do(t.Context(), nil, "op",
					func(context.Context) error {
						runs++
						if runs <= tc.fail {
							return tc.err
						}
						return nil
					})
				if runs != tc.wantRuns {
					t.Errorf("runs %d, want %d", runs, tc.wantRuns)
				}
				if (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Errorf("err %v, want %v", err, tc.wantErr)
				}
			})
		})
	}
}

// Retry-After sets the wait (capped at Max), and each attempt has its own
// deadline.
func TestDoRetryAfterAndTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var waits []time.Duration
		runs := 0
		err := retry.Policy{Attempts: 2, Initial: time.Millisecond, Max: 10 * time.Second, Timeout: time.Second}.Do(t.Context(), nil, "op",
			func(ctx context.Context) error {
				waits = append(waits, time.Since(start))
				runs++
				switch runs {
				case 1:
					return afterErr{7 * time.Second}
				case 2:
					<-ctx.Done() // stalls: the attempt's deadline ends it
					return ctx.Err()
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if waits[1] != 7*time.Second || waits[2] < 8*time.Second || waits[2] > 8*time.Second+10*time.Millisecond {
			t.Errorf("attempts started at %v", waits)
		}
	})
}

// The policy's cost on an attempt that succeeds: its timeout context and
// the observation.
func BenchmarkDo(b *testing.B) {
	p := retry.Policy{}
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Do(ctx, nopObserver{}, "op", op); err != nil {
			b.Fatal(err)
		}
	}
}

type nopObserver struct{}

func (nopObserver) OperationStarted(string)                             {}
func (nopObserver) OperationEnded(string, time.Time, time.Time, string) {}
