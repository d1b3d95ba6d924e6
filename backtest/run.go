package backtest

import (
	"context"
	"errors"
	"fmt"

	"slices"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
)

// Run runs src through the pipeline that `tickflow run` runs (cfg.Signals:
// the same indicators and strategy), records every bar with its signal and
// simulates the fills (see the package documentation).
//
// When the source fails some symbols (a bad CSV row), the others are still
// simulated: Run returns their Result together with the pipeline's
// Failures; when it fails every symbol, a nil Result and the Failures. Any
// other error returns a nil Result.
func Run(ctx context.Context, src pipeline.Source[market.Event], cfg Config) (*Result, error) {
	if _, err := cfg.resolve(); err != nil {
		return nil, err
	}
	sig := cfg.Signals
	sig.SignalsOnly = false // the fills need every bar
	var rec Recorder
	p, err := tickflow.New(src, &rec, sig)
	if err != nil {
		return nil, fmt.Errorf("backtest.Run: %w", err)
	}
	runErr := p.Run(ctx)
	var failures pipeline.Failures
	if runErr != nil && !errors.As(runErr, &failures) {
		return nil, fmt.Errorf("backtest.Run: %w", runErr)
	}
	res, err := rec.simulate(cfg, failures.Keys())
	if err != nil {
		if failures != nil {
			// Every symbol with bars failed: the failures say why, not an
			// empty window (a bad file is not a bad command line).
			return nil, fmt.Errorf("backtest.Run: %w", failures)
		}
		return nil, err
	}
	if cfg.KeepBars {
		res.keepBars(rec.Data())
	}
	if cfg.Signals.Strategy == nil && len(cfg.Signals.Stages) == 0 {
		res.Settings.Strategy, res.Settings.Params = defaultStrategyParams(cfg.Signals)
	}
	if failures != nil {
		return res, fmt.Errorf("backtest.Run: %w", failures)
	}
	return res, nil
}

// Simulate fills the recorded signals of data (Series.Signal; nil means
// none) by the rule in the package documentation. Symbols without a bar in
// the window take no share of the cash; a window without any bar is an
// ErrUsage error.
func Simulate(data *Data, cfg Config) (*Result, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	type span struct {
		s      *Series
		lo, hi int
	}
	var in []span
	for _, s := range data.Symbols {
		if lo, hi := s.window(c.start, c.end); hi > lo {
			in = append(in, span{s, lo, hi})
		}
	}
	if len(in) == 0 {
		return nil, usagef("backtest: no bars in the window %s", windowString(cfg))
	}
	share := c.cash / float64(len(in))
	accounts := make([]*account, len(in))
	for i, sp := range in {
		a := &account{}
		a.reset(&c, sp.s.Symbol, share)
		a.times = make([]int64, 0, sp.hi-sp.lo)
		a.equity = make([]float64, 0, sp.hi-sp.lo)
		s := sp.s
		for j := sp.lo; j < sp.hi; j++ {
			var side market.Side
			if s.Signal != nil {
				side = s.Signal[j]
			}
			a.step(s.Time[j], s.Open[j], s.High[j], s.Low[j], s.Close[j], side)
		}
		a.finish()
		accounts[i] = a
	}
	res := build(&c, accounts)
	res.Settings = c.settings(cfg)
	if cfg.KeepBars {
		res.keepBars(data)
	}
	return &res, nil
}

// keepBars sets each symbol's Bars to its series in data.
func (r *Result) keepBars(data *Data) {
	bySymbol := make(map[string]*Series, len(data.Symbols))
	for _, s := range data.Symbols {
		bySymbol[s.Symbol] = s
	}
	for i := range r.Symbols {
		r.Symbols[i].Bars = bySymbol[r.Symbols[i].Symbol]
	}
}

func windowString(cfg Config) string {
	f := func(t interface{ IsZero() bool }, s string) string {
		if t.IsZero() {
			return "(open)"
		}
		return s
	}
	return fmt.Sprintf("%s .. %s", f(cfg.Start, cfg.Start.UTC().Format("2006-01-02T15:04:05Z07:00")),
		f(cfg.End, cfg.End.UTC().Format("2006-01-02T15:04:05Z07:00")))
}

// defaultStrategyParams names the default strategy's parameters as the
// sweeps do.
func defaultStrategyParams(sig tickflow.Config) (string, map[string]float64) {
	ic := sig.Indicators.WithDefaults()
	os, ob := sig.Oversold, sig.Overbought
	if os == 0 {
		os = signals.DefaultOversold
	}
	if ob == 0 {
		ob = signals.DefaultOverbought
	}
	return StrategyStochRSIEMA, map[string]float64{
		"ema": float64(ic.EMA), "rsi": float64(ic.RSI), "stoch": float64(ic.Stoch), "d": float64(ic.D),
		"smoothk": float64(ic.SmoothK), "oversold": os, "overbought": ob,
	}
}

// simulate is Simulate straight from the records, without the columns:
// the bars are read once, in order. Symbols in dropped are left out.
func (r *Recorder) simulate(cfg Config, dropped []string) (*Result, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	type span struct {
		s *recSeries
		n int
	}
	var in []span
	for _, s := range r.syms {
		if slices.Contains(dropped, s.symbol) {
			continue
		}
		if n := s.count(c.start, c.end); n > 0 {
			in = append(in, span{s, n})
		}
	}
	if len(in) == 0 {
		return nil, usagef("backtest: no bars in the window %s", windowString(cfg))
	}
	share := c.cash / float64(len(in))
	accounts := make([]*account, len(in))
	for i, sp := range in {
		a := &account{}
		a.reset(&c, sp.s.symbol, share)
		a.times = make([]int64, 0, sp.n)
		a.equity = make([]float64, 0, sp.n)
		for b := range sp.s.each {
			a.step(b.t, b.o, b.h, b.l, b.c, b.side) // bars outside the window are ignored
		}
		a.finish()
		accounts[i] = a
	}
	res := build(&c, accounts)
	res.Settings = c.settings(cfg)
	return &res, nil
}
