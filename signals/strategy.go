package signals

import (
	"fmt"

	"github.com/tickflow/tickflow/market"
)

// Signal is a strategy's decision: market.Signal, named here where it is made.
type Signal = market.Signal

// Strategy decides on one symbol's bars, in time order, one call at a time:
// a new Strategy is made for each symbol, so it keeps that symbol's state
// (position, previous values) in plain fields.
type Strategy interface {
	// Decide returns a signal for the bar e (whose Indicators are filled),
	// or nil. e is passed by value: a pointer would escape to the heap and
	// cost an allocation per bar.
	Decide(e market.Event) *Signal
}

// Factory makes the Strategy for a symbol.
type Factory func(symbol string) Strategy

// Default thresholds of [StochRSIEMA].
const (
	DefaultOversold   = 20.0
	DefaultOverbought = 80.0
)

// StochRSIEMA is the default strategy: long only, one position per symbol.
// With K and D the StochRSI lines and E the EMA of close, it evaluates bar t
// only when E[t], K[t-1], D[t-1], K[t] and D[t] all exist:
//
//	cross up   = K[t-1] <= D[t-1] and K[t] > D[t]
//	cross down = K[t-1] >= D[t-1] and K[t] < D[t]
//	flat: BUY  if cross up and D[t] < Oversold and close[t] > E[t]
//	long: SELL if (cross down and D[t] > Overbought) or close[t] < E[t]
//
// Crosses at exact ties follow go-talib's rounding (see package indicators).
// Zero thresholds mean the defaults, 20 and 80.
type StochRSIEMA struct {
	Oversold   float64
	Overbought float64

	prevK, prevD float64
	hasPrev      bool
	long         bool
}

// NewStochRSIEMA returns a Factory of StochRSIEMA with the given thresholds
// (zero means the default), checking that 0 <= oversold < overbought <= 100.
func NewStochRSIEMA(oversold, overbought float64) (Factory, error) {
	if oversold == 0 {
		oversold = DefaultOversold
	}
	if overbought == 0 {
		overbought = DefaultOverbought
	}
	if !(oversold >= 0 && oversold < overbought && overbought <= 100) {
		return nil, fmt.Errorf("signals: thresholds oversold %v, overbought %v: want 0 <= oversold < overbought <= 100", oversold, overbought)
	}
	return func(string) Strategy { return &StochRSIEMA{Oversold: oversold, Overbought: overbought} }, nil
}

// Decide implements Strategy.
func (s *StochRSIEMA) Decide(e market.Event) *Signal {
	in := &e.Indicators
	k, hasStoch := in.Get(market.DefaultStochK)
	d := in.Value(market.DefaultStochD)
	ema, hasEMA := in.Get(market.DefaultEMA)
	prevK, prevD, hasPrev := s.prevK, s.prevD, s.hasPrev
	s.prevK, s.prevD, s.hasPrev = k, d, hasStoch
	if !hasEMA || !hasStoch || !hasPrev {
		return nil
	}
	oversold, overbought := s.Oversold, s.Overbought
	if oversold == 0 {
		oversold = DefaultOversold
	}
	if overbought == 0 {
		overbought = DefaultOverbought
	}
	c := e.Close
	crossUp := prevK <= prevD && k > d
	crossDown := prevK >= prevD && k < d
	var side market.Side
	var reason string
	switch {
	case !s.long && crossUp && d < oversold && c > ema:
		side, reason = market.Buy, fmt.Sprintf("stochrsi crossed up below %g, close above ema", oversold)
		s.long = true
	case s.long && crossDown && d > overbought:
		side, reason = market.Sell, fmt.Sprintf("stochrsi crossed down above %g", overbought)
		s.long = false
	case s.long && c < ema:
		side, reason = market.Sell, "close below ema"
		s.long = false
	default:
		return nil
	}
	return &Signal{Symbol: e.Symbol, Time: e.Time, Side: side, Price: c, Reason: reason, Indicators: *in}
}
