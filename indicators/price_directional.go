package indicators

import "math"

// directional is Wilder's directional movement and true range as TA-Lib's
// ADX family computes them: bar 0 only sets the previous bar; bars 1..n-1
// sum +DM1, -DM1 and TR1; from bar n on each is smoothed as
// s = s - s/n + today's, in go-talib's operation order.
type directional struct {
	n                            int
	fn                           float64
	bars                         int // bars read, saturating at n+1
	prevHigh, prevLow, prevClose float64
	plusDM, minusDM, tr          float64
	// The last bar's one-period movement and true range, for period 1.
	plus1, minus1, tr1 float64
}

func (d *directional) init(n int) { *d = directional{n: n, fn: float64(n)} }

func (d *directional) reset() { d.init(d.n) }

// step reads a bar and reports whether the smoothed values are defined (from
// bar n on); with n = 1, from bar 1 on, only the one-period values are.
func (d *directional) step(high, low, close float64) bool {
	if d.bars == 0 {
		d.prevHigh, d.prevLow, d.prevClose = high, low, close
		d.bars = 1
		return false
	}
	diffP := high - d.prevHigh
	diffM := d.prevLow - low
	d.prevHigh, d.prevLow = high, low
	tr := trueRange(high, low, d.prevClose)
	d.prevClose = close
	// Case 2 and 4 of TA-Lib's notes give -DM1, cases 1 and 3 +DM1.
	d.plus1, d.minus1, d.tr1 = 0, 0, tr
	if (diffM > 0) && (diffP < diffM) {
		d.minus1 = diffM
	} else if (diffP > 0) && (diffP > diffM) {
		d.plus1 = diffP
	}
	if d.bars < d.n {
		d.minusDM += d.minus1
		d.plusDM += d.plus1
		d.tr += tr
		d.bars++
		return false
	}
	d.minusDM -= d.minusDM / d.fn
	d.plusDM -= d.plusDM / d.fn
	if d.minus1 != 0 {
		d.minusDM += d.minus1
	} else if d.plus1 != 0 {
		d.plusDM += d.plus1
	}
	d.tr = d.tr - (d.tr / d.fn) + tr
	if d.bars == d.n {
		d.bars++
	}
	return true
}

// di returns 100*dm/tr, or 0 where the true range is near zero.
func (d *directional) di(dm float64) float64 {
	if nearZero(d.tr) {
		return 0
	}
	return 100.0 * (dm / d.tr)
}

// dx returns 100*|-DI - +DI| / (-DI + +DI), ok false where the true range or
// the sum of the DIs is near zero (go-talib then keeps the last value).
func (d *directional) dx() (float64, bool) {
	if nearZero(d.tr) {
		return 0, false
	}
	minusDI := 100.0 * (d.minusDM / d.tr)
	plusDI := 100.0 * (d.plusDM / d.tr)
	sum := minusDI + plusDI
	if nearZero(sum) {
		return 0, false
	}
	return 100.0 * (math.Abs(minusDI-plusDI) / sum), true
}

// DI is TA-Lib's plus or minus directional indicator, bit for bit equal to
// go-talib's PlusDI and MinusDI: 100 * smoothed DM / smoothed TR, defined
// from index n. With n = 1 it is DM1/TR1 on each bar from index 1, without the
// factor 100, as in TA-Lib C and go-talib.
type DI struct {
	minus bool
	d     directional
}

// NewPlusDI returns a +DI of period n, 1..[MaxPeriod].
func NewPlusDI(n int) (*DI, error) { return newDI("indicators.NewPlusDI", n, false) }

// NewMinusDI returns a -DI of period n, 1..[MaxPeriod].
func NewMinusDI(n int) (*DI, error) { return newDI("indicators.NewMinusDI", n, true) }

func newDI(place string, n int, minus bool) (*DI, error) {
	if err := checkPeriod(place, "n", n, 1); err != nil {
		return nil, err
	}
	x := &DI{minus: minus}
	x.d.init(n)
	return x, nil
}

// Update reads a bar's high, low and close and returns the DI, ok from index
// [DI.IdlePeriod] on. A non-finite input is ignored and returns ok false.
func (x *DI) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || x.d.n == 0 {
		return 0, false
	}
	if x.d.n == 1 {
		if x.d.bars == 0 {
			x.d.step(high, low, close)
			return 0, false
		}
		x.d.step(high, low, close)
		dm := x.d.plus1
		if x.minus {
			dm = x.d.minus1
		}
		if dm == 0 || nearZero(x.d.tr1) {
			return 0, true
		}
		return dm / x.d.tr1, true
	}
	if !x.d.step(high, low, close) {
		return 0, false
	}
	if x.minus {
		return x.d.di(x.d.minusDM), true
	}
	return x.d.di(x.d.plusDM), true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (x *DI) UpdateBar(b Bar, out []float64) bool {
	v, ok := x.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n.
func (x *DI) IdlePeriod() int { return x.d.n }

// Reset forgets every bar, keeping the period.
func (x *DI) Reset() { x.d.reset() }

// String returns "PLUS_DI(n)" or "MINUS_DI(n)".
func (x *DI) String() string {
	if x.minus {
		return indicatorName("MINUS_DI", float64(x.d.n))
	}
	return indicatorName("PLUS_DI", float64(x.d.n))
}

// DX is TA-Lib's directional movement index, bit for bit equal to go-talib's
// Dx: 100*|-DI - +DI|/(-DI + +DI), defined from index n. Where the true
// range or the DI sum is near zero it repeats its last value (0 at first).
type DX struct {
	d    directional
	last float64
}

// NewDX returns a DX of period n, 2..[MaxPeriod] (TA-Lib's bounds).
func NewDX(n int) (*DX, error) {
	if err := checkPeriod("indicators.NewDX", "n", n, 2); err != nil {
		return nil, err
	}
	x := new(DX)
	x.d.init(n)
	return x, nil
}

// Update reads a bar's high, low and close and returns the DX, ok from index n
// on. A non-finite input is ignored and returns ok false.
func (x *DX) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || x.d.n == 0 {
		return 0, false
	}
	if !x.d.step(high, low, close) {
		return 0, false
	}
	if v, ok := x.d.dx(); ok {
		x.last = v
	}
	return x.last, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (x *DX) UpdateBar(b Bar, out []float64) bool {
	v, ok := x.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n.
func (x *DX) IdlePeriod() int { return x.d.n }

// Reset forgets every bar, keeping the period.
func (x *DX) Reset() { x.d.reset(); x.last = 0 }

// String returns "DX(n)".
func (x *DX) String() string { return indicatorName("DX", float64(x.d.n)) }

// ADX is TA-Lib's average directional movement index, bit for bit equal to
// go-talib's Adx: the DX of bars n..2n-1 averaged at index 2n-1, then
// adx = (adx*(n-1) + dx)/n, skipping bars whose DX is undefined.
type ADX struct {
	d     directional
	bars  int // bars since the DM became smoothed, saturating at n
	sumDX float64
	adx   float64
}

// NewADX returns an ADX of period n, 2..[MaxPeriod] (TA-Lib's bounds).
func NewADX(n int) (*ADX, error) {
	x := new(ADX)
	if err := x.init("indicators.NewADX", n); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *ADX) init(place string, n int) error {
	if err := checkPeriod(place, "n", n, 2); err != nil {
		return err
	}
	*x = ADX{}
	x.d.init(n)
	return nil
}

// Update reads a bar's high, low and close and returns the ADX, ok from index
// 2n-1 on. A non-finite input is ignored and returns ok false.
func (x *ADX) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || x.d.n == 0 {
		return 0, false
	}
	return x.update(high, low, close)
}

func (x *ADX) update(high, low, close float64) (float64, bool) {
	if !x.d.step(high, low, close) {
		return 0, false
	}
	dx, ok := x.d.dx()
	if x.bars < x.d.n {
		if ok {
			x.sumDX += dx
		}
		x.bars++
		if x.bars < x.d.n {
			return 0, false
		}
		x.adx = x.sumDX / x.d.fn
		return x.adx, true
	}
	if ok {
		x.adx = ((x.adx * (x.d.fn - 1)) + dx) / x.d.fn
	}
	return x.adx, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (x *ADX) UpdateBar(b Bar, out []float64) bool {
	v, ok := x.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is 2n-1.
func (x *ADX) IdlePeriod() int { return 2*x.d.n - 1 }

// Reset forgets every bar, keeping the period.
func (x *ADX) Reset() { n := x.d.n; *x = ADX{}; x.d.init(n) }

// String returns "ADX(n)".
func (x *ADX) String() string { return indicatorName("ADX", float64(x.d.n)) }

// ADXR is TA-Lib's ADX rating, bit for bit equal to go-talib's AdxR: the mean
// of today's ADX and the ADX n-1 bars back, defined from index 3n-2.
type ADXR struct {
	adx  ADX
	past lagRing // the last n-1 ADX values
}

// NewADXR returns an ADXR of period n, 2..[MaxPeriod] (TA-Lib's bounds).
func NewADXR(n int) (*ADXR, error) {
	x := new(ADXR)
	if err := x.adx.init("indicators.NewADXR", n); err != nil {
		return nil, err
	}
	x.past.init(n - 1)
	return x, nil
}

// Update reads a bar's high, low and close and returns the ADXR, ok from
// index 3n-2 on. A non-finite input is ignored and returns ok false.
func (x *ADXR) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || x.adx.d.n == 0 {
		return 0, false
	}
	adx, ok := x.adx.update(high, low, close)
	if !ok {
		return 0, false
	}
	old, ok := x.past.push(adx)
	if !ok {
		return 0, false
	}
	return (old + adx) / 2.0, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (x *ADXR) UpdateBar(b Bar, out []float64) bool {
	v, ok := x.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is 3n-2.
func (x *ADXR) IdlePeriod() int { return 3*x.adx.d.n - 2 }

// Reset forgets every bar, keeping the period.
func (x *ADXR) Reset() { x.adx.Reset(); x.past.reset() }

// String returns "ADXR(n)".
func (x *ADXR) String() string { return indicatorName("ADXR", float64(x.adx.d.n)) }
