package backtest

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/tickflow/tickflow/indicators"
)

// emaCrossSweep is the fast path of an EMA-cross sweep over one symbol with
// fractional units and no stops: each EMA period is computed once, and each
// pair is one pass over two arrays. It keeps the fill rule and arithmetic
// of account.step (the same fills, fees, trades and equity values); the
// per-bar returns while long are taken as close[t]/close[t-1]-1, which is
// the general engine's (qty*close[t])/(qty*close[t-1])-1 to within a
// rounding, and are summed from compensated prefix sums, so metrics agree
// with the general engine to about 1e-12 (the tests require 1e-9).
type emaCrossSweep struct {
	e      *engine
	sp     span
	ema    [][]float64 // by period; nil for periods no pair uses
	pr     []float64   // prefix sums of r, r^2 and min(r,0)^2 of the closes
	pr2    []float64
	prDown []float64
}

func (e *engine) emaCrossFast() *emaCrossSweep {
	c := &e.p.c
	if len(e.spans) != 1 || c.whole || c.stop > 0 || c.take > 0 || c.trail > 0 {
		return nil
	}
	return &emaCrossSweep{e: e, sp: e.spans[0]}
}

// prepare computes every EMA the pairs need, in parallel, and the prefix sums.
func (f *emaCrossSweep) prepare(ctx context.Context) error {
	var periods []int
	maxP := 0
	for _, v := range f.e.p.combos {
		periods = append(periods, int(v[0]), int(v[1]))
		maxP = max(maxP, int(v[1]))
	}
	slices.Sort(periods)
	periods = slices.Compact(periods)
	f.ema = make([][]float64, maxP+1)
	closes := f.sp.s.Close[:f.sp.hi]
	err := f.e.parallel(ctx, len(periods), func(_, i int) {
		n := periods[i]
		ind, _ := indicators.NewEMA(n) // checked by the plan
		out := make([]float64, len(closes))
		for j, c := range closes {
			out[j], _ = ind.Update(c)
		}
		f.ema[n] = out
	})
	if err != nil {
		return err
	}
	n := len(closes)
	f.pr, f.pr2, f.prDown = make([]float64, n), make([]float64, n), make([]float64, n)
	var s1, s2, s3 neumaier
	for t := 1; t < n; t++ {
		r := closes[t]/closes[t-1] - 1
		s1.add(r)
		s2.add(r * r)
		if r < 0 {
			s3.add(r * r)
		}
		f.pr[t], f.pr2[t], f.prDown[t] = s1.sum(), s2.sum(), s3.sum()
	}
	return nil
}

// neumaier is compensated summation, so prefix sums over long series stay
// exact to a rounding and their differences stay accurate.
type neumaier struct{ s, c float64 }

func (k *neumaier) add(x float64) {
	t := k.s + x
	if math.Abs(k.s) >= math.Abs(x) {
		k.c += (k.s - t) + x
	} else {
		k.c += (x - t) + k.s
	}
	k.s = t
}

func (k *neumaier) sum() float64 { return k.s + k.c }

func (f *emaCrossSweep) all(ctx context.Context) ([]Metrics, error) {
	if err := f.prepare(ctx); err != nil {
		return nil, err
	}
	out := make([]Metrics, len(f.e.p.combos))
	pools := make([][]Trade, f.e.workers)
	// Pairs go out in chunks: one atomic add per chunk, not per pair.
	const chunk = 16
	n := (len(out) + chunk - 1) / chunk
	err := f.e.parallel(ctx, n, func(w, i int) {
		for j := i * chunk; j < min(len(out), (i+1)*chunk); j++ {
			v := f.e.p.combos[j]
			out[j], pools[w] = f.pair(int(v[0]), int(v[1]), pools[w][:0])
		}
	})
	return out, err
}

// pair simulates ema-cross(fast, slow); trades is a buffer to reuse.
//
// Between signals the rule reduces to two scans: flat, the next buy is the
// first bar with F > S (the bar before it had F <= S); long, the next sell
// is the first bar with F < S (the buy bar had F > S). Only the first scan
// needs the bar before it, when the series opens with F > S.
func (f *emaCrossSweep) pair(fast, slow int, trades []Trade) (Metrics, []Trade) {
	c := &f.e.p.c
	s := f.sp.s
	lo, n := f.sp.lo, f.sp.hi
	F, S := f.ema[fast][:n], f.ema[slow][:n]
	op, cl, T := s.Open[:n], s.Close[:n], s.Time[:n]
	fee, slip := c.fee, c.slip
	share := f.e.share

	st := passState{cash: share, peak: share, peakAt: T[lo], low: math.Inf(1)}
	t := slow // the first bar the strategy can evaluate
	if t < n && F[t-1] > S[t-1] {
		for t < n && F[t] > S[t] {
			t++
		}
	}
	for t < n {
		// Strategy flat: the buy is the first bar with F > S.
		for t < n && !(F[t] > S[t]) {
			t++
		}
		if t >= n {
			break
		}
		a := t + 1
		if t < lo || a >= n {
			// Before the window (ignored) or on the last bar (unfilled): the
			// strategy goes long, the account stays flat.
			if t == n-1 {
				st.unfilled++
			}
			for t++; t < n && !(F[t] < S[t]); t++ {
			}
			if t < n && t >= lo {
				st.unfilled++ // a sell while flat
			}
			t++
			continue
		}
		// Fill the buy at the open of a, as account.buy does.
		fill := op[a] * (1 + slip)
		qty := st.cash / (fill * (1 + fee))
		cost := st.cash
		entryFee := qty * fill * fee
		st.fees += entryFee
		if !st.below {
			st.peakAt = T[a-1] // flat at the peak: its latest bar is the peak's time
		}
		r := (qty*cl[a])/cost - 1
		st.sumR += r
		st.sumR2 += r * r
		if r < 0 {
			st.sumDown += r * r
		}
		// Account long from a: visit each held bar; the sell is the first
		// bar with F < S.
		peak, low := st.peak, st.low
		for t = a; t < n; t++ {
			e := qty * cl[t]
			if e >= peak {
				if st.below {
					st.mdd = max(st.mdd, 1-low/peak)
					st.mddDur = max(st.mddDur, T[t]-st.peakAt)
					st.below, low = false, math.Inf(1)
				}
				peak, st.peakAt = e, T[t]
			} else {
				st.below = true
				if e < low { // not min(): Go's float min handles NaN and -0 with branches
					low = e
				}
			}
			if F[t] < S[t] {
				break
			}
		}
		st.peak, st.low = peak, low
		b := t + 1
		if b >= n {
			// No sell, or a sell on the last bar (unfilled): open at the end.
			if t == n-1 && F[t] < S[t] {
				st.unfilled++
			}
			st.held += n - a
			f.addHeld(&st, a, n)
			st.cash, st.qty = 0, qty
			break
		}
		st.held += b - a
		f.addHeld(&st, a, b)
		px := op[b] * (1 - slip)
		notional := qty * px
		sellFee := notional * fee
		proceeds := notional * (1 - fee)
		pnl := proceeds - cost
		trades = append(trades, Trade{Symbol: s.Symbol, EntryTime: time.Unix(0, T[a]).UTC(), EntryPrice: fill,
			ExitTime: time.Unix(0, T[b]).UTC(), ExitPrice: px, Qty: qty, PnL: pnl, Return: pnl / cost,
			Cost: cost, Fees: entryFee + sellFee})
		r = proceeds/(qty*cl[b-1]) - 1
		st.sumR += r
		st.sumR2 += r * r
		if r < 0 {
			st.sumDown += r * r
		}
		st.fees += sellFee
		st.cash = proceeds
		st.visit(proceeds, T[b])
		t = b
	}
	return f.finish(&st, trades), trades
}

// passState is one pair's running state: the account and what
// computeMetrics would gather walking its equity.
type passState struct {
	cash, qty, fees      float64
	unfilled, held       int
	peak, low, mdd       float64
	peakAt, mddDur       int64
	below                bool
	sumR, sumR2, sumDown float64
}

// visit is one equity value in computeMetrics' drawdown walk.
func (st *passState) visit(e float64, t int64) {
	if e >= st.peak {
		if st.below {
			st.mdd = max(st.mdd, 1-st.low/st.peak)
			st.mddDur = max(st.mddDur, t-st.peakAt)
			st.below, st.low = false, math.Inf(1)
		}
		st.peak, st.peakAt = e, t
		return
	}
	st.below = true
	st.low = min(st.low, e)
}

// addHeld adds the returns of bars a+1 .. b-1, all held: close[t]/close[t-1]-1.
func (f *emaCrossSweep) addHeld(st *passState, a, b int) {
	if b-1 > a {
		st.sumR += f.pr[b-1] - f.pr[a]
		st.sumR2 += f.pr2[b-1] - f.pr2[a]
		st.sumDown += f.prDown[b-1] - f.prDown[a]
	}
}

// finish turns the pass's state into Metrics, as computeMetrics does.
func (f *emaCrossSweep) finish(st *passState, trades []Trade) Metrics {
	s, lo, hi := f.sp.s, f.sp.lo, f.sp.hi
	share := f.e.share
	end := st.cash + st.qty*s.Close[hi-1]
	mdd, mddDur := st.mdd, st.mddDur
	if st.below {
		mdd = max(mdd, 1-st.low/st.peak)
		mddDur = max(mddDur, s.Time[hi-1]-st.peakAt)
	}
	m := Metrics{FinalEquity: end, Fees: st.fees, Unfilled: st.unfilled,
		BuyHoldReturn: num(s.Close[hi-1]/s.Close[lo] - 1), TotalReturn: num(end/share - 1)}
	years := float64(s.Time[hi-1]-s.Time[lo]) / year
	if years > 0 {
		m.CAGR = num(math.Pow(end/share, 1/years) - 1)
	}
	m.MaxDrawdown = num(mdd)
	m.MaxDrawdownDuration = num(float64(mddDur) / float64(time.Second))
	if m.CAGR.OK && mdd > 0 {
		m.Calmar = num(m.CAGR.V / mdd)
	}
	bars := hi - lo
	var ps pathStats
	if r := bars - 1; r >= 1 {
		mean := st.sumR / float64(r)
		ps = pathStats{returns: r, mean: mean, downMeanSq: st.sumDown / float64(r)}
		if r >= 2 {
			ps.variance = (st.sumR2 - st.sumR*mean) / float64(r-1)
		}
	}
	ps.annualise(&m, f.e.p.c.periods, years, bars)
	m.Exposure = num(float64(st.held) / float64(bars))
	tradeMetrics(&m, trades)
	return m
}
