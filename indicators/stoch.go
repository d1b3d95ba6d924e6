package indicators

import (
	"errors"
	"strconv"
)

// fastK is the raw stochastic of a bar series: (close − lowest low) /
// ((highest high − lowest low) / 100) over the last n bars, or 0 when that
// divisor is exactly 0, in go-talib's operation order.
type fastK struct {
	n           int
	lows, highs peakDeque
	bar         int
}

func (f *fastK) init(n int) { f.n = n; f.lows.init(n, true); f.highs.init(n, false) }

func (f *fastK) update(high, low, close float64) (float64, bool) {
	i := f.bar
	f.bar++
	f.lows.push(low, i)
	f.highs.push(high, i)
	if i < f.n-1 {
		return 0, false
	}
	lo, _ := f.lows.peak()
	hi, _ := f.highs.peak()
	return stochK(close, lo, hi), true
}

// stochK is go-talib's %K of x in a window from lo to hi. The exact != 0.0
// test and this operation order are go-talib's: a one-ULP difference here
// turns into a 100-point jump of %K.
func stochK(x, lo, hi float64) float64 {
	diff := (hi - lo) / 100.0
	if diff != 0.0 {
		return (x - lo) / diff
	}
	return 0.0
}

func (f *fastK) reset() { f.lows.reset(); f.highs.reset(); f.bar = 0 }

// Stoch is the slow stochastic: raw %K over fastK bars, smoothed by a
// moving average into slow %K, and slow %D, a moving average of slow %K.
// Each average starts on the first value of its input, as in TA-Lib C; for
// SMA (the default) that is go-talib's Stoch bit for bit. go-talib runs the
// %D average over the zeros of the %K average's warm-up, which changes
// nothing for SMA but changes the values of the other types.
type Stoch struct {
	k                    fastK
	slowK, slowD         seriesIndicator
	slowKN, slowDN       int
	slowKType, slowDType MAType
	idle                 int
}

// NewStoch returns STOCH(fastK, slowK, slowKType, slowD, slowDType), the
// periods 1..[MaxPeriod].
func NewStoch(fastKN, slowKN int, slowKType MAType, slowDN int, slowDType MAType) (*Stoch, error) {
	const place = "indicators.NewStoch"
	if err := errors.Join(checkPeriod(place, "fastk", fastKN, 1), checkPeriod(place, "slowk", slowKN, 1),
		checkPeriod(place, "slowd", slowDN, 1)); err != nil {
		return nil, err
	}
	sk, err1 := newMA(place, "slowk", slowKType, slowKN)
	sd, err2 := newMA(place, "slowd", slowDType, slowDN)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	s := &Stoch{slowK: sk, slowD: sd, slowKN: slowKN, slowDN: slowDN, slowKType: slowKType, slowDType: slowDType,
		idle: fastKN - 1 + sk.IdlePeriod() + sd.IdlePeriod()}
	s.k.init(fastKN)
	return s, nil
}

// Update adds the next bar's high, low and close and returns slow %K and
// %D, ok from [Stoch.IdlePeriod] on. A bar with a NaN or infinite price is
// ignored and returns ok false, as does every call on a zero Stoch.
func (s *Stoch) Update(high, low, close float64) (k, d float64, ok bool) {
	if !finite(high) || !finite(low) || !finite(close) || s.slowK == nil {
		return 0, 0, false
	}
	return s.update(high, low, close)
}

func (s *Stoch) update(high, low, close float64) (k, d float64, ok bool) {
	if k, ok = s.k.update(high, low, close); !ok {
		return 0, 0, false
	}
	if k, ok = s.slowK.update(k); !ok {
		return 0, 0, false
	}
	if d, ok = s.slowD.update(k); !ok {
		return 0, 0, false
	}
	return k, d, true
}

// IdlePeriod is (fastK-1) plus the lookbacks of the two averages: 8 for
// (5, 3, SMA, 3, SMA).
func (s *Stoch) IdlePeriod() int { return s.idle }

// Reset forgets all bars, keeping the parameters.
func (s *Stoch) Reset() { s.k.reset(); s.slowK.Reset(); s.slowD.Reset() }

// String returns "STOCH(fastk,slowk,type,slowd,type)".
func (s *Stoch) String() string {
	return "STOCH(" + strconv.Itoa(s.k.n) + "," + strconv.Itoa(s.slowKN) + "," + s.slowKType.String() + "," +
		strconv.Itoa(s.slowDN) + "," + s.slowDType.String() + ")"
}

// StochF is the fast stochastic: raw %K over fastK bars and %D, a moving
// average of it, bit for bit go-talib's StochF. For DEMA, TEMA, KAMA and T3
// the outputs start at TA-Lib C's lookback, where go-talib reports some
// zeros of the %D warm-up first.
type StochF struct {
	k         fastK
	fastD     seriesIndicator
	fastDN    int
	fastDType MAType
	idle      int
}

// NewStochF returns STOCHF(fastK, fastD, fastDType), the periods
// 1..[MaxPeriod].
func NewStochF(fastKN, fastDN int, fastDType MAType) (*StochF, error) {
	const place = "indicators.NewStochF"
	if err := errors.Join(checkPeriod(place, "fastk", fastKN, 1), checkPeriod(place, "fastd", fastDN, 1)); err != nil {
		return nil, err
	}
	fd, err := newMA(place, "fastd", fastDType, fastDN)
	if err != nil {
		return nil, err
	}
	s := &StochF{fastD: fd, fastDN: fastDN, fastDType: fastDType, idle: fastKN - 1 + fd.IdlePeriod()}
	s.k.init(fastKN)
	return s, nil
}

// Update adds the next bar's high, low and close and returns %K and %D, ok
// from [StochF.IdlePeriod] on. A bar with a NaN or infinite price is ignored
// and returns ok false, as does every call on a zero StochF.
func (s *StochF) Update(high, low, close float64) (k, d float64, ok bool) {
	if !finite(high) || !finite(low) || !finite(close) || s.fastD == nil {
		return 0, 0, false
	}
	return s.update(high, low, close)
}

func (s *StochF) update(high, low, close float64) (k, d float64, ok bool) {
	if k, ok = s.k.update(high, low, close); !ok {
		return 0, 0, false
	}
	if d, ok = s.fastD.update(k); !ok {
		return 0, 0, false
	}
	return k, d, true
}

// IdlePeriod is (fastK-1) plus the %D average's lookback: 6 for (5, 3, SMA).
func (s *StochF) IdlePeriod() int { return s.idle }

// Reset forgets all bars, keeping the parameters.
func (s *StochF) Reset() { s.k.reset(); s.fastD.Reset() }

// String returns "STOCHF(fastk,fastd,type)".
func (s *StochF) String() string {
	return "STOCHF(" + strconv.Itoa(s.k.n) + "," + strconv.Itoa(s.fastDN) + "," + s.fastDType.String() + ")"
}
