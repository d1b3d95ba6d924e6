package backtest

import (
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/signals"
)

// stochDecider is the rule of signals.StochRSIEMA on precomputed indicator
// values, for the sweeps: the same comparisons in the same order, without
// building an Event per bar or allocating a Signal per decision (a sweep
// makes hundreds of millions of decisions). Tests hold it to
// signals.StochRSIEMA bar for bar, and a sweep's rows to Run.
type stochDecider struct {
	oversold, overbought float64
	prevK, prevD         float64
	hasPrev, long        bool
}

func newStochDecider(oversold, overbought float64) stochDecider {
	if oversold == 0 {
		oversold = signals.DefaultOversold
	}
	if overbought == 0 {
		overbought = signals.DefaultOverbought
	}
	return stochDecider{oversold: oversold, overbought: overbought}
}

func (s *stochDecider) decide(c, ema float64, hasEMA bool, k, d float64, hasStoch bool) market.Side {
	prevK, prevD, hasPrev := s.prevK, s.prevD, s.hasPrev
	s.prevK, s.prevD, s.hasPrev = k, d, hasStoch
	if !hasEMA || !hasStoch || !hasPrev {
		return 0
	}
	crossUp := prevK <= prevD && k > d
	crossDown := prevK >= prevD && k < d
	switch {
	case !s.long && crossUp && d < s.oversold && c > ema:
		s.long = true
		return market.Buy
	case s.long && crossDown && d > s.overbought:
		s.long = false
		return market.Sell
	case s.long && c < ema:
		s.long = false
		return market.Sell
	}
	return 0
}
