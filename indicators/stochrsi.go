package indicators

import (
	"errors"
	"strconv"
)

// StochRSI is a streaming stochastic RSI, bit for bit equal to go-talib's
// StochRsi(close, rsi, stoch, d, SMA) when smoothK is 1:
//
//	close ─► RSI(rsi) ─► %K over stoch bars ─► [SMA(smoothK)] ─► %K ─► SMA(d) ─► %D
//
// Raw %K = (rsi - lowest) / ((highest - lowest) / 100) over the last stoch RSI
// values, or 0 when that divisor is exactly 0 (a flat window). Like go-talib
// it runs over the RSI series with its warm-up filled with zeros, so the
// window and the averages start before RSI is defined; the outputs are
// reported from [StochRSI.IdlePeriod] on, %K and %D together.
//
// With smoothK > 1 raw %K is first averaged over smoothK bars, as
// TradingView's "Stoch RSI 14 14 3 3" does: its %K is go-talib's %D of
// StochRsi(close, 14, 14, 3, SMA), bit for bit, and its %D the 3-bar SMA of
// that.
//
// With another moving-average type for %D (and the %K smoothing), made by
// [NewStochRSIMA], the window and the averages start on the first defined
// RSI, as TA-Lib C computes it: go-talib's StochRsi would seed an EMA %D
// from %K values of its zero-filled warm-up and drift from TA-Lib C by up to
// 20 points for a hundred bars or more.
type StochRSI struct {
	rsi     RSI
	stoch   int
	smoothK int
	d       int
	idle    int
	bar     int // prices accepted so far
	window  extremes
	smooth  sma // used when smoothK > 1
	signal  sma // used when d > 1
	k, dv   float64
	ok      bool
	// maType other than SMA: the averages below replace smooth and signal.
	maType     MAType
	kAvg, dAvg seriesIndicator
	rsiBar     int // defined RSI values so far
}

// NewStochRSI returns a StochRSI(rsi, stoch, d) without %K smoothing: rsi
// 2..[MaxPeriod], stoch and d 1..[MaxPeriod].
func NewStochRSI(rsi, stoch, d int) (*StochRSI, error) {
	s := new(StochRSI)
	if err := s.init("indicators.NewStochRSI", rsi, stoch, 1, d); err != nil {
		return nil, err
	}
	return s, nil
}

// NewSmoothStochRSI returns a StochRSI whose raw %K is averaged over smoothK
// bars (1 means no smoothing) before %D; TradingView's "14 14 3 3" is
// NewSmoothStochRSI(14, 14, 3, 3).
func NewSmoothStochRSI(rsi, stoch, smoothK, d int) (*StochRSI, error) {
	s := new(StochRSI)
	if err := s.init("indicators.NewSmoothStochRSI", rsi, stoch, smoothK, d); err != nil {
		return nil, err
	}
	return s, nil
}

// NewStochRSIMA returns a StochRSI whose %K smoothing (smoothK, 1 for none)
// and %D are moving averages of type t, as go-talib's StochRsi with
// fastDMAType. SMA is [NewSmoothStochRSI].
func NewStochRSIMA(rsi, stoch, smoothK, d int, t MAType) (*StochRSI, error) {
	const place = "indicators.NewStochRSIMA"
	s := new(StochRSI)
	if err := s.init(place, rsi, stoch, smoothK, d); err != nil {
		return nil, err
	}
	if t == SMAType {
		return s, nil
	}
	var err1, err2 error
	s.maType = t
	s.kAvg, err1 = newMA(place, "smoothK", t, smoothK)
	s.dAvg, err2 = newMA(place, "d", t, d)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	s.smooth, s.signal = sma{}, sma{}
	s.idle = s.rsi.IdlePeriod() + stoch - 1 + s.kAvg.IdlePeriod() + s.dAvg.IdlePeriod()
	return s, nil
}

func (s *StochRSI) init(place string, rsi, stoch, smoothK, d int) error {
	if err := checkStochRSI(place, rsi, stoch, smoothK, d); err != nil {
		return err
	}
	*s = StochRSI{stoch: stoch, smoothK: smoothK, d: d,
		idle: StochRSIIdlePeriod(rsi, stoch, d) + smoothK - 1}
	if err := s.rsi.init(place, rsi); err != nil {
		return err
	}
	// One allocation for the window rings, one for both averages.
	s.window.init(stoch, make([]slot, 2*stoch))
	nf := 0
	if smoothK > 1 {
		nf += smoothK
	}
	if d > 1 {
		nf += d
	}
	if nf > 0 {
		buf := make([]float64, nf)
		if smoothK > 1 {
			s.smooth.init(smoothK, buf)
			buf = buf[smoothK:]
		}
		if d > 1 {
			s.signal.init(d, buf)
		}
	}
	return nil
}

// Update adds the next price and returns %K and %D, ok once both are defined.
// A NaN or infinite x is ignored: the state does not change and ok is false.
// Every call on a zero StochRSI returns ok false (make one with
// [NewStochRSI]).
func (s *StochRSI) Update(x float64) (k, d float64, ok bool) {
	if !finite(x) || s.stoch == 0 {
		return 0, 0, false
	}
	return s.update(x)
}

// update is Update for a price already known to be finite.
func (s *StochRSI) update(x float64) (k, d float64, ok bool) {
	if s.dAvg != nil {
		return s.updateMA(x)
	}
	// go-talib's RSI array holds 0.0 before RSI is defined, and its %K window
	// slides over those zeros too (rsi.update returns 0 until RSI is defined).
	r, _ := s.rsi.update(x)
	i := s.bar
	s.bar++
	s.window.push(r, i)
	if i < s.stoch-1 {
		return 0, 0, false
	}
	k = stochK(r, s.window.min(), s.window.max())
	if s.smoothK > 1 {
		if k, ok = s.smooth.update(k); !ok {
			return 0, 0, false
		}
	}
	d = k
	if s.d > 1 {
		if d, ok = s.signal.update(k); !ok {
			return 0, 0, false
		}
	}
	if i < s.idle {
		return 0, 0, false
	}
	s.k, s.dv, s.ok = k, d, true
	return k, d, true
}

// updateMA is update without go-talib's zero padding, for the averages
// other than SMA.
func (s *StochRSI) updateMA(x float64) (k, d float64, ok bool) {
	r, ok := s.rsi.update(x)
	if !ok {
		return 0, 0, false
	}
	i := s.rsiBar
	s.rsiBar++
	s.window.push(r, i)
	if i < s.stoch-1 {
		return 0, 0, false
	}
	if k, ok = s.kAvg.update(stochK(r, s.window.min(), s.window.max())); !ok {
		return 0, 0, false
	}
	if d, ok = s.dAvg.update(k); !ok {
		return 0, 0, false
	}
	s.k, s.dv, s.ok = k, d, true
	return k, d, true
}

// Value returns the last defined %K and %D, ok false during warm-up.
func (s *StochRSI) Value() (k, d float64, ok bool) { return s.k, s.dv, s.ok }

// Periods returns the parameters as given to [NewSmoothStochRSI].
func (s *StochRSI) Periods() (rsi, stoch, smoothK, d int) {
	return s.rsi.n, s.stoch, s.smoothK, s.d
}

// IdlePeriod is the index (counting accepted prices from 0) of the first
// defined output: rsi + (stoch-1) + (smoothK-1) + (d-1).
func (s *StochRSI) IdlePeriod() int { return s.idle }

// Reset forgets all prices, keeping the parameters and buffers.
func (s *StochRSI) Reset() {
	s.rsi.Reset()
	s.window.reset()
	s.smooth.reset()
	s.signal.reset()
	s.bar, s.rsiBar = 0, 0
	s.k, s.dv, s.ok = 0, 0, false
	if s.dAvg != nil {
		s.kAvg.Reset()
		s.dAvg.Reset()
	}
}

// String returns "StochRSI(rsi,stoch,d)", or "StochRSI(rsi,stoch,smoothK,d)"
// when %K is smoothed, with the type after d when it is not SMA:
// "StochRSI(14,14,3,ema)".
func (s *StochRSI) String() string {
	b := make([]byte, 0, 32)
	b = append(b, "StochRSI("...)
	b = strconv.AppendInt(b, int64(s.rsi.n), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.stoch), 10)
	if s.smoothK > 1 {
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(s.smoothK), 10)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.d), 10)
	if s.maType != SMAType {
		b = append(b, ',')
		b = append(b, s.maType.String()...)
	}
	b = append(b, ')')
	return string(b)
}
