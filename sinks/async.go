package sinks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Defaults of [AsyncConfig] fields left zero.
const (
	DefaultAsyncCapacity  = 1024
	DefaultAsyncBatchSize = pipeline.DefaultBatchSize
)

// Reasons an [AsyncSink] gives up an event, as passed to
// AsyncConfig.OnDrop; they are also the reason labels of the
// tickflow_discarded_total metric.
const (
	DiscardQueueFull  = "queue_full"  // the overflow policy dropped it: the inner sink cannot keep up
	DiscardShutdown   = "shutdown"    // still queued at Close: the sink was not flushed
	DiscardSinkFailed = "sink_failed" // still queued when the inner sink had failed
)

// AsyncConfig configures [Async]. Its zero value means the defaults: a
// queue of 1024 events that blocks when full.
type AsyncConfig struct {
	// Capacity is how many events the queue holds (default 1024), besides
	// the batch the inner sink is writing.
	Capacity int
	// Overflow is what Write does when the queue is full: pipeline.Block
	// (the default) waits for room, so a slow inner sink slows the
	// pipeline (backpressure, nothing lost); pipeline.DropOldest and
	// pipeline.DropNewest never wait: they drop the oldest queued or the
	// incoming events, each counted and passed to OnDrop.
	Overflow pipeline.Overflow
	// BatchSize is the most events one Write of the inner sink gets
	// (default 256).
	BatchSize int
	// Keep, when set, selects the events worth queueing (say, those with
	// a signal, for a sink of signals); the others are skipped, not
	// counted. Nil keeps every event.
	Keep func(e market.Event) bool
	// OnDrop, when set, is called with every event the sink gives up and
	// why (DiscardQueueFull, DiscardShutdown or DiscardSinkFailed), so that
	// a lost signal can be logged. It runs on the goroutine that calls
	// Write or Close, and must not block.
	OnDrop func(e market.Event, reason string)
}

// AsyncSink runs a slow sink on its own goroutine behind a bounded, counted
// queue; make one with [Async].
type AsyncSink struct {
	inner pipeline.Sink[market.Event]
	cfg   AsyncConfig
	name  string         // the inner sink's type, for errors
	keep  []market.Event // Write's scratch for cfg.Keep

	once   sync.Once
	wake   chan struct{} // events were queued: to the writer
	room   chan struct{} // the writer took events: to a waiting Write
	stop   chan struct{}
	done   chan struct{}
	cancel context.CancelFunc // cancels the inner sink's Write in flight

	mu      sync.Mutex
	queue   []market.Event // ring of cfg.Capacity
	head, n int
	pending int            // queued or being written
	idle    chan struct{}  // closed while pending == 0
	err     error          // the inner sink's first error
	failed  chan struct{}  // closed with err set
	cut     []market.Event // the batch whose Write Close cancelled
	closed  bool

	written, dropped, discarded atomic.Int64
}

var (
	_ pipeline.Sink[market.Event] = (*AsyncSink)(nil)
	_ pipeline.Flusher            = (*AsyncSink)(nil)
	_ pipeline.Closer             = (*AsyncSink)(nil)
)

// Async returns a sink that queues each batch and returns, while one
// goroutine (started by the first Write, ended by Close) writes the queue
// to inner in order, in batches of up to cfg.BatchSize:
//
//	Write ──queue (Capacity, Overflow)──▶ writer goroutine ──▶ inner.Write
//
// So a sink that waits (an order API's retries, a webhook) delays neither
// the pipeline nor its siblings in a [Tee], as long as the queue has room;
// when it is full, cfg.Overflow decides, and nothing is lost silently:
// every event dropped is counted in [AsyncSink.Stats] and passed to
// cfg.OnDrop. Flush waits until the queue is written, then flushes inner;
// it honours its context, so the pipeline's drain timeout bounds it. Close
// stops the writer (cancelling a Write in flight), discards and counts
// what is still queued, then closes inner.
//
// The inner sink's first error is returned by the next Write, Flush or
// Close, and the writer stops: a failed sink gets no further batch. Its
// Write runs on the writer goroutine only, one batch at a time, so it needs
// no lock. Write and Flush are called by one goroutine at a time (the
// pipeline's); Stats may be called from any.
func Async(inner pipeline.Sink[market.Event], cfg AsyncConfig) *AsyncSink {
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultAsyncCapacity
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultAsyncBatchSize
	}
	s := &AsyncSink{inner: inner, cfg: cfg, name: fmt.Sprintf("%T", inner),
		queue: make([]market.Event, cfg.Capacity), idle: make(chan struct{}), failed: make(chan struct{})}
	close(s.idle)
	return s
}

// AsyncStats is a snapshot of an [AsyncSink]'s counters.
type AsyncStats struct {
	Queued    int   // events queued or being written now
	Written   int64 // events the inner sink accepted
	Dropped   int64 // events the overflow policy dropped (the queue was full)
	Discarded int64 // events given up at Close or after the inner sink failed
}

// Stats returns the sink's counters; it is safe to call at any time.
func (s *AsyncSink) Stats() AsyncStats {
	s.mu.Lock()
	queued := s.pending
	s.mu.Unlock()
	return AsyncStats{Queued: queued, Written: s.written.Load(), Dropped: s.dropped.Load(), Discarded: s.discarded.Load()}
}

// start launches the writer, once.
func (s *AsyncSink) start() {
	s.once.Do(func() {
		s.wake = make(chan struct{}, 1)
		s.room = make(chan struct{}, 1)
		s.stop = make(chan struct{})
		s.done = make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		go s.write(ctx)
	})
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (s *AsyncSink) errorf(format string, args ...any) error {
	return fmt.Errorf("sinks.Async(%s): "+format, append([]any{s.name}, args...)...)
}

// Write queues items; it waits only under the Block policy, while the queue
// is full, until ctx is done (then the items not yet queued are not
// accepted, and the error says how many). With ctx already done it queues
// nothing.
func (s *AsyncSink) Write(ctx context.Context, items []market.Event) error {
	if err := ctx.Err(); err != nil {
		// The run was aborted: take nothing that could only be discarded.
		return s.errorf("%d events not queued: %w", len(items), err)
	}
	if s.cfg.Keep != nil {
		items = s.kept(items)
		defer clear(s.keep) // keep nothing of the batch
	}
	s.start()
	var dropped []market.Event
	defer func() {
		s.dropped.Add(int64(len(dropped)))
		s.report(dropped, DiscardQueueFull)
	}()
	for len(items) > 0 {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return s.errorf("Write after Close")
		}
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return s.errorf("%w", err)
		}
		k := min(len(items), len(s.queue)-s.n)
		evicted := 0
		switch {
		case k == len(items) || s.cfg.Overflow == pipeline.Block:
		case s.cfg.Overflow == pipeline.DropNewest:
			dropped = append(dropped, items[k:]...)
			items = items[:k]
		case s.cfg.Overflow == pipeline.DropOldest:
			// Make room for what fits of items' newest part.
			if over := len(items) - len(s.queue); over > 0 {
				dropped = append(dropped, items[:over]...)
				items = items[over:]
			}
			for s.n+len(items) > len(s.queue) {
				dropped = append(dropped, s.queue[s.head])
				s.queue[s.head] = market.Event{}
				s.head = (s.head + 1) % len(s.queue)
				s.n--
				evicted++
			}
			k = len(items)
		}
		for _, e := range items[:k] {
			s.queue[(s.head+s.n)%len(s.queue)] = e
			s.n++
		}
		s.addPending(k - evicted)
		items = items[k:]
		s.mu.Unlock()
		if k > 0 {
			signal(s.wake)
		}
		if len(items) == 0 {
			break
		}
		select { // Block: wait for the writer to take some
		case <-s.room:
		case <-ctx.Done():
			return s.errorf("%d events not queued: %w", len(items), ctx.Err())
		}
	}
	return nil
}

// kept returns the items Keep selects, in a scratch slice of the sink's
// (Write is called by one goroutine at a time).
func (s *AsyncSink) kept(items []market.Event) []market.Event {
	s.keep = s.keep[:0]
	for _, e := range items {
		if s.cfg.Keep(e) {
			s.keep = append(s.keep, e)
		}
	}
	return s.keep
}

// report passes the events given up to OnDrop.
func (s *AsyncSink) report(events []market.Event, reason string) {
	if s.cfg.OnDrop != nil {
		for _, e := range events {
			s.cfg.OnDrop(e, reason)
		}
	}
}

// addPending changes pending by d under s.mu, keeping idle closed exactly
// while nothing is pending.
func (s *AsyncSink) addPending(d int) {
	was := s.pending
	s.pending += d
	switch {
	case was == 0 && s.pending > 0:
		s.idle = make(chan struct{})
	case was > 0 && s.pending == 0:
		close(s.idle)
	}
}

// write is the one goroutine that writes to the inner sink, in queue order.
func (s *AsyncSink) write(ctx context.Context) {
	defer close(s.done)
	batch := make([]market.Event, 0, s.cfg.BatchSize)
	for {
		s.mu.Lock()
		for s.n == 0 || s.err != nil || ctx.Err() != nil {
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.stop:
				return
			}
			s.mu.Lock()
		}
		for s.n > 0 && len(batch) < cap(batch) {
			batch = append(batch, s.queue[s.head])
			s.queue[s.head] = market.Event{}
			s.head = (s.head + 1) % len(s.queue)
			s.n--
		}
		s.mu.Unlock()
		signal(s.room)

		err := s.inner.Write(ctx, batch)

		s.mu.Lock()
		switch {
		case err == nil:
			s.written.Add(int64(len(batch)))
		case ctx.Err() != nil:
			// Close cancelled it: not the inner sink's failure, but the
			// batch is given up; Close counts it.
			s.cut = append(s.cut, batch...)
			err = nil
		}
		if err != nil && s.err == nil {
			s.err = err
			close(s.failed)
			signal(s.room) // a Write waiting for room returns the error
		}
		s.addPending(-len(batch))
		s.mu.Unlock()
		clear(batch)
		batch = batch[:0]
	}
}

// Flush waits until every queued event has been written, then flushes the
// inner sink; it returns early when ctx is done, saying how many events are
// still queued.
func (s *AsyncSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
	case <-s.failed:
	case <-ctx.Done():
		return s.errorf("flush: %d events still queued: %w", s.Stats().Queued, ctx.Err())
	}
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return s.errorf("%w", err)
	}
	if f, ok := s.inner.(pipeline.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return s.errorf("flush: %w", err)
		}
	}
	return nil
}

// Close stops the writer, cancelling a Write in flight, discards (and
// counts) what is still queued, and closes the inner sink. It returns an
// error when it discarded events (with the inner sink's failure, if any),
// and the inner sink's Close error. Call Flush first to write everything.
func (s *AsyncSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.stop != nil {
		s.cancel()
		close(s.stop)
		<-s.done
	}
	s.mu.Lock()
	reason := DiscardShutdown
	if s.err != nil {
		reason = DiscardSinkFailed
	}
	// The batch Close cut short (already out of pending), then the queue.
	left := append(make([]market.Event, 0, len(s.cut)+s.n), s.cut...)
	s.cut = nil
	s.addPending(-s.n)
	for ; s.n > 0; s.n-- {
		left = append(left, s.queue[s.head])
		s.queue[s.head] = market.Event{}
		s.head = (s.head + 1) % len(s.queue)
	}
	innerErr := s.err
	s.mu.Unlock()
	s.discarded.Add(int64(len(left)))
	s.report(left, reason)

	var errs []error
	switch {
	case innerErr != nil && len(left) > 0:
		errs = append(errs, s.errorf("%d events discarded: %w", len(left), innerErr))
	case len(left) > 0:
		errs = append(errs, s.errorf("close: %d events discarded", len(left)))
	}
	if c, ok := s.inner.(pipeline.Closer); ok {
		if err := c.Close(); err != nil {
			errs = append(errs, s.errorf("close: %w", err))
		}
	}
	return errors.Join(errs...)
}

// HasSignal reports whether e carries a signal: the AsyncConfig.Keep of a
// sink that acts only on signals (a webhook, orders).
func HasSignal(e market.Event) bool { return e.Signal != nil }
