package limit

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// remote is an in-process model of a server: above capacity calls in flight
// it answers Overload at once (after rejectAfter), else Success after
// latency, or, with queueing, after latency × inFlight/capacity (a server
// that slows down instead of refusing). Time is synctest's virtual time.
type remote struct {
	mu          sync.Mutex
	capacity    int
	latency     time.Duration
	rejectAfter time.Duration
	queueing    bool

	inFlight, peak int
	ok, rejected   int
}

func (r *remote) setCapacity(n int) {
	r.mu.Lock()
	r.capacity = n
	r.mu.Unlock()
}

func (r *remote) call(ctx context.Context) Outcome {
	r.mu.Lock()
	r.inFlight++
	r.peak = max(r.peak, r.inFlight)
	over := !r.queueing && r.inFlight > r.capacity
	d := r.latency
	switch {
	case over:
		d = r.rejectAfter
	case r.queueing && r.inFlight > r.capacity:
		d = r.latency * time.Duration(r.inFlight) / time.Duration(r.capacity)
	}
	r.mu.Unlock()

	t := time.NewTimer(d) // the simulated service time
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	if over {
		r.rejected++
		return Overload
	}
	r.ok++
	return Success
}

func (r *remote) counts() (ok, rejected, peak int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok, r.rejected, r.peak
}

// trace records the limit's changes in virtual time, through OnLimit.
type trace struct {
	mu      sync.Mutex
	start   time.Time
	at      []time.Duration
	limits  []int
	maxSeen int
}

func (tr *trace) onLimit(n int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.start.IsZero() {
		tr.start = time.Now()
	}
	tr.at = append(tr.at, time.Since(tr.start))
	tr.limits = append(tr.limits, n)
	tr.maxSeen = max(tr.maxSeen, n)
}

// band returns the lowest and highest limit in force during [from, to), and
// its time-weighted mean.
func (tr *trace) band(from, to time.Duration) (lo, hi int, mean float64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	lo, hi = int(^uint(0)>>1), 0
	var sum float64
	for i, n := range tr.limits {
		start, end := tr.at[i], to
		if i+1 < len(tr.limits) {
			end = tr.at[i+1]
		}
		start, end = max(start, from), min(end, to)
		if end <= start {
			continue
		}
		lo, hi = min(lo, n), max(hi, n)
		sum += float64(n) * float64(end-start)
	}
	return lo, hi, sum / float64(to-from)
}

// drive runs workers callers against r through l for d of virtual time.
func drive(t *testing.T, l *Limiter, r *remote, workers int, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				release, err := l.Acquire(ctx)
				if err != nil {
					return
				}
				release(r.call(ctx))
			}
		})
	}
	wg.Wait()
	if s := l.Stats(); s.InFlight != 0 || s.Waiting != 0 {
		t.Fatalf("after the run: %d in flight, %d waiting, want 0 and 0", s.InFlight, s.Waiting)
	}
}

func newLimiter(t *testing.T, cfg Config) *Limiter {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// The remote refuses above 20 in flight; callers ask for 64 at once, the
// configured maximum is 50. The adaptive limit settles in [0.7 N, N+1] =
// [14, 21] and gets far fewer refusals than a fixed limit of 50; when the
// remote's capacity rises to 40, the limit follows into [28, 41].
func TestConvergesAndRecovers(t *testing.T) {
	const (
		n1, n2  = 20, 40
		workers = 64
		phase   = 5 * time.Second
	)
	synctest.Test(t, func(t *testing.T) {
		var tr trace
		l := newLimiter(t, Config{Max: DefaultMax, OnLimit: tr.onLimit})
		adaptive := &remote{capacity: n1, latency: 10 * time.Millisecond, rejectAfter: time.Millisecond}
		drive(t, l, adaptive, workers, phase)
		lo, hi, mean := tr.band(phase/2, phase)
		t.Logf("capacity %d: limit in [%d, %d], mean %.1f over the second half", n1, lo, hi, mean)
		if lo < n1*7/10 || hi > n1+1 {
			t.Errorf("capacity %d: limit in [%d, %d] over the second half, want within [%d, %d]", n1, lo, hi, n1*7/10, n1+1)
		}
		okA, rejA, _ := adaptive.counts()

		fixed := &remote{capacity: n1, latency: 10 * time.Millisecond, rejectAfter: time.Millisecond}
		drive(t, newLimiter(t, Config{Min: DefaultMax, Max: DefaultMax}), fixed, workers, phase)
		okF, rejF, _ := fixed.counts()
		t.Logf("over %v: adaptive %d ok, %d refused; fixed limit %d: %d ok, %d refused", phase, okA, rejA, DefaultMax, okF, rejF)
		if rejA*20 > rejF {
			t.Errorf("adaptive limit got %d refusals, want under 1/20 of the fixed limit's %d", rejA, rejF)
		}
		if okA < okF*9/10 {
			t.Errorf("adaptive limit completed %d calls, want at least 90%% of the fixed limit's %d", okA, okF)
		}

		adaptive.setCapacity(n2)
		tr.mu.Lock()
		at := time.Since(tr.start)
		tr.mu.Unlock()
		drive(t, l, adaptive, workers, phase)
		lo, hi, mean = tr.band(at+phase/2, at+phase)
		t.Logf("capacity %d: limit in [%d, %d], mean %.1f over the second half", n2, lo, hi, mean)
		if lo < n2*7/10 || hi > n2+1 {
			t.Errorf("capacity %d: limit in [%d, %d] over the second half, want within [%d, %d]", n2, lo, hi, n2*7/10, n2+1)
		}
	})
}

// A remote with room for more than Max never sees more than Max calls, and
// a limit that starts low grows to Max and stays there.
func TestNeverAboveMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr trace
		l := newLimiter(t, Config{Max: 30, Initial: 2, OnLimit: tr.onLimit})
		r := &remote{capacity: 1000, latency: 10 * time.Millisecond}
		drive(t, l, r, 100, 3*time.Second)
		_, _, peak := r.counts()
		if peak > 30 || tr.maxSeen > 30 {
			t.Errorf("peak in flight %d, highest limit %d, want both at most Max 30", peak, tr.maxSeen)
		}
		if lo, _, _ := tr.band(2*time.Second, 3*time.Second); lo != 30 {
			t.Errorf("limit fell to %d in the last second without an overload, want Max 30", lo)
		}
		if peak != 30 {
			t.Errorf("peak in flight %d, want 30: the limit should reach Max", peak)
		}
	})
}

// With the latency signal, a remote that slows down above 10 in flight
// (never refusing) keeps the limit near where latency passes 1.5 × the
// baseline: within [6, 24] with a mean in [10, 18] (seen over many runs:
// [7, 22], mean 13); without it the limit stays at Max.
func TestLatencySignal(t *testing.T) {
	for _, tc := range []struct {
		name           string
		tol            float64
		lo, hi         int
		meanLo, meanHi float64
	}{
		{"off", 0, 50, 50, 50, 50},
		{"1.5", 1.5, 6, 24, 10, 18},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var tr trace
				l := newLimiter(t, Config{Max: 50, LatencyTolerance: tc.tol, OnLimit: tr.onLimit})
				r := &remote{capacity: 10, latency: 10 * time.Millisecond, queueing: true}
				drive(t, l, r, 64, 5*time.Second)
				lo, hi, mean := tr.band(2500*time.Millisecond, 5*time.Second)
				t.Logf("limit in [%d, %d], mean %.1f over the second half", lo, hi, mean)
				if lo < tc.lo || hi > tc.hi || mean < tc.meanLo || mean > tc.meanHi {
					t.Errorf("limit in [%d, %d], mean %.1f; want within [%d, %d], mean in [%v, %v]",
						lo, hi, mean, tc.lo, tc.hi, tc.meanLo, tc.meanHi)
				}
			})
		})
	}
}

// A burst of overloads from one round of calls shrinks the limit once.
func TestOneDecreasePerRound(t *testing.T) {
	l := newLimiter(t, Config{Max: 40})
	var rel []Release
	for range 40 {
		r, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, r)
	}
	for _, r := range rel {
		r(Overload)
	}
	if got := l.Limit(); got != 30 {
		t.Errorf("after 40 overloads of one round: limit %d, want 30 (40 × 0.75)", got)
	}
	r, _ := l.Acquire(context.Background())
	r(Overload)
	if got := l.Limit(); got != 22 {
		t.Errorf("after an overload of the next round: limit %d, want 22 (30 × 0.75)", got)
	}
	s := l.Stats()
	if s.Decreases != 2 || s.Overloaded != 41 {
		t.Errorf("Stats: %d decreases, %d overloaded, want 2 and 41", s.Decreases, s.Overloaded)
	}
}

// Failures leave the limit alone; the limit never goes below Min.
func TestFailureAndMin(t *testing.T) {
	l := newLimiter(t, Config{Max: 4, Min: 2})
	for range 10 {
		r, _ := l.Acquire(context.Background())
		r(Failure)
	}
	if got := l.Limit(); got != 4 {
		t.Errorf("after failures: limit %d, want 4", got)
	}
	for range 10 {
		r, _ := l.Acquire(context.Background())
		r(Overload)
	}
	if got := l.Limit(); got != 2 {
		t.Errorf("after overloads: limit %d, want Min 2", got)
	}
}

// Waiters are granted in the order they came.
func TestFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, Config{Max: 1})
		hold, _ := l.Acquire(context.Background())
		var (
			mu    sync.Mutex
			order []int
			wg    sync.WaitGroup
		)
		for i := range 5 {
			wg.Go(func() {
				r, err := l.Acquire(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				r(Success)
			})
			synctest.Wait() // waiter i is queued before i+1 starts
		}
		hold(Success)
		wg.Wait()
		for i, got := range order {
			if got != i {
				t.Fatalf("grant order %v, want 0 1 2 3 4", order)
			}
		}
	})
}

// A caller that gives up while waiting takes no slot and leaves none taken.
func TestCancelWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, Config{Max: 1})
		hold, _ := l.Acquire(context.Background())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := l.Acquire(ctx)
			done <- err
		}()
		synctest.Wait()
		if s := l.Stats(); s.Waiting != 1 {
			t.Fatalf("%d waiting, want 1", s.Waiting)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire: %v, want context.Canceled", err)
		}
		if s := l.Stats(); s.InFlight != 1 || s.Waiting != 0 || s.Cancelled != 1 {
			t.Fatalf("after the cancel: %+v, want 1 in flight, 0 waiting, 1 cancelled", s)
		}
		hold(Success)
		r, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r(Success)
		if s := l.Stats(); s.InFlight != 0 {
			t.Fatalf("%d in flight at the end, want 0", s.InFlight)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := newLimiter(t, Config{})
	if _, err := l.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with a done context: %v, want context.Canceled", err)
	}
	if s := l.Stats(); s.InFlight != 0 || s.Acquired != 0 {
		t.Errorf("a done context took a slot: %+v", s)
	}
}

// Many callers with random deadlines and outcomes: in flight never exceeds
// the limit in force, and every slot comes back.
func TestStress(t *testing.T) {
	var (
		mu       sync.Mutex
		inFlight int
		limit    int
		bad      int
	)
	l := newLimiter(t, Config{Max: 8, OnLimit: func(n int) { limit = n }})
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 300 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(200))*time.Microsecond)
				r, err := l.Acquire(ctx)
				cancel()
				if err != nil {
					continue
				}
				mu.Lock()
				inFlight++
				if inFlight > 8 {
					bad++
				}
				mu.Unlock()
				mu.Lock()
				inFlight--
				mu.Unlock()
				r(Outcome(rng.IntN(3)))
			}
		})
	}
	wg.Wait()
	s := l.Stats()
	if bad > 0 || s.InFlight != 0 || s.Waiting != 0 {
		t.Errorf("%d times above Max; at the end %d in flight, %d waiting", bad, s.InFlight, s.Waiting)
	}
	if s.Acquired != s.Succeeded+s.Overloaded+s.Failed {
		t.Errorf("acquired %d, released %d", s.Acquired, s.Succeeded+s.Overloaded+s.Failed)
	}
	if s.Acquired+s.Cancelled != 32*300 {
		t.Errorf("acquired %d + cancelled %d, want %d calls", s.Acquired, s.Cancelled, 32*300)
	}
	if limit != s.Limit {
		t.Errorf("OnLimit last reported %d, Limit is %d", limit, s.Limit)
	}
}

func TestReleaseTwicePanics(t *testing.T) {
	l := newLimiter(t, Config{})
	r, _ := l.Acquire(context.Background())
	r(Success)
	defer func() {
		if recover() == nil {
			t.Error("a second Release did not panic")
		}
	}()
	r(Success)
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Max: -1}, "limit: Max -1 is negative"},
		{Config{Max: 4, Min: 5}, "limit: Min 5 is not in [1, Max 4]"},
		{Config{Max: 4, Initial: 5}, "limit: Initial 5 is not in [Min 1, Max 4]"},
		{Config{Max: 4, Min: 2, Initial: 1}, "limit: Initial 1 is not in [Min 2, Max 4]"},
		{Config{Increase: -1}, "limit: Increase -1 is negative"},
		{Config{Backoff: 1}, "limit: Backoff 1 is not in (0, 1)"},
		{Config{LatencyTolerance: 0.5}, "limit: LatencyTolerance 0.5 is neither 0 nor a number above 1"},
	} {
		_, err := New(tc.cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	l, err := New(Config{})
	if err != nil || l.Limit() != DefaultMax {
		t.Errorf("New(Config{}): limit %v, %v; want %d", l.Limit(), err, DefaultMax)
	}
}

func BenchmarkAcquire(b *testing.B) {
	b.Run("uncontended", func(b *testing.B) {
		l, _ := New(Config{Max: 4})
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			r, _ := l.Acquire(ctx)
			r(Success)
		}
	})
	b.Run("contended", func(b *testing.B) {
		// More goroutines than slots: most Acquire calls wait in the queue.
		l, _ := New(Config{Max: 2})
		ctx := context.Background()
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r, err := l.Acquire(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				r(Success)
			}
		})
	})
}

// When the remote becomes slower at every load (twice the latency), the
// latency signal learns the new baseline and the limit comes back to the
// same band instead of staying at Min.
func TestLatencySignalLearnsSlowdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr trace
		l := newLimiter(t, Config{Max: 50, LatencyTolerance: 1.5, OnLimit: tr.onLimit})
		r := &remote{capacity: 10, latency: 10 * time.Millisecond, queueing: true}
		drive(t, l, r, 64, 5*time.Second)
		r.mu.Lock()
		r.latency = 20 * time.Millisecond
		r.mu.Unlock()
		tr.mu.Lock()
		at := time.Since(tr.start)
		tr.mu.Unlock()
		drive(t, l, r, 64, 10*time.Second)
		lo, hi, mean := tr.band(at+5*time.Second, at+10*time.Second)
		t.Logf("after the slow-down: limit in [%d, %d], mean %.1f", lo, hi, mean)
		if lo < 6 || hi > 24 || mean < 10 || mean > 18 {
			t.Errorf("after the slow-down: limit in [%d, %d], mean %.1f; want within [6, 24], mean in [10, 18]", lo, hi, mean)
		}
	})
}
