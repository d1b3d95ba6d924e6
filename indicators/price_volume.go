package indicators

import (
	"fmt"
	"time"
)

// OBV is on-balance volume, bit for bit equal to go-talib's and TA-Lib C's
// Obv: it starts at the first bar's volume and adds each later bar's volume
// when the close rose, subtracts it when the close fell. Defined from index 0.
type OBV struct {
	obv, prev float64
	seen      bool
}

// NewOBV returns an on-balance volume.
func NewOBV() *OBV { return new(OBV) }

// Update reads a bar's close and volume and returns the OBV; ok is false only
// for a non-finite input.
func (o *OBV) Update(close, volume float64) (float64, bool) {
	if !finite(close) || !finite(volume) {
		return 0, false
	}
	switch {
	case !o.seen:
		o.obv, o.seen = volume, true
	case close > o.prev:
		o.obv += volume
	case close < o.prev:
		o.obv -= volume
	}
	o.prev = close
	return o.obv, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (o *OBV) UpdateBar(b Bar, out []float64) bool {
	v, ok := o.Update(b.Close, b.Volume)
	out[0] = v
	return ok
}

// IdlePeriod is 0.
func (*OBV) IdlePeriod() int { return 0 }

// Reset forgets every bar.
func (o *OBV) Reset() { *o = OBV{} }

// String returns "OBV()".
func (*OBV) String() string { return "OBV()" }

// AD is Chaikin's accumulation/distribution line, bit for bit equal to
// go-talib's Ad: the running sum of ((close-low) - (high-close)) / (high-low)
// * volume over bars whose range is positive. Defined from index 0.
type AD struct{ ad float64 }

// NewAD returns an accumulation/distribution line.
func NewAD() *AD { return new(AD) }

// Update reads a bar's high, low, close and volume and returns the line; ok
// is false only for a non-finite input.
func (a *AD) Update(high, low, close, volume float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || !finite(volume) {
		return 0, false
	}
	a.add(high, low, close, volume)
	return a.ad, true
}

func (a *AD) add(high, low, close, volume float64) {
	if r := high - low; r > 0.0 {
		a.ad += (((close - low) - (high - close)) / r) * volume
	}
}

// UpdateBar is Update for a [Bar], writing out[0].
func (a *AD) UpdateBar(b Bar, out []float64) bool {
	v, ok := a.Update(b.High, b.Low, b.Close, b.Volume)
	out[0] = v
	return ok
}

// IdlePeriod is 0.
func (*AD) IdlePeriod() int { return 0 }

// Reset forgets every bar.
func (a *AD) Reset() { a.ad = 0 }

// String returns "AD()".
func (*AD) String() string { return "AD()" }

// ADOSC is Chaikin's A/D oscillator, the fast EMA of the [AD] line minus its
// slow EMA, bit for bit equal to go-talib's AdOsc. Both EMAs use TA-Lib's
// seeding for this function, not the SMA seed of TA-Lib's EMA: they start at
// the first bar's A/D value and move by k = 2/(period+1) from the second bar,
// as ema = k*ad + (1-k)*ema. Defined from index max(fast, slow) - 1.
type ADOSC struct {
	fast, slow       int
	fastK, fastK1    float64 // k and 1-k of the fast EMA
	slowK, slowK1    float64
	ad               AD
	fastEMA, slowEMA float64
	bars             int // bars read, saturating at the idle period
}

// NewADOSC returns an A/D oscillator of periods fast and slow, each
// 2..[MaxPeriod] (TA-Lib's bounds).
func NewADOSC(fast, slow int) (*ADOSC, error) {
	const place = "indicators.NewADOSC"
	if err := checkPeriod(place, "fast", fast, 2); err != nil {
		return nil, err
	}
	if err := checkPeriod(place, "slow", slow, 2); err != nil {
		return nil, err
	}
	o := &ADOSC{fast: fast, slow: slow}
	o.fastK = 2.0 / (float64(fast) + 1.0)
	o.fastK1 = 1.0 - o.fastK
	o.slowK = 2.0 / (float64(slow) + 1.0)
	o.slowK1 = 1.0 - o.slowK
	return o, nil
}

// Update reads a bar's high, low, close and volume and returns the
// oscillator, ok from index max(fast, slow) - 1 on. A non-finite input is
// ignored and returns ok false.
func (o *ADOSC) Update(high, low, close, volume float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || !finite(volume) || o.fast == 0 {
		return 0, false
	}
	o.ad.add(high, low, close, volume)
	i := o.bars
	if i < o.IdlePeriod() {
		o.bars++
	}
	if i == 0 {
		o.fastEMA, o.slowEMA = o.ad.ad, o.ad.ad
		return 0, false
	}
	o.fastEMA = (o.fastK * o.ad.ad) + (o.fastK1 * o.fastEMA)
	o.slowEMA = (o.slowK * o.ad.ad) + (o.slowK1 * o.slowEMA)
	if i < o.IdlePeriod() {
		return 0, false
	}
	return o.fastEMA - o.slowEMA, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (o *ADOSC) UpdateBar(b Bar, out []float64) bool {
	v, ok := o.Update(b.High, b.Low, b.Close, b.Volume)
	out[0] = v
	return ok
}

// IdlePeriod is max(fast, slow) - 1.
func (o *ADOSC) IdlePeriod() int { return max(o.fast, o.slow) - 1 }

// Reset forgets every bar, keeping the periods.
func (o *ADOSC) Reset() { o.ad.Reset(); o.fastEMA, o.slowEMA, o.bars = 0, 0, 0 }

// String returns "ADOSC(fast,slow)".
func (o *ADOSC) String() string { return indicatorName("ADOSC", float64(o.fast), float64(o.slow)) }

// Default VWAP sessions: one UTC day, starting at midnight.
const (
	DefaultVWAPSession = 24 * time.Hour
	DefaultVWAPOffset  = 0
)

// VWAP is the session-anchored volume-weighted average price:
//
//	VWAP = Σ tp·volume / Σ volume,  tp = (high + low + close) / 3
//
// summed in bar order over the bars of the current session. Sessions are the
// intervals [offset + k·session, offset + (k+1)·session) of Unix time (UTC),
// for whole k; a session starts at the first bar whose Time falls in a
// different interval than the bar before it. With the defaults a session is
// a UTC day; a week starting on Monday 00:00 UTC is session 168h, offset 96h
// (the Unix epoch fell on a Thursday); an exchange day opening at 13:30 UTC
// is session 24h, offset 13h30m.
//
// While the session's volume sum is 0 (zero-volume bars at its start) the
// VWAP is that bar's typical price, the limit of a weighted mean as the
// weights vanish; it is defined on every bar. Volumes are taken as given.
// There is no TA-Lib VWAP; the tests check it against a batch formula.
type VWAP struct {
	session, offset int64 // nanoseconds
	key             int64 // the current session's index
	seen            bool
	pv, vol         float64
}

// NewVWAP returns a VWAP over sessions of the given length, starting offset
// after the Unix epoch (0 <= offset < session).
func NewVWAP(session, offset time.Duration) (*VWAP, error) {
	const place = "indicators.NewVWAP"
	if session <= 0 {
		return nil, fmt.Errorf("%s: session = %v, want > 0: %w", place, session, ErrPeriod)
	}
	if offset < 0 || offset >= session {
		return nil, fmt.Errorf("%s: offset = %v, want 0 <= offset < session (%v): %w", place, offset, session, ErrPeriod)
	}
	return &VWAP{session: int64(session), offset: int64(offset)}, nil
}

// Update reads a bar's time, high, low, close and volume and returns the
// session's VWAP; ok is false only for a non-finite input.
func (w *VWAP) Update(b Bar) (float64, bool) {
	if !finiteHLC(b) || !finite(b.Volume) || w.session == 0 {
		return 0, false
	}
	k := b.Time - w.offset
	key := k / w.session
	if k%w.session < 0 {
		key-- // floor for times before the epoch
	}
	if !w.seen || key != w.key {
		w.key, w.seen = key, true
		w.pv, w.vol = 0, 0
	}
	tp := (b.High + b.Low + b.Close) / 3.0
	w.pv += tp * b.Volume
	w.vol += b.Volume
	if w.vol == 0 {
		return tp, true
	}
	return w.pv / w.vol, true
}

// UpdateBar is Update writing out[0].
func (w *VWAP) UpdateBar(b Bar, out []float64) bool {
	v, ok := w.Update(b)
	out[0] = v
	return ok
}

// IdlePeriod is 0.
func (*VWAP) IdlePeriod() int { return 0 }

// Reset forgets every bar, keeping the session.
func (w *VWAP) Reset() { *w = VWAP{session: w.session, offset: w.offset} }

// String returns "VWAP(session,offset)" in minutes, as specs write it.
func (w *VWAP) String() string {
	return indicatorName("VWAP", float64(w.session)/float64(time.Minute), float64(w.offset)/float64(time.Minute))
}
