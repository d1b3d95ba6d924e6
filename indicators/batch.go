package indicators

import (
	"fmt"

	talib "github.com/markcheno/go-talib"
)

// checkInput rejects what go-talib cannot handle: too few values for one
// output (where it panics with index out of range) and non-finite values
// (which it would spread silently through every later output).
func checkInput(place string, close []float64, need int) error {
	if len(close) < need {
		return fmt.Errorf("%s: close has %d values, need at least %d for one output: %w", place, len(close), need, ErrTooShort)
	}
	for i, x := range close {
		if !finite(x) {
			return fmt.Errorf("%s: close[%d] = %v: %w", place, i, x, ErrNotFinite)
		}
	}
	return nil
}

// BatchEMA returns go-talib's Ema(close, n): same length as close, zeros
// before index [EMAIdlePeriod](n). n must be 1..[MaxPeriod] and close must
// hold at least n finite values.
func BatchEMA(close []float64, n int) ([]float64, error) {
	const place = "indicators.BatchEMA"
	if err := checkPeriod(place, "n", n, 1); err != nil {
		return nil, err
	}
	if err := checkInput(place, close, EMAIdlePeriod(n)+1); err != nil {
		return nil, err
	}
	return talib.Ema(close, n), nil
}

// BatchRSI returns go-talib's Rsi(close, n) (Wilder's smoothing): zeros before
// index [RSIIdlePeriod](n). n must be 2..[MaxPeriod] and close must hold at
// least n+1 finite values.
func BatchRSI(close []float64, n int) ([]float64, error) {
	const place = "indicators.BatchRSI"
	if err := checkPeriod(place, "n", n, 2); err != nil {
		return nil, err
	}
	if err := checkInput(place, close, RSIIdlePeriod(n)+1); err != nil {
		return nil, err
	}
	return talib.Rsi(close, n), nil
}

// BatchStochRSI returns %K and %D of go-talib's StochRsi(close, rsi, stoch, d,
// SMA): the stochastic of RSI(rsi) over stoch bars, and its d-bar simple
// moving average. Both are zero before index [StochRSIIdlePeriod](rsi, stoch,
// d). rsi must be 2..[MaxPeriod], stoch and d 1..[MaxPeriod], and close must
// hold enough finite values for one output.
//
// %D is a simple average: with an EMA go-talib seeds it from %K values
// computed over its zero-filled RSI warm-up and drifts from TA-Lib C for a
// hundred bars or more.
func BatchStochRSI(close []float64, rsi, stoch, d int) ([]float64, []float64, error) {
	const place = "indicators.BatchStochRSI"
	if err := checkStochRSI(place, rsi, stoch, 1, d); err != nil {
		return nil, nil, err
	}
	if err := checkInput(place, close, StochRSIIdlePeriod(rsi, stoch, d)+1); err != nil {
		return nil, nil, err
	}
	k, dd := talib.StochRsi(close, rsi, stoch, d, talib.SMA)
	return k, dd, nil
}
