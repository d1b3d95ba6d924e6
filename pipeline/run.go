package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc/panics"
)

// Pipeline joins one Source, a chain of Stages and one Sink:
//
//	            ┌─ worker 0: stage 1 → stage 2 → … ─┐
//	source ──▶──┼─ worker 1: stage 1 → stage 2 → … ─┼──▶── sink
//	   (by key) └─ worker N-1: …                    ┘ (in source order)
//
// Each arrow is a set of bounded, batched channels that the pipeline makes
// and closes. The source's items are partitioned among the workers by key;
// each worker runs its own instance of every stage, fused: an item passes
// from one stage to the next by a function call, because a channel hop
// costs more than an indicator update. Items keep their source order per
// key everywhere, and the sink receives them in source order whatever the
// number of workers, so a parallel run writes exactly what a sequential one
// writes.
//
// Build it with [New], [Pipeline.From], [Pipeline.Then] and [Pipeline.To],
// then call [Pipeline.Run] once.
type Pipeline[T any] struct {
	cfg    Config[T]
	src    Source[T]
	srcN   string
	srcSt  stats
	stages []*stage[T]
	sink   Sink[T]
	sinkN  string
	sinkSt stats
	err    error

	started atomic.Bool
	halted  atomic.Bool // aborted: components get no more calls but Close
	mu      sync.Mutex
	fails   map[string]*KeyError
}

type stage[T any] struct {
	name string
	make func() Stage[T]
	st   stats
}

type stats struct {
	in, out, failed atomic.Int64
	queued, dropped atomic.Int64 // in the edge that feeds the component
	discarded       atomic.Int64 // that edge's items never delivered: the run was aborted
	busy            atomic.Int64 // nanoseconds
}

// New returns an empty pipeline; see [Config] for the defaults.
func New[T any](cfg Config[T]) *Pipeline[T] {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	return &Pipeline[T]{cfg: cfg, fails: map[string]*KeyError{}}
}

// From sets the pipeline's source.
func (p *Pipeline[T]) From(name string, src Source[T]) *Pipeline[T] {
	if p.src != nil {
		p.fail(fmt.Errorf("%w: second source %q (combine inputs in one Source)", ErrConfig, name))
	}
	if src == nil {
		p.fail(fmt.Errorf("%w: source %q is nil", ErrConfig, name))
	}
	p.src, p.srcN = src, name
	return p
}

// Then appends a stage. newStage is called once per worker, so each worker
// owns its instance's state and needs no locks. Run makes every instance
// before any worker starts, one call at a time on Run's goroutine, so a
// constructor may record its instances without a lock.
func (p *Pipeline[T]) Then(name string, newStage func() Stage[T]) *Pipeline[T] {
	if newStage == nil {
		p.fail(fmt.Errorf("%w: stage %q: nil constructor", ErrConfig, name))
	}
	p.stages = append(p.stages, &stage[T]{name: name, make: newStage})
	return p
}

// To sets the pipeline's sink.
func (p *Pipeline[T]) To(name string, sink Sink[T]) *Pipeline[T] {
	if p.sink != nil {
		p.fail(fmt.Errorf("%w: second sink %q (fan out with one Sink)", ErrConfig, name))
	}
	if sink == nil {
		p.fail(fmt.Errorf("%w: sink %q is nil", ErrConfig, name))
	}
	p.sink, p.sinkN = sink, name
	return p
}

func (p *Pipeline[T]) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *Pipeline[T]) validate() error {
	if p.err != nil {
		return p.err
	}
	if p.src == nil {
		return fmt.Errorf("%w: no source", ErrConfig)
	}
	if p.sink == nil {
		return fmt.Errorf("%w: no sink", ErrConfig)
	}
	if p.cfg.Workers > 1 && p.cfg.Key == nil {
		return fmt.Errorf("%w: %d workers but Config.Key is nil", ErrConfig, p.cfg.Workers)
	}
	if p.cfg.Linger < 0 {
		return fmt.Errorf("%w: negative Linger %v", ErrConfig, p.cfg.Linger)
	}
	if p.cfg.Overflow > DropNewest {
		return fmt.Errorf("%w: unknown overflow %d", ErrConfig, p.cfg.Overflow)
	}
	names := map[string]bool{p.srcN: true}
	for _, s := range p.stages {
		if names[s.name] {
			return fmt.Errorf("%w: two components named %q", ErrConfig, s.name)
		}
		names[s.name] = true
	}
	if names[p.sinkN] {
		return fmt.Errorf("%w: two components named %q", ErrConfig, p.sinkN)
	}
	return nil
}

// Run runs the pipeline until the source is exhausted and everything it
// produced has reached the sink, or until a fatal error. It returns only
// after every goroutine it started has exited, with one exception below.
//
// Cancelling ctx is a graceful shutdown: the source is stopped, the items
// already emitted drain through the stages, the stages and the sink are
// flushed, and Run returns ctx's error. The first fatal error (a component
// returning an error, panicking or calling runtime.Goexit) aborts the run
// at once: the components' context is cancelled and Run returns the error.
// When only some keys failed (see [Emitter.Fail]), Run returns [Failures].
// Close errors are returned joined with the outcome.
//
// Config.DrainTimeout bounds the shutdown: Run returns at most that long
// after ctx is done or a fatal error, whatever the components do. A drain
// that has not finished by then is aborted, and a component that still has
// not returned is abandoned (see [AbortError]): its goroutine, stuck in the
// component's own code, is the one that may outlive Run. When its call
// returns, the pipeline makes no other call to it but Close, and that
// goroutine exits.
func (p *Pipeline[T]) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Run called twice", ErrConfig)
	}
	if err := p.validate(); err != nil {
		return err
	}

	// work outlives ctx so that the stages can drain after a graceful stop;
	// it ends on a fatal error or when the drain times out.
	work, abort := context.WithCancelCause(context.WithoutCancel(ctx))
	defer abort(nil)
	srcCtx, stopSrc := context.WithCancel(ctx)
	defer stopSrc()
	aborted := make(chan struct{})
	var once sync.Once
	var fatal error
	fail := func(err error) {
		once.Do(func() {
			fatal = err
			p.halted.Store(true)
			abort(err)
			stopSrc()
			close(aborted)
		})
	}

	seed := maphash.MakeSeed()
	bp := newPool[T](p.cfg.BatchSize)
	n := p.cfg.Workers
	toWorkers := newEdge[T](p.srcN, 1, n, p.cfg.Buffer, p.cfg.Overflow, &p.srcSt)
	toSink := newEdge[T](p.sinkN, n, 1, p.cfg.Buffer, Block, &p.sinkSt)
	workers, err := p.buildWorkers(work, toSink, bp, seed)
	if err != nil {
		return err
	}

	// Close errors do not abort the run: they come after the component's
	// last call, and are returned with the run's outcome.
	var closeMu sync.Mutex
	var closeErrs []error
	closed := func(err error) {
		if err != nil {
			closeMu.Lock()
			closeErrs = append(closeErrs, err)
			closeMu.Unlock()
		}
	}

	// Each goroutine runs one component (the workers: a chain); exited
	// hears each one's end, and has room for all, so that one abandoned
	// and ending late never blocks.
	names := make([]string, 0, n+2)
	exited := make(chan int, n+2)
	spawn := func(name string, f func(), goexit func() error) {
		i := len(names)
		names = append(names, name)
		go func() {
			returned := false
			defer func() {
				if !returned {
					// runtime.Goexit (t.FailNow in a test component): the
					// run cannot go on without this goroutine.
					fail(goexit())
				}
				exited <- i
			}()
			f()
			returned = true
		}()
	}
	goexitErr := func(name string) func() error {
		return func() error { return fmt.Errorf("%s: %w", name, ErrGoexit) }
	}

	src := &sourceEmitter[T]{p: p, r: newRouter(toWorkers, bp, p.cfg.Observer, 0, p.cfg.Key, seed, p.cfg.BatchSize)}
	src.r.published = &p.srcSt.out
	linger := p.cfg.Linger
	lingerDone := make(chan struct{})
	stopLinger := make(chan struct{})
	if linger > 0 {
		src.lingers = true
		src.wake = make(chan struct{}, 1)
		go func() {
			defer close(lingerDone)
			src.linger(linger, stopLinger)
		}()
	} else {
		close(lingerDone)
	}
	spawn(fmt.Sprintf("source %s (%T)", p.srcN, p.src), func() {
		defer src.r.close()
		err, cerr := p.runSource(srcCtx, work, src)
		if err != nil {
			fail(err)
		}
		closed(cerr)
	}, goexitErr("source "+p.srcN))
	for _, w := range workers {
		m := newMerge(toWorkers, bp, w.id)
		spawn(w.String(), func() {
			defer w.r.close()
			defer func() { closed(w.close()) }()
			err := w.run(m)
			if err != nil || p.halted.Load() {
				w.discardLeftovers(m)
			}
			if err != nil {
				fail(err)
			}
		}, func() error { return fmt.Errorf("%s (worker %d): %w", w.curName(), w.id, ErrGoexit) })
	}
	spawn(fmt.Sprintf("sink %s (%T)", p.sinkN, p.sink), func() {
		err, cerr := p.runSink(work, newMerge(toSink, bp, 0))
		if err != nil {
			fail(err)
		}
		closed(cerr)
	}, goexitErr("sink "+p.sinkN))

	running := p.supervise(ctx, exited, aborted, fail, len(names))
	close(stopLinger)
	<-lingerDone

	var res error = p.outcome(ctx, fatal)
	if fatal != nil {
		// Aborted: what is still in the edges will never be delivered.
		discardQueued(toWorkers)
		discardQueued(toSink)
		ae := &AbortError{Err: fatal, Timeout: p.cfg.DrainTimeout, Discarded: p.srcSt.discarded.Load() + p.sinkSt.discarded.Load()}
		for i, r := range running {
			if r {
				ae.Stuck = append(ae.Stuck, names[i])
			}
		}
		if ae.Discarded > 0 || len(ae.Stuck) > 0 {
			res = ae
		}
	}
	closeMu.Lock()
	defer closeMu.Unlock()
	if len(closeErrs) == 0 {
		return res // as it is: ctx.Err() stays comparable with ==
	}
	return errors.Join(append([]error{res}, closeErrs...)...)
}

// supervise waits for the component goroutines to exit and keeps the
// shutdown within Config.DrainTimeout: after ctx is done, the drain gets
// the timeout less an abort phase (a fifth, at most a second); then the run
// is aborted, and once the timeout is over, or once it has passed since a
// fatal error, the goroutines still running are abandoned. It returns which
// goroutines are still running.
func (p *Pipeline[T]) supervise(ctx context.Context, exited <-chan int, aborted <-chan struct{}, fail func(error), n int) []bool {
	running := make([]bool, n)
	for i := range running {
		running[i] = true
	}
	timeout := p.cfg.DrainTimeout
	abortPhase := min(timeout/5, time.Second)
	var drain, hard *time.Timer
	var drainC, hardC <-chan time.Time
	defer func() {
		if drain != nil {
			drain.Stop()
		}
		if hard != nil {
			hard.Stop()
		}
	}()
	done := ctx.Done()
	if timeout <= 0 {
		done, aborted = nil, nil // no bound: wait for every goroutine
	}
	for left := n; left > 0; {
		select {
		case i := <-exited:
			running[i] = false
			left--
		case <-done:
			done = nil
			if hard != nil {
				break // aborted already: its bound stands
			}
			drain = time.NewTimer(timeout - abortPhase)
			drainC = drain.C
			hard = time.NewTimer(timeout)
			hardC = hard.C
		case <-drainC:
			drainC = nil
			fail(fmt.Errorf("%w within %v", ErrDrainTimeout, timeout-abortPhase))
		case <-aborted:
			aborted = nil
			if hard == nil {
				hard = time.NewTimer(timeout)
				hardC = hard.C
			}
		case <-hardC:
			return running
		}
	}
	return running
}

// outcome is what Run returns, close errors aside.
func (p *Pipeline[T]) outcome(ctx context.Context, fatal error) error {
	if fatal != nil {
		return fatal
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if f := p.Failures(); len(f) > 0 {
		return f
	}
	return nil
}

// Failures returns the keys that have failed so far, sorted by key.
func (p *Pipeline[T]) Failures() Failures {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := make(Failures, 0, len(p.fails))
	for _, e := range p.fails {
		f = append(f, e)
	}
	sortFailures(f)
	return f
}

// recordFailure keeps the first failure of each key.
func (p *Pipeline[T]) recordFailure(component, key string, err error) {
	p.mu.Lock()
	if _, seen := p.fails[key]; !seen {
		p.fails[key] = &KeyError{Stage: component, Key: key, Err: err}
	}
	p.mu.Unlock()
	if p.cfg.Observer != nil {
		p.cfg.Observer.Failed(component, key, err)
	}
}

// guard runs f, turning a panic into a *PanicError with its stack.
func guard(component string, f func() error) (err error) {
	if r := panics.Try(func() { err = f() }); r != nil {
		return &PanicError{Component: component, Value: r.Value, Stack: r.Stack}
	}
	return err
}

func wrapComponent(name string, err error) error {
	var pe *PanicError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// runSource runs the source and delivers what it emitted; its Close error
// is returned apart.
func (p *Pipeline[T]) runSource(ctx, work context.Context, em *sourceEmitter[T]) (err, closeErr error) {
	r := em.r
	r.ctx = ctx
	defer func() { em.finish(err != nil) }()
	closed := false
	closeSrc := func() {
		closed = true
		if c, ok := p.src.(Closer); ok {
			if cerr := guard(p.srcN, c.Close); cerr != nil {
				closeErr = wrapComponent(p.srcN, fmt.Errorf("close: %w", cerr))
			}
		}
	}
	defer func() {
		if !closed {
			closeSrc() // Produce called runtime.Goexit
		}
	}()
	err = guard(p.srcN, func() error { return p.src.Produce(ctx, em) })
	closeSrc()
	stopped := err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())
	if err != nil && !stopped {
		return wrapComponent(p.srcN, err), closeErr
	}
	// What was emitted before the end (or the stop) is accepted: deliver it.
	em.lock()
	defer em.unlock()
	r.ctx = work
	r.mark = endMark
	return r.flush(), closeErr
}

// sourceEmitter numbers the source's items and routes them.
//
// With a linger, a second goroutine sends what a batch holds once it has
// waited that long, so a source that waits for input without calling Flush
// holds nothing back: mu guards the router between the two; the linger
// only ever tries the lock, so it never waits for the source.
type sourceEmitter[T any] struct {
	p      *Pipeline[T]
	r      *router[T]
	seq    uint64
	failed map[string]bool

	lingers  bool
	mu       sync.Mutex
	armed    bool          // the linger's timer runs, or will
	wake     chan struct{} // arms the linger's timer
	finished bool          // the source's edge is closed: the linger must not send
}

func (e *sourceEmitter[T]) lock() {
	if e.lingers {
		e.mu.Lock()
	}
}

func (e *sourceEmitter[T]) unlock() {
	if e.lingers {
		e.mu.Unlock()
	}
}

func (e *sourceEmitter[T]) Emit(item T) error {
	if e.lingers {
		return e.emitLingering(item)
	}
	if len(e.failed) > 0 && e.p.cfg.Key != nil && e.failed[e.p.cfg.Key(item)] {
		return nil
	}
	e.seq++
	e.r.mark = e.seq
	return e.r.push(item, e.seq)
}

// emitLingering is Emit with the linger: under the lock, and arming the
// linger's timer when it is not running.
func (e *sourceEmitter[T]) emitLingering(item T) error {
	if len(e.failed) > 0 && e.p.cfg.Key != nil && e.failed[e.p.cfg.Key(item)] {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	e.r.mark = e.seq
	err := e.r.push(item, e.seq)
	if !e.armed && err == nil {
		e.armed = true
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	return err
}

func (e *sourceEmitter[T]) Flush() error {
	e.lock()
	defer e.unlock()
	return e.r.flush()
}

func (e *sourceEmitter[T]) Fail(key string, err error) {
	if e.failed == nil {
		e.failed = map[string]bool{}
	}
	e.failed[key] = true
	e.p.srcSt.failed.Add(1)
	e.p.recordFailure(e.p.srcN, key, err)
}

// finish ends the linger's access to the router; when the source failed
// or the run was aborted, it counts what the router still held as
// discarded.
func (e *sourceEmitter[T]) finish(failed bool) {
	e.lock()
	defer e.unlock()
	e.finished = true
	if failed || e.p.halted.Load() {
		e.r.discardPending()
	}
}

// linger sends the source's pending batches once they have waited d: one
// timer for the edge, armed by the first item pushed after it fired.
func (e *sourceEmitter[T]) linger(d time.Duration, stop <-chan struct{}) {
	t := time.NewTimer(d)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-e.wake:
			t.Reset(d)
		case <-t.C:
			if !e.mu.TryLock() {
				// The source is in Emit, or waiting there for room: it is
				// not holding a batch back while it waits for input.
				t.Reset(d)
				continue
			}
			if e.finished {
				e.mu.Unlock()
				return
			}
			owed := e.r.offerAll()
			e.armed = owed
			e.mu.Unlock()
			if owed {
				t.Reset(d) // no room yet: the consumer is busy anyway
			}
		}
	}
}

// link is one stage of a worker's fused chain and the Emitter it gives its
// stage: Emit calls the next stage directly, the last link pushes to the
// sink's edge. Every output inherits the sequence number of the input it
// came from.
type link[T any] struct {
	w       *worker[T]
	s       *stage[T]
	impl    Stage[T]
	keyed   KeyedStage[T] // impl, when its state is kept in the worker's slots
	slot    int           // its slot among the key's
	next    *link[T]
	idx     int // its index in the worker's links
	in, out int // since the last report
	// emitted holds what the stage emits while the next stage works on it:
	// a keyed stage is handed a pointer, and a pointer to Emit's argument
	// would move every item to the heap.
	emitted T
}

// process hands item to the link's stage, with its key's slot if keyed.
// A keyed stage gets item itself; any other stage a copy.
func (l *link[T]) process(ctx context.Context, item *T) error {
	if l.keyed != nil {
		return l.keyed.ProcessKeyed(ctx, l.w.key, item, &l.w.state[l.slot], l)
	}
	return l.impl.Process(ctx, *item, l)
}

type worker[T any] struct {
	p      *Pipeline[T]
	id     int
	ctx    context.Context
	r      *router[T]
	links  []*link[T]
	seq    uint64
	failed map[string]bool
	// cur is the index in links of the stage running now, to name it in
	// a panic; an int, as a pointer store per item costs a write barrier.
	cur int

	// Per-key slots of the chain's keyed stages (see KeyedStage).
	keyed int              // how many
	slots map[string][]any // by key
	key   string           // of the item in the chain now
	state []any            // its slots
}

// curName names the stage running now.
func (w *worker[T]) curName() string {
	if w.cur < len(w.links) {
		return w.links[w.cur].s.name
	}
	return ""
}

func (l *link[T]) Emit(item T) error {
	l.out++
	if l.next == nil {
		return l.w.r.push(item, l.w.seq)
	}
	l.next.in++
	if l.w.p.halted.Load() {
		l.w.r.e.st.discarded.Add(1)
		return context.Cause(l.w.ctx)
	}
	if len(l.w.failed) > 0 && l.w.p.cfg.Key != nil && l.w.failed[l.w.p.cfg.Key(item)] {
		return nil
	}
	l.w.cur = l.next.idx
	var err error
	if n := l.next; n.keyed != nil {
		l.emitted = item
		err = n.keyed.ProcessKeyed(l.w.ctx, l.w.key, &l.emitted, &l.w.state[n.slot], n)
	} else {
		err = n.impl.Process(l.w.ctx, item, n)
	}
	l.w.cur = l.idx
	if err != nil {
		return chainError(l.next, err)
	}
	return nil
}

func (l *link[T]) Flush() error { return nil } // the worker flushes when idle

func (l *link[T]) Fail(key string, err error) {
	if l.w.failed == nil {
		l.w.failed = map[string]bool{}
	}
	l.w.failed[key] = true
	l.s.st.failed.Add(1)
	l.w.p.recordFailure(l.s.name, key, err)
}

// buildWorkers makes every worker and its instance of every stage, before
// any goroutine starts: constructors run one at a time, and a failing one
// stops the run before it begins, closing the instances already made.
func (p *Pipeline[T]) buildWorkers(work context.Context, toSink *edge[T], bp *pool[T], seed maphash.Seed) ([]*worker[T], error) {
	workers := make([]*worker[T], 0, p.cfg.Workers)
	for id := range p.cfg.Workers {
		r := newRouter(toSink, bp, p.cfg.Observer, id, p.cfg.Key, seed, p.cfg.BatchSize)
		r.ctx = work
		r.timed = true
		r.countRejected = true
		w := &worker[T]{p: p, id: id, ctx: work, r: r, links: make([]*link[T], len(p.stages))}
		workers = append(workers, w)
		for i := len(p.stages) - 1; i >= 0; i-- {
			s := p.stages[i]
			l := &link[T]{w: w, s: s, idx: i}
			if i+1 < len(w.links) {
				l.next = w.links[i+1]
			}
			err := guard(s.name, func() error { l.impl = s.make(); return nil })
			if err == nil && l.impl == nil {
				err = fmt.Errorf("%w: stage %q: constructor returned nil", ErrConfig, s.name)
			}
			if err != nil {
				errs := []error{fmt.Errorf("%s (worker %d): %w", s.name, id, err)}
				for _, w := range workers {
					errs = append(errs, w.close())
				}
				return nil, errors.Join(errs...)
			}
			w.links[i] = l
		}
		for _, l := range w.links {
			if ks, ok := l.impl.(KeyedStage[T]); ok {
				l.keyed, l.slot = ks, w.keyed
				w.keyed++
			}
		}
		if w.keyed > 0 {
			w.slots = map[string][]any{}
			if p.cfg.Key == nil {
				errs := []error{fmt.Errorf("%w: stages keep per-key state (KeyedStage) but Config.Key is nil", ErrConfig)}
				for _, w := range workers {
					errs = append(errs, w.close())
				}
				return nil, errors.Join(errs...)
			}
		}
	}
	return workers, nil
}

// close closes the worker's stage instances, each once, and returns their
// errors joined, each naming the stage and the worker.
func (w *worker[T]) close() error {
	var errs []error
	for _, l := range w.links {
		if l == nil {
			continue // not built: the constructor failed
		}
		if c, ok := l.impl.(Closer); ok {
			if err := guard(l.s.name, c.Close); err != nil {
				errs = append(errs, fmt.Errorf("%s (worker %d): close: %w", l.s.name, w.id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// String names the worker's stages for an [AbortError].
func (w *worker[T]) String() string {
	if len(w.links) == 1 {
		return fmt.Sprintf("stage %s (worker %d, %T)", w.links[0].s.name, w.id, w.links[0].impl)
	}
	names := make([]string, len(w.links))
	for i, l := range w.links {
		names[i] = l.s.name
	}
	return fmt.Sprintf("worker %d (stages %s)", w.id, strings.Join(names, ", "))
}

// discardLeftovers counts, after an abort, what the worker took but did not
// pass on: the rest of its input batches and its unsent output.
func (w *worker[T]) discardLeftovers(m *merge[T]) {
	m.discardCurrent()
	w.r.discardPending()
}

// run feeds the worker's chain from m until its input ends.
//
// Busy time is what the chain spends processing: the time between two
// reports, less what the worker spent waiting for input (in m) or for room
// downstream (in its router). Only the waits are timed, not the items.
func (w *worker[T]) run(m *merge[T]) error {
	p, r, links := w.p, w.r, w.links
	work := w.ctx
	m.timed = true
	last := time.Now()
	report := func() {
		now := time.Now()
		d := now.Sub(last) - m.waited - r.blocked
		last, m.waited, r.blocked = now, 0, 0
		for i, l := range links {
			if l.in == 0 && l.out == 0 {
				continue
			}
			l.s.st.in.Add(int64(l.in))
			l.s.st.out.Add(int64(l.out))
			var el time.Duration
			if i == 0 {
				// Fused stages share one clock: the chain's time is reported
				// with its first stage.
				el = d
				l.s.st.busy.Add(int64(d))
			}
			if p.cfg.Observer != nil {
				p.cfg.Observer.Processed(l.s.name, l.in, l.out, el)
			}
			l.in, l.out = 0, 0
		}
	}
	idle := func() error {
		report()
		r.mark = m.frontier()
		return r.flush()
	}
	key := p.cfg.KeyOf
	if key == nil && p.cfg.Key != nil {
		byValue := p.cfg.Key
		key = func(item *T) string { return byValue(*item) }
	}
	err := func() (err error) {
		// One recover for the whole loop: w.cur names the stage that was
		// running when it panicked.
		defer func() {
			if v := recover(); v != nil {
				r := panics.NewRecovered(1, v)
				err = &PanicError{Component: w.curName(), Value: v, Stack: r.Stack}
			}
		}()
		for {
			item, seq, ok, err := m.next(work, idle)
			if err != nil || !ok {
				return err
			}
			if p.halted.Load() {
				// Aborted: a stage that returns late gets no more items.
				m.e.st.discarded.Add(1)
				return context.Cause(work)
			}
			if w.keyed > 0 {
				// One lookup of the key's state for the whole chain.
				w.key = key(item)
				if len(w.failed) > 0 && w.failed[w.key] {
					continue
				}
				st := w.slots[w.key]
				if st == nil {
					st = make([]any, w.keyed)
					w.slots[w.key] = st
				}
				w.state = st
			} else if len(w.failed) > 0 && key != nil && w.failed[key(item)] {
				continue
			}
			// Outputs of this item may still follow: promise only what
			// precedes it.
			w.seq, r.mark = seq, seq-1
			if len(links) == 0 {
				if err := r.push(*item, seq); err != nil {
					return err
				}
				continue
			}
			l := links[0]
			l.in++
			w.cur = 0
			if err := l.process(work, item); err != nil {
				return chainError(l, err)
			}
		}
	}()
	if err != nil {
		return err
	}
	// Input has ended: flush each stage in order; what a flush emits goes
	// through the stages after it. It sorts after every input item.
	w.seq = endMark - 1
	r.mark = endMark - 2
	for _, l := range links {
		if f, ok := l.impl.(Flusher); ok {
			if err := guard(l.s.name, func() error { return f.Flush(work) }); err != nil {
				return wrapComponent(l.s.name, fmt.Errorf("flush: %w", err))
			}
		}
	}
	report()
	r.mark = endMark
	return r.flush()
}

// chainError names the stage an error came from: the deepest stage wraps
// first, so only the first wrap counts.
func chainError[T any](l *link[T], err error) error {
	var se *stageError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) && l.w.ctx.Err() != nil {
		return err
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		return err
	}
	return &stageError{name: l.s.name, err: err}
}

type stageError struct {
	name string
	err  error
}

func (e *stageError) Error() string { return e.name + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// runSink writes what reaches the sink in batches, then flushes it; its
// Close error is returned apart. Its busy time is the time spent in Write.
func (p *Pipeline[T]) runSink(work context.Context, m *merge[T]) (err, closeErr error) {
	// Deferred, so that a Write calling runtime.Goexit is closed too.
	defer func() {
		if c, ok := p.sink.(Closer); ok {
			if cerr := guard(p.sinkN, c.Close); cerr != nil {
				closeErr = wrapComponent(p.sinkN, fmt.Errorf("close: %w", cerr))
			}
		}
	}()
	buf := make([]T, 0, p.cfg.BatchSize)
	write := func() error {
		if len(buf) == 0 {
			return nil
		}
		if p.halted.Load() {
			// Aborted: a sink that returns late gets no more batches.
			return context.Cause(work)
		}
		start := time.Now()
		err := p.sink.Write(work, buf)
		d := time.Since(start)
		p.sinkSt.in.Add(int64(len(buf)))
		p.sinkSt.out.Add(int64(len(buf)))
		p.sinkSt.busy.Add(int64(d))
		if p.cfg.Observer != nil {
			p.cfg.Observer.Processed(p.sinkN, len(buf), len(buf), d)
		}
		clear(buf)
		buf = buf[:0]
		return err
	}
	err = guard(p.sinkN, func() error {
		for {
			item, _, ok, err := m.next(work, write)
			if err != nil {
				return err
			}
			if !ok {
				return write()
			}
			buf = append(buf, *item)
			if len(buf) == cap(buf) {
				if err := write(); err != nil {
					return err
				}
			}
		}
	})
	if err != nil || p.halted.Load() {
		m.discardCurrent()
		p.sinkSt.discarded.Add(int64(len(buf)))
		clear(buf)
		buf = buf[:0]
	}
	if err == nil {
		if f, ok := p.sink.(Flusher); ok {
			if err = guard(p.sinkN, func() error { return f.Flush(work) }); err != nil {
				err = fmt.Errorf("flush: %w", err)
			}
		}
	}
	if err != nil {
		return wrapComponent(p.sinkN, err), closeErr
	}
	return nil, closeErr
}

// StageStats is a snapshot of one component's counters.
type StageStats struct {
	Name    string
	In, Out int64 // items taken and emitted (the sink: written)
	Queued  int64 // items waiting in the edge that feeds it
	Dropped int64 // items that edge dropped (see Overflow)
	// Discarded is how many items that edge held (queued, or taken but not
	// yet handed on) when the run was aborted: they were never delivered.
	Discarded int64
	Failed    int64 // keys it failed
	// Busy is the time spent processing, summed over workers, not waiting
	// for input or for room downstream: a fused chain's time is its first
	// stage's (the others report zero); the sink's is its time in Write.
	Busy time.Duration
}

// Stats returns a snapshot of the counters of the source (first; Out is
// what it emitted, Dropped and Discarded what its edge dropped and, after
// an abort, discarded), each stage, and the sink (last; Discarded counts
// what the stages had taken but not handed on, too). It is safe to call
// while the pipeline runs, and after it: a component abandoned by an abort
// that returns later adds what it still held to Discarded then.
func (p *Pipeline[T]) Stats() []StageStats {
	snap := func(name string, s *stats) StageStats {
		return StageStats{Name: name, In: s.in.Load(), Out: s.out.Load(), Failed: s.failed.Load(),
			Queued: s.queued.Load(), Dropped: s.dropped.Load(), Discarded: s.discarded.Load(),
			Busy: time.Duration(s.busy.Load())}
	}
	out := make([]StageStats, 0, len(p.stages)+2)
	out = append(out, snap(p.srcN, &p.srcSt))
	for _, s := range p.stages {
		out = append(out, snap(s.name, &s.st))
	}
	return append(out, snap(p.sinkN, &p.sinkSt))
}

// Workers returns the number of workers the stages run on.
func (p *Pipeline[T]) Workers() int { return p.cfg.Workers }
