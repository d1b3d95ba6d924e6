package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tickflow/tickflow/internal/observe"
)

// Defaults of a Policy's zero fields: the ADR's AsyncConfig where it has a
// value (retry_attempts 3, backoff_factor 2.0, request_timeout 30 s).
const (
	DefaultAttempts = 3
	DefaultFactor   = 2.0
	DefaultTimeout  = 30 * time.Second
	DefaultInitial  = time.Second
	DefaultMax      = 30 * time.Second
)

// ErrExhausted wraps the last error of an operation that still failed
// after every retry.
var ErrExhausted = errors.New("retries exhausted")

// Policy says how an operation is retried. Its zero value means the
// defaults above.
type Policy struct {
	// Attempts is how many times a failed attempt is retried after the
	// first one: 0 means DefaultAttempts, a negative value means none
	// (one attempt only). This is the one meaning of zero everywhere in
	// tickflow's library; the configuration file's retry_attempts: 0
	// (none) is passed as -1.
	Attempts int
	// Factor multiplies the wait after each retry (below 1: DefaultFactor).
	Factor float64
	// Initial is the first wait (default 1 s); Max caps every wait
	// (default 30 s), Retry-After included. Each wait is jittered between
	// half and all of its value.
	Initial, Max time.Duration
	// Timeout bounds each attempt, whatever it reads (default 30 s;
	// negative: none).
	Timeout time.Duration
	// OnRetry, if set, is told of each failed attempt before the wait.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Resolved returns p with its defaults filled in. Attempts below zero
// (none) stays so: resolving twice, as a client and then its I/O layer do,
// must not turn "none" into the default.
func (p Policy) Resolved() Policy {
	if p.Attempts == 0 {
		p.Attempts = DefaultAttempts
	}
	if p.Factor < 1 || math.IsNaN(p.Factor) {
		p.Factor = DefaultFactor
	}
	if p.Initial <= 0 {
		p.Initial = DefaultInitial
	}
	if p.Max <= 0 {
		p.Max = DefaultMax
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	return p
}

// Backoff is the wait before retry number attempt+1 (attempt from 0):
// Initial × Factor^attempt, capped at Max, with equal jitter.
func (p Policy) Backoff(attempt int) time.Duration {
	p = p.Resolved()
	d := float64(p.Initial) * math.Pow(p.Factor, float64(attempt))
	if d > float64(p.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(p.Max)
	}
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// permanent marks an error no retry can fix.
type permanent struct{ err error }

func (e permanent) Error() string { return e.err.Error() }
func (e permanent) Unwrap() error { return e.err }

// Permanent marks err as not retryable: Do returns it (unwrapped) at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent tells whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Do runs op until it succeeds, fails with a Permanent error, ctx is done
// or the retries run out. Each attempt runs under its own context bounded
// by Timeout and is reported to obs (nil: none) as an operation of type
// opType. An error with a RetryAfter() time.Duration method longer than
// the back-off sets the wait (capped at Max).
//
// It returns nil, the Permanent error's cause, ctx.Err() once ctx is done,
// or, after the last retry, an error wrapping ErrExhausted and the last
// error.
func (p Policy) Do(ctx context.Context, obs observe.Observer, opType string, op func(ctx context.Context) error) error {
	p = p.Resolved()
	for attempt := 0; ; attempt++ {
		err := p.once(ctx, obs, opType, op)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var perm permanent
		if errors.As(err, &perm) {
			return perm.err
		}
		if attempt >= p.Attempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrExhausted, attempt+1, err)
		}
		wait := p.Backoff(attempt)
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) && ra.RetryAfter() > wait {
			wait = min(ra.RetryAfter(), p.Max)
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt+1, wait, err)
		}
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (p Policy) once(ctx context.Context, obs observe.Observer, opType string, op func(ctx context.Context) error) error {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if p.Timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, p.Timeout)
	}
	defer cancel()
	end := observe.Start(obs, opType)
	err := AttemptError(ctx, actx, op(actx))
	end(err)
	return err
}

// AttemptError is err as an attempt under actx (derived from ctx) ended
// with it: when the attempt's deadline, not ctx, ended it, an error
// wrapping context.DeadlineExceeded, whatever err says (a reader closed
// under it reports "use of closed connection").
func AttemptError(ctx, actx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && actx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

// Sleep waits d or until ctx is done (then it returns ctx.Err()).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
