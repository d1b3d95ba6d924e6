package backtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tickflow/tickflow/market"
)

// Broker is the simulated broker as a live paper wallet: a pipeline sink
// that fills each symbol's signals by the rule of the package documentation
// as its bars arrive, so a stream and a backtest of the same bars end with
// the same trades and equity. Snapshot may be called from any goroutine
// while the pipeline writes.
type Broker struct {
	mu       sync.Mutex
	c        costs
	cfg      Config
	accounts []*account
	index    map[string]*account
	done     bool
}

// NewBroker returns a Broker for symbols, each with an equal share of
// cfg.Cash. An event of another symbol is an error.
func NewBroker(cfg Config, symbols []string) (*Broker, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if len(symbols) == 0 {
		return nil, usagef("backtest.NewBroker: no symbols")
	}
	b := &Broker{c: c, cfg: cfg, index: make(map[string]*account, len(symbols))}
	share := c.cash / float64(len(symbols))
	for _, s := range symbols {
		if _, dup := b.index[s]; dup || s == "" {
			return nil, usagef("backtest.NewBroker: symbol %q is empty or repeated", s)
		}
		a := &account{}
		a.reset(&b.c, s, share)
		b.accounts = append(b.accounts, a)
		b.index[s] = a
	}
	return b, nil
}

// Write implements pipeline.Sink: each event is its symbol's next bar, with
// its signal if any.
func (b *Broker) Write(_ context.Context, events []market.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return fmt.Errorf("backtest.Broker: Write after Statement")
	}
	for i := range events {
		e := &events[i]
		a := b.index[e.Symbol]
		if a == nil {
			return fmt.Errorf("backtest.Broker: %s: symbol not in the broker's list", e.Symbol)
		}
		t := e.Time.UnixNano()
		if n := len(a.times); n > 0 && t <= a.times[n-1] {
			return fmt.Errorf("backtest.Broker: %s: bar at %v is not after the previous one at %v",
				e.Symbol, e.Time.UTC(), time.Unix(0, a.times[n-1]).UTC())
		}
		var side market.Side
		if e.Signal != nil {
			side = e.Signal.Side
		}
		a.step(t, e.Open, e.High, e.Low, e.Close, side)
	}
	return nil
}

// Holding is one symbol's state in a [Snapshot].
type Holding struct {
	Symbol     string    `json:"symbol"`
	Cash       float64   `json:"cash"`
	Qty        float64   `json:"qty"`
	EntryPrice float64   `json:"entry_price,omitempty"`
	LastPrice  float64   `json:"last_price"`
	LastTime   time.Time `json:"last_time"`
	Equity     float64   `json:"equity"`
	Realized   float64   `json:"realized_pnl"`
	Unrealized float64   `json:"unrealized_pnl"`
	Trades     int       `json:"trades"`
	// Pending is the side of a signal waiting for the next bar's open.
	Pending string `json:"pending,omitempty"`
}

// Snapshot is the wallet at one moment.
type Snapshot struct {
	Cash       float64   `json:"cash"`
	Equity     float64   `json:"equity"`
	Realized   float64   `json:"realized_pnl"`
	Unrealized float64   `json:"unrealized_pnl"`
	Holdings   []Holding `json:"positions"`
}

// Snapshot returns cash, positions and P&L per symbol, and their sums.
func (b *Broker) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s Snapshot
	for _, a := range b.accounts {
		h := Holding{Symbol: a.sym, Cash: a.cash, Qty: a.qty, LastPrice: a.lastClose, Equity: a.start,
			Trades: len(a.trades)}
		if n := len(a.times); n > 0 {
			h.LastTime = time.Unix(0, a.times[n-1]).UTC()
			h.Equity = a.equity[n-1]
		}
		for _, t := range a.trades {
			h.Realized += t.PnL
		}
		if a.qty > 0 {
			h.EntryPrice = a.entryPx
			h.Unrealized = a.qty*a.lastClose - a.entryCost
		}
		if a.pending != 0 {
			h.Pending = a.pending.String()
		}
		s.Cash += h.Cash
		s.Equity += h.Equity
		s.Realized += h.Realized
		s.Unrealized += h.Unrealized
		s.Holdings = append(s.Holdings, h)
	}
	return s
}

// Statement ends the session: a signal still waiting for a bar is counted
// unfilled, and the Result is what a backtest of the same bars reports.
// Symbols that never had a bar are left out. Later Writes fail.
func (b *Broker) Statement() (*Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		for _, a := range b.accounts {
			a.finish()
		}
		b.done = true
	}
	var traded []*account
	for _, a := range b.accounts {
		if len(a.times) > 0 {
			traded = append(traded, a)
		}
	}
	if len(traded) == 0 {
		return nil, usagef("backtest.Broker: no bars in the window %s", windowString(b.cfg))
	}
	if len(traded) < len(b.accounts) {
		// Shares were set for every symbol; the result covers those traded,
		// so the portfolio's starting cash is theirs.
		c := b.c
		c.cash = traded[0].start * float64(len(traded))
		res := build(&c, traded)
		res.Settings = b.c.settings(b.cfg)
		return &res, nil
	}
	res := build(&b.c, traded)
	res.Settings = b.c.settings(b.cfg)
	return &res, nil
}
