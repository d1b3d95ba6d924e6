package indicators

// TRange is TA-Lib's true range: the largest of high-low, |high-prevClose|
// and |low-prevClose|, defined from the second bar on (index 1).
type TRange struct {
	prevClose float64
	seen      bool
}

// NewTRange returns a true range.
func NewTRange() *TRange { return new(TRange) }

// Update reads a bar's high, low and close and returns its true range, ok
// from the second bar on. A non-finite input is ignored and returns ok false.
func (t *TRange) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) {
		return 0, false
	}
	return t.update(high, low, close)
}

func (t *TRange) update(high, low, close float64) (float64, bool) {
	if !t.seen {
		t.prevClose, t.seen = close, true
		return 0, false
	}
	tr := trueRange(high, low, t.prevClose)
	t.prevClose = close
	return tr, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (t *TRange) UpdateBar(b Bar, out []float64) bool {
	v, ok := t.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is 1.
func (t *TRange) IdlePeriod() int { return 1 }

// Reset forgets every bar.
func (t *TRange) Reset() { *t = TRange{} }

// String returns "TRANGE()".
func (t *TRange) String() string { return "TRANGE()" }

// ATR is TA-Lib's average true range, bit for bit equal to go-talib's Atr:
// the first n true ranges (bars 1..n) are summed and divided by n at index n,
// then atr = (atr*(n-1) + tr) / n. ATR(1) is the true range, from index 1.
type ATR struct {
	n    int
	fn   float64
	tr   TRange
	bars int // true ranges counted, saturating at n
	sum  float64
	atr  float64
}

// NewATR returns an ATR of period n, 1..[MaxPeriod].
func NewATR(n int) (*ATR, error) {
	if err := checkPeriod("indicators.NewATR", "n", n, 1); err != nil {
		return nil, err
	}
	return &ATR{n: n, fn: float64(n)}, nil
}

// Update reads a bar's high, low and close and returns the ATR, ok from index
// [ATR.IdlePeriod] on. A non-finite input is ignored and returns ok false.
func (a *ATR) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || a.n == 0 {
		return 0, false
	}
	return a.update(high, low, close)
}

func (a *ATR) update(high, low, close float64) (float64, bool) {
	tr, ok := a.tr.update(high, low, close)
	if !ok || a.n == 1 {
		return tr, ok
	}
	if a.bars < a.n {
		// go-talib seeds with its SMA over the true-range array, whose
		// index 0 holds 0.0: the sum runs in order from 0.0.
		a.sum += tr
		a.bars++
		if a.bars < a.n {
			return 0, false
		}
		a.atr = a.sum / a.fn
		return a.atr, true
	}
	a.atr *= a.fn - 1.0
	a.atr += tr
	a.atr /= a.fn
	return a.atr, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (a *ATR) UpdateBar(b Bar, out []float64) bool {
	v, ok := a.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n.
func (a *ATR) IdlePeriod() int { return a.n }

// Reset forgets every bar, keeping the period.
func (a *ATR) Reset() { *a = ATR{n: a.n, fn: a.fn} }

// String returns "ATR(n)".
func (a *ATR) String() string { return indicatorName("ATR", float64(a.n)) }

// NATR is the ATR as a percentage of the close: 100*ATR/close, 0 where the
// close is 0, bit for bit equal to go-talib's Natr. NATR(1) is the raw true
// range, not normalised: TA-Lib C and go-talib both return TRANGE there.
type NATR struct{ atr ATR }

// NewNATR returns a NATR of period n, 1..[MaxPeriod].
func NewNATR(n int) (*NATR, error) {
	if err := checkPeriod("indicators.NewNATR", "n", n, 1); err != nil {
		return nil, err
	}
	return &NATR{atr: ATR{n: n, fn: float64(n)}}, nil
}

// Update reads a bar's high, low and close and returns the NATR, ok from
// index n on. A non-finite input is ignored and returns ok false.
func (a *NATR) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || a.atr.n == 0 {
		return 0, false
	}
	v, ok := a.atr.update(high, low, close)
	if a.atr.n == 1 {
		return v, ok
	}
	if !ok || close == 0.0 {
		return 0, ok
	}
	return (v / close) * 100.0, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (a *NATR) UpdateBar(b Bar, out []float64) bool {
	v, ok := a.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n.
func (a *NATR) IdlePeriod() int { return a.atr.n }

// Reset forgets every bar, keeping the period.
func (a *NATR) Reset() { a.atr.Reset() }

// String returns "NATR(n)".
func (a *NATR) String() string { return indicatorName("NATR", float64(a.atr.n)) }
