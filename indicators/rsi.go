package indicators

// RSI is a streaming Wilder RSI, bit for bit equal to go-talib's Rsi: the
// first n price changes are averaged, then each change is folded in as
// avg = (avg*(n-1) + change) / n, in exactly that order. It is defined from
// the (n+1)-th price on (index n). When average gain plus loss is below
// 1e-14 in magnitude (a flat market) RSI is 0, as in go-talib.
type RSI struct {
	n          int
	fn, fn1    float64 // n and n-1 as float64, as go-talib converts them
	prev       float64
	gain, loss float64
	seen       int // prices counted, saturating at n+1
}

// NewRSI returns an RSI of period n, 2..[MaxPeriod].
func NewRSI(n int) (*RSI, error) {
	r := new(RSI)
	if err := r.init("indicators.NewRSI", n); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RSI) init(place string, n int) error {
	if err := checkPeriod(place, "n", n, 2); err != nil {
		return err
	}
	*r = RSI{n: n, fn: float64(n), fn1: float64(n - 1)}
	return nil
}

// Update adds the next price and returns the RSI, ok once it is defined. A NaN
// or infinite x is ignored and returns ok false, as does every call on a zero
// RSI (make one with [NewRSI]).
func (r *RSI) Update(x float64) (value float64, ok bool) {
	if !finite(x) || r.n == 0 {
		return 0, false
	}
	return r.update(x)
}

// update is Update without the finiteness check, for StochRSI which has
// already made it.
func (r *RSI) update(x float64) (float64, bool) {
	if r.seen == 0 {
		r.prev = x
		r.seen = 1
		return 0, false
	}
	d := x - r.prev
	r.prev = x
	if r.seen <= r.n {
		if d < 0 {
			r.loss -= d
		} else {
			r.gain += d
		}
		r.seen++
		if r.seen <= r.n {
			return 0, false
		}
		r.loss /= r.fn
		r.gain /= r.fn
		return r.value(), true
	}
	r.loss *= r.fn1
	r.gain *= r.fn1
	if d < 0 {
		r.loss -= d
	} else {
		r.gain += d
	}
	r.loss /= r.fn
	r.gain /= r.fn
	return r.value(), true
}

func (r *RSI) value() float64 {
	t := r.gain + r.loss
	if !((-0.00000000000001 < t) && (t < 0.00000000000001)) {
		return 100.0 * (r.gain / t)
	}
	return 0
}

// Value returns the last defined RSI, ok false during warm-up.
func (r *RSI) Value() (value float64, ok bool) {
	if r.seen <= r.n {
		return 0, false
	}
	return r.value(), true
}

// Period returns n.
func (r *RSI) Period() int { return r.n }

// IdlePeriod is the index (counting accepted prices from 0) of the first
// defined output: n.
func (r *RSI) IdlePeriod() int { return RSIIdlePeriod(r.n) }

// Reset forgets all prices, keeping the period.
func (r *RSI) Reset() { *r = RSI{n: r.n, fn: r.fn, fn1: r.fn1} }

// String returns "RSI(n)".
func (r *RSI) String() string { return indicatorName("RSI", float64(r.n)) }
