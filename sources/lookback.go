package sources

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Lookback passes on its Source's events but, per symbol, only the last Bars
// events before Start: the warm-up of a window that begins at Start, for a
// source that cannot be asked for fewer (a CSV file is read whole anyway).
// Every event from Start on goes through as it comes.
//
//	per symbol:  b1 b2 ... b(k-N) [b(k-N+1) ... bk] | Start | w1 w2 ...
//	             └─ dropped ─────┘ └─ held, emitted before w1 ┘
//
// A symbol's held events are emitted, in their order, just before its first
// event at or after Start, or when the Source ends if it has none. Each
// symbol holds at most Bars events (an Event is about 200 bytes: 10,000
// bars of 1,000 symbols hold 2 GB). A symbol that fails (Emitter.Fail)
// loses what it held.
//
// The zero Bars passes everything; so does a zero Start.
type Lookback struct {
	// Source is the source to read; required.
	Source pipeline.Source[market.Event]
	// Start is the window's first instant.
	Start time.Time
	// Bars is how many events before Start each symbol keeps.
	Bars int
}

var _ pipeline.Source[market.Event] = (*Lookback)(nil)

// Produce runs the Source through the look-back.
func (l *Lookback) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	if l.Source == nil {
		return fmt.Errorf("sources.Lookback: no Source")
	}
	if l.Bars < 0 {
		return fmt.Errorf("sources.Lookback: Bars %d is negative", l.Bars)
	}
	if l.Bars == 0 || l.Start.IsZero() {
		return l.Source.Produce(ctx, out)
	}
	e := &lookbackEmitter{out: out, start: l.Start, n: l.Bars, held: map[string]*ring{}}
	if err := l.Source.Produce(ctx, e); err != nil {
		return err
	}
	// Symbols without a bar from Start on: their warm-up, in first-seen order.
	for _, sym := range e.order {
		if err := e.release(sym); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the Source if it holds resources (pipeline.Closer).
func (l *Lookback) Close() error {
	if c, ok := l.Source.(pipeline.Closer); ok {
		return c.Close()
	}
	return nil
}

// ring holds the last n events of a symbol, oldest at next once full.
type ring struct {
	events []market.Event
	next   int
}

type lookbackEmitter struct {
	out   pipeline.Emitter[market.Event]
	start time.Time
	n     int
	held  map[string]*ring // nil once the symbol's warm-up was emitted
	order []string         // symbols in the order first held
}

func (e *lookbackEmitter) Emit(ev market.Event) error {
	r, seen := e.held[ev.Symbol]
	if ev.Time.Before(e.start) {
		if seen && r == nil {
			return e.out.Emit(ev) // out of order after the window began: the source's business
		}
		if r == nil {
			r = &ring{events: make([]market.Event, 0, min(e.n, 1024))}
			e.held[ev.Symbol] = r
			e.order = append(e.order, ev.Symbol)
		}
		if len(r.events) < e.n {
			r.events = append(r.events, ev)
		} else {
			r.events[r.next] = ev
			r.next = (r.next + 1) % e.n
		}
		return nil
	}
	if r != nil {
		if err := e.release(ev.Symbol); err != nil {
			return err
		}
	} else if !seen {
		e.held[ev.Symbol] = nil
	}
	return e.out.Emit(ev)
}

// release emits what sym holds, oldest first, and marks its warm-up done.
func (e *lookbackEmitter) release(sym string) error {
	r := e.held[sym]
	e.held[sym] = nil
	if r == nil {
		return nil
	}
	for i := range r.events {
		if err := e.out.Emit(r.events[(r.next+i)%len(r.events)]); err != nil {
			return err
		}
	}
	return nil
}

func (e *lookbackEmitter) Flush() error { return e.out.Flush() }

func (e *lookbackEmitter) Fail(key string, err error) {
	if _, ok := e.held[key]; ok {
		e.held[key] = nil
	}
	e.out.Fail(key, err)
}
