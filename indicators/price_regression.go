package indicators

import "math"

// regressionKind says what [LinearReg] reports of its least-squares line.
type regressionKind uint8

const (
	regressionValue     regressionKind = iota // the line's value at the last bar
	regressionSlope                           // its slope per bar
	regressionAngle                           // atan(slope) in degrees
	regressionIntercept                       // its value at the first bar of the window
)

var regressionNames = [...]string{
	regressionValue: "LINEARREG", regressionSlope: "LINEARREG_SLOPE",
	regressionAngle: "LINEARREG_ANGLE", regressionIntercept: "LINEARREG_INTERCEPT",
}

// LinearReg fits a least-squares line to the last n closes and reports its
// value at the last bar (LINEARREG), its slope (LINEARREG_SLOPE), the slope's
// angle in degrees (LINEARREG_ANGLE) or its value at the window's first bar
// (LINEARREG_INTERCEPT), defined from index n-1.
//
// It is bit for bit equal to TA-Lib C, which sums the window afresh on every
// bar; that costs O(n) per bar, not O(1), by choice. go-talib keeps the sums
// as running totals instead, and their rounding drifts: on a flat run of
// prices near 1e11 its slope is 0.3 and its angle 17 degrees where TA-Lib C
// (and this type) give exactly 0, and on hourly BTC prices its angle is off
// by up to 1e-5 degrees. No running form can round as TA-Lib C's sums do.
type LinearReg struct {
	kind          regressionKind
	n             int
	fn            float64
	sumX, divisor float64
	past          lagRing // the last n closes
	bars          int     // saturating at n
}

// NewLinearReg returns the line's value at the last bar, n 2..[MaxPeriod].
func NewLinearReg(n int) (*LinearReg, error) {
	return newLinearReg("indicators.NewLinearReg", regressionValue, n)
}

// NewLinearRegSlope returns the line's slope, n 2..[MaxPeriod].
func NewLinearRegSlope(n int) (*LinearReg, error) {
	return newLinearReg("indicators.NewLinearRegSlope", regressionSlope, n)
}

// NewLinearRegAngle returns the slope's angle in degrees, n 2..[MaxPeriod].
func NewLinearRegAngle(n int) (*LinearReg, error) {
	return newLinearReg("indicators.NewLinearRegAngle", regressionAngle, n)
}

// NewLinearRegIntercept returns the line's value at the first bar of the
// window, n 2..[MaxPeriod].
func NewLinearRegIntercept(n int) (*LinearReg, error) {
	return newLinearReg("indicators.NewLinearRegIntercept", regressionIntercept, n)
}

func newLinearReg(place string, kind regressionKind, n int) (*LinearReg, error) {
	if err := checkPeriod(place, "n", n, 2); err != nil {
		return nil, err
	}
	fn := float64(n)
	r := &LinearReg{kind: kind, n: n, fn: fn}
	// TA-Lib C's constants; exact in float64, where C's integer arithmetic
	// overflows beyond n = 1024.
	r.sumX = fn * (fn - 1) * 0.5
	sumXSqr := fn * (fn - 1) * (2*fn - 1) / 6
	r.divisor = r.sumX*r.sumX - fn*sumXSqr
	r.past.init(n)
	return r, nil
}

// Update adds the next close and returns the value asked for, ok from index
// n-1 on. A non-finite x is ignored and returns ok false.
func (r *LinearReg) Update(x float64) (float64, bool) {
	if !finite(x) || r.n == 0 {
		return 0, false
	}
	r.past.push(x)
	if r.bars < r.n-1 {
		r.bars++
		return 0, false
	}
	r.bars = r.n
	// TA-Lib C's loop: oldest first, x being the age in bars.
	sumY, sumXY := 0.0, 0.0
	j := r.past.pos // the oldest close
	for age := r.n - 1; age >= 0; age-- {
		v := r.past.buf[j]
		sumY += v
		sumXY += float64(age) * v
		if j++; j == r.n {
			j = 0
		}
	}
	m := (r.fn*sumXY - r.sumX*sumY) / r.divisor
	switch r.kind {
	case regressionSlope:
		return m, true
	case regressionAngle:
		return math.Atan(m) * (180.0 / math.Pi), true
	case regressionIntercept:
		return (sumY - m*r.sumX) / r.fn, true
	}
	b := (sumY - m*r.sumX) / r.fn
	return b + m*(r.fn-1), true
}

// UpdateBar reads the bar's close, writing out[0].
func (r *LinearReg) UpdateBar(b Bar, out []float64) bool {
	v, ok := r.Update(b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n-1.
func (r *LinearReg) IdlePeriod() int { return r.n - 1 }

// Reset forgets every close, keeping the period.
func (r *LinearReg) Reset() { r.past.reset(); r.bars = 0 }

// String returns "LINEARREG(n)", "LINEARREG_SLOPE(n)", ...
func (r *LinearReg) String() string { return indicatorName(regressionNames[r.kind], float64(r.n)) }
