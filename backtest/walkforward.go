package backtest

import (
	"context"
	"slices"
	"time"
)

// Fold is one out-of-sample fold of a walk-forward: the best combination on
// the fold before it (by SweepConfig.Rank), traded on this one.
type Fold struct {
	InStart, InEnd time.Time // the in-sample fold
	Start, End     time.Time // this fold
	// Values are the in-sample winner's parameters, in the order of
	// WalkForwardResult.Names.
	Values      []float64
	InSample    Metrics // the winner on the in-sample fold
	OutOfSample Metrics // the winner on this fold
}

// WalkForwardResult is the out-of-sample record of a walk-forward.
type WalkForwardResult struct {
	Names []string
	Rank  string
	Folds []Fold
	// Metrics and Equity are those of the out-of-sample folds joined: each
	// fold starts flat with the equity the previous one ended with (a
	// position open at a fold's end is marked at its last close).
	Metrics Metrics
	Equity  Curve
	Trades  []Trade
}

// WalkForward cuts the time range (cfg's window, or all of data) into k+1
// consecutive folds of equal numbers of distinct bar times; for fold i (1 to
// k) the best combination of cfg's sweep on fold i-1 trades fold i, with
// indicators and strategy warmed on every bar before it. No bar of a fold is
// seen when its parameters are chosen.
func WalkForward(ctx context.Context, data *Data, cfg SweepConfig, k int) (*WalkForwardResult, error) {
	if k < 1 {
		return nil, usagef("backtest: --walk-forward %d: want at least 1 fold", k)
	}
	p, err := newPlan(cfg)
	if err != nil {
		return nil, err
	}
	sp, err := spans(data, &p.c, cfg.Config)
	if err != nil {
		return nil, err
	}
	var all []int64
	for _, s := range sp {
		all = append(all, s.s.Time[s.lo:s.hi]...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) < k+1 {
		return nil, usagef("backtest: --walk-forward %d: %d distinct bar times cannot make %d folds", k, len(all), k+1)
	}
	bounds := make([][2]time.Time, k+1)
	for j := range bounds {
		lo, hi := j*len(all)/(k+1), (j+1)*len(all)/(k+1)
		bounds[j] = [2]time.Time{time.Unix(0, all[lo]).UTC(), time.Unix(0, all[hi-1]).UTC()}
	}
	res := &WalkForwardResult{Rank: p.cfg.Rank}
	cash := p.c.cash
	var held, bars, unfilled int
	var fees float64
	for i := 1; i <= k; i++ {
		in := cfg
		in.Start, in.End = bounds[i-1][0], bounds[i-1][1]
		pin, err := newPlan(in)
		if err != nil {
			return nil, err
		}
		ein, err := newEngine(pin, data)
		if err != nil {
			return nil, err
		}
		metrics, err := ein.all(ctx)
		if err != nil {
			return nil, err
		}
		sw := pin.result(metrics)
		res.Names = sw.Names
		best := sw.Rows[0]
		full := pin.full(best.Values)
		out := cfg
		out.Start, out.End, out.Cash = bounds[i][0], bounds[i][1], cash
		out.Params = paramsOf(pin.names, full)
		out.Where = ""
		pout, err := newPlan(out)
		if err != nil {
			return nil, err
		}
		eout, err := newEngine(pout, data)
		if err != nil {
			return nil, err
		}
		r, accounts, err := eout.single(ctx)
		if err != nil {
			return nil, err
		}
		res.Folds = append(res.Folds, Fold{InStart: in.Start, InEnd: in.End, Start: out.Start, End: out.End,
			Values: best.Values, InSample: best.Metrics, OutOfSample: r.Portfolio.Metrics})
		res.Equity.Times = append(res.Equity.Times, r.Portfolio.Equity.Times...)
		res.Equity.Values = append(res.Equity.Values, r.Portfolio.Equity.Values...)
		for _, a := range accounts {
			res.Trades = append(res.Trades, a.trades...)
			held += a.held
			bars += len(a.times)
			unfilled += a.unfilled
			fees += a.fees
		}
		cash = r.Portfolio.Metrics.FinalEquity
	}
	res.Metrics = computeMetrics(equityInput{times: res.Equity.Times, equity: res.Equity.Values, start: p.c.cash,
		trades: res.Trades, held: held, bars: bars, fees: fees, unfilled: unfilled,
		buyHold: buyHold(sp, bounds[1][0].UnixNano(), bounds[k][1].UnixNano()), periodsPerYear: p.c.periods})
	return res, nil
}

// buyHold is the mean over symbols of close_last/close_first - 1 in [start, end].
func buyHold(sp []span, start, end int64) Number {
	var sum float64
	n := 0
	for _, s := range sp {
		lo, hi := s.s.window(start, end)
		if hi > lo {
			sum += s.s.Close[hi-1]/s.s.Close[lo] - 1
			n++
		}
	}
	if n == 0 {
		return Number{}
	}
	return num(sum / float64(n))
}
