package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// maxPending bounds the arrival times kept per symbol for bars that have
// not reached the sink yet; past it the oldest are forgotten, and their
// signals have no latency (counted in tickflow_signal_latency_unknown_total).
const maxPending = 256

// pending is one symbol's bars between the source and the sink, oldest
// first: a ring of bar times (Unix nanoseconds) and arrivals (Metrics.now).
// A symbol's bars reach the sink in the order they left the source, so the
// sink pops from the front; bars that never reach it (filtered, dropped)
// are popped with the first later bar that does.
type pending struct {
	mu   sync.Mutex
	bar  []int64
	at   []int64
	head int
	n    int
}

func (m *Metrics) symbol(sym string) *pending {
	m.mu.RLock()
	a := m.syms[sym]
	m.mu.RUnlock()
	if a != nil {
		return a
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if a = m.syms[sym]; a == nil {
		a = &pending{bar: make([]int64, 4), at: make([]int64, 4)}
		m.syms[sym] = a
	}
	return a
}

func (m *Metrics) arrived(a *pending, b *market.Bar, now int64) {
	a.mu.Lock()
	if a.n == len(a.bar) {
		if a.n < maxPending {
			a.grow()
		} else {
			a.head = (a.head + 1) % len(a.bar)
			a.n--
		}
	}
	i := (a.head + a.n) % len(a.bar)
	a.bar[i], a.at[i] = b.Time.UnixNano(), now
	a.n++
	a.mu.Unlock()
}

func (a *pending) grow() {
	bar, at := make([]int64, 2*len(a.bar)), make([]int64, 2*len(a.at))
	for i := range a.n {
		j := (a.head + i) % len(a.bar)
		bar[i], at[i] = a.bar[j], a.at[j]
	}
	a.bar, a.at, a.head = bar, at, 0
}

// pop removes the bars of the symbol up to the one at time t and returns
// that one's arrival.
func (a *pending) pop(t int64) (int64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.n > 0 {
		bt, at := a.bar[a.head], a.at[a.head]
		if bt > t {
			return 0, false // t's own entry was forgotten
		}
		a.head = (a.head + 1) % len(a.bar)
		a.n--
		if bt == t {
			return at, true
		}
	}
	return 0, false
}

func (m *Metrics) reached(a *pending, b *market.Bar, now int64) (time.Duration, bool) {
	if a == nil {
		return 0, false
	}
	at, ok := a.pop(b.Time.UnixNano())
	if !ok {
		return 0, false
	}
	return time.Duration(now - at), true
}

// Source wraps src so that every bar's arrival time is recorded, for the
// latency histogram, and the time of the last bar, for the health checks.
// The wrapper implements [pipeline.Closer] when src does.
func (m *Metrics) Source(src pipeline.Source[market.Event]) pipeline.Source[market.Event] {
	if _, ok := src.(pipeline.Closer); ok {
		return closingSource{timedSource{m, src}}
	}
	return timedSource{m, src}
}

type timedSource struct {
	m   *Metrics
	src pipeline.Source[market.Event]
}

func (s timedSource) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	return s.src.Produce(ctx, &timedEmitter{m: s.m, out: out, local: map[string]*pending{}})
}

type closingSource struct{ timedSource }

func (s closingSource) Close() error { return s.src.(pipeline.Closer).Close() }

// timedEmitter is used by the source's one goroutine: its local map saves
// the shared map's lock on every bar.
type timedEmitter struct {
	m     *Metrics
	out   pipeline.Emitter[market.Event]
	local map[string]*pending
}

func (e *timedEmitter) Emit(item market.Event) error {
	now := e.m.now()
	a := e.local[item.Symbol]
	if a == nil {
		a = e.m.symbol(item.Symbol)
		e.local[item.Symbol] = a
	}
	e.m.arrived(a, &item.Bar, now)
	e.m.lastBar.Store(now)
	return e.out.Emit(item)
}

func (e *timedEmitter) Flush() error               { return e.out.Flush() }
func (e *timedEmitter) Fail(key string, err error) { e.out.Fail(key, err) }

// Sink returns a sink that counts the bars and signals reaching it and
// observes each signal's latency from its bar's arrival. Put it beside the
// real sinks (a fan-out).
func (m *Metrics) Sink() pipeline.Sink[market.Event] {
	return &eventSink{m: m, local: map[string]*pending{}}
}

// eventSink is used by the sink's one goroutine, as the pipeline does.
type eventSink struct {
	m     *Metrics
	local map[string]*pending
}

func (s *eventSink) lookup(sym string) *pending {
	if a, ok := s.local[sym]; ok {
		return a
	}
	s.m.mu.RLock()
	a := s.m.syms[sym]
	s.m.mu.RUnlock()
	if a != nil { // known once the source has seen it
		s.local[sym] = a
	}
	return a
}

func (s *eventSink) Write(_ context.Context, items []market.Event) error {
	m := s.m
	if len(items) == 0 {
		return nil
	}
	now := m.now()
	m.bars.Add(float64(len(items)))
	for i := range items {
		d, known := m.reached(s.lookup(items[i].Symbol), &items[i].Bar, now)
		sig := items[i].Signal
		if sig == nil {
			continue
		}
		switch sig.Side {
		case market.Buy:
			m.buy.Inc()
		case market.Sell:
			m.sell.Inc()
		}
		if known {
			m.latency.Observe(d.Seconds())
		} else {
			m.unmatched.Inc()
		}
	}
	return nil
}
