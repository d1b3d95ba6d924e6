package indicators

import (
	"errors"
	"fmt"
	"math"
)

// MaxPeriod is the largest period accepted, TA-Lib's own limit. It also bounds
// the ring buffers a streaming StochRSI allocates.
const MaxPeriod = 100000

// Default periods, used by [Config] fields left at zero.
const (
	DefaultEMA     = 20
	DefaultRSI     = 14
	DefaultStoch   = 14
	DefaultD       = 3
	DefaultSmoothK = 1
)

// Errors wrapped by constructors and batch functions; test with errors.Is.
var (
	// ErrPeriod reports a period outside its allowed range.
	ErrPeriod = errors.New("period out of range")
	// ErrTooShort reports a batch input too short for even one output.
	ErrTooShort = errors.New("input too short")
	// ErrNotFinite reports a NaN or infinite price given to a batch function.
	ErrNotFinite = errors.New("value is not finite")
	// ErrMAType reports a moving-average type that is not known.
	ErrMAType = errors.New("moving-average type not supported")
	// ErrParam reports a non-period parameter outside its range.
	ErrParam = errors.New("parameter out of range")
)

// checkPeriod names the place and parameter so a caller sees which one is wrong.
func checkPeriod(place, name string, v, lo int) error {
	if v < lo || v > MaxPeriod {
		return fmt.Errorf("%s: %s = %d, want %d..%d: %w", place, name, v, lo, MaxPeriod, ErrPeriod)
	}
	return nil
}

// checkParam is checkPeriod for a non-period parameter, lo..hi inclusive; NaN
// is always out of range, and hi = math.MaxFloat64 means any finite number
// from lo.
func checkParam(place, name string, v, lo, hi float64) error {
	if v >= lo && v <= hi {
		return nil
	}
	if hi == math.MaxFloat64 {
		return fmt.Errorf("%s: %s = %v, want a finite number >= %v: %w", place, name, v, lo, ErrParam)
	}
	return fmt.Errorf("%s: %s = %v, want %v..%v: %w", place, name, v, lo, hi, ErrParam)
}

// checkStochRSI validates the StochRSI periods. RSI needs 2: go-talib returns
// only zeros for RSI(1) and TA-Lib C rejects it.
func checkStochRSI(place string, rsi, stoch, smoothK, d int) error {
	return errors.Join(
		checkPeriod(place, "rsi", rsi, 2),
		checkPeriod(place, "stoch", stoch, 1),
		checkPeriod(place, "smoothK", smoothK, 1),
		checkPeriod(place, "d", d, 1),
	)
}

// finite reports whether x is neither NaN nor infinite: the test every
// Update makes of the inputs it reads.
func finite(x float64) bool { return math.Abs(x) <= math.MaxFloat64 }

// finiteHLC reports whether a bar's high, low and close are finite.
func finiteHLC(b Bar) bool { return finite(b.High) && finite(b.Low) && finite(b.Close) }

// EMAIdlePeriod is the index of the first defined output of EMA(n): n-1.
func EMAIdlePeriod(n int) int { return n - 1 }

// RSIIdlePeriod is the index of the first defined output of RSI(n): n.
func RSIIdlePeriod(n int) int { return n }

// StochRSIIdlePeriod is the index of the first defined output of
// StochRSI(rsi, stoch, d), %K and %D together: rsi + (stoch-1) + (d-1), 29
// for (14, 14, 3), as go-talib reports them.
func StochRSIIdlePeriod(rsi, stoch, d int) int { return rsi + stoch - 1 + d - 1 }
