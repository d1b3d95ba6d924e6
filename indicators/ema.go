package indicators

// EMA is a streaming exponential moving average, bit for bit equal to
// go-talib's Ema: the first n prices are averaged into the seed (defined at
// index n-1), then each price moves it by k = 2/(n+1).
type EMA struct {
	n     int
	k     float64
	sum   float64 // running sum of the seed window
	value float64
	seen  int // prices counted, saturating at n
}

// NewEMA returns an EMA of period n, 1..[MaxPeriod].
func NewEMA(n int) (*EMA, error) {
	e := new(EMA)
	if err := e.init("indicators.NewEMA", n); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *EMA) init(place string, n int) error {
	if err := checkPeriod(place, "n", n, 1); err != nil {
		return err
	}
	*e = EMA{n: n, k: 2.0 / float64(n+1)}
	return nil
}

// Update adds the next price and returns the EMA, ok once it is defined (from
// the n-th price on). A NaN or infinite x is ignored and returns ok false, as
// does every call on a zero EMA (make one with [NewEMA]).
func (e *EMA) Update(x float64) (value float64, ok bool) {
	if !finite(x) || e.n == 0 {
		return 0, false
	}
	return e.update(x)
}

// update is Update for a price already known to be finite.
func (e *EMA) update(x float64) (float64, bool) {
	if e.seen < e.n {
		// go-talib sums the seed window in order from 0.0, then divides once.
		e.sum += x
		e.seen++
		if e.seen < e.n {
			return 0, false
		}
		e.value = e.sum / float64(e.n)
		return e.value, true
	}
	// Same shape as go-talib so the same rounding happens.
	e.value = ((x - e.value) * e.k) + e.value
	return e.value, true
}

// Value returns the last defined EMA, ok false during warm-up.
func (e *EMA) Value() (value float64, ok bool) { return e.value, e.seen == e.n }

// Period returns n.
func (e *EMA) Period() int { return e.n }

// IdlePeriod is the index (counting accepted prices from 0) of the first
// defined output: n-1.
func (e *EMA) IdlePeriod() int { return EMAIdlePeriod(e.n) }

// Reset forgets all prices, keeping the period.
func (e *EMA) Reset() { *e = EMA{n: e.n, k: e.k} }

// String returns "EMA(n)".
func (e *EMA) String() string { return indicatorName("EMA", float64(e.n)) }
