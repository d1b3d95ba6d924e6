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
func (f *emaCrossSweep) pair(fast, slow int, trades []Trade) (Metrics, []Trade) {
	c := &f.e.p.c
	s := f.sp.s
	F, S := f.ema[fast], f.ema[slow]
	op, cl, T := s.Open, s.Close, s.Time
	lo, hi := f.sp.lo, f.sp.hi
	share := f.e.share

	cash, qty := share, 0.0
	var entryT int64
	var entryPx, cost, entryFee, fees float64
	unfilled, held := 0, 0
	// The drawdown state of account equity, as computeMetrics walks it.
	peak, peakAt, below, low := share, T[lo], false, math.Inf(1)
	var mdd float64
	var mddDur int64
	visit := func(e float64, t int64) {
		if e >= peak {
			if below {
				mdd = max(mdd, 1-low/peak)
				mddDur = max(mddDur, t-peakAt)
				below, low = false, math.Inf(1)
			}
			peak, peakAt = e, t
			return
		}
		below = true
		low = min(low, e)
	}
	var sumR, sumR2, sumDown float64
	addReturn := func(r float64) {
		sumR += r
		sumR2 += r * r
		if r < 0 {
			sumDown += r * r
		}
	}
	// addHeld adds the returns of bars (a, b) exclusive, all held.
	addHeld := func(a, b int) {
		if b-1 > a {
			sumR += f.pr[b-1] - f.pr[a]
			sumR2 += f.pr2[b-1] - f.pr2[a]
			sumDown += f.prDown[b-1] - f.prDown[a]
		}
	}

	t := slow // the first bar the strategy can evaluate
	if t >= hi {
		return f.finish(cash, qty, share, peak, peakAt, below, low, mdd, mddDur, 0, 0, 0, held, fees, unfilled, trades), trades
	}
	pgt := F[t-1] > S[t-1]
	plt := F[t-1] < S[t-1]
	for t < hi {
		// Strategy flat: find the cross up.
		for ; t < hi; t++ {
			g := F[t] > S[t]
			if g && !pgt {
				break
			}
			pgt = g
		}
		if t >= hi {
			break
		}
		// Buy signal on bar t.
		pgt, plt = true, F[t] < S[t]
		a := t + 1
		filled := t >= lo && a < hi
		if t == hi-1 {
			unfilled++
		}
		t++
		if !filled {
			// Strategy long, account flat: its sell will be unfilled.
			for ; t < hi; t++ {
				l := F[t] < S[t]
				if l && !plt {
					break
				}
				plt = l
			}
			if t >= hi {
				break
			}
			if t >= lo {
				unfilled++
			}
			pgt, plt = F[t] > S[t], true
			t++
			continue
		}
		// Fill the buy at the open of a, exactly as account.buy.
		fill := op[a] * (1 + c.slip)
		qty = cash / (fill * (1 + c.fee))
		cost = cash
		entryFee = qty * fill * c.fee
		fees += entryFee
		cash = 0
		entryT, entryPx = T[a], fill
		if !below {
			peakAt = T[a-1] // flat at the peak: its latest bar is the peak's time
		}
		addReturn((qty*cl[a])/cost - 1)
		// Account long from a: visit each held bar, find the cross down.
		for ; t < hi; t++ {
			visit(qty*cl[t], T[t])
			l := F[t] < S[t]
			if l && !plt {
				break
			}
			plt = l
		}
		if t >= hi {
			held += hi - a
			addHeld(a, hi)
			break
		}
		// Sell signal on bar t, filled at b = t+1 unless t is the last bar.
		pgt, plt = F[t] > S[t], true
		b := t + 1
		if b >= hi {
			unfilled++
			held += hi - a
			addHeld(a, hi)
			t = hi
			break
		}
		held += b - a
		addHeld(a, b)
		px := op[b] * (1 - c.slip)
		notional := qty * px
		fee := notional * c.fee
		proceeds := notional * (1 - c.fee)
		pnl := proceeds - cost
		trades = append(trades, Trade{Symbol: s.Symbol, EntryTime: time.Unix(0, entryT).UTC(), EntryPrice: entryPx,
			ExitTime: time.Unix(0, T[b]).UTC(), ExitPrice: px, Qty: qty, PnL: pnl, Return: pnl / cost,
			Cost: cost, Fees: entryFee + fee})
		addReturn(proceeds/(qty*cl[b-1]) - 1)
		fees += fee
		cash, qty = proceeds, 0
		visit(cash, T[b])
		t = b
	}
	return f.finish(cash, qty, share, peak, peakAt, below, low, mdd, mddDur, sumR, sumR2, sumDown, held, fees, unfilled, trades), trades
}

// finish turns the pass's state into Metrics, as computeMetrics does.
func (f *emaCrossSweep) finish(cash, qty, share, peak float64, peakAt int64, below bool, low, mdd float64, mddDur int64,
	sumR, sumR2, sumDown float64, held int, fees float64, unfilled int, trades []Trade) Metrics {
	s, lo, hi := f.sp.s, f.sp.lo, f.sp.hi
	end := cash + qty*s.Close[hi-1]
	if below {
		mdd = max(mdd, 1-low/peak)
		mddDur = max(mddDur, s.Time[hi-1]-peakAt)
	}
	m := Metrics{FinalEquity: end, Fees: fees, Unfilled: unfilled,
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
		mean := sumR / float64(r)
		ps = pathStats{returns: r, mean: mean, downMeanSq: sumDown / float64(r)}
		if r >= 2 {
			ps.variance = (sumR2 - sumR*mean) / float64(r-1)
		}
	}
	ps.annualise(&m, f.e.p.c.periods, years, bars)
	m.Exposure = num(float64(held) / float64(bars))
	tradeMetrics(&m, trades)
	return m
}
