package backtest

import (
	"fmt"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/signals"
)

// The strategies the sweeps know by name.
const (
	// StrategyStochRSIEMA is the default strategy, signals.StochRSIEMA,
	// with parameters ema, rsi, stoch, d, smoothk (indicator periods) and
	// oversold, overbought (thresholds).
	StrategyStochRSIEMA = "stochrsi-ema"
	// StrategyEMACross is [EMACross], with parameters fast and slow.
	StrategyEMACross = "ema-cross"
)

// EMACross is a long-only moving-average crossover on the close, with
// go-talib's EMA (seeded by the mean of the first n closes). With F and S
// the fast and slow EMA, it evaluates bar t only when F and S are defined
// on bars t-1 and t:
//
//	flat: BUY  if F[t-1] <= S[t-1] and F[t] > S[t]
//	long: SELL if F[t-1] >= S[t-1] and F[t] < S[t]
//
// It lives here until the strategies by name move to package signals; the
// sweep's fast path (SweepEMACross) implements the same rule on arrays.
type EMACross struct {
	fast, slow   *indicators.EMA
	prevF, prevS float64
	hasPrev      bool
	long         bool
}

// NewEMACross returns a Factory of EMACross, checking 1 <= fast < slow.
func NewEMACross(fast, slow int) (signals.Factory, error) {
	if fast < 1 || fast >= slow {
		return nil, usagef("backtest: ema-cross(%d,%d): want 1 <= fast < slow", fast, slow)
	}
	if _, err := indicators.NewEMA(slow); err != nil {
		return nil, fmt.Errorf("backtest: ema-cross: %w", err)
	}
	return func(string) signals.Strategy {
		f, _ := indicators.NewEMA(fast) // checked above
		s, _ := indicators.NewEMA(slow)
		return &EMACross{fast: f, slow: s}
	}, nil
}

// Decide implements signals.Strategy.
func (s *EMACross) Decide(e market.Event) *signals.Signal {
	f, okF := s.fast.Update(e.Close)
	sl, okS := s.slow.Update(e.Close)
	pf, ps, had := s.prevF, s.prevS, s.hasPrev
	s.prevF, s.prevS, s.hasPrev = f, sl, okF && okS
	if !had || !okF || !okS {
		return nil
	}
	switch {
	case !s.long && pf <= ps && f > sl:
		s.long = true
		return &signals.Signal{Symbol: e.Symbol, Time: e.Time, Side: market.Buy, Price: e.Close,
			Reason: "fast ema crossed above slow", Indicators: e.Indicators}
	case s.long && pf >= ps && f < sl:
		s.long = false
		return &signals.Signal{Symbol: e.Symbol, Time: e.Time, Side: market.Sell, Price: e.Close,
			Reason: "fast ema crossed below slow", Indicators: e.Indicators}
	}
	return nil
}
