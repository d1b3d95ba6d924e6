package backtest

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/tickflow/tickflow/indicators"
)

// emaBlock is how many bars of every EMA are held at once: the pairs walk
// the series block by block, so the EMAs of all periods stay in cache and
// memory does not grow with the series (198 periods x 1,024 bars is 1.6 MB,
// where whole series of 72,000 bars would be 114 MB).
const emaBlock = 1024

// emaCrossSweep is the fast path of an EMA-cross sweep over one symbol with
// fractional units and no stops. Each EMA period is computed once; each
// pair is a scan over two arrays that resumes block after block. It keeps
// the fill rule and arithmetic of account.step (the same fills, fees,
// trades and equity values); the per-bar returns while long are taken as
// close[t]/close[t-1]-1, which is the general engine's
// (qty*close[t])/(qty*close[t-1])-1 to within a rounding, summed from
// compensated prefix sums, so metrics agree with the general engine to
// about 1e-12 (the tests require 1e-9).
type emaCrossSweep struct {
	e       *engine
	sp      span
	periods []int
	emas    []*indicators.EMA // by period; nil for periods no pair uses
	// blk[p][i] is EMA(p) at bar off+i of the current block; blk[p][0] is
	// the bar before the block.
	blk    [][]float64
	off    int
	pr     []float64 // prefix sums of r, r^2 and min(r,0)^2 of the closes
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

// prepare makes the streaming EMAs and the prefix sums of the returns.
func (f *emaCrossSweep) prepare() {
	maxP := 0
	for _, v := range f.e.p.combos {
		f.periods = append(f.periods, int(v[0]), int(v[1]))
		maxP = max(maxP, int(v[1]))
	}
	slices.Sort(f.periods)
	f.periods = slices.Compact(f.periods)
	f.emas = make([]*indicators.EMA, maxP+1)
	f.blk = make([][]float64, maxP+1)
	for _, n := range f.periods {
		f.emas[n], _ = indicators.NewEMA(n) // checked by the plan
		f.blk[n] = make([]float64, emaBlock+1)
	}
	closes := f.sp.s.Close[:f.sp.hi]
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
}

// fillBlock advances every EMA over bars [b0, b1).
func (f *emaCrossSweep) fillBlock(ctx context.Context, b0, b1 int) error {
	closes := f.sp.s.Close
	f.off = b0 - 1
	return f.e.parallel(ctx, len(f.periods), func(_, i int) {
		n := f.periods[i]
		buf := f.blk[n]
		buf[0] = buf[emaBlock] // the previous block's last bar
		for t := b0; t < b1; t++ {
			buf[t-f.off], _ = f.emas[n].Update(closes[t])
		}
		if b1-b0 < emaBlock {
			buf[emaBlock] = buf[b1-f.off-1]
		}
	})
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
	f.prepare()
	combos := f.e.p.combos
	states := make([]pairState, len(combos))
	for i, v := range combos {
		states[i] = f.newPair(int(v[0]), int(v[1]))
	}
	// Pairs go out in chunks: one atomic add per chunk, not per pair.
	const chunk = 64
	chunks := (len(states) + chunk - 1) / chunk
	for b0 := 0; b0 < f.sp.hi; b0 += emaBlock {
		b1 := min(b0+emaBlock, f.sp.hi)
		if err := f.fillBlock(ctx, b0, b1); err != nil {
			return nil, err
		}
		err := f.e.parallel(ctx, chunks, func(_, c int) {
			for i := c * chunk; i < min(len(states), (c+1)*chunk); i++ {
				f.advance(&states[i], b1)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]Metrics, len(states))
	for i := range states {
		out[i] = f.finish(&states[i])
	}
	return out, nil
}

// The phases of a pair's scan.
const (
	phaseStart  uint8 = iota // at the first bar the strategy can evaluate
	phaseSkipGT              // the series opened with F > S: wait for F <= S
	phaseFlat                // strategy and account flat: the buy is the first bar with F > S
	phaseGhost               // strategy long, account flat (a buy not filled)
	phaseLong                // account long: the sell is the first bar with F < S
	phaseDone                // nothing more can happen
)

// pairState is one pair's resumable scan: the account and what
// computeMetrics would gather walking its equity.
type pairState struct {
	fast, slow int
	phase      uint8
	t          int // the next bar to look at
	a          int // the entry bar while long
	below      bool

	cash, qty, cost, entryFee, fill float64
	fees                            float64
	unfilled, held                  int
	peak, low, mdd                  float64
	peakAt, mddDur                  int64
	sumR, sumR2, sumDown            float64
	trades                          tradeStats
}

func (f *emaCrossSweep) newPair(fast, slow int) pairState {
	share := f.e.share
	st := pairState{fast: fast, slow: slow, t: slow, cash: share, peak: share, peakAt: f.sp.s.Time[f.sp.lo], low: math.Inf(1)}
	if slow >= f.sp.hi {
		st.phase = phaseDone
	}
	return st
}

// advance runs the pair's scan up to bar end (exclusive), within the
// current block. Between signals the rule reduces to two scans: flat, the
// next buy is the first bar with F > S (the bar before it had F <= S);
// long, the next sell is the first bar with F < S (the buy bar had F > S).
func (f *emaCrossSweep) advance(st *pairState, end int) {
	c := &f.e.p.c
	s := f.sp.s
	lo, n := f.sp.lo, f.sp.hi
	off := f.off
	F, S := f.blk[st.fast], f.blk[st.slow]
	op, cl, T := s.Open, s.Close, s.Time
	t := st.t
	for t < end {
		switch st.phase {
		case phaseStart:
			st.phase = phaseFlat
			if F[t-1-off] > S[t-1-off] {
				st.phase = phaseSkipGT
			}
		case phaseSkipGT:
			for t < end && F[t-off] > S[t-off] {
				t++
			}
			if t < end {
				st.phase = phaseFlat
			}
		case phaseFlat:
			for t < end && !(F[t-off] > S[t-off]) {
				t++
			}
			if t >= end {
				break
			}
			a := t + 1
			if t < lo || a >= n {
				// Before the window (ignored) or on the last bar (unfilled).
				if t == n-1 {
					st.unfilled++
				}
				st.phase = phaseGhost
				t++
				break
			}
			// Fill the buy at the open of a, as account.buy does.
			fill := op[a] * (1 + c.slip)
			st.qty = st.cash / (fill * (1 + c.fee))
			st.cost = st.cash
			st.entryFee = st.qty * fill * c.fee
			st.fees += st.entryFee
			st.fill, st.a, st.cash = fill, a, 0
			if !st.below {
				st.peakAt = T[a-1] // flat at the peak: its latest bar is the peak's time
			}
			st.addReturn((st.qty*cl[a])/st.cost - 1)
			st.phase = phaseLong
			t = a
		case phaseGhost:
			for t < end && !(F[t-off] < S[t-off]) {
				t++
			}
			if t >= end {
				break
			}
			if t >= lo {
				st.unfilled++ // a sell while flat
			}
			st.phase = phaseFlat
			t++
		case phaseLong:
			qty, peak, low := st.qty, st.peak, st.low
			sell := false
			for ; t < end; t++ {
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
				if F[t-off] < S[t-off] {
					sell = true
					break
				}
			}
			st.peak, st.low = peak, low
			if !sell {
				break
			}
			b := t + 1
			if b >= n {
				st.unfilled++ // a sell on the last bar: open at the end
				st.phase = phaseDone
				t = n
				break
			}
			a := st.a
			st.held += b - a
			f.addHeld(st, a, b)
			px := op[b] * (1 - c.slip)
			notional := qty * px
			sellFee := notional * c.fee
			proceeds := notional * (1 - c.fee)
			pnl := proceeds - st.cost
			st.trades.add(pnl, pnl/st.cost, float64(T[b]-T[a])/float64(time.Second))
			st.addReturn(proceeds/(qty*cl[b-1]) - 1)
			st.fees += sellFee
			st.cash, st.qty = proceeds, 0
			st.visit(proceeds, T[b])
			st.phase = phaseFlat
			t = b
		case phaseDone:
			t = end
		}
	}
	st.t = t
}

func (st *pairState) addReturn(r float64) {
	st.sumR += r
	st.sumR2 += r * r
	if r < 0 {
		st.sumDown += r * r
	}
}

// visit is one equity value in computeMetrics' drawdown walk.
func (st *pairState) visit(e float64, t int64) {
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
func (f *emaCrossSweep) addHeld(st *pairState, a, b int) {
	if b-1 > a {
		st.sumR += f.pr[b-1] - f.pr[a]
		st.sumR2 += f.pr2[b-1] - f.pr2[a]
		st.sumDown += f.prDown[b-1] - f.prDown[a]
	}
}

// finish turns the pair's state into Metrics, as computeMetrics does.
func (f *emaCrossSweep) finish(st *pairState) Metrics {
	s, lo, hi := f.sp.s, f.sp.lo, f.sp.hi
	share := f.e.share
	if st.qty > 0 {
		// Open at the end: held from its entry bar to the last.
		st.held += hi - st.a
		f.addHeld(st, st.a, hi)
	}
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
	st.trades.fill(&m)
	return m
}
