package backtest

import (
	"time"
)

// Result is a backtest's outcome, in the shape `tickflow backtest --format
// json` prints.
type Result struct {
	Settings  Settings        `json:"settings"`
	Portfolio PortfolioResult `json:"portfolio"`
	Symbols   []SymbolResult  `json:"symbols"`
}

// PortfolioResult is the sum of the symbols.
type PortfolioResult struct {
	Metrics Metrics `json:"metrics"`
	// Equity is the portfolio's equity at every time any symbol has a bar.
	Equity Curve `json:"-"`
}

// SymbolResult is one symbol's trades and figures.
type SymbolResult struct {
	Symbol  string    `json:"symbol"`
	Metrics Metrics   `json:"metrics"`
	Trades  []Trade   `json:"trades"`
	Open    *Position `json:"open"`
	Equity  Curve     `json:"-"`
	// Bars are every bar of the symbol the run read, the warm-up before
	// the window included, when Config.KeepBars is set; nil otherwise.
	// Simulate shares its Data's series, not a copy.
	Bars *Series `json:"-"`
}

// Curve is an equity series in columns.
type Curve struct {
	Times  []int64 // Unix nanoseconds
	Values []float64
}

// Len returns the number of points.
func (c Curve) Len() int { return len(c.Times) }

// At returns point i.
func (c Curve) At(i int) (time.Time, float64) { return time.Unix(0, c.Times[i]).UTC(), c.Values[i] }

// Settings are the resolved settings of a run, defaults filled in.
type Settings struct {
	Cash           float64            `json:"cash"`
	Fee            float64            `json:"fee"`
	Slippage       float64            `json:"slippage"`
	WholeUnits     bool               `json:"whole_units"`
	StopLoss       Number             `json:"stop_loss"`
	TakeProfit     Number             `json:"take_profit"`
	TrailingStop   Number             `json:"trailing_stop"`
	PeriodsPerYear Number             `json:"periods_per_year"`
	Start          *time.Time         `json:"start"`
	End            *time.Time         `json:"end"`
	Strategy       string             `json:"strategy,omitempty"`
	Params         map[string]float64 `json:"params,omitempty"`
}

func positive(v float64) Number {
	if v > 0 {
		return num(v)
	}
	return Number{}
}

func (c *costs) settings(cfg Config) Settings {
	s := Settings{Cash: c.cash, Fee: c.fee, Slippage: c.slip, WholeUnits: c.whole,
		StopLoss: positive(c.stop), TakeProfit: positive(c.take), TrailingStop: positive(c.trail),
		PeriodsPerYear: positive(c.periods)}
	if !cfg.Start.IsZero() {
		t := cfg.Start.UTC()
		s.Start = &t
	}
	if !cfg.End.IsZero() {
		t := cfg.End.UTC()
		s.End = &t
	}
	return s
}

// build turns finished accounts into a Result (symbols in the accounts'
// order). Each account's times must lie in the window.
func build(c *costs, accounts []*account) (res Result) {
	times := make([][]int64, len(accounts))
	res.Symbols = make([]SymbolResult, len(accounts))
	for i, a := range accounts {
		times[i] = a.times
		bh := a.lastClose/a.firstClose - 1
		res.Symbols[i] = SymbolResult{
			Symbol: a.sym,
			Metrics: computeMetrics(equityInput{times: a.times, equity: a.equity, start: a.start,
				trades: a.trades, held: a.held, bars: len(a.times), fees: a.fees, unfilled: a.unfilled,
				buyHold: num(bh), periodsPerYear: c.periods}),
			Trades: a.trades,
			Open:   a.position(),
			Equity: Curve{Times: a.times, Values: a.equity},
		}
		if res.Symbols[i].Trades == nil {
			res.Symbols[i].Trades = []Trade{}
		}
	}
	tl := newTimeline(times)
	res.Portfolio.Metrics, res.Portfolio.Equity.Values, _ = portfolioMetrics(c, accounts, tl, nil, nil)
	res.Portfolio.Equity.Times = tl.times
	return res
}

// portfolioMetrics sums the accounts on the clock tl and computes the
// portfolio's metrics: the one implementation behind Simulate, Broker and
// the sweeps, so their figures agree to the bit. equity and trades are
// buffers to reuse (may be nil); it returns them, equity holding the
// portfolio's equity.
func portfolioMetrics(c *costs, accounts []*account, tl *timeline, equity []float64, trades []Trade) (Metrics, []float64, []Trade) {
	eq := make([][]float64, len(accounts))
	shares := make([]float64, len(accounts))
	trades = trades[:0]
	var held, bars, unfilled int
	var fees, buyHold float64
	for i, a := range accounts {
		eq[i], shares[i] = a.equity, a.start
		buyHold += a.lastClose/a.firstClose - 1
		trades = append(trades, a.trades...)
		held += a.held
		bars += len(a.times)
		unfilled += a.unfilled
		fees += a.fees
	}
	equity = tl.portfolio(eq, shares, equity)
	return computeMetrics(equityInput{times: tl.times, equity: equity, start: c.cash, trades: trades,
		held: held, bars: bars, fees: fees, unfilled: unfilled,
		buyHold: num(buyHold / float64(len(accounts))), periodsPerYear: c.periods}), equity, trades
}
