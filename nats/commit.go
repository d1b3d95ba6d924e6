package nats

import (
	"context"
	"fmt"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// CommitSink wraps a worker's sink (the journal, the signals stream, an
// orders sink, usually joined by a tee): it drops the events of replayed
// bars, passes the others on (only those with a signal, if SignalsOnly),
// flushes the inner sink after every batch, and then advances the source's
// committed positions. Make it with [Source.CommitSink].
type CommitSink struct {
	src         *Source
	inner       pipeline.Sink[market.Event]
	signalsOnly bool
	counts      map[string]int64
	touched     map[string]int64
	buf         []market.Event
}

var (
	_ pipeline.Sink[market.Event] = (*CommitSink)(nil)
	_ pipeline.Flusher            = (*CommitSink)(nil)
	_ pipeline.Closer             = (*CommitSink)(nil)
)

// CommitSink returns the sink that commits s's positions once inner has
// taken the events. inner must have committed what it was given when its
// Write (and Flush, if it has one) returns.
func (s *Source) CommitSink(inner pipeline.Sink[market.Event], signalsOnly bool) *CommitSink {
	return &CommitSink{src: s, inner: inner, signalsOnly: signalsOnly, counts: map[string]int64{}, touched: map[string]int64{}}
}

// Write passes on the events of bars after the committed position, then
// commits. Events come in runs of one symbol (a message's bars), so the
// counters are looked up once a run, not once an event.
func (c *CommitSink) Write(ctx context.Context, events []market.Event) error {
	c.buf = c.buf[:0]
	c.src.mu.Lock()
	var (
		sym            string
		open           bool
		n, cum, warmed int64
	)
	for i := range events {
		e := &events[i]
		if !open || e.Symbol != sym {
			if open {
				c.counts[sym], c.touched[sym] = n, n
			}
			sym, open = e.Symbol, true
			n, cum, warmed = c.counts[sym], c.src.cum[sym], c.src.warm(sym)
		}
		n++
		if n > cum {
			c.src.mu.Unlock()
			return fmt.Errorf("nats: commit sink: %s: event %d but the source emitted %d bars (a stage emits more than one event per bar)", sym, n, cum)
		}
		if n <= warmed || c.signalsOnly && e.Signal == nil {
			continue
		}
		c.buf = append(c.buf, *e)
	}
	if open {
		c.counts[sym], c.touched[sym] = n, n
	}
	c.src.mu.Unlock()
	if len(c.buf) > 0 {
		if err := c.inner.Write(ctx, c.buf); err != nil {
			return err
		}
		clear(c.buf)
	}
	if f, ok := c.inner.(pipeline.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
	}
	err := c.src.committedThrough(ctx, c.touched, false)
	clear(c.touched)
	return err
}

// Flush flushes the inner sink and writes every committed position.
func (c *CommitSink) Flush(ctx context.Context) error {
	if f, ok := c.inner.(pipeline.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return err
		}
	}
	return c.src.committedThrough(ctx, nil, true)
}

// Close closes the inner sink if it is a Closer.
func (c *CommitSink) Close() error {
	if cl, ok := c.inner.(pipeline.Closer); ok {
		return cl.Close()
	}
	return nil
}
