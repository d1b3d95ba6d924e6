package indicators

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// CMO is Chande's momentum oscillator, bit for bit go-talib's Cmo: Wilder's
// average gain and loss as in [RSI], and 100*(gain-loss)/(gain+loss), or 0
// when gain+loss is below 1e-14 in magnitude.
type CMO struct{ r RSI }

// NewCMO returns a CMO of period n, 2..[MaxPeriod].
func NewCMO(n int) (*CMO, error) {
	c := new(CMO)
	if err := c.r.init("indicators.NewCMO", n); err != nil {
		return nil, err
	}
	return c, nil
}

// Update adds the next price and returns the CMO, ok from index n on. A NaN
// or infinite x is ignored and returns ok false, as does every call on a zero
// CMO.
func (c *CMO) Update(x float64) (float64, bool) {
	if !finite(x) || c.r.n == 0 {
		return 0, false
	}
	return c.update(x)
}

func (c *CMO) update(x float64) (float64, bool) {
	// RSI's value is computed and dropped: one division, and RSI's hot path
	// stays as it is.
	if _, ok := c.r.update(x); !ok {
		return 0, false
	}
	t := c.r.gain + c.r.loss
	if !(((-(0.00000000000001)) < t) && (t < (0.00000000000001))) {
		return 100.0 * ((c.r.gain - c.r.loss) / t), true
	}
	return 0.0, true
}

// IdlePeriod is n.
func (c *CMO) IdlePeriod() int { return c.r.n }

// Reset forgets all prices, keeping the period.
func (c *CMO) Reset() { c.r.Reset() }

// String returns "CMO(n)".
func (c *CMO) String() string { return indicatorName("CMO", float64(c.r.n)) }

// PriceOscillator is APO (fast MA − slow MA) or PPO (the same as a
// percentage of the slow MA), both of one moving-average type, bit for bit
// go-talib's Apo and Ppo for SMA, EMA, WMA and TRIMA. For the types whose
// lookback is not n-1 (DEMA, TEMA, KAMA, T3) go-talib reports values from
// slow-1 on that mix in zeros of the warm-up; this type starts at TA-Lib C's
// lookback instead.
type PriceOscillator struct {
	fast, slow seriesIndicator
	percent    bool
	fp, sp     int
	maType     MAType
}

// NewAPO returns an APO(fast, slow, t): periods 2..[MaxPeriod], swapped if
// fast > slow as TA-Lib does.
func NewAPO(fast, slow int, t MAType) (*PriceOscillator, error) {
	return newPriceOscillator("indicators.NewAPO", fast, slow, t, false)
}

// NewPPO returns a PPO(fast, slow, t), in percent of the slow average, 0 when
// the slow average is below 1e-14 in magnitude; parameters as [NewAPO].
func NewPPO(fast, slow int, t MAType) (*PriceOscillator, error) {
	return newPriceOscillator("indicators.NewPPO", fast, slow, t, true)
}

func newPriceOscillator(place string, fast, slow int, t MAType, percent bool) (*PriceOscillator, error) {
	if err := errors.Join(checkPeriod(place, "fast", fast, 2), checkPeriod(place, "slow", slow, 2)); err != nil {
		return nil, err
	}
	if slow < fast {
		fast, slow = slow, fast
	}
	f, err := newMA(place, "fast", t, fast)
	if err != nil {
		return nil, err
	}
	s, _ := newMA(place, "slow", t, slow)
	return &PriceOscillator{fast: f, slow: s, percent: percent, fp: fast, sp: slow, maType: t}, nil
}

// Update adds the next price and returns the oscillator, ok from
// [PriceOscillator.IdlePeriod] on. A NaN or infinite x is ignored and returns
// ok false, as does every call on a zero PriceOscillator.
func (p *PriceOscillator) Update(x float64) (float64, bool) {
	if !finite(x) || p.fast == nil {
		return 0, false
	}
	return p.update(x)
}

func (p *PriceOscillator) update(x float64) (float64, bool) {
	f, _ := p.fast.update(x) // the slow one, same type, is defined last
	s, ok := p.slow.update(x)
	if !ok {
		return 0, false
	}
	if !p.percent {
		return f - s, true
	}
	if !(((-(0.00000000000001)) < s) && (s < (0.00000000000001))) {
		return ((f - s) / s) * 100.0, true
	}
	return 0.0, true
}

// IdlePeriod is the slow average's lookback: slow-1 for SMA and EMA.
func (p *PriceOscillator) IdlePeriod() int { return p.slow.IdlePeriod() }

// Reset forgets all prices, keeping the parameters.
func (p *PriceOscillator) Reset() { p.fast.Reset(); p.slow.Reset() }

// String returns "APO(fast,slow,type)" or "PPO(...)".
func (p *PriceOscillator) String() string {
	name := "APO("
	if p.percent {
		name = "PPO("
	}
	return name + strconv.Itoa(p.fp) + "," + strconv.Itoa(p.sp) + "," + p.maType.String() + ")"
}

// TRIX is the one-bar rate of change, in percent, of a triple EMA, bit for
// bit go-talib's Trix: 0 when the previous triple EMA is exactly 0.
type TRIX struct {
	e1, e2, e3 EMA
	prev       float64
	primed     bool // prev holds a triple EMA
}

// NewTRIX returns a TRIX of period n, 1..[MaxPeriod].
func NewTRIX(n int) (*TRIX, error) {
	t := new(TRIX)
	if err := t.e1.init("indicators.NewTRIX", n); err != nil {
		return nil, err
	}
	t.e2, t.e3 = t.e1, t.e1
	return t, nil
}

// Update adds the next price and returns TRIX, ok from index 3(n-1)+1 on. A
// NaN or infinite x is ignored and returns ok false, as does every call on a
// zero TRIX.
func (t *TRIX) Update(x float64) (float64, bool) {
	if !finite(x) || t.e1.n == 0 {
		return 0, false
	}
	return t.update(x)
}

func (t *TRIX) update(x float64) (float64, bool) {
	v, ok := t.e1.update(x)
	if ok {
		v, ok = t.e2.update(v)
	}
	if ok {
		v, ok = t.e3.update(v)
	}
	if !ok {
		return 0, false
	}
	prev := t.prev
	t.prev = v
	if !t.primed {
		t.primed = true
		return 0, false
	}
	if prev != 0.0 {
		return ((v / prev) - 1.0) * 100.0, true
	}
	return 0.0, true
}

// IdlePeriod is 3(n-1)+1.
func (t *TRIX) IdlePeriod() int { return 3*(t.e1.n-1) + 1 }

// Reset forgets all prices, keeping the period.
func (t *TRIX) Reset() { t.e1.Reset(); t.e2.Reset(); t.e3.Reset(); t.prev, t.primed = 0, false }

// String returns "TRIX(n)".
func (t *TRIX) String() string { return indicatorName("TRIX", float64(t.e1.n)) }

// Variance is the population variance over the last n prices, bit for bit
// go-talib's Var: running sums of the prices and of their squares, mean of
// squares minus square of mean. With a multiplier it is StdDev instead:
// nbdev × the square root of the variance, 0 when the variance is below 1e-14
// (go-talib's StdDev).
type Variance struct {
	n          int
	fn         float64
	buf        []float64 // ring of the last n prices
	pos, seen  int
	sum, sumSq float64
	stddev     bool
	nbdev      float64
}

// NewVar returns a VAR of period n, 1..[MaxPeriod].
func NewVar(n int) (*Variance, error) {
	return newVariance("indicators.NewVar", n, 1, false, 1)
}

// NewStdDev returns a STDDEV of period n, 2..[MaxPeriod], times nbdev (any
// finite number; TA-Lib's default is 1).
func NewStdDev(n int, nbdev float64) (*Variance, error) {
	return newVariance("indicators.NewStdDev", n, 2, true, nbdev)
}

func newVariance(place string, n, lo int, stddev bool, nbdev float64) (*Variance, error) {
	if err := checkPeriod(place, "n", n, lo); err != nil {
		return nil, err
	}
	if !finite(nbdev) {
		return nil, fmt.Errorf("%s: nbdev = %v, want a finite number: %w", place, nbdev, ErrParam)
	}
	return &Variance{n: n, fn: float64(n), buf: make([]float64, n), stddev: stddev, nbdev: nbdev}, nil
}

// Update adds the next price and returns the variance (or deviation), ok
// from the n-th price on. A NaN or infinite x is ignored and returns ok
// false, as does every call on a zero Variance.
func (v *Variance) Update(x float64) (float64, bool) {
	if !finite(x) || v.n == 0 {
		return 0, false
	}
	return v.update(x)
}

func (v *Variance) update(x float64) (float64, bool) {
	out, ok := v.variance(x)
	if !ok || !v.stddev {
		return out, ok
	}
	return deviation(out, v.nbdev), true
}

// deviation is go-talib's StdDev of a variance.
func deviation(variance, nbdev float64) float64 {
	if !(variance < 0.00000000000001) {
		return math.Sqrt(variance) * nbdev // × 1.0 changes no bit
	}
	return 0.0
}

func (v *Variance) variance(x float64) (float64, bool) {
	v.sum += x
	v.sumSq += x * x
	v.buf[v.pos] = x
	if v.pos++; v.pos == v.n {
		v.pos = 0
	}
	if v.seen < v.n-1 {
		v.seen++
		return 0, false
	}
	mean := v.sum / v.fn
	meanSq := v.sumSq / v.fn
	old := v.buf[v.pos] // the oldest price of this window
	v.sum -= old
	v.sumSq -= old * old
	return meanSq - mean*mean, true
}

// IdlePeriod is n-1.
func (v *Variance) IdlePeriod() int { return v.n - 1 }

// Reset forgets all prices, keeping the parameters.
func (v *Variance) Reset() { v.pos, v.seen, v.sum, v.sumSq = 0, 0, 0, 0 }

// String returns "VAR(n)" or "STDDEV(n,nbdev)".
func (v *Variance) String() string {
	if !v.stddev {
		return indicatorName("VAR", float64(v.n))
	}
	return "STDDEV(" + strconv.Itoa(v.n) + "," + strconv.FormatFloat(v.nbdev, 'g', -1, 64) + ")"
}

// BBands are Bollinger bands: a moving average of type t over n prices, and
// bands at up and down times the population standard deviation over the
// same n prices, bit for bit go-talib's BBands for SMA, EMA, WMA and TRIMA.
//
// For DEMA, TEMA, KAMA and T3, whose lookback exceeds n-1, the bands follow
// TA-Lib C: they start at the average's lookback (go-talib reports from n-1
// with a zero middle band), and the deviation's running sums start n-1 bars
// before that, not on the first bar. The two differ only by rounding, but in
// a flat window the variance is a rounding residue either way, and its
// square root magnifies the difference to about 1e-6.
type BBands struct {
	ma       seriesIndicator
	v        Variance
	up, down float64
	n        int
	maType   MAType
	delay    int // bars before the deviation starts
	bar      int // bars accepted, saturating at delay
}

// NewBBands returns BBANDS(n, up, down, t): n 2..[MaxPeriod], up and down
// any finite numbers.
func NewBBands(n int, up, down float64, t MAType) (*BBands, error) {
	const place = "indicators.NewBBands"
	if err := checkPeriod(place, "n", n, 2); err != nil {
		return nil, err
	}
	if !finite(up) || !finite(down) {
		return nil, fmt.Errorf("%s: up = %v, down = %v, want finite numbers: %w", place, up, down, ErrParam)
	}
	m, err := newMA(place, "matype", t, n)
	if err != nil {
		return nil, err
	}
	v, _ := newVariance(place, n, 2, true, 1)
	return &BBands{ma: m, v: *v, up: up, down: down, n: n, maType: t, delay: m.IdlePeriod() - (n - 1)}, nil
}

// Update adds the next price and returns the upper, middle and lower bands,
// ok from [BBands.IdlePeriod] on. A NaN or infinite x is ignored and returns
// ok false, as does every call on a zero BBands.
func (b *BBands) Update(x float64) (upper, middle, lower float64, ok bool) {
	if !finite(x) || b.ma == nil {
		return 0, 0, 0, false
	}
	return b.update(x)
}

func (b *BBands) update(x float64) (upper, middle, lower float64, ok bool) {
	var variance float64
	vok := false
	if b.bar < b.delay {
		b.bar++
	} else {
		variance, vok = b.v.variance(x)
	}
	middle, ok = b.ma.update(x)
	if !ok || !vok {
		return 0, 0, 0, false
	}
	sd := deviation(variance, 1.0)
	return middle + (sd * b.up), middle, middle - (sd * b.down), true
}

// IdlePeriod is the average's lookback: n-1 for SMA.
func (b *BBands) IdlePeriod() int { return b.ma.IdlePeriod() }

// Reset forgets all prices, keeping the parameters.
func (b *BBands) Reset() { b.ma.Reset(); b.v.Reset(); b.bar = 0 }

// String returns "BBANDS(n,up,down,type)".
func (b *BBands) String() string {
	return "BBANDS(" + strconv.Itoa(b.n) + "," + strconv.FormatFloat(b.up, 'g', -1, 64) + "," +
		strconv.FormatFloat(b.down, 'g', -1, 64) + "," + b.maType.String() + ")"
}
