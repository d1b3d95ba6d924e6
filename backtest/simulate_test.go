package backtest_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var day0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// bars makes daily bars from (open, high, low, close, signal) rows.
func bars(rows [][5]float64) []refBar {
	out := make([]refBar, len(rows))
	for i, r := range rows {
		out[i] = refBar{t: day0.AddDate(0, 0, i), o: r[0], h: r[1], l: r[2], c: r[3], sig: market.Side(r[4])}
	}
	return out
}

func toSeries(sym string, bs []refBar) *backtest.Series {
	s := &backtest.Series{Symbol: sym}
	for _, b := range bs {
		s.Time = append(s.Time, b.t.UnixNano())
		s.Open, s.High, s.Low, s.Close = append(s.Open, b.o), append(s.High, b.h), append(s.Low, b.l), append(s.Close, b.c)
		s.Signal = append(s.Signal, b.sig)
	}
	return s
}

func settingsOf(cfg backtest.Config) refSettings {
	r := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return math.Max(v, 0)
	}
	cash := cfg.Cash
	if cash == 0 {
		cash = backtest.DefaultCash
	}
	return refSettings{cash: cash, fee: r(cfg.Fee, backtest.DefaultFee), slip: r(cfg.Slippage, backtest.DefaultSlippage),
		whole: cfg.WholeUnits, stop: cfg.StopLoss, take: cfg.TakeProfit, trail: cfg.TrailingStop, periods: cfg.PeriodsPerYear}
}

// checkAgainstReference simulates the symbols both ways and compares every
// trade and metric, per symbol and for the portfolio.
func checkAgainstReference(t *testing.T, cfg backtest.Config, symbols map[string][]refBar, order []string) *backtest.Result {
	t.Helper()
	data := &backtest.Data{}
	for _, s := range order {
		data.Symbols = append(data.Symbols, toSeries(s, symbols[s]))
	}
	res, err := backtest.Simulate(data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := settingsOf(cfg)
	share := st.cash / float64(len(order))
	var refs []refSymbol
	var all []refTrade
	var held, nbars, unfilled int
	var fees, bh float64
	for i, s := range order {
		ref := refSimulate(symbols[s], share, st)
		refs = append(refs, ref)
		got := res.Symbols[i]
		if got.Symbol != s {
			t.Fatalf("symbol %d is %s, want %s", i, got.Symbol, s)
		}
		compareTrades(t, s, got.Trades, ref.trades)
		compareMetrics(t, s, got.Metrics, refMetrics(ref.times, ref.equity, share, ref.trades, ref.held,
			len(ref.times), ref.fees, ref.unfilled, ref.buyHold, st.periods))
		if (got.Open != nil) != ref.open {
			t.Errorf("%s: open position %+v, reference open %v", s, got.Open, ref.open)
		}
		all = append(all, ref.trades...)
		held += ref.held
		nbars += len(ref.times)
		unfilled += ref.unfilled
		fees += ref.fees
		bh += ref.buyHold
	}
	pt, pe := refPortfolio(refs)
	if res.Portfolio.Equity.Len() != len(pt) {
		t.Fatalf("portfolio equity has %d points, want %d", res.Portfolio.Equity.Len(), len(pt))
	}
	for i := range pt {
		if tm, v := res.Portfolio.Equity.At(i); !tm.Equal(pt[i]) || !close9(v, pe[i]) {
			t.Fatalf("portfolio equity %d = %v %v, want %v %v", i, tm, v, pt[i], pe[i])
		}
	}
	compareMetrics(t, "portfolio", res.Portfolio.Metrics, refMetrics(pt, pe, st.cash, all, held, nbars, fees, unfilled,
		bh/float64(len(order)), st.periods))
	return res
}

const B, S = float64(market.Buy), float64(market.Sell)

func TestKnownAnswers(t *testing.T) {
	noCosts := backtest.Config{Cash: 1000, Fee: -1, Slippage: -1}
	tests := []struct {
		name  string
		cfg   backtest.Config
		bars  []refBar
		check func(t *testing.T, r *backtest.Result)
	}{
		{"single trade", noCosts, bars([][5]float64{
			{10, 10, 10, 10, B}, {10, 11, 9, 11, 0}, {11, 12, 11, 12, S}, {12, 13, 12, 13, 0}}),
			func(t *testing.T, r *backtest.Result) {
				m := r.Symbols[0].Metrics
				tr := r.Symbols[0].Trades
				if len(tr) != 1 || tr[0].EntryPrice != 10 || tr[0].ExitPrice != 12 || tr[0].Qty != 100 || tr[0].PnL != 200 || tr[0].Return != 0.2 {
					t.Fatalf("trades %+v, want one of 100 at 10 sold at 12", tr)
				}
				if m.FinalEquity != 1200 || !close9(m.TotalReturn.V, 0.2) || m.WinRate.V != 1 || m.ProfitFactor.OK || m.Exposure.V != 0.5 {
					t.Fatalf("metrics %v", m)
				}
				if !close9(m.BuyHoldReturn.V, 0.3) || m.Unfilled != 0 || m.Fees != 0 {
					t.Fatalf("metrics %v", m)
				}
			}},
		{"fees and slippage", backtest.Config{Cash: 1000}, bars([][5]float64{
			{10, 10, 10, 10, B}, {10, 10, 10, 10, S}, {12, 12, 12, 12, 0}}),
			func(t *testing.T, r *backtest.Result) {
				tr := r.Symbols[0].Trades[0]
				buy := 10 * 1.0005
				qty := 1000 / (buy * 1.001)
				sell := 12 * (1 - 0.0005)
				proceeds := qty * sell * (1 - 0.001)
				if !close9(tr.EntryPrice, buy) || !close9(tr.Qty, qty) || !close9(tr.PnL, proceeds-1000) {
					t.Fatalf("trade %+v, want qty %v pnl %v", tr, qty, proceeds-1000)
				}
				if !close9(r.Portfolio.Metrics.Fees, qty*buy*0.001+qty*sell*0.001) {
					t.Fatalf("fees %v", r.Portfolio.Metrics.Fees)
				}
			}},
		{"no trades", noCosts, bars([][5]float64{{10, 10, 10, 10, 0}, {11, 11, 11, 11, 0}, {9, 9, 9, 9, 0}}),
			func(t *testing.T, r *backtest.Result) {
				m := r.Portfolio.Metrics
				if m.Trades != 0 || m.WinRate.OK || m.SQN.OK || m.AvgTradeReturn.OK || m.Sharpe.OK || m.Sortino.OK || m.Calmar.OK {
					t.Fatalf("metrics of no trades: %v", m)
				}
				if m.Volatility.V != 0 || !m.Volatility.OK || m.MaxDrawdown.V != 0 || m.TotalReturn.V != 0 {
					t.Fatalf("zero-variance equity: %v", m)
				}
			}},
		{"a loss", noCosts, bars([][5]float64{{10, 10, 10, 10, B}, {10, 10, 8, 8, S}, {8, 8, 8, 8, 0}}),
			func(t *testing.T, r *backtest.Result) {
				m := r.Portfolio.Metrics
				if m.Trades != 1 || m.WinRate.V != 0 || m.ProfitFactor.V != 0 || !m.ProfitFactor.OK || m.MaxConsecutiveLosses != 1 {
					t.Fatalf("metrics %v", m)
				}
				if !close9(m.TotalReturn.V, -0.2) || !close9(m.MaxDrawdown.V, 0.2) || m.MaxDrawdownDuration.V != 2*86400 {
					t.Fatalf("metrics %v", m)
				}
			}},
		{"open at the end", noCosts, bars([][5]float64{{10, 10, 10, 10, B}, {10, 10, 10, 10, 0}, {10, 15, 10, 15, 0}}),
			func(t *testing.T, r *backtest.Result) {
				s := r.Symbols[0]
				if len(s.Trades) != 0 || s.Open == nil || s.Open.Qty != 100 || s.Open.MarkPrice != 15 || s.Open.Unrealized != 500 {
					t.Fatalf("open %+v trades %v", s.Open, s.Trades)
				}
				if s.Metrics.FinalEquity != 1500 || s.Metrics.Trades != 0 {
					t.Fatalf("metrics %v", s.Metrics)
				}
			}},
		{"signal on the last bar", noCosts, bars([][5]float64{{10, 10, 10, 10, 0}, {10, 10, 10, 10, B}}),
			func(t *testing.T, r *backtest.Result) {
				if m := r.Portfolio.Metrics; m.Unfilled != 1 || m.Trades != 0 || r.Symbols[0].Open != nil {
					t.Fatalf("metrics %v", m)
				}
			}},
		{"buy while long, sell while flat", noCosts, bars([][5]float64{{10, 10, 10, 10, S}, {10, 10, 10, 10, B},
			{10, 10, 10, 10, B}, {10, 10, 10, 10, 0}}),
			func(t *testing.T, r *backtest.Result) {
				if m := r.Portfolio.Metrics; m.Unfilled != 2 {
					t.Fatalf("unfilled %d, want 2", m.Unfilled)
				}
			}},
		{"stop and take-profit inside one bar: the stop first", backtest.Config{Cash: 1000, Fee: -1, Slippage: -1, StopLoss: 0.1, TakeProfit: 0.1},
			bars([][5]float64{{10, 10, 10, 10, B}, {10, 10, 10, 10, 0}, {10, 11.5, 8.5, 10, 0}, {10, 10, 10, 10, 0}}),
			func(t *testing.T, r *backtest.Result) {
				tr := r.Symbols[0].Trades
				if len(tr) != 1 || !close9(tr[0].ExitPrice, 9) || tr[0].Exit != backtest.ExitStopLoss || !tr[0].ExitTime.Equal(day0.AddDate(0, 0, 2)) {
					t.Fatalf("trades %+v, want a stop at 9 on day 2", tr)
				}
			}},
		{"gap through the stop fills at the open", backtest.Config{Cash: 1000, Fee: -1, Slippage: -1, StopLoss: 0.1},
			bars([][5]float64{{10, 10, 10, 10, B}, {10, 10, 10, 10, 0}, {7, 7.5, 6, 7, 0}}),
			func(t *testing.T, r *backtest.Result) {
				if tr := r.Symbols[0].Trades; len(tr) != 1 || tr[0].ExitPrice != 7 {
					t.Fatalf("trades %+v, want an exit at the open 7", tr)
				}
			}},
		{"take-profit inside the bar", backtest.Config{Cash: 1000, Fee: -1, Slippage: 0.001, TakeProfit: 0.2},
			bars([][5]float64{{10, 10, 10, 10, B}, {10, 10, 10, 10, 0}, {11, 13, 10.5, 12, 0}}),
			func(t *testing.T, r *backtest.Result) {
				entry := 10 * 1.001
				if tr := r.Symbols[0].Trades; len(tr) != 1 || !close9(tr[0].ExitPrice, entry*1.2*0.999) || tr[0].Exit != backtest.ExitTakeProfit {
					t.Fatalf("trades %+v", tr)
				}
			}},
		{"trailing stop follows the highest close", backtest.Config{Cash: 1000, Fee: -1, Slippage: -1, TrailingStop: 0.1},
			bars([][5]float64{{10, 10, 10, 10, B}, {10, 10, 10, 10, 0}, {10, 20, 10, 20, 0}, {19, 19, 17, 17, 0}}),
			func(t *testing.T, r *backtest.Result) {
				if tr := r.Symbols[0].Trades; len(tr) != 1 || !close9(tr[0].ExitPrice, 18) || tr[0].Exit != backtest.ExitTrailingStop {
					t.Fatalf("trades %+v, want a trailing exit at 18", tr)
				}
			}},
		{"whole units", backtest.Config{Cash: 1000, Fee: -1, Slippage: -1, WholeUnits: true},
			bars([][5]float64{{10, 10, 10, 10, B}, {30, 30, 30, 30, S}, {40, 40, 40, 40, 0}}),
			func(t *testing.T, r *backtest.Result) {
				if tr := r.Symbols[0].Trades; len(tr) != 1 || tr[0].Qty != 33 || tr[0].PnL != 330 {
					t.Fatalf("trades %+v, want 33 units", tr)
				}
				if r.Portfolio.Metrics.FinalEquity != 1330 {
					t.Fatalf("final equity %v", r.Portfolio.Metrics.FinalEquity)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkAgainstReference(t, tt.cfg, map[string][]refBar{"X": tt.bars}, []string{"X"})
			tt.check(t, r)
		})
	}
}

// randomBars is a walk with random signals, gaps and wide ranges, so stops
// trigger every way.
func randomBars(rng *rand.Rand, n int, start time.Time, step time.Duration) []refBar {
	out := make([]refBar, n)
	px := 100.0
	for i := range out {
		o := px * (1 + 0.03*(rng.Float64()-0.5))
		c := o * (1 + 0.06*(rng.Float64()-0.5))
		h := math.Max(o, c) * (1 + 0.03*rng.Float64())
		l := math.Min(o, c) * (1 - 0.03*rng.Float64())
		var sig market.Side
		if x := rng.IntN(10); x < 2 {
			sig = market.Side(x + 1)
		}
		out[i] = refBar{t: start.Add(time.Duration(i) * step), o: o, h: h, l: l, c: c, sig: sig}
		px = c
	}
	return out
}

func TestRandomAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cfgs := []backtest.Config{
		{},
		{Cash: 5000, WholeUnits: true},
		{StopLoss: 0.03, TakeProfit: 0.05},
		{TrailingStop: 0.04, StopLoss: 0.02},
		{Fee: -1, Slippage: -1, PeriodsPerYear: 252},
	}
	for i, cfg := range cfgs {
		syms := map[string][]refBar{
			// Different lengths, starts and steps: an unaligned portfolio clock.
			"A": randomBars(rng, 300, day0, time.Hour),
			"B": randomBars(rng, 200, day0.Add(30*time.Minute), 2*time.Hour),
			"C": randomBars(rng, 50, day0.Add(100*time.Hour), time.Hour),
		}
		t.Run(string(rune('0'+i)), func(t *testing.T) {
			checkAgainstReference(t, cfg, syms, []string{"A", "B", "C"})
		})
	}
}

const dataDir = "../../shared/data"

func recorded(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(dataDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("recorded data %s is absent (%v)", p, err)
	}
	return p
}

// pipelineBars runs the default pipeline as `tickflow run` does and returns
// each symbol's bars with their signals.
func pipelineBars(t testing.TB, src pipeline.Source[market.Event], sig tickflow.Config) (map[string][]refBar, []string) {
	t.Helper()
	out := map[string][]refBar{}
	var order []string
	p, err := tickflow.New(src, pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
		for _, e := range es {
			if _, ok := out[e.Symbol]; !ok {
				order = append(order, e.Symbol)
			}
			var side market.Side
			if e.Signal != nil {
				side = e.Signal.Side
			}
			out[e.Symbol] = append(out[e.Symbol], refBar{t: e.Time, o: e.Open, h: e.High, l: e.Low, c: e.Close, sig: side})
		}
		return nil
	}), sig)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil && !errors.As(err, new(pipeline.Failures)) {
		t.Fatal(err)
	}
	return out, order
}

func TestRecordedAgainstReference(t *testing.T) {
	spy, btc, perp := recorded(t, "spy-1d.csv"), recorded(t, "btcusdt-1h.csv"), recorded(t, "btcperp-1m.csv")
	syms, order := pipelineBars(t, &sources.CSV{Paths: []string{spy, btc, perp}, SkipBadRows: true}, tickflow.Config{})
	if len(order) != 3 {
		t.Fatalf("symbols %v", order)
	}
	for _, cfg := range []backtest.Config{{}, {WholeUnits: true, Cash: 100_000}, {StopLoss: 0.02, TakeProfit: 0.04, TrailingStop: 0.03}} {
		for _, s := range order {
			checkAgainstReference(t, cfg, map[string][]refBar{s: syms[s]}, []string{s})
		}
		checkAgainstReference(t, cfg, syms, order)
	}
}

// TestRunEqualsPipelineSignals: Run's trades are the fills of exactly the
// signals the pipeline of `tickflow run` emits.
func TestRunEqualsPipelineSignals(t *testing.T) {
	spy := recorded(t, "spy-1d.csv")
	syms, order := pipelineBars(t, &sources.CSV{Paths: []string{spy}}, tickflow.Config{})
	res, err := backtest.Run(context.Background(), &sources.CSV{Paths: []string{spy}}, backtest.Config{Signals: tickflow.Config{Workers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	ref := refSimulate(syms[order[0]], backtest.DefaultCash, settingsOf(backtest.Config{}))
	compareTrades(t, "SPY", res.Symbols[0].Trades, ref.trades)
	signals := 0
	for _, b := range syms[order[0]] {
		if b.sig != 0 {
			signals++
		}
	}
	m := res.Portfolio.Metrics
	open := 0
	if res.Symbols[0].Open != nil {
		open = 1
	}
	if got := 2*m.Trades + open + m.Unfilled; got != signals {
		t.Fatalf("2*%d trades + %d open + %d unfilled = %d, want the pipeline's %d signals", m.Trades, open, m.Unfilled, got, signals)
	}
	if res.Settings.Strategy != backtest.StrategyStochRSIEMA || res.Settings.Params["ema"] != 20 {
		t.Fatalf("settings %+v", res.Settings)
	}
}

func TestNoBarsInWindow(t *testing.T) {
	data := &backtest.Data{Symbols: []*backtest.Series{toSeries("X", bars([][5]float64{{1, 1, 1, 1, 0}}))}}
	_, err := backtest.Simulate(data, backtest.Config{Start: day0.AddDate(1, 0, 0)})
	if !errors.Is(err, backtest.ErrUsage) {
		t.Fatalf("err %v, want ErrUsage", err)
	}
	t.Log(err)
}

// A source that fails every symbol is a failure, not an empty window.
func TestRunAllSymbolsFailed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.csv")
	csv := "symbol,time,open,high,low,close,volume\nA,2024-01-02T14:30:00Z,10,11,9,abc,1\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := backtest.Run(context.Background(), &sources.CSV{Paths: []string{path}}, backtest.Config{})
	var failures pipeline.Failures
	if res != nil || !errors.As(err, &failures) || errors.Is(err, backtest.ErrUsage) || len(failures) != 1 {
		t.Fatalf("Run = %v, %v; want nil and the symbol's failure", res, err)
	}
}
