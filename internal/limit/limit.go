package limit

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Defaults of [Config] fields left zero.
const (
	// DefaultMax is ADR-002's max_concurrent_requests.
	DefaultMax      = 50
	DefaultMin      = 1
	DefaultIncrease = 1
	// DefaultBackoff keeps 3/4 of the limit on overload: against a remote
	// with a hard cap the limit then swings between about 0.75 and 1 times
	// the cap, instead of between 0.5 and 1 with TCP's halving.
	DefaultBackoff = 0.75
)

// baselineRise is how much of the gap between the latency baseline and a
// slower window's mean the baseline takes per window (1/16).
const baselineRise = 1.0 / 16

// Outcome is what became of a call made under a [Limiter].
type Outcome uint8

const (
	// Success: the remote answered in time; counts toward growing the limit.
	Success Outcome = iota
	// Overload: the remote is overloaded (HTTP 429 or 503, a timeout);
	// shrinks the limit.
	Overload
	// Failure: any other failure (a bad request, a refused connection); it
	// says nothing about the remote's load and leaves the limit alone.
	Failure
)

func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Overload:
		return "overload"
	case Failure:
		return "failure"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Release ends a call acquired from a [Limiter] and reports its outcome. It
// must be called exactly once; a second call panics.
type Release func(Outcome)

// Config configures a [Limiter]. The zero value means the defaults.
type Config struct {
	// Max is the configured maximum of calls in flight (default 50); the
	// limit never exceeds it.
	Max int
	// Min is the lowest the limit shrinks to (default 1).
	Min int
	// Initial is the limit at the start (default Max: the limiter behaves
	// like a fixed limit until the remote pushes back; with the latency
	// signal, default Min, so that the baseline is learned unloaded).
	Initial int
	// Increase is the additive increase per window of successes (default 1).
	Increase int
	// Backoff is the multiplicative decrease on overload, in (0, 1)
	// (default 0.75).
	Backoff float64
	// LatencyTolerance, when above 1, turns on the latency signal: a success
	// window whose mean latency exceeds LatencyTolerance × the baseline
	// shrinks the limit like an overload. 0 turns it off.
	LatencyTolerance float64
	// OnLimit, if not nil, is called with the limit at New and after every
	// change, for a gauge. It is called with the limiter's lock held, so
	// changes arrive in order: it must be quick and must not call the
	// Limiter.
	OnLimit func(limit int)
	// Now is the clock for latencies (default time.Now); it is read only
	// with the latency signal on.
	Now func() time.Time
}

// Stats are a Limiter's counters.
type Stats struct {
	Limit    int // the current limit
	InFlight int // calls acquired and not released
	Waiting  int // callers blocked in Acquire

	Acquired   int64 // calls granted
	Succeeded  int64 // released with Success
	Overloaded int64 // released with Overload
	Failed     int64 // released with Failure
	Cancelled  int64 // Acquire calls that gave up (context done)
	Increases  int64 // times the limit grew
	Decreases  int64 // times the limit shrank
}

// Limiter is an adaptive concurrency limit (see the package documentation
// for the algorithm). Its methods may be called from many goroutines.
type Limiter struct {
	cfg Config

	mu       sync.Mutex
	limit    int
	inFlight int
	waiters  list.List // of *waiter, oldest first
	epoch    uint64    // bumped at every decrease
	window   int       // successes counted toward the next increase
	winLat   time.Duration
	baseline time.Duration // 0 until the first full window
	stats    Stats
}

// waiter is a caller blocked in Acquire; ready is closed when it is granted.
type waiter struct {
	ready   chan struct{}
	granted bool
	epoch   uint64 // the epoch it was granted in
}

// New returns a Limiter, or an error naming the Config field at fault.
func New(cfg Config) (*Limiter, error) {
	if cfg.Max == 0 {
		cfg.Max = DefaultMax
	}
	if cfg.Min == 0 {
		cfg.Min = DefaultMin
	}
	if cfg.Increase == 0 {
		cfg.Increase = DefaultIncrease
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.Max < 0:
		return nil, fmt.Errorf("limit: Max %d is negative", cfg.Max)
	case cfg.Min < 0 || cfg.Min > cfg.Max:
		return nil, fmt.Errorf("limit: Min %d is not in [1, Max %d]", cfg.Min, cfg.Max)
	case cfg.Initial < 0 || cfg.Initial > cfg.Max || (cfg.Initial > 0 && cfg.Initial < cfg.Min):
		return nil, fmt.Errorf("limit: Initial %d is not in [Min %d, Max %d]", cfg.Initial, cfg.Min, cfg.Max)
	case cfg.Increase < 0:
		return nil, fmt.Errorf("limit: Increase %d is negative", cfg.Increase)
	case !(cfg.Backoff > 0 && cfg.Backoff < 1):
		return nil, fmt.Errorf("limit: Backoff %v is not in (0, 1)", cfg.Backoff)
	case cfg.LatencyTolerance != 0 && !(cfg.LatencyTolerance > 1) || math.IsInf(cfg.LatencyTolerance, 0):
		return nil, fmt.Errorf("limit: LatencyTolerance %v is neither 0 nor a number above 1", cfg.LatencyTolerance)
	}
	if cfg.Initial == 0 {
		cfg.Initial = cfg.Max
		if cfg.LatencyTolerance > 1 {
			cfg.Initial = cfg.Min
		}
	}
	l := &Limiter{cfg: cfg, limit: cfg.Initial}
	l.setLimit(cfg.Initial)
	return l, nil
}

// Acquire waits for a slot under the limit, in FIFO order, and returns the
// Release to call when the call is done. It returns ctx.Err() without a slot
// if ctx is done first (also when it is done already).
func (l *Limiter) Acquire(ctx context.Context) (Release, error) {
	if err := ctx.Err(); err != nil {
		l.mu.Lock()
		l.stats.Cancelled++
		l.mu.Unlock()
		return nil, err
	}
	l.mu.Lock()
	if l.inFlight < l.limit && l.waiters.Len() == 0 {
		l.inFlight++
		r := l.grantLocked(l.epoch)
		l.mu.Unlock()
		return r, nil
	}
	w := &waiter{ready: make(chan struct{})}
	e := l.waiters.PushBack(w)
	l.mu.Unlock()

	select {
	case <-w.ready:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.grantLocked(w.epoch), nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		l.stats.Cancelled++
		if w.granted {
			// Granted as ctx ended: give the slot back unused, to the next
			// waiter.
			l.inFlight--
			l.wakeLocked()
		} else {
			l.waiters.Remove(e)
		}
		return nil, ctx.Err()
	}
}

// grantLocked makes the Release of a slot already counted in flight, granted
// in epoch.
func (l *Limiter) grantLocked(epoch uint64) Release {
	l.stats.Acquired++
	// Reading the clock costs more than the rest of Acquire: only the
	// latency signal needs it.
	timed := l.cfg.LatencyTolerance > 1
	var start time.Time
	if timed {
		start = l.cfg.Now()
	}
	released := false
	return func(o Outcome) {
		var lat time.Duration
		if timed {
			lat = l.cfg.Now().Sub(start)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if released {
			panic("limit: Release called twice")
		}
		released = true
		l.releaseLocked(o, epoch, lat)
	}
}

func (l *Limiter) releaseLocked(o Outcome, epoch uint64, lat time.Duration) {
	busy := 2*l.inFlight >= l.limit
	l.inFlight--
	switch o {
	case Success:
		l.stats.Succeeded++
		if busy {
			l.window++
			l.winLat += lat
			if l.window >= l.limit {
				l.endWindowLocked()
			}
		}
	case Overload:
		l.stats.Overloaded++
		if epoch == l.epoch {
			l.decreaseLocked(l.cfg.Backoff)
		}
	default:
		l.stats.Failed++
	}
	l.wakeLocked()
}

// endWindowLocked grows the limit after a window of successes, unless the
// latency signal says the window was slow.
func (l *Limiter) endWindowLocked() {
	mean := l.winLat / time.Duration(l.window)
	l.window, l.winLat = 0, 0
	if tol := l.cfg.LatencyTolerance; tol > 1 {
		switch {
		case l.baseline == 0 || mean < l.baseline:
			l.baseline = mean
		case float64(mean) > tol*float64(l.baseline):
			// The gradient baseline/mean is the share of the limit that
			// the remote serves at its unloaded latency.
			gradient := float64(l.baseline) / float64(mean)
			l.baseline += time.Duration(float64(mean-l.baseline) * baselineRise)
			l.decreaseLocked(min(l.cfg.Backoff, gradient))
			return
		default:
			l.baseline += time.Duration(float64(mean-l.baseline) * baselineRise)
		}
	}
	if n := min(l.limit+l.cfg.Increase, l.cfg.Max); n > l.limit {
		l.stats.Increases++
		l.setLimit(n)
	}
}

// decreaseLocked multiplies the limit by factor, taking at least 1 off.
func (l *Limiter) decreaseLocked(factor float64) {
	n := max(min(l.limit-1, int(float64(l.limit)*factor)), l.cfg.Min)
	// Calls acquired before this point answer for the old limit.
	l.epoch++
	l.window, l.winLat = 0, 0
	if n < l.limit {
		l.stats.Decreases++
		l.setLimit(n)
	}
}

func (l *Limiter) setLimit(n int) {
	l.limit = n
	if l.cfg.OnLimit != nil {
		l.cfg.OnLimit(n)
	}
}

// wakeLocked grants slots to waiters, oldest first, while there is room.
func (l *Limiter) wakeLocked() {
	for l.inFlight < l.limit && l.waiters.Len() > 0 {
		w := l.waiters.Remove(l.waiters.Front()).(*waiter)
		w.granted, w.epoch = true, l.epoch
		l.inFlight++
		close(w.ready)
	}
}

// Limit returns the current limit.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// Stats returns the limiter's counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Limit, s.InFlight, s.Waiting = l.limit, l.inFlight, l.waiters.Len()
	return s
}
