package server

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Feed is the sink that feeds the server: it keeps each symbol's latest
// state and the recent signals, and broadcasts every update to the /events
// clients without ever blocking. It is safe for concurrent use.
//
// Its Write is the only holder of its locks. What readers see is published
// through atomic pointers to values never changed once published (each
// symbol's state, an append-only list of symbols and of signals, the
// /events ring), so a reader, however many and however slow, never makes
// Write wait.
type Feed struct {
	mu     sync.Mutex        // serialises Writes; no reader takes it
	index  map[string]*entry // under mu
	recent int               // how many signals are kept

	symbols atomic.Pointer[[]*entry]        // append-only: readers see a prefix
	signals atomic.Pointer[[]market.Signal] // append-only, trimmed by copying
	version atomic.Uint64                   // Writes so far: a snapshot's freshness

	bars, signalCount atomic.Int64

	keep        int // bars of history kept per symbol (0: none)
	keepSymbols int // symbols with a history, the first seen
	withHistory int // symbols that have one; under mu

	stream *stream
	snap   snapshots
}

// entry is one symbol: its latest state, replaced on every bar.
type entry struct {
	state atomic.Pointer[symbolState]

	hist  *history // the writer's; published in state. Under Feed.mu
	histN int64    // bars in hist; under Feed.mu
	track bool     // keeps a history; under Feed.mu
}

// symbolState is immutable once published.
type symbolState struct {
	bar   market.Bar
	ind   market.Indicators
	last  *market.Signal
	count int64

	hist    *history // nil: no history kept
	histEnd int64    // bars of hist written before this state was published
}

var _ pipeline.Sink[market.Event] = (*Feed)(nil)

func newFeed(recent, buffer int, snapshotEvery time.Duration) *Feed {
	f := &Feed{index: map[string]*entry{}, recent: recent, stream: newStream(buffer, maxStreamBytes),
		keep: DefaultHistory, keepSymbols: DefaultHistorySymbols}
	f.snap.every = snapshotEvery
	f.symbols.Store(&[]*entry{})
	f.signals.Store(&[]market.Signal{})
	return f
}

// Write records the events' bars, indicators and signals and broadcasts
// them: one "bars" message for the batch and one "signal" message per
// signal, each encoded once for every client. It never blocks on a client
// or on a reader of the API.
func (f *Feed) Write(_ context.Context, items []market.Event) error {
	if len(items) == 0 {
		return nil
	}
	nsig := 0
	f.mu.Lock()
	for i := range items {
		e := &items[i]
		st := &symbolState{bar: e.Bar, ind: e.Indicators, count: 1}
		en := f.index[e.Symbol]
		if en != nil {
			prev := en.state.Load()
			st.last, st.count = prev.last, prev.count+1
		}
		if e.Signal != nil {
			sig := *e.Signal
			st.last = &sig
			f.keepSignal(sig)
			nsig++
		}
		fresh := en == nil
		if fresh {
			en = &entry{track: f.keep > 0 && f.withHistory < f.keepSymbols}
			if en.track {
				f.withHistory++
			}
		}
		if en.track {
			en.hist = en.hist.add(en.histN, f.keep, e)
			en.histN++
			st.hist, st.histEnd = en.hist, en.histN
		}
		if fresh { // published with its state: readers never see an empty entry
			en.state.Store(st)
			f.index[e.Symbol] = en
			f.symbols.Store(appendShared(*f.symbols.Load(), en))
			continue
		}
		en.state.Store(st)
	}
	f.version.Add(1)
	f.mu.Unlock()
	f.bars.Add(int64(len(items)))
	f.signalCount.Add(int64(nsig))

	if f.stream.subscribers.Load() == 0 {
		return nil // nobody listens: encode nothing
	}
	msgs := make([][]byte, 0, 1+nsig)
	b := make([]byte, 0, 32+len(items)*128)
	b = append(b, "event: bars\ndata: ["...)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUpdate(b, &items[i])
	}
	msgs = append(msgs, append(b, "]\n\n"...))
	for i := range items {
		if sig := items[i].Signal; sig != nil {
			m := append(make([]byte, 0, 256), "event: signal\ndata: "...)
			m = market.AppendSignalJSON(m, sig, true)
			msgs = append(msgs, append(m, "\n\n"...))
		}
	}
	f.stream.publish(msgs...)
	return nil
}

// appendShared appends v to a slice that readers may be reading: the
// elements they can see are never written again, and when the array is
// full the next one is a fresh copy.
func appendShared[T any](s []T, v T) *[]T {
	if len(s) == cap(s) {
		s = append(make([]T, 0, max(8, 2*cap(s))), s...)
	}
	s = append(s, v)
	return &s
}

// keepSignal appends sig to the recent signals; when the array is full the
// newest f.recent-1 move to a fresh one. Under f.mu.
func (f *Feed) keepSignal(sig market.Signal) {
	s := *f.signals.Load()
	if len(s) == cap(s) && len(s) >= f.recent {
		s = append(make([]market.Signal, 0, 2*f.recent), s[len(s)-f.recent+1:]...)
	}
	s = append(s, sig)
	f.signals.Store(&s)
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
	return FeedStats{
		Bars: f.bars.Load(), Signals: f.signalCount.Load(), Symbols: len(*f.symbols.Load()),
		Clients: f.stream.subscribers.Load(), Dropped: f.stream.dropped.Load(), MessagesOut: f.stream.sent.Load(),
	}
}

// Signals returns up to limit of the most recent signals, oldest first
// (limit <= 0: all that are kept).
func (f *Feed) Signals(limit int) []market.Signal {
	s := *f.signals.Load()
	n := min(len(s), f.recent)
	if limit <= 0 || limit > n {
		limit = n
	}
	return slices.Clone(s[len(s)-limit:])
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
	entries := *f.symbols.Load()
	out := make([]SymbolState, 0, len(entries))
	for _, en := range entries {
		s := en.state.Load()
		st := SymbolState{Bar: s.bar, Indicators: s.ind, Bars: s.count}
		if s.last != nil {
			sig := *s.last
			st.LastSignal = &sig
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b SymbolState) int { return strings.Compare(a.Bar.Symbol, b.Bar.Symbol) })
	return out
}

// History returns up to limit of the symbol's most recent bars with their
// indicators and signals, oldest first (limit <= 0: all that are kept),
// and false when the Feed keeps no history of the symbol.
func (f *Feed) History(symbol string, limit int) ([]market.Event, bool) {
	for _, en := range *f.symbols.Load() {
		if s := en.state.Load(); s.bar.Symbol == symbol {
			if s.hist == nil {
				return nil, false
			}
			return s.hist.last(symbol, s.histEnd, f.keep, limit), true
		}
	}
	return nil, false
}

// appendUpdate encodes an event as its indicator record (the shape of
// `tickflow run --emit indicators`: symbol, time, close, then every value
// of the record by name), then its bar's "open", "high", "low" and
// "volume", plus "signal":"buy"|"sell" when the event has one.
func appendUpdate(b []byte, e *market.Event) []byte {
	b = market.AppendEventJSON(b, e)
	b = append(b[:len(b)-1], `,"open":`...)
	b = market.AppendJSONFloat(b, e.Open)
	b = append(b, `,"high":`...)
	b = market.AppendJSONFloat(b, e.High)
	b = append(b, `,"low":`...)
	b = market.AppendJSONFloat(b, e.Low)
	b = append(b, `,"volume":`...)
	b = market.AppendJSONFloat(b, e.Volume)
	if e.Signal != nil {
		b = append(b, `,"signal":`...)
		b = market.AppendJSONString(b, e.Signal.Side.String())
	}
	return append(b, '}')
}
