package backtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
)

// ReportOptions are a report's settings. The zero value means the defaults.
type ReportOptions struct {
	// Title heads the page (default "tickflow backtest", "tickflow sweep"
	// or "tickflow walk-forward").
	Title string
	// Generated is shown under the title; the zero time shows nothing.
	Generated time.Time
	// X and Y are the swept parameters of a sweep's heatmap columns and
	// rows; empty means the first and second swept parameters.
	X, Y string
}

func (o ReportOptions) title(def string) string {
	if o.Title == "" {
		return def
	}
	return o.Title
}

// WriteReport writes r as one self-contained HTML file (see package
// report): per symbol its candles with the strategy's indicators, the fills
// as markers, equity and drawdown beside buy-and-hold, monthly returns,
// metrics and trades; then the portfolio. The per-bar charts need the
// bars: run with Config.KeepBars, or each symbol shows only its metrics,
// trades and fills (the portfolio's curves still show).
func (r *Result) WriteReport(w io.Writer, opts ReportOptions) error {
	d, err := r.reportData(opts.title("tickflow backtest"), opts.Generated)
	if err != nil {
		return err
	}
	if err := report.Write(w, d); err != nil {
		return fmt.Errorf("backtest: write report: %w", err)
	}
	return nil
}

// WriteReport writes the sweep as one HTML file: the heatmap of the ranked
// metric over opts.X and opts.Y and the table of every combination, with
// the full report of the best row, backtested again on data under cfg (the
// data and configuration the sweep ran on). An X or Y that is not a swept
// parameter is an ErrUsage error.
func (r *SweepResult) WriteReport(ctx context.Context, w io.Writer, data *Data, cfg SweepConfig, opts ReportOptions) error {
	d, err := r.reportData(ctx, data, cfg, opts)
	if err != nil {
		return err
	}
	if err := report.Write(w, d); err != nil {
		return fmt.Errorf("backtest: write sweep report: %w", err)
	}
	return nil
}

func (r *SweepResult) reportData(ctx context.Context, data *Data, cfg SweepConfig, opts ReportOptions) (report.Data, error) {
	if len(r.Rows) == 0 {
		return report.Data{}, usagef("backtest: sweep report: no combinations")
	}
	for _, axis := range []string{opts.X, opts.Y} {
		if axis != "" && !slices.Contains(r.Names, axis) {
			return report.Data{}, usagef("backtest: sweep report: heatmap parameter %q is not swept (one of %s)", axis, strings.Join(r.Names, ", "))
		}
	}
	best, err := r.best(ctx, data, cfg)
	if err != nil {
		return report.Data{}, err
	}
	d, err := best.reportData(opts.title("tickflow sweep"), opts.Generated)
	if err != nil {
		return report.Data{}, err
	}
	d.Settings = append([]report.Field{{Name: "report", Value: "best of " + strconv.Itoa(len(r.Rows)) + " combinations by " + r.Rank}}, d.Settings...)
	if r.Pruned > 0 || r.Invalid > 0 {
		d.Settings = append(d.Settings, report.Field{Name: "skipped", Value: fmt.Sprintf("%d pruned by --where, %d invalid", r.Pruned, r.Invalid)})
	}
	d.Sweep = r.reportSweep(opts)
	return d, nil
}

// best backtests the sweep's first row in full, keeping the bars.
func (r *SweepResult) best(ctx context.Context, data *Data, cfg SweepConfig) (*Result, error) {
	p, err := newPlan(SweepConfig{Config: cfg.Config, Strategy: cfg.Strategy, Params: paramsOf(r.Names, r.Rows[0].Values)})
	if err != nil {
		return nil, err
	}
	e, err := newEngine(p, data)
	if err != nil {
		return nil, err
	}
	res, _, err := e.single(ctx)
	if err != nil {
		return nil, err
	}
	res.keepBars(data)
	return res, nil
}

func (r *SweepResult) reportSweep(opts ReportOptions) *report.Sweep {
	s := &report.Sweep{Params: r.Names, Metrics: MetricKeys(), Rank: r.Rank, X: opts.X, Y: opts.Y,
		Rows: make([]report.SweepRow, len(r.Rows))}
	if i, err := metricIndex(r.Rank); err == nil {
		s.LowerIsBetter = metricKeys[i].lower
	}
	for i := range r.Rows {
		s.Rows[i] = report.SweepRow{Params: r.Rows[i].Values, Metrics: metricValues(&r.Rows[i].Metrics)}
	}
	return s
}

// The walk-forward folds table's columns.
var foldMetrics = []string{"in_sample_sharpe", "out_of_sample_sharpe",
	"in_sample_total_return", "out_of_sample_total_return", "out_of_sample_max_drawdown"}

// WriteReport writes the walk-forward as one HTML file: the joined
// out-of-sample equity with its metrics, and the folds as a table (fold
// number, the in-sample winner's parameters, its in-sample and
// out-of-sample Sharpe and return) whose heatmap is the out-of-sample
// Sharpe by fold and first parameter; each fold's windows are among the
// settings.
func (r *WalkForwardResult) WriteReport(w io.Writer, opts ReportOptions) error {
	if err := report.Write(w, r.reportData(opts)); err != nil {
		return fmt.Errorf("backtest: write walk-forward report: %w", err)
	}
	return nil
}

func (r *WalkForwardResult) reportData(opts ReportOptions) report.Data {
	d := report.Data{Title: opts.title("tickflow walk-forward"), Generated: opts.Generated}
	d.Settings = append(d.Settings, report.Field{Name: "ranked by", Value: r.Rank})
	params := append([]string{"fold"}, r.Names...)
	sw := &report.Sweep{Params: params, Metrics: foldMetrics, Rank: "out_of_sample_sharpe", X: "fold"}
	for i, f := range r.Folds {
		d.Settings = append(d.Settings, report.Field{Name: fmt.Sprintf("fold %d", i+1),
			Value: fmt.Sprintf("in-sample %s .. %s, out-of-sample %s .. %s", day(f.InStart), day(f.InEnd), day(f.Start), day(f.End))})
		sw.Rows = append(sw.Rows, report.SweepRow{
			Params: append([]float64{float64(i + 1)}, f.Values...),
			Metrics: []float64{value(f.InSample.Sharpe), value(f.OutOfSample.Sharpe),
				value(f.InSample.TotalReturn), value(f.OutOfSample.TotalReturn), value(f.OutOfSample.MaxDrawdown)},
		})
	}
	if len(sw.Rows) > 0 {
		d.Sweep = sw
	}
	d.Portfolio = &report.Portfolio{Times: times(r.Equity.Times), Equity: r.Equity.Values,
		Drawdown: drawdown(r.Equity.Values), Metrics: reportMetrics(&r.Metrics)}
	return d
}

func day(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// reportData is the report of a single backtest.
func (r *Result) reportData(title string, generated time.Time) (report.Data, error) {
	d := report.Data{Title: title, Generated: generated, Settings: r.Settings.fields()}
	share := r.Settings.Cash / float64(max(len(r.Symbols), 1))
	closes := make([][]float64, len(r.Symbols)) // each symbol's closes on its equity times, for buy-and-hold
	for i := range r.Symbols {
		s, c, err := r.Settings.reportSymbol(&r.Symbols[i], share)
		if err != nil {
			return report.Data{}, err
		}
		d.Symbols = append(d.Symbols, s)
		closes[i] = c
	}
	p := &report.Portfolio{Times: times(r.Portfolio.Equity.Times), Equity: r.Portfolio.Equity.Values,
		Drawdown: drawdown(r.Portfolio.Equity.Values), Metrics: reportMetrics(&r.Portfolio.Metrics)}
	p.BuyHold = r.portfolioBuyHold(closes, share)
	d.Portfolio = p
	return d, nil
}

// portfolioBuyHold sums each symbol's buy-and-hold on the portfolio's
// clock, as the portfolio's equity sums the symbols' (a symbol counts its
// share before its first bar); nil when a symbol has no bars kept.
func (r *Result) portfolioBuyHold(closes [][]float64, share float64) []float64 {
	for _, c := range closes {
		if c == nil {
			return nil
		}
	}
	pt := r.Portfolio.Equity.Times
	out := make([]float64, len(pt))
	for i := range r.Symbols {
		st, c := r.Symbols[i].Equity.Times, closes[i]
		j := -1
		for k, t := range pt {
			for j+1 < len(st) && st[j+1] <= t {
				j++
			}
			if j < 0 {
				out[k] += share
			} else {
				out[k] += share * c[j] / c[0]
			}
		}
	}
	return out
}

// reportSymbol is one symbol's section and its closes on its equity times
// (nil without bars).
func (st *Settings) reportSymbol(sr *SymbolResult, share float64) (report.Symbol, []float64, error) {
	s := report.Symbol{Name: sr.Symbol, Metrics: reportMetrics(&sr.Metrics)}
	for _, t := range sr.Trades {
		s.Markers = append(s.Markers,
			report.Marker{Time: t.EntryTime, Price: t.EntryPrice, Side: market.Buy, Label: "buy"},
			report.Marker{Time: t.ExitTime, Price: t.ExitPrice, Side: market.Sell, Label: "sell: " + t.Exit.String()})
		s.Trades = append(s.Trades, report.Trade{Side: market.Buy, Entry: t.EntryTime, EntryPrice: t.EntryPrice,
			Exit: t.ExitTime, ExitPrice: t.ExitPrice, Quantity: t.Qty, PnL: t.PnL, Return: t.Return, Reason: t.Exit.String()})
	}
	if o := sr.Open; o != nil {
		s.Markers = append(s.Markers, report.Marker{Time: o.EntryTime, Price: o.EntryPrice, Side: market.Buy, Label: "buy (still open)"})
		s.Trades = append(s.Trades, report.Trade{Side: market.Buy, Entry: o.EntryTime, EntryPrice: o.EntryPrice,
			Quantity: o.Qty, PnL: o.Unrealized, Return: o.Return,
			Reason: "open, marked at " + strconv.FormatFloat(o.MarkPrice, 'g', -1, 64)})
	}
	if sr.Bars == nil || sr.Equity.Len() == 0 {
		return s, nil, nil
	}
	bars := sr.Bars
	lo, hi := bars.window(sr.Equity.Times[0], sr.Equity.Times[sr.Equity.Len()-1])
	if hi-lo != sr.Equity.Len() {
		return report.Symbol{}, nil, fmt.Errorf("backtest: report: %s: %d bars kept in the window for %d equity values", sr.Symbol, hi-lo, sr.Equity.Len())
	}
	s.Equity, s.Drawdown = sr.Equity.Values, drawdown(sr.Equity.Values)
	s.Bars = make([]report.Bar, hi-lo)
	for j := lo; j < hi; j++ {
		s.Bars[j-lo] = report.Bar{Time: time.Unix(0, bars.Time[j]).UTC(), Open: bars.Open[j], High: bars.High[j], Low: bars.Low[j], Close: bars.Close[j]}
	}
	closes := bars.Close[lo:hi]
	s.BuyHold = make([]float64, len(closes))
	for j, c := range closes {
		s.BuyHold[j] = share * c / closes[0]
	}
	if err := st.indicators(&s, bars, lo, hi); err != nil {
		return report.Symbol{}, nil, fmt.Errorf("backtest: report: %s: %w", sr.Symbol, err)
	}
	return s, closes, nil
}

// indicators adds what the strategy read, computed over every bar kept
// (the warm-up included, as the run computed it) and cut to [lo, hi). A
// strategy other than the named ones shows none: its indicators are its own.
func (st *Settings) indicators(s *report.Symbol, bars *Series, lo, hi int) error {
	p := st.Params
	switch st.Strategy {
	case StrategyEMACross:
		for _, name := range []string{"fast", "slow"} {
			n := int(p[name])
			e, err := indicators.NewEMA(n)
			if err != nil {
				return err
			}
			v := make([]float64, hi-lo)
			for j := range hi {
				x, ok := e.Update(bars.Close[j])
				if j >= lo {
					v[j-lo] = defined(x, ok)
				}
			}
			s.Overlays = append(s.Overlays, report.Series{Name: e.String(), Values: v})
		}
	case StrategyStochRSIEMA:
		ic := indicators.Config{EMA: int(p["ema"]), RSI: int(p["rsi"]), Stoch: int(p["stoch"]), D: int(p["d"]), SmoothK: int(p["smoothk"])}
		set, err := indicators.NewSet(ic)
		if err != nil {
			return err
		}
		ema, k, d := make([]float64, hi-lo), make([]float64, hi-lo), make([]float64, hi-lo)
		for j := range hi {
			e, eok, kv, dv, kdok := set.Update(bars.Close[j])
			if j >= lo {
				ema[j-lo], k[j-lo], d[j-lo] = defined(e, eok), defined(kv, kdok), defined(dv, kdok)
			}
		}
		ic = ic.WithDefaults()
		s.Overlays = append(s.Overlays, report.Series{Name: "EMA(" + strconv.Itoa(ic.EMA) + ")", Values: ema})
		s.Oscillators = append(s.Oscillators, report.Oscillator{Name: fmt.Sprintf("StochRSI(%d,%d,%d,%d)", ic.RSI, ic.Stoch, ic.SmoothK, ic.D),
			Series: []report.Series{{Name: "%K", Values: k}, {Name: "%D", Values: d}},
			Levels: []float64{p["oversold"], p["overbought"]}})
	}
	return nil
}

func defined(v float64, ok bool) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

// fields are the settings as the report lists them.
func (st *Settings) fields() []report.Field {
	var f []report.Field
	add := func(name, value string) { f = append(f, report.Field{Name: name, Value: value}) }
	if st.Strategy != "" {
		names, ok := strategyParams[st.Strategy]
		if !ok {
			for n := range st.Params {
				names = append(names, n)
			}
			slices.Sort(names)
		}
		var ps []string
		for _, n := range names {
			ps = append(ps, n+"="+strconv.FormatFloat(st.Params[n], 'g', -1, 64))
		}
		add("strategy", st.Strategy+" "+strings.Join(ps, " "))
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	add("cash", g(st.Cash))
	add("fee", g(st.Fee))
	add("slippage", g(st.Slippage))
	add("whole units", strconv.FormatBool(st.WholeUnits))
	for _, n := range []struct {
		name string
		v    Number
	}{{"stop-loss", st.StopLoss}, {"take-profit", st.TakeProfit}, {"trailing-stop", st.TrailingStop}, {"periods per year", st.PeriodsPerYear}} {
		if n.v.OK {
			add(n.name, n.v.String())
		}
	}
	if st.Start != nil {
		add("start", day(*st.Start))
	}
	if st.End != nil {
		add("end", day(*st.End))
	}
	return f
}

// metricUnits are how the report shows each metric: fractions as
// percentages, durations in seconds.
var metricUnits = map[string]string{
	"total_return": "%", "buy_hold_return": "%", "cagr": "%", "max_drawdown": "%", "volatility": "%",
	"win_rate": "%", "avg_trade_return": "%", "best_trade_return": "%", "worst_trade_return": "%",
	"exposure": "%", "max_drawdown_duration": " s", "avg_trade_duration": " s",
}

// reportMetrics lists every metric under its JSON key; undefined is NaN.
func reportMetrics(m *Metrics) []report.Metric {
	out := make([]report.Metric, len(metricKeys))
	for i, k := range metricKeys {
		out[i] = report.Metric{Name: k.key, Value: value(k.get(m)), Unit: metricUnits[k.key]}
	}
	return out
}

func metricValues(m *Metrics) []float64 {
	out := make([]float64, len(metricKeys))
	for i, k := range metricKeys {
		out[i] = value(k.get(m))
	}
	return out
}

func value(n Number) float64 {
	if !n.OK {
		return math.NaN()
	}
	return n.V
}

func times(ns []int64) []time.Time {
	out := make([]time.Time, len(ns))
	for i, t := range ns {
		out[i] = time.Unix(0, t).UTC()
	}
	return out
}

// drawdown is each value's fall from the running peak, a fraction <= 0.
func drawdown(equity []float64) []float64 {
	out := make([]float64, len(equity))
	peak := math.Inf(-1)
	for i, e := range equity {
		peak = max(peak, e)
		out[i] = e/peak - 1
	}
	return out
}
