package server

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Feed is the sink that feeds the server: it keeps each symbol's latest
// state and the recent signals, and broadcasts every update to the /events
// clients without ever blocking. It is safe for concurrent use.
type Feed struct {
	mu      sync.Mutex
	symbols map[string]*symbolState
	recent  []market.Signal // ring of the last cap(recent) signals
	next    int             // ring position of the next signal
	full    bool

	bars, signals atomic.Int64

	cmu     sync.Mutex
	clients map[*client]struct{}
	nclient atomic.Int64
	dropped atomic.Int64
	sent    atomic.Int64
	buffer  int
	onDrop  func()
}

type symbolState struct {
	bar    market.Bar
	ind    market.Indicators
	last   *market.Signal
	count  int64
	update time.Time
}

// client is one /events subscriber: a bounded queue of encoded messages and
// a channel closed when the Feed drops it.
type client struct {
	ch     chan []byte
	kicked chan struct{}
}

var _ pipeline.Sink[market.Event] = (*Feed)(nil)

func newFeed(recent, buffer int) *Feed {
	return &Feed{
		symbols: map[string]*symbolState{},
		recent:  make([]market.Signal, recent),
		clients: map[*client]struct{}{},
		buffer:  buffer,
	}
}

// Write records the events' bars, indicators and signals and broadcasts
// them: one "bars" message for the batch and one "signal" message per
// signal. It never blocks on a client.
func (f *Feed) Write(_ context.Context, items []market.Event) error {
	if len(items) == 0 {
		return nil
	}
	now := time.Now()
	f.mu.Lock()
	nsig := 0
	for i := range items {
		e := &items[i]
		s := f.symbols[e.Symbol]
		if s == nil {
			s = &symbolState{}
			f.symbols[e.Symbol] = s
		}
		s.bar, s.ind, s.update = e.Bar, e.Indicators, now
		s.count++
		if e.Signal != nil {
			sig := *e.Signal
			s.last = &sig
			f.recent[f.next] = sig
			f.next = (f.next + 1) % len(f.recent)
			f.full = f.full || f.next == 0
			nsig++
		}
	}
	f.mu.Unlock()
	f.bars.Add(int64(len(items)))
	f.signals.Add(int64(nsig))

	if f.nclient.Load() == 0 {
		return nil
	}
	b := make([]byte, 0, 64+len(items)*128)
	b = append(b, "event: bars\ndata: ["...)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUpdate(b, &items[i])
	}
	b = append(b, "]\n\n"...)
	f.broadcast(b)
	for i := range items {
		if sig := items[i].Signal; sig != nil {
			m := append([]byte("event: signal\ndata: "), market.AppendSignalJSON(nil, sig, true)...)
			f.broadcast(append(m, "\n\n"...))
		}
	}
	return nil
}

// broadcast queues msg for every client; a client whose queue is full is
// dropped.
func (f *Feed) broadcast(msg []byte) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	for c := range f.clients {
		select {
		case c.ch <- msg:
		default:
			f.removeLocked(c)
			close(c.kicked)
			f.dropped.Add(1)
			if f.onDrop != nil {
				f.onDrop()
			}
		}
	}
}

func (f *Feed) subscribe() *client {
	c := &client{ch: make(chan []byte, f.buffer), kicked: make(chan struct{})}
	f.cmu.Lock()
	f.clients[c] = struct{}{}
	f.nclient.Add(1)
	f.cmu.Unlock()
	return c
}

// unsubscribe removes c unless it was dropped already.
func (f *Feed) unsubscribe(c *client) {
	f.cmu.Lock()
	defer f.cmu.Unlock()
	if _, ok := f.clients[c]; ok {
		f.removeLocked(c)
	}
}

func (f *Feed) removeLocked(c *client) {
	delete(f.clients, c)
	f.nclient.Add(-1)
}

// FeedStats are the Feed's counters.
type FeedStats struct {
	Bars        int64 `json:"bars"`
	Signals     int64 `json:"signals"`
	Symbols     int   `json:"symbols"`
	Clients     int64 `json:"sse_clients"`
	Dropped     int64 `json:"sse_clients_dropped"`
	MessagesOut int64 `json:"sse_messages_sent"`
}

// Stats returns the Feed's counters.
func (f *Feed) Stats() FeedStats {
	f.mu.Lock()
	n := len(f.symbols)
	f.mu.Unlock()
	return FeedStats{
		Bars: f.bars.Load(), Signals: f.signals.Load(), Symbols: n,
		Clients: f.nclient.Load(), Dropped: f.dropped.Load(), MessagesOut: f.sent.Load(),
	}
}

// Signals returns up to limit of the most recent signals, oldest first
// (limit <= 0: all that are kept).
func (f *Feed) Signals(limit int) []market.Signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.next
	if f.full {
		n = len(f.recent)
	}
	if limit <= 0 || limit > n {
		limit = n
	}
	out := make([]market.Signal, 0, limit)
	for i := n - limit; i < n; i++ {
		j := i
		if f.full {
			j = (f.next + i) % len(f.recent)
		}
		out = append(out, f.recent[j])
	}
	return out
}

// SymbolState is one symbol's latest bar, indicators and signal.
type SymbolState struct {
	Bar        market.Bar
	Indicators market.Indicators
	LastSignal *market.Signal
	Bars       int64 // bars seen
}

// Symbols returns every symbol's state, sorted by symbol.
func (f *Feed) Symbols() []SymbolState {
	f.mu.Lock()
	out := make([]SymbolState, 0, len(f.symbols))
	for _, s := range f.symbols {
		st := SymbolState{Bar: s.bar, Indicators: s.ind, Bars: s.count}
		if s.last != nil {
			sig := *s.last
			st.LastSignal = &sig
		}
		out = append(out, st)
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Bar.Symbol < out[j].Bar.Symbol })
	return out
}

// appendUpdate encodes an event as its indicator record (the shape of
// `tickflow run --emit indicators`), plus "signal":"buy"|"sell" when the
// event has one.
func appendUpdate(b []byte, e *market.Event) []byte {
	b = market.AppendEventJSON(b, e)
	if e.Signal != nil {
		b = append(b[:len(b)-1], `,"signal":`...)
		b = market.AppendJSONString(b, e.Signal.Side.String())
		b = append(b, '}')
	}
	return b
}
