package backtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/signals"
)

// DefaultRank is the metric a sweep ranks by when SweepConfig.Rank is empty.
const DefaultRank = "sharpe"

// Default parameters of StrategyEMACross when a sweep does not list them.
const (
	DefaultFast = 12
	DefaultSlow = 26
)

// SweepConfig is a parameter sweep: every combination of Params' values
// (filtered by Where) is backtested on the same bars with Config's
// simulation settings and window. A parameter not listed takes its value
// from Config.Signals (the indicator periods and thresholds) or its default.
type SweepConfig struct {
	Config
	// Strategy is StrategyStochRSIEMA (the default) or StrategyEMACross.
	Strategy string
	// Params are the swept parameters, by the strategy's names.
	Params []Param
	// Where, if not empty, keeps only the combinations it accepts
	// (see [ParseWhere]), e.g. "fast < slow".
	Where string
	// Rank is the metric key rows are ranked by (default "sharpe"); higher
	// ranks first, except for drawdowns, durations, volatility, fees and
	// counts of losses and unfilled signals, where lower does.
	Rank string
	// Workers is the parallelism (default GOMAXPROCS).
	Workers int
}

// SweepResult is every combination's portfolio metrics, best first.
type SweepResult struct {
	Strategy string
	// Names are the swept parameters, in the order of Row.Values.
	Names []string
	Rank  string
	Rows  []Row
	// Pruned counts combinations Where removed; Invalid those the strategy
	// cannot run (fast >= slow, oversold >= overbought).
	Pruned, Invalid int
}

// Row is one combination.
type Row struct {
	Values  []float64
	Metrics Metrics
}

// Param returns the row's value of a swept parameter.
func (r *SweepResult) Param(row int, name string) (float64, bool) {
	i := slices.Index(r.Names, name)
	if i < 0 {
		return 0, false
	}
	return r.Rows[row].Values[i], true
}

// strategyParams are each strategy's parameters in a fixed order.
var strategyParams = map[string][]string{
	StrategyStochRSIEMA: {"ema", "rsi", "stoch", "d", "smoothk", "oversold", "overbought"},
	StrategyEMACross:    {"fast", "slow"},
}

// periodParam tells which parameters are indicator periods (whole numbers >= 1).
func periodParam(name string) bool { return name != "oversold" && name != "overbought" }

// baseValues returns the strategy's parameters as cfg sets them.
func baseValues(cfg SweepConfig) []float64 {
	if cfg.Strategy == StrategyEMACross {
		return []float64{DefaultFast, DefaultSlow}
	}
	_, p := defaultStrategyParams(cfg.Signals)
	names := strategyParams[StrategyStochRSIEMA]
	out := make([]float64, len(names))
	for i, n := range names {
		out[i] = p[n]
	}
	return out
}

// plan is a checked sweep: the full parameter vector of every valid combination.
type plan struct {
	cfg     SweepConfig
	c       costs
	names   []string // the strategy's parameters
	swept   []int    // index in names of each swept parameter
	combos  [][]float64
	rows    [][]float64 // the swept values of each combo
	rankIdx int
	pruned  int
	invalid int
}

func newPlan(cfg SweepConfig) (*plan, error) {
	if cfg.Strategy == "" {
		cfg.Strategy = StrategyStochRSIEMA
	}
	names, ok := strategyParams[cfg.Strategy]
	if !ok {
		return nil, usagef("backtest: unknown strategy %q (one of %s, %s)", cfg.Strategy, StrategyStochRSIEMA, StrategyEMACross)
	}
	if cfg.Rank == "" {
		cfg.Rank = DefaultRank
	}
	if cfg.Signals.Strategy != nil || len(cfg.Signals.Stages) > 0 {
		return nil, usagef("backtest: a sweep runs a strategy by name; Config.Signals.Strategy and Stages must be unset")
	}
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	p := &plan{cfg: cfg, c: c, names: names}
	if p.rankIdx, err = metricIndex(cfg.Rank); err != nil {
		return nil, err
	}
	var sweptNames []string
	for _, prm := range cfg.Params {
		i := slices.Index(names, prm.Name)
		if i < 0 {
			return nil, usagef("backtest: %s has no parameter %q (one of %s)", cfg.Strategy, prm.Name, strings.Join(names, ", "))
		}
		if slices.Contains(p.swept, i) {
			return nil, usagef("backtest: parameter %q given twice", prm.Name)
		}
		p.swept = append(p.swept, i)
		sweptNames = append(sweptNames, prm.Name)
	}
	var where *Expr
	if strings.TrimSpace(cfg.Where) != "" {
		if where, err = ParseWhere(cfg.Where, sweptNames); err != nil {
			return nil, err
		}
	}
	rows, pruned, err := combinations(cfg.Params, where)
	if err != nil {
		return nil, err
	}
	p.pruned = pruned
	base := baseValues(cfg)
	var firstBad error
	for _, r := range rows {
		full := slices.Clone(base)
		for k, i := range p.swept {
			full[i] = r[k]
		}
		if err := p.check(full); err != nil {
			p.invalid++
			if firstBad == nil {
				firstBad = err
			}
			continue
		}
		p.combos = append(p.combos, full)
		p.rows = append(p.rows, r)
	}
	if len(p.combos) == 0 {
		if firstBad != nil {
			return nil, usagef("backtest: none of the %d combinations can run; the first: %v", len(rows), firstBad)
		}
		return nil, usagef("backtest: --where %q leaves no combination", cfg.Where)
	}
	return p, nil
}

// check validates one full parameter vector.
func (p *plan) check(v []float64) error {
	for i, n := range p.names {
		if periodParam(n) && (v[i] != math.Trunc(v[i]) || v[i] < 1 || v[i] > indicators.MaxPeriod) {
			return fmt.Errorf("%s %v is not a period from 1 to %d", n, v[i], indicators.MaxPeriod)
		}
	}
	switch p.cfg.Strategy {
	case StrategyEMACross:
		if v[0] >= v[1] {
			return fmt.Errorf("fast %v >= slow %v", v[0], v[1])
		}
	default:
		if v[5] == 0 || v[6] == 0 {
			// signals reads a zero threshold as its default: the row would lie.
			return fmt.Errorf("oversold %v, overbought %v: a zero threshold means the default", v[5], v[6])
		}
		if _, err := signals.NewStochRSIEMA(v[5], v[6]); err != nil {
			return err
		}
		if _, err := indicators.NewSet(p.indicatorConfig(v)); err != nil {
			return err
		}
	}
	return nil
}

func (p *plan) indicatorConfig(v []float64) indicators.Config {
	return indicators.Config{EMA: int(v[0]), RSI: int(v[1]), Stoch: int(v[2]), D: int(v[3]), SmoothK: int(v[4])}
}

// Sweep runs every combination of cfg.Params on data, on all cores, and
// ranks them by cfg.Rank. Combinations that share indicator periods share
// the indicators: each distinct StochRSI and EMA is computed once per symbol.
// An EMA-cross sweep of one symbol with fractional units and no stops takes
// a faster path with the same rule and arithmetic (see SweepEMACross).
func Sweep(ctx context.Context, data *Data, cfg SweepConfig) (*SweepResult, error) {
	p, err := newPlan(cfg)
	if err != nil {
		return nil, err
	}
	e, err := newEngine(p, data)
	if err != nil {
		return nil, err
	}
	metrics, err := e.all(ctx)
	if err != nil {
		return nil, err
	}
	return p.result(metrics), nil
}

func (p *plan) result(metrics []Metrics) *SweepResult {
	res := &SweepResult{Strategy: p.cfg.Strategy, Rank: p.cfg.Rank, Pruned: p.pruned, Invalid: p.invalid}
	for _, i := range p.swept {
		res.Names = append(res.Names, p.names[i])
	}
	res.Rows = make([]Row, len(metrics))
	for i, m := range metrics {
		res.Rows[i] = Row{Values: p.rows[i], Metrics: m}
	}
	rankRows(res.Rows, p.rankIdx)
	return res
}

// rankRows sorts best first; undefined values go last; ties keep grid order.
// It sorts keys, not rows: a Row is large to move.
func rankRows(rows []Row, idx int) {
	k := metricKeys[idx]
	type key struct {
		v   float64
		ok  bool
		row int
	}
	keys := make([]key, len(rows))
	for i := range rows {
		n := k.get(&rows[i].Metrics)
		if k.lower {
			n.V = -n.V
		}
		keys[i] = key{n.V, n.OK, i}
	}
	slices.SortStableFunc(keys, func(a, b key) int {
		if !a.ok || !b.ok {
			return cmp.Compare(b2i(!a.ok), b2i(!b.ok))
		}
		return cmp.Compare(b.v, a.v)
	})
	sorted := make([]Row, len(rows))
	for i, kk := range keys {
		sorted[i] = rows[kk.row]
	}
	copy(rows, sorted)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// engine evaluates combinations of a plan on one Data.
type engine struct {
	ws      []*worker // made once: their buffers are reused by every combo
	p       *plan
	data    *Data
	spans   []span
	tl      *timeline
	share   float64
	workers int
}

type span struct {
	s      *Series
	lo, hi int
}

func spans(data *Data, c *costs, cfg Config) ([]span, error) {
	var in []span
	for _, s := range data.Symbols {
		if lo, hi := s.window(c.start, c.end); hi > lo {
			in = append(in, span{s, lo, hi})
		}
	}
	if len(in) == 0 {
		return nil, usagef("backtest: no bars in the window %s", windowString(cfg))
	}
	return in, nil
}

func newEngine(p *plan, data *Data) (*engine, error) {
	sp, err := spans(data, &p.c, p.cfg.Config)
	if err != nil {
		return nil, err
	}
	times := make([][]int64, len(sp))
	for i, s := range sp {
		times[i] = s.s.Time[s.lo:s.hi]
	}
	w := p.cfg.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return &engine{p: p, data: data, spans: sp, tl: newTimeline(times), share: p.c.cash / float64(len(sp)), workers: w}, nil
}

// parallel runs f(worker, i) for i in [0, n) on the engine's workers,
// handing out indices one by one; it stops early when ctx is done.
func (e *engine) parallel(ctx context.Context, n int, f func(w, i int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range min(e.workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(w, i)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// all returns the portfolio metrics of every combination, in plan order.
func (e *engine) all(ctx context.Context) ([]Metrics, error) {
	if e.p.cfg.Strategy == StrategyEMACross {
		if fast := e.emaCrossFast(); fast != nil {
			return fast.all(ctx)
		}
		return e.generic(ctx, func(v []float64, _ int) signals.Factory {
			f, _ := NewEMACross(int(v[0]), int(v[1])) // checked by the plan
			return f
		}, nil)
	}
	return e.stochRSIEMA(ctx)
}

// worker holds one goroutine's reusable buffers.
type worker struct {
	accounts []*account
	equity   []float64
	trades   []Trade
	ev       market.Event
}

func (e *engine) newWorkers() []*worker {
	ws := make([]*worker, e.workers)
	for i := range ws {
		w := &worker{accounts: make([]*account, len(e.spans))}
		for k, sp := range e.spans {
			n := sp.hi - sp.lo
			w.accounts[k] = &account{times: make([]int64, 0, n), equity: make([]float64, 0, n)}
		}
		ws[i] = w
	}
	return ws
}

// emaArray and stochArray are one symbol's precomputed indicator values,
// as indicators.Set.Update returns them bar by bar.
type emaArray struct {
	v  []float64
	ok []bool
}
type stochArray struct {
	k, d []float64
	ok   []bool
}

// generic evaluates combos with a strategy per symbol made by factory; fill
// sets a bar's Indicators from precomputed arrays (nil: none needed).
func (e *engine) generic(ctx context.Context, factory func(v []float64, symbol int) signals.Factory,
	fill func(v []float64, symbol, bar int, in *market.Indicators)) ([]Metrics, error) {
	return e.evaluate(ctx, allIndices(len(e.p.combos)), factory, fill)
}

func allIndices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// evaluate runs the combos idx (indices into the plan) and returns their
// metrics in the order of idx.
func (e *engine) evaluate(ctx context.Context, idx []int, factory func(v []float64, symbol int) signals.Factory,
	fill func(v []float64, symbol, bar int, in *market.Indicators)) ([]Metrics, error) {
	out := make([]Metrics, len(idx))
	if e.ws == nil {
		e.ws = e.newWorkers()
	}
	ws := e.ws
	err := e.parallel(ctx, len(idx), func(wi, i int) {
		w := ws[wi]
		v := e.p.combos[idx[i]]
		e.runCombo(w, v, factory, fill)
		out[i], w.equity, w.trades = portfolioMetrics(&e.p.c, w.accounts, e.tl, w.equity, w.trades)
	})
	return out, err
}

// runCombo simulates one combination on every symbol into w.accounts.
func (e *engine) runCombo(w *worker, v []float64, factory func(v []float64, symbol int) signals.Factory,
	fill func(v []float64, symbol, bar int, in *market.Indicators)) {
	for k, sp := range e.spans {
		a := w.accounts[k]
		s := sp.s
		a.reset(&e.p.c, s.Symbol, e.share)
		st := factory(v, k)(s.Symbol)
		ev := &w.ev
		*ev = market.Event{Bar: market.Bar{Symbol: s.Symbol}}
		for j := range sp.hi {
			// ev.Time stays zero: the named strategies do not read it, and
			// converting it per bar and combination costs a tenth of a sweep.
			ev.Open, ev.High, ev.Low, ev.Close = s.Open[j], s.High[j], s.Low[j], s.Close[j]
			if fill != nil {
				fill(v, k, j, &ev.Indicators)
			}
			sig := st.Decide(*ev)
			if j < sp.lo {
				continue
			}
			var side market.Side
			if sig != nil {
				side = sig.Side
			}
			a.step(s.Time[j], s.Open[j], s.High[j], s.Low[j], s.Close[j], side)
		}
		a.finish()
	}
}

// stochRSIEMA evaluates the default strategy, grouping combos by StochRSI
// periods, then by EMA period, so each indicator is computed once per
// symbol and only one group's arrays are held at a time.
func (e *engine) stochRSIEMA(ctx context.Context) ([]Metrics, error) {
	type stochKey struct{ rsi, stoch, smoothK, d int }
	byStoch := map[stochKey]map[int][]int{}
	var order []stochKey
	for i, v := range e.p.combos {
		c := e.p.indicatorConfig(v).WithDefaults()
		k := stochKey{c.RSI, c.Stoch, c.SmoothK, c.D}
		if byStoch[k] == nil {
			byStoch[k] = map[int][]int{}
			order = append(order, k)
		}
		byStoch[k][c.EMA] = append(byStoch[k][c.EMA], i)
	}
	out := make([]Metrics, len(e.p.combos))
	stoch := make([]stochArray, len(e.spans))
	ema := make([]emaArray, len(e.spans))
	for _, sk := range order {
		ic := indicators.Config{RSI: sk.rsi, Stoch: sk.stoch, SmoothK: sk.smoothK, D: sk.d}
		err := e.parallel(ctx, len(e.spans), func(_, k int) { stoch[k] = newStochArray(e.spans[k], ic) })
		if err != nil {
			return nil, err
		}
		emas := byStoch[sk]
		periods := make([]int, 0, len(emas))
		for n := range emas {
			periods = append(periods, n)
		}
		slices.Sort(periods)
		for _, n := range periods {
			err := e.parallel(ctx, len(e.spans), func(_, k int) { ema[k] = newEMAArray(e.spans[k], n) })
			if err != nil {
				return nil, err
			}
			idx := emas[n]
			m, err := e.evaluateStoch(ctx, idx, stoch, ema)
			if err != nil {
				return nil, err
			}
			for i, ci := range idx {
				out[ci] = m[i]
			}
		}
	}
	return out, nil
}

// Best returns the Config that reproduces row i with [Run]: cfg with the
// row's parameters set.
func (r *SweepResult) Best(cfg SweepConfig, i int) (Config, error) {
	if i < 0 || i >= len(r.Rows) {
		return Config{}, errors.New("backtest: no such row")
	}
	p, err := newPlan(SweepConfig{Config: cfg.Config, Strategy: cfg.Strategy, Params: paramsOf(r.Names, r.Rows[i].Values)})
	if err != nil {
		return Config{}, err
	}
	return p.config(p.combos[0]), nil
}

func paramsOf(names []string, values []float64) []Param {
	out := make([]Param, len(names))
	for i, n := range names {
		out[i] = Param{Name: n, Values: []float64{values[i]}}
	}
	return out
}

// config is the single-backtest Config of a full parameter vector.
func (p *plan) config(v []float64) Config {
	cfg := p.cfg.Config
	switch p.cfg.Strategy {
	case StrategyEMACross:
		f, _ := NewEMACross(int(v[0]), int(v[1]))
		cfg.Signals.Strategy = f
	default:
		cfg.Signals.Indicators = p.indicatorConfig(v)
		cfg.Signals.Oversold, cfg.Signals.Overbought = v[5], v[6]
	}
	return cfg
}

// full returns the strategy's whole parameter vector of a row's values.
func (p *plan) full(values []float64) []float64 {
	v := baseValues(p.cfg)
	for k, i := range p.swept {
		v[i] = values[k]
	}
	return v
}

// single backtests the plan's first combination in full: per-symbol
// results, trades and equity, as Simulate reports them.
func (e *engine) single(ctx context.Context) (*Result, []*account, error) {
	v := e.p.combos[0]
	w := e.newWorkers()[0]
	var factory func([]float64, int) signals.Factory
	var fill func([]float64, int, int, *market.Indicators)
	switch e.p.cfg.Strategy {
	case StrategyEMACross:
		factory = func(v []float64, _ int) signals.Factory {
			f, _ := NewEMACross(int(v[0]), int(v[1])) // checked by the plan
			return f
		}
	default:
		ic := e.p.indicatorConfig(v).WithDefaults()
		stoch := make([]stochArray, len(e.spans))
		ema := make([]emaArray, len(e.spans))
		err := e.parallel(ctx, len(e.spans), func(_, k int) {
			stoch[k] = newStochArray(e.spans[k], ic)
			ema[k] = newEMAArray(e.spans[k], ic.EMA)
		})
		if err != nil {
			return nil, nil, err
		}
		factory = func(v []float64, _ int) signals.Factory {
			f, _ := signals.NewStochRSIEMA(v[5], v[6]) // checked by the plan
			return f
		}
		fill = func(_ []float64, k, j int, in *market.Indicators) {
			in.Schema = market.DefaultSchema
			in.SetDefault(ema[k].v[j], ema[k].ok[j], stoch[k].k[j], stoch[k].d[j], stoch[k].ok[j])
		}
	}
	e.runCombo(w, v, factory, fill)
	res := build(&e.p.c, w.accounts)
	res.Settings = e.p.c.settings(e.p.cfg.Config)
	res.Settings.Strategy = e.p.cfg.Strategy
	res.Settings.Params = map[string]float64{}
	for i, n := range e.p.names {
		res.Settings.Params[n] = v[i]
	}
	return &res, w.accounts, nil
}

func newStochArray(sp span, ic indicators.Config) stochArray {
	ind, _ := indicators.NewSmoothStochRSI(ic.RSI, ic.Stoch, ic.SmoothK, ic.D) // checked by the plan
	a := stochArray{k: make([]float64, sp.hi), d: make([]float64, sp.hi), ok: make([]bool, sp.hi)}
	for j, c := range sp.s.Close[:sp.hi] {
		a.k[j], a.d[j], a.ok[j] = ind.Update(c)
	}
	return a
}

func newEMAArray(sp span, n int) emaArray {
	ind, _ := indicators.NewEMA(n) // checked by the plan
	a := emaArray{v: make([]float64, sp.hi), ok: make([]bool, sp.hi)}
	for j, c := range sp.s.Close[:sp.hi] {
		a.v[j], a.ok[j] = ind.Update(c)
	}
	return a
}

// evaluateStoch is evaluate for the default strategy on precomputed
// indicators, deciding with stochDecider.
func (e *engine) evaluateStoch(ctx context.Context, idx []int, stoch []stochArray, ema []emaArray) ([]Metrics, error) {
	out := make([]Metrics, len(idx))
	if e.ws == nil {
		e.ws = e.newWorkers()
	}
	err := e.parallel(ctx, len(idx), func(wi, i int) {
		w := e.ws[wi]
		v := e.p.combos[idx[i]]
		for k, sp := range e.spans {
			a := w.accounts[k]
			s := sp.s
			a.reset(&e.p.c, s.Symbol, e.share)
			dec := newStochDecider(v[5], v[6])
			st, em := &stoch[k], &ema[k]
			cl := s.Close[:sp.hi]
			for j := range sp.lo {
				dec.decide(cl[j], em.v[j], em.ok[j], st.k[j], st.d[j], st.ok[j])
			}
			for j := sp.lo; j < sp.hi; j++ {
				side := dec.decide(cl[j], em.v[j], em.ok[j], st.k[j], st.d[j], st.ok[j])
				a.step(s.Time[j], s.Open[j], s.High[j], s.Low[j], cl[j], side)
			}
			a.finish()
		}
		out[i], w.equity, w.trades = portfolioMetrics(&e.p.c, w.accounts, e.tl, w.equity, w.trades)
	})
	return out, err
}
