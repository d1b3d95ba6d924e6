package indicators

// extremeKind says what [Extreme] reports of its window.
type extremeKind uint8

const (
	extremeMax      extremeKind = iota // highest close
	extremeMin                         // lowest close
	extremeMidPoint                    // (highest + lowest close) / 2
	extremeMidPrice                    // (highest high + lowest low) / 2
)

var extremeNames = [...]string{extremeMax: "MAX", extremeMin: "MIN", extremeMidPoint: "MIDPOINT", extremeMidPrice: "MIDPRICE"}

// Extreme is the highest, lowest or middle value of the last n bars, kept by
// monotonic deques (O(1) amortized): go-talib's Max, Min, MidPoint (of closes)
// and MidPrice (of highs and lows), bit for bit, since a maximum is exact and
// the middle is (highest + lowest) / 2 as go-talib writes it. Defined from
// index n-1.
type Extreme struct {
	kind   extremeKind
	n      int
	hi, lo peakDeque
	bars   int
}

// NewMax returns the highest of the last n closes, n 2..[MaxPeriod].
func NewMax(n int) (*Extreme, error) { return newExtreme("indicators.NewMax", extremeMax, n) }

// NewMin returns the lowest of the last n closes, n 2..[MaxPeriod].
func NewMin(n int) (*Extreme, error) { return newExtreme("indicators.NewMin", extremeMin, n) }

// NewMidPoint returns the middle of the last n closes' range, n
// 2..[MaxPeriod].
func NewMidPoint(n int) (*Extreme, error) {
	return newExtreme("indicators.NewMidPoint", extremeMidPoint, n)
}

// NewMidPrice returns the middle of the highest high and lowest low of the
// last n bars, n 2..[MaxPeriod].
func NewMidPrice(n int) (*Extreme, error) {
	return newExtreme("indicators.NewMidPrice", extremeMidPrice, n)
}

func newExtreme(place string, kind extremeKind, n int) (*Extreme, error) {
	if err := checkPeriod(place, "n", n, 2); err != nil {
		return nil, err
	}
	e := &Extreme{kind: kind, n: n}
	if kind != extremeMin {
		e.hi.init(n, false)
	}
	if kind != extremeMax {
		e.lo.init(n, true)
	}
	return e, nil
}

// Update adds the next close and returns the window's value, ok from index
// n-1 on. A non-finite x is ignored and returns ok false. For MIDPRICE use
// [Extreme.UpdateHL].
func (e *Extreme) Update(x float64) (float64, bool) { return e.UpdateHL(x, x) }

// UpdateHL adds the next bar's high and low (MAX reads only the high, MIN
// only the low) and returns the window's value, ok from index n-1 on. A
// non-finite input is ignored and returns ok false.
func (e *Extreme) UpdateHL(high, low float64) (float64, bool) {
	if !finite(high) || !finite(low) || e.n == 0 {
		return 0, false
	}
	i := e.bars
	e.bars++
	if e.kind != extremeMin {
		e.hi.push(high, i)
	}
	if e.kind != extremeMax {
		e.lo.push(low, i)
	}
	if i < e.n-1 {
		return 0, false
	}
	switch e.kind {
	case extremeMax:
		v, _ := e.hi.peak()
		return v, true
	case extremeMin:
		v, _ := e.lo.peak()
		return v, true
	}
	hi, _ := e.hi.peak()
	lo, _ := e.lo.peak()
	return (hi + lo) / 2.0, true
}

// UpdateBar reads the bar's close (high and low for MIDPRICE), writing
// out[0].
func (e *Extreme) UpdateBar(b Bar, out []float64) bool {
	hi, lo := b.Close, b.Close
	if e.kind == extremeMidPrice {
		hi, lo = b.High, b.Low
	}
	v, ok := e.UpdateHL(hi, lo)
	out[0] = v
	return ok
}

// IdlePeriod is n-1.
func (e *Extreme) IdlePeriod() int { return e.n - 1 }

// Reset forgets every bar, keeping the period.
func (e *Extreme) Reset() { e.hi.reset(); e.lo.reset(); e.bars = 0 }

// String returns "MAX(n)", "MIN(n)", "MIDPOINT(n)" or "MIDPRICE(n)".
func (e *Extreme) String() string { return indicatorName(extremeNames[e.kind], float64(e.n)) }
