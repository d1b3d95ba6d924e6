package signals

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/market"
)

// Fill is an order's execution, as an order sink reports it: what a live
// strategy needs to know its real position.
type Fill struct {
	Symbol  string
	Time    time.Time
	Side    market.Side
	Qty     float64 // shares or units filled, > 0
	Price   float64 // average fill price
	OrderID string  // the broker's or the client's order id, for logs
}

// FillObserver is the optional interface of a Strategy that wants to be
// told about fills. It is called in the strategy's own goroutine, before
// the Decide of the symbol's next bar, so it needs no lock.
type FillObserver interface {
	Filled(f Fill)
}

// Fills carries fills from an order sink, in any goroutine, to the
// strategies of their symbols. The sink calls [Fills.Report]; the pipeline
// (tickflow.Config.Fills, or [Fills.Observe] on a Factory) delivers each
// symbol's fills, in the order reported, to its strategy before its next
// bar. A strategy that is not a FillObserver is not told. When nothing is
// pending, a bar costs one atomic load. The zero Fills is ready to use.
type Fills struct {
	pending atomic.Int64 // fills reported and not yet delivered
	mu      sync.Mutex
	by      map[string][]Fill
}

// Report queues f for the strategy of f.Symbol; safe from any goroutine.
func (fs *Fills) Report(f Fill) {
	fs.mu.Lock()
	if fs.by == nil {
		fs.by = map[string][]Fill{}
	}
	fs.by[f.Symbol] = append(fs.by[f.Symbol], f)
	fs.mu.Unlock()
	fs.pending.Add(1)
}

// Pending is the number of fills reported and not yet delivered.
func (fs *Fills) Pending() int { return int(fs.pending.Load()) }

// take removes and returns symbol's pending fills.
func (fs *Fills) take(symbol string) []Fill {
	if fs.pending.Load() == 0 {
		return nil
	}
	fs.mu.Lock()
	got := fs.by[symbol]
	delete(fs.by, symbol)
	fs.mu.Unlock()
	fs.pending.Add(-int64(len(got)))
	return got
}

// Observe returns a Factory of newStrategy's strategies that are told, when
// they are FillObservers, about their symbol's fills before each bar.
func (fs *Fills) Observe(newStrategy Factory) Factory {
	return func(symbol string) Strategy {
		s := newStrategy(symbol)
		o, ok := s.(FillObserver)
		if !ok {
			return s
		}
		return &observed{Strategy: s, o: o, fills: fs, symbol: symbol}
	}
}

type observed struct {
	Strategy
	o      FillObserver
	fills  *Fills
	symbol string
}

func (s *observed) Decide(e market.Event) *Signal {
	for _, f := range s.fills.take(s.symbol) {
		s.o.Filled(f)
	}
	return s.Strategy.Decide(e)
}
