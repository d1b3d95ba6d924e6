package pipelinetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/pipeline"
)

// Timeout bounds how long a component may take to react to cancellation or
// to a failing Emit before a check fails.
var Timeout = 10 * time.Second

// errStop is what the checking emitter returns to ask a component to stop.
var errStop = errors.New("pipelinetest: emitter refuses further items")

// recorder is an Emitter that records items and catches misuse.
type recorder[T any] struct {
	t        *testing.T
	mu       sync.Mutex
	items    []T
	keys     []string
	returned atomic.Bool // the call that received it has returned
	inEmit   atomic.Int32
	failAt   int // refuse from this item on (0 = never)
	refused  int
	cancel   func()
	cancelAt int

	// What a live source holds back: items emitted since the last Flush;
	// activity hears every Emit and Flush (when not nil).
	unflushed int
	activity  chan struct{}
}

func (r *recorder[T]) active() {
	if r.activity != nil {
		select {
		case r.activity <- struct{}{}:
		default:
		}
	}
}

// holding returns how many items were emitted in all and how many since the
// last Flush.
func (r *recorder[T]) holding() (emitted, unflushed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.items), r.unflushed
}

func (r *recorder[T]) Emit(item T) error {
	if r.returned.Load() {
		// The test that owned this Emitter may be over: only a panic is
		// sure to be seen.
		panic("pipelinetest: Emit called after the call that received the Emitter returned")
	}
	if r.inEmit.Add(1) > 1 {
		r.t.Errorf("Emit called from two goroutines at once")
	}
	defer r.inEmit.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failAt > 0 && len(r.items)+1 >= r.failAt {
		r.refused++
		if r.refused > 1 {
			r.t.Errorf("Emit called again after it returned an error")
		}
		return errStop
	}
	r.items = append(r.items, item)
	r.unflushed++
	r.active()
	if r.cancel != nil && len(r.items) == r.cancelAt {
		r.cancel()
	}
	return nil
}

func (r *recorder[T]) Flush() error {
	if r.returned.Load() {
		panic("pipelinetest: Flush called after the call that received the Emitter returned")
	}
	r.mu.Lock()
	r.unflushed = 0
	r.active()
	r.mu.Unlock()
	return nil
}

func (r *recorder[T]) Fail(key string, _ error) {
	if r.returned.Load() {
		panic("pipelinetest: Fail called after the call that received the Emitter returned")
	}
	r.mu.Lock()
	r.keys = append(r.keys, key)
	r.mu.Unlock()
}

// got returns the items recorded so far; a misbehaving component may still
// be emitting, so it takes the lock.
func (r *recorder[T]) got() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items)
}

// refusals returns how many times Emit refused an item.
func (r *recorder[T]) refusals() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// produce runs src once with rec, within Timeout.
func produce[T any](t *testing.T, ctx context.Context, src pipeline.Source[T], rec *recorder[T]) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- src.Produce(ctx, rec) }()
	select {
	case err := <-done:
		rec.returned.Store(true)
		return err
	case <-time.After(Timeout):
		t.Fatalf("Produce did not return within %v", Timeout)
		return nil
	}
}

func closeIt(t *testing.T, v any) {
	t.Helper()
	if c, ok := v.(pipeline.Closer); ok {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

// SourceOptions tunes [TestSource].
type SourceOptions struct {
	// Finite says the source ends by itself; otherwise (a live feed) only the
	// cancellation rules are checked.
	Finite bool
	// Deterministic says two runs emit the same items.
	Deterministic bool
	// MinItems is how many items the source emits at least before it ends
	// or can be cancelled (default 1).
	MinItems int
	// MaxHold is how long a live source may keep emitted items from the
	// pipeline, without calling Flush, while it emits nothing more
	// (default 1 s): a source that waits for input must flush first,
	// or its items wait in a batch that is not full.
	MaxHold time.Duration
}

// DefaultMaxHold is SourceOptions.MaxHold's default.
const DefaultMaxHold = time.Second

// TestSource checks a Source. newSource must return a fresh, independent
// source on every call.
func TestSource[T any](t *testing.T, newSource func() pipeline.Source[T], opts SourceOptions) {
	if opts.MinItems <= 0 {
		opts.MinItems = 1
	}
	if opts.MaxHold <= 0 {
		opts.MaxHold = DefaultMaxHold
	}
	if !opts.Finite {
		t.Run("flushes before it waits", func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			src := newSource()
			defer closeIt(t, src)
			checkFlushes(t, src, opts)
		})
	}
	if opts.Finite {
		t.Run("runs to the end", func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			src := newSource()
			defer closeIt(t, src)
			rec := &recorder[T]{t: t}
			if err := produce(t, context.Background(), src, rec); err != nil {
				t.Fatalf("Produce: %v", err)
			}
			if n := len(rec.got()); n < opts.MinItems {
				t.Errorf("emitted %d items, want at least %d", n, opts.MinItems)
			}
			if opts.Deterministic {
				src2 := newSource()
				defer closeIt(t, src2)
				rec2 := &recorder[T]{t: t}
				if err := produce(t, context.Background(), src2, rec2); err != nil {
					t.Fatalf("second Produce: %v", err)
				}
				if a, b := rec.got(), rec2.got(); !reflect.DeepEqual(a, b) {
					t.Errorf("two runs emitted different items (%d and %d)", len(a), len(b))
				}
			}
		})
	}
	t.Run("stops when cancelled", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		src := newSource()
		defer closeIt(t, src)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec := &recorder[T]{t: t, cancel: cancel, cancelAt: opts.MinItems}
		err := produce(t, ctx, src, rec)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Produce after cancellation returned %v, want nil or context.Canceled", err)
		}
		if err == nil && !opts.Finite {
			t.Errorf("a live source returned nil after cancellation, want context.Canceled")
		}
	})
	t.Run("stops when cancelled before the start", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		src := newSource()
		defer closeIt(t, src)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := &recorder[T]{t: t}
		if err := produce(t, ctx, src, rec); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Produce returned %v, want nil or context.Canceled", err)
		}
	})
	t.Run("stops when Emit fails", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		src := newSource()
		defer closeIt(t, src)
		rec := &recorder[T]{t: t, failAt: opts.MinItems}
		err := produce(t, context.Background(), src, rec)
		if rec.refusals() > 0 && !errors.Is(err, errStop) {
			t.Errorf("Produce returned %v after Emit failed, want that error (wrapped with %%w)", err)
		}
	})
	if opts.Finite {
		t.Run("in a pipeline", func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			var n atomic.Int64
			p := pipeline.New(pipeline.Config[T]{}).From("source", newSource()).
				To("count", pipeline.SinkFunc[T](func(_ context.Context, items []T) error {
					n.Add(int64(len(items)))
					return nil
				}))
			err := p.Run(context.Background())
			var f pipeline.Failures
			if err != nil && !errors.As(err, &f) {
				t.Fatalf("Run: %v", err)
			}
			if n.Load() < int64(opts.MinItems) {
				t.Errorf("the sink got %d items, want at least %d", n.Load(), opts.MinItems)
			}
		})
	}
}

// checkFlushes runs a live source until it has emitted opts.MinItems and
// flushed them, and fails it if it holds emitted items for opts.MaxHold
// without emitting or flushing. A source that keeps emitting without
// flushing passes: its batches fill.
func checkFlushes[T any](t *testing.T, src pipeline.Source[T], opts SourceOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder[T]{t: t, activity: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- src.Produce(ctx, rec) }()
	defer func() {
		cancel()
		select {
		case <-done:
			rec.returned.Store(true)
		case <-time.After(Timeout):
			t.Fatalf("Produce did not return within %v of cancellation", Timeout)
		}
	}()
	quiet := time.NewTimer(opts.MaxHold)
	defer quiet.Stop()
	giveUp := time.NewTimer(Timeout)
	defer giveUp.Stop()
	for {
		select {
		case err := <-done:
			// Ended by itself: the other rules judge that.
			rec.returned.Store(true)
			done <- err
			return
		case <-giveUp.C:
			return // it never stopped emitting: its batches fill
		case <-rec.activity:
			quiet.Reset(opts.MaxHold)
			if n, held := rec.holding(); n >= opts.MinItems && held == 0 {
				return
			}
		case <-quiet.C:
			if _, held := rec.holding(); held > 0 {
				t.Errorf("held %d emitted items for %v without calling Flush while it emitted nothing more: "+
					"a live source must call Emitter.Flush before it waits for input", held, opts.MaxHold)
				return
			}
			quiet.Reset(opts.MaxHold)
		}
	}
}

// TestStage checks a Stage on inputs: run alone and in a parallel pipeline
// partitioned by key, it must give the same items in the same order, leave
// no goroutine behind, and stop when Emit fails. A stage that emits from
// Flush has one instance per worker, each flushing its own keys: that output
// is compared as a whole, so such a stage should emit it in key order.
func TestStage[T any](t *testing.T, newStage func() pipeline.Stage[T], key func(T) string, inputs []T) {
	want := func(t *testing.T) []T {
		st := newStage()
		defer closeIt(t, st)
		rec := &recorder[T]{t: t}
		for _, in := range inputs {
			if err := st.Process(context.Background(), in, rec); err != nil {
				t.Fatalf("Process: %v", err)
			}
		}
		if f, ok := st.(pipeline.Flusher); ok {
			if err := f.Flush(context.Background()); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}
		rec.returned.Store(true)
		return rec.got()
	}
	t.Run("parallel equals sequential", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		seq := want(t)
		for _, workers := range []int{1, 2, 4} {
			var got []T
			p := pipeline.New(pipeline.Config[T]{Workers: workers, Key: key, BatchSize: 7, Buffer: 2}).
				From("inputs", pipeline.SourceFunc[T](func(ctx context.Context, out pipeline.Emitter[T]) error {
					for _, in := range inputs {
						if err := out.Emit(in); err != nil {
							return err
						}
					}
					return nil
				})).
				Then("stage", newStage).
				To("collect", pipeline.SinkFunc[T](func(_ context.Context, items []T) error {
					got = append(got, items...)
					return nil
				}))
			if err := p.Run(context.Background()); err != nil {
				t.Fatalf("workers=%d: Run: %v", workers, err)
			}
			if !reflect.DeepEqual(got, seq) {
				t.Errorf("workers=%d: the pipeline's output (%d items) differs from the stage run alone (%d items)",
					workers, len(got), len(seq))
			}
		}
	})
	t.Run("stops when Emit fails", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		st := newStage()
		defer closeIt(t, st)
		rec := &recorder[T]{t: t, failAt: 1}
		for _, in := range inputs {
			err := st.Process(context.Background(), in, rec)
			if rec.refusals() > 0 {
				if !errors.Is(err, errStop) {
					t.Errorf("Process returned %v after Emit failed, want that error", err)
				}
				break
			}
		}
		rec.returned.Store(true)
	})
}

// TestSink checks a Sink: it writes every item of batches it may not keep,
// flushes, honours cancellation and leaves no goroutine behind. verify, when
// not nil, checks the sink's output after Flush: it runs once per rule with
// the sink it checks.
func TestSink[T any](t *testing.T, newSink func() pipeline.Sink[T], items []T, verify func(t *testing.T, s pipeline.Sink[T])) {
	t.Run("keeps no batch", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		s := newSink()
		batch := make([]T, 0, 5)
		var zero T
		for i := 0; i < len(items); i += 5 {
			batch = append(batch[:0], items[i:min(i+5, len(items))]...)
			if err := s.Write(context.Background(), batch); err != nil {
				t.Fatalf("Write: %v", err)
			}
			// The pipeline reuses batches: scribble over this one.
			for j := range batch {
				batch[j] = zero
			}
		}
		if f, ok := s.(pipeline.Flusher); ok {
			if err := f.Flush(context.Background()); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}
		if verify != nil {
			verify(t, s)
		}
		closeIt(t, s)
	})
	t.Run("in a pipeline", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		s := newSink()
		p := pipeline.New(pipeline.Config[T]{BatchSize: 3}).
			From("items", pipeline.SourceFunc[T](func(ctx context.Context, out pipeline.Emitter[T]) error {
				for _, it := range items {
					if err := out.Emit(it); err != nil {
						return err
					}
				}
				return nil
			})).To("sink", s)
		if err := p.Run(context.Background()); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if verify != nil {
			verify(t, s)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		s := newSink()
		defer closeIt(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() { done <- s.Write(ctx, items[:min(3, len(items))]) }()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Write with a cancelled context returned %v, want nil or context.Canceled", err)
			}
		case <-time.After(Timeout):
			t.Fatalf("Write with a cancelled context did not return within %v", Timeout)
		}
	})
}

// String makes the check names readable in a failure.
func (r *recorder[T]) String() string { return fmt.Sprintf("recorder(%d items)", len(r.got())) }
