package backtest

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Interval is a confidence interval; its bounds are null when undefined.
type Interval struct {
	Low  Number `json:"low"`
	High Number `json:"high"`
}

// BootstrapResult holds 95 % confidence intervals from a bootstrap over trades.
type BootstrapResult struct {
	Samples     int      `json:"samples"`
	Seed        uint64   `json:"seed"`
	TotalReturn Interval `json:"total_return"`
	Sharpe      Interval `json:"sharpe"`
}

// Bootstrap resamples the portfolio's closed trades n times with
// replacement (each resample as many trades as were closed), seeded by
// seed so the same call gives the same intervals. For each resample,
// total_return = sum(pnl)/starting cash and sharpe = mean(return) /
// stdev(return, ddof=1) * sqrt(trades per year of the portfolio's span).
// The intervals are the 2.5th and 97.5th percentiles (linear between order
// statistics); they are null with fewer than two trades, and sharpe is null
// when no resample has a spread of returns.
func (r *Result) Bootstrap(n int, seed uint64) BootstrapResult {
	out := BootstrapResult{Samples: n, Seed: seed}
	var trades []Trade
	for _, s := range r.Symbols {
		trades = append(trades, s.Trades...)
	}
	k := len(trades)
	if k < 2 || n < 1 {
		return out
	}
	var years float64
	if eq := r.Portfolio.Equity; eq.Len() > 0 {
		years = float64(eq.Times[eq.Len()-1]-eq.Times[0]) / year
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	totals := make([]float64, 0, n)
	sharpes := make([]float64, 0, n)
	for range n {
		var pnl, sum, sumSq float64
		for range k {
			t := &trades[rng.IntN(k)]
			pnl += t.PnL
			sum += t.Return
			sumSq += t.Return * t.Return
		}
		totals = append(totals, pnl/r.Settings.Cash)
		mean := sum / float64(k)
		v := (sumSq - sum*mean) / float64(k-1)
		if sd := math.Sqrt(max(v, 0)); sd > 0 && years > 0 {
			sharpes = append(sharpes, mean/sd*math.Sqrt(float64(k)/years))
		}
	}
	out.TotalReturn = percentiles(totals)
	out.Sharpe = percentiles(sharpes)
	return out
}

// percentiles returns the 2.5th and 97.5th percentiles of xs (sorted in place).
func percentiles(xs []float64) Interval {
	if len(xs) == 0 {
		return Interval{}
	}
	slices.Sort(xs)
	at := func(q float64) Number {
		h := q * float64(len(xs)-1)
		i := int(h)
		if i+1 >= len(xs) {
			return num(xs[len(xs)-1])
		}
		return num(xs[i] + (h-float64(i))*(xs[i+1]-xs[i]))
	}
	return Interval{Low: at(0.025), High: at(0.975)}
}
