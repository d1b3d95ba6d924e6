package indicators

import (
	"fmt"
	"math"
	"strconv"
)

// seriesIndicator is a streaming indicator of one input series. The moving
// averages implement it, so that the MA-typed indicators (MACDEXT, BBANDS,
// STOCH, ...) chain them by [MAType].
type seriesIndicator interface {
	// update takes the next finite value; ok reports a defined output.
	update(x float64) (v float64, ok bool)
	IdlePeriod() int
	Reset()
	String() string
}

// maLookback is TA-Lib's MA lookback: the index of the first output of a
// moving average of type t and period n. Period 1 is the input itself.
func maLookback(t MAType, n int) int {
	if n == 1 {
		return 0
	}
	switch t {
	case DEMAType:
		return 2 * (n - 1)
	case TEMAType:
		return 3 * (n - 1)
	case KAMAType:
		return n
	case T3Type:
		return 6 * (n - 1)
	case MAMAType:
		return mamaIdle
	}
	return n - 1
}

// t3DefaultVFactor is the volume factor TA-Lib's MA uses for T3.
const t3DefaultVFactor = 0.7

// newMA returns the moving average TA-Lib's MA computes for t and n: period
// 1 passes the input through, whatever the type, and MAMA ignores the period
// (limits 0.5 and 0.05). place and name say where a bad parameter came from.
func newMA(place, name string, t MAType, n int) (seriesIndicator, error) {
	if err := checkPeriod(place, name, n, 1); err != nil {
		return nil, err
	}
	if n == 1 && t >= SMAType && t <= T3Type {
		return passThrough{}, nil
	}
	switch t {
	case SMAType:
		return NewSMA(n)
	case EMAType:
		return NewEMA(n)
	case WMAType:
		return NewWMA(n)
	case DEMAType:
		return NewDEMA(n)
	case TEMAType:
		return NewTEMA(n)
	case TRIMAType:
		return NewTRIMA(n)
	case KAMAType:
		return NewKAMA(n)
	case T3Type:
		return NewT3(n, t3DefaultVFactor)
	case MAMAType:
		m, _ := NewMAMA(0.5, 0.05)
		return mamaAverage{m}, nil
	}
	return nil, fmt.Errorf("%s: %s type %d: %w", place, name, int(t), ErrMAType)
}

// passThrough is a moving average of period 1.
type passThrough struct{}

func (passThrough) update(x float64) (float64, bool) { return x, true }
func (passThrough) IdlePeriod() int                  { return 0 }
func (passThrough) Reset()                           {}
func (passThrough) String() string                   { return "MA(1)" }

// SMA is a streaming simple moving average, bit for bit go-talib's Sma.
type SMA struct{ s sma }

// NewSMA returns an SMA of period n, 1..[MaxPeriod].
func NewSMA(n int) (*SMA, error) {
	if err := checkPeriod("indicators.NewSMA", "n", n, 1); err != nil {
		return nil, err
	}
	s := new(SMA)
	s.s.init(n, make([]float64, n))
	return s, nil
}

// Update adds the next price and returns the average, ok from the n-th price
// on. A NaN or infinite x is ignored and returns ok false, as does every call
// on a zero SMA.
func (s *SMA) Update(x float64) (float64, bool) {
	if !finite(x) || s.s.n == 0 {
		return 0, false
	}
	return s.s.update(x)
}

func (s *SMA) update(x float64) (float64, bool) { return s.s.update(x) }

// IdlePeriod is n-1.
func (s *SMA) IdlePeriod() int { return s.s.n - 1 }

// Reset forgets all prices, keeping the period.
func (s *SMA) Reset() { s.s.reset() }

// String returns "SMA(n)".
func (s *SMA) String() string { return indicatorName("SMA", float64(s.s.n)) }

// WMA is a streaming linearly weighted moving average (weights 1..n, the
// newest heaviest), bit for bit go-talib's Wma: a running weighted sum and a
// running plain sum, updated in go-talib's order.
type WMA struct {
	n        int
	fn, div  float64
	buf      []float64 // ring of the last n prices
	pos      int
	seen     int // prices counted, saturating at n-1
	sum, sub float64
	trailing float64 // the price that leaves the window next
}

// NewWMA returns a WMA of period n, 1..[MaxPeriod].
func NewWMA(n int) (*WMA, error) {
	if err := checkPeriod("indicators.NewWMA", "n", n, 1); err != nil {
		return nil, err
	}
	return &WMA{n: n, fn: float64(n), div: float64((n * (n + 1)) >> 1), buf: make([]float64, n)}, nil
}

// Update adds the next price and returns the average, ok from the n-th price
// on. A NaN or infinite x is ignored and returns ok false, as does every call
// on a zero WMA.
func (w *WMA) Update(x float64) (float64, bool) {
	if !finite(x) || w.n == 0 {
		return 0, false
	}
	return w.update(x)
}

func (w *WMA) update(x float64) (float64, bool) {
	if w.n == 1 {
		return x, true // go-talib copies the input
	}
	w.buf[w.pos] = x
	if w.pos++; w.pos == w.n {
		w.pos = 0
	}
	if w.seen < w.n-1 {
		w.seen++
		w.sub += x
		w.sum += x * float64(w.seen)
		return 0, false
	}
	w.sub += x
	w.sub -= w.trailing
	w.sum += x * w.fn
	w.trailing = w.buf[w.pos] // the oldest price of this window
	out := w.sum / w.div
	w.sum -= w.sub
	return out, true
}

// IdlePeriod is n-1.
func (w *WMA) IdlePeriod() int { return w.n - 1 }

// Reset forgets all prices, keeping the period.
func (w *WMA) Reset() { *w = WMA{n: w.n, fn: w.fn, div: w.div, buf: w.buf} }

// String returns "WMA(n)".
func (w *WMA) String() string { return indicatorName("WMA", float64(w.n)) }

// DEMA is a streaming double exponential moving average, 2*EMA - EMA(EMA),
// bit for bit go-talib's Dema: the second EMA starts on the first defined
// value of the first.
type DEMA struct{ e1, e2 EMA }

// NewDEMA returns a DEMA of period n, 1..[MaxPeriod].
func NewDEMA(n int) (*DEMA, error) {
	d := new(DEMA)
	if err := d.e1.init("indicators.NewDEMA", n); err != nil {
		return nil, err
	}
	d.e2 = d.e1
	return d, nil
}

// Update adds the next price and returns the DEMA, ok from index 2(n-1) on.
// A NaN or infinite x is ignored and returns ok false, as does every call on
// a zero DEMA.
func (d *DEMA) Update(x float64) (float64, bool) {
	if !finite(x) || d.e1.n == 0 {
		return 0, false
	}
	return d.update(x)
}

func (d *DEMA) update(x float64) (float64, bool) {
	v1, ok := d.e1.update(x)
	if !ok {
		return 0, false
	}
	v2, ok := d.e2.update(v1)
	if !ok {
		return 0, false
	}
	return (2.0 * v1) - v2, true
}

// IdlePeriod is 2(n-1).
func (d *DEMA) IdlePeriod() int { return 2 * (d.e1.n - 1) }

// Reset forgets all prices, keeping the period.
func (d *DEMA) Reset() { d.e1.Reset(); d.e2.Reset() }

// String returns "DEMA(n)".
func (d *DEMA) String() string { return indicatorName("DEMA", float64(d.e1.n)) }

// TEMA is a streaming triple exponential moving average,
// 3*EMA - 3*EMA(EMA) + EMA(EMA(EMA)), bit for bit go-talib's Tema.
type TEMA struct{ e1, e2, e3 EMA }

// NewTEMA returns a TEMA of period n, 1..[MaxPeriod].
func NewTEMA(n int) (*TEMA, error) {
	t := new(TEMA)
	if err := t.e1.init("indicators.NewTEMA", n); err != nil {
		return nil, err
	}
	t.e2, t.e3 = t.e1, t.e1
	return t, nil
}

// Update adds the next price and returns the TEMA, ok from index 3(n-1) on.
// A NaN or infinite x is ignored and returns ok false, as does every call on
// a zero TEMA.
func (t *TEMA) Update(x float64) (float64, bool) {
	if !finite(x) || t.e1.n == 0 {
		return 0, false
	}
	return t.update(x)
}

func (t *TEMA) update(x float64) (float64, bool) {
	v1, ok := t.e1.update(x)
	if !ok {
		return 0, false
	}
	v2, ok := t.e2.update(v1)
	if !ok {
		return 0, false
	}
	v3, ok := t.e3.update(v2)
	if !ok {
		return 0, false
	}
	return v3 + ((3.0 * v1) - (3.0 * v2)), true
}

// IdlePeriod is 3(n-1).
func (t *TEMA) IdlePeriod() int { return 3 * (t.e1.n - 1) }

// Reset forgets all prices, keeping the period.
func (t *TEMA) Reset() { t.e1.Reset(); t.e2.Reset(); t.e3.Reset() }

// String returns "TEMA(n)".
func (t *TEMA) String() string { return indicatorName("TEMA", float64(t.e1.n)) }

// TRIMA is a streaming triangular moving average (an SMA of an SMA, with
// weights rising to the middle of the window), bit for bit go-talib's Trima:
// its three running sums are seeded from the first window in go-talib's
// order, then moved by one price at each end and in the middle.
type TRIMA struct {
	n, half            int // half = n/2
	factor             float64
	buf                []float64 // ring of the last n prices
	pos, seen          int
	num, numSub, numAd float64
}

// NewTRIMA returns a TRIMA of period n, 1..[MaxPeriod].
func NewTRIMA(n int) (*TRIMA, error) {
	if err := checkPeriod("indicators.NewTRIMA", "n", n, 1); err != nil {
		return nil, err
	}
	t := &TRIMA{n: n, half: n >> 1, buf: make([]float64, n)}
	i := float64(t.half)
	if n%2 == 1 {
		t.factor = (i + 1.0) * (i + 1.0)
	} else {
		t.factor = i * (i + 1)
	}
	t.factor = 1.0 / t.factor
	return t, nil
}

// Update adds the next price and returns the TRIMA, ok from the n-th price
// on. A NaN or infinite x is ignored and returns ok false, as does every call
// on a zero TRIMA.
func (t *TRIMA) Update(x float64) (float64, bool) {
	if !finite(x) || t.n == 0 {
		return 0, false
	}
	return t.update(x)
}

func (t *TRIMA) update(x float64) (float64, bool) {
	if t.n == 1 {
		return x, true // go-talib's sums give the price itself
	}
	if t.seen < t.n {
		t.buf[t.seen] = x
		if t.seen++; t.seen < t.n {
			return 0, false
		}
		t.seed()
		return t.num * t.factor, true
	}
	// pos holds the price leaving the window; the middle price moves from
	// the newer half to the older one.
	odd := t.n%2 == 1
	mi := t.pos + t.half
	if odd {
		mi++
	}
	if mi >= t.n {
		mi -= t.n
	}
	left, mid := t.buf[t.pos], t.buf[mi]
	t.buf[t.pos] = x
	if t.pos++; t.pos == t.n {
		t.pos = 0
	}
	t.num -= t.numSub
	t.numSub -= left
	t.numSub += mid
	if odd {
		t.num += t.numAd
		t.numAd -= mid
	} else {
		t.numAd -= mid
		t.num += t.numAd
	}
	t.numAd += x
	t.num += x
	return t.num * t.factor, true
}

// seed computes go-talib's first window, from buf[0..n-1].
func (t *TRIMA) seed() {
	middle := t.half
	if t.n%2 == 0 {
		middle--
	}
	t.num, t.numSub, t.numAd = 0, 0, 0
	for i := middle; i >= 0; i-- {
		t.numSub += t.buf[i]
		t.num += t.numSub
	}
	for i := middle + 1; i < t.n; i++ {
		t.numAd += t.buf[i]
		t.num += t.numAd
	}
}

// IdlePeriod is n-1.
func (t *TRIMA) IdlePeriod() int { return t.n - 1 }

// Reset forgets all prices, keeping the period.
func (t *TRIMA) Reset() { t.pos, t.seen, t.num, t.numSub, t.numAd = 0, 0, 0, 0, 0 }

// String returns "TRIMA(n)".
func (t *TRIMA) String() string { return indicatorName("TRIMA", float64(t.n)) }

// KAMA's smoothing constants, written as go-talib computes them (a variable
// minus a constant), so they round the same.
var (
	kamaSlow = 2.0 / (30.0 + 1.0)
	kamaDiff = 2.0/(2.0+1.0) - kamaSlow
)

// KAMA is Kaufman's adaptive moving average, bit for bit go-talib's Kama:
// the efficiency ratio over n price changes, kept as a running sum of
// absolute changes, sets the smoothing between 2/(30+1) and 2/(2+1).
type KAMA struct {
	n        int
	buf      []float64 // ring: the price n bars back sits at pos
	pos      int
	seen     int // prices counted, saturating at n+1
	prev     float64
	trailing float64 // the price n+1 bars back
	sumROC   float64
	value    float64
}

// NewKAMA returns a KAMA of period n, 1..[MaxPeriod].
func NewKAMA(n int) (*KAMA, error) {
	if err := checkPeriod("indicators.NewKAMA", "n", n, 1); err != nil {
		return nil, err
	}
	return &KAMA{n: n, buf: make([]float64, n)}, nil
}

// Update adds the next price and returns the KAMA, ok from index n on. A NaN
// or infinite x is ignored and returns ok false, as does every call on a zero
// KAMA.
func (k *KAMA) Update(x float64) (float64, bool) {
	if !finite(x) || k.n == 0 {
		return 0, false
	}
	return k.update(x)
}

func (k *KAMA) update(x float64) (float64, bool) {
	old := k.buf[k.pos] // the price n bars back, once seen >= n
	k.buf[k.pos] = x
	if k.pos++; k.pos == k.n {
		k.pos = 0
	}
	prev := k.prev
	k.prev = x
	switch {
	case k.seen == 0:
		k.seen++
		return 0, false
	case k.seen < k.n:
		k.sumROC += math.Abs(prev - x)
		k.seen++
		return 0, false
	case k.seen == k.n:
		k.sumROC += math.Abs(prev - x)
		k.seen++
		k.value = prev
	default:
		k.sumROC -= math.Abs(k.trailing - old)
		k.sumROC += math.Abs(x - prev)
	}
	k.trailing = old
	roc := x - old
	var r float64
	if (k.sumROC <= roc) || ((-(0.00000000000001) < k.sumROC) && (k.sumROC < (0.00000000000001))) {
		r = 1.0
	} else {
		r = math.Abs(roc / k.sumROC)
	}
	r = (r * kamaDiff) + kamaSlow
	r *= r
	k.value = ((x - k.value) * r) + k.value
	return k.value, true
}

// IdlePeriod is n.
func (k *KAMA) IdlePeriod() int { return k.n }

// Reset forgets all prices, keeping the period.
func (k *KAMA) Reset() { *k = KAMA{n: k.n, buf: k.buf} }

// String returns "KAMA(n)".
func (k *KAMA) String() string { return indicatorName("KAMA", float64(k.n)) }

// T3 is Tillson's T3, six cascaded EMAs combined by the volume factor, bit
// for bit go-talib's T3: each EMA is seeded with the mean of the first n
// values of the one before.
type T3 struct {
	n              int
	vfactor        float64
	fn, k, k1      float64 // k1 = 1-k
	c1, c2, c3, c4 float64
	e              [6]float64
	stage          int     // EMAs seeded so far
	acc            float64 // sum seeding EMA number stage
	count          int     // values in acc
}

// NewT3 returns a T3 of period n, 1..[MaxPeriod], and volume factor
// vfactor, 0..1 (TA-Lib's default 0.7).
func NewT3(n int, vfactor float64) (*T3, error) {
	const place = "indicators.NewT3"
	if err := checkPeriod(place, "n", n, 1); err != nil {
		return nil, err
	}
	if err := checkParam(place, "vfactor", vfactor, 0, 1); err != nil {
		return nil, err
	}
	t := &T3{n: n, vfactor: vfactor, fn: float64(n)}
	t.k = 2.0 / (float64(n) + 1.0)
	t.k1 = 1.0 - t.k
	v2 := vfactor * vfactor
	t.c1 = -(v2 * vfactor)
	t.c2 = 3.0 * (v2 - t.c1)
	t.c3 = -6.0*v2 - 3.0*(vfactor-t.c1)
	t.c4 = 1.0 + 3.0*vfactor - t.c1 + 3.0*v2
	return t, nil
}

// Update adds the next price and returns the T3, ok from index 6(n-1) on. A
// NaN or infinite x is ignored and returns ok false, as does every call on a
// zero T3.
func (t *T3) Update(x float64) (float64, bool) {
	if !finite(x) || t.n == 0 {
		return 0, false
	}
	return t.update(x)
}

func (t *T3) update(x float64) (float64, bool) {
	in := x
	for j := range t.e {
		if j < t.stage {
			t.e[j] = (t.k * in) + (t.k1 * t.e[j])
			in = t.e[j]
			continue
		}
		// EMA j is still being seeded; its seed is the next one's first value.
		t.acc += in
		if t.count++; t.count < t.n {
			return 0, false
		}
		t.e[j] = t.acc / t.fn
		in = t.e[j]
		t.stage++
		t.acc, t.count = 0, 0
	}
	return t.c1*t.e[5] + t.c2*t.e[4] + t.c3*t.e[3] + t.c4*t.e[2], true
}

// IdlePeriod is 6(n-1).
func (t *T3) IdlePeriod() int { return 6 * (t.n - 1) }

// Reset forgets all prices, keeping the parameters.
func (t *T3) Reset() { t.e, t.stage, t.acc, t.count = [6]float64{}, 0, 0, 0 }

// String returns "T3(n,vfactor)".
func (t *T3) String() string {
	return "T3(" + strconv.Itoa(t.n) + "," + strconv.FormatFloat(t.vfactor, 'g', -1, 64) + ")"
}
