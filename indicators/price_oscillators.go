package indicators

import "math"

// CCI is TA-Lib's commodity channel index, bit for bit equal to go-talib's
// Cci: (tp - mean) / (0.015 * meanDeviation) over the last n typical prices
// tp = (high+low+close)/3, 0 where either factor is 0, defined from index
// n-1.
//
// It costs O(n) per bar, not O(1): the mean absolute deviation about the
// current mean has no running form, and summing the window in go-talib's
// ring order is what keeps the bits equal.
type CCI struct {
	n    int
	fn   float64
	ring []float64 // typical prices; bar i sits at i mod n, as in go-talib
	pos  int
	bars int // saturating at n
}

// NewCCI returns a CCI of period n, 2..[MaxPeriod] (TA-Lib's bounds).
func NewCCI(n int) (*CCI, error) {
	if err := checkPeriod("indicators.NewCCI", "n", n, 2); err != nil {
		return nil, err
	}
	return &CCI{n: n, fn: float64(n), ring: make([]float64, n)}, nil
}

// Update reads a bar's high, low and close and returns the CCI, ok from index
// n-1 on. A non-finite input is ignored and returns ok false.
func (c *CCI) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || c.n == 0 {
		return 0, false
	}
	last := (high + low + close) / 3
	c.ring[c.pos] = last
	if c.pos++; c.pos == c.n {
		c.pos = 0
	}
	if c.bars < c.n-1 {
		c.bars++
		return 0, false
	}
	c.bars = c.n
	avg := 0.0
	for _, v := range c.ring {
		avg += v
	}
	avg /= c.fn
	dev := 0.0
	for _, v := range c.ring {
		dev += math.Abs(v - avg)
	}
	d := last - avg
	if d != 0.0 && dev != 0.0 {
		return d / (0.015 * (dev / c.fn)), true
	}
	return 0, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (c *CCI) UpdateBar(b Bar, out []float64) bool {
	v, ok := c.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n-1.
func (c *CCI) IdlePeriod() int { return c.n - 1 }

// Reset forgets every bar, keeping the period.
func (c *CCI) Reset() { clear(c.ring); c.pos, c.bars = 0, 0 }

// String returns "CCI(n)".
func (c *CCI) String() string { return indicatorName("CCI", float64(c.n)) }

// MFI is TA-Lib's money flow index: 100 * positive flow / total flow over
// the last n bars, where a bar's flow is typical price times volume, positive
// when the typical price rose, negative when it fell; 0 when the total is
// below 1.0 (TA-Lib's own threshold). Defined from index n.
//
// It equals TA-Lib C bit for bit. go-talib's Mfi agrees except when the first
// window's total is below 1.0: it then skips that output and writes every
// later value one index early.
type MFI struct {
	n        int
	prev     float64
	pos, neg float64
	flows    []moneyFlow // the last n flows, a ring
	at       int
	bars     int // saturating at n+1
}

type moneyFlow struct{ pos, neg float64 }

// NewMFI returns an MFI of period n, 2..[MaxPeriod] (TA-Lib's bounds).
func NewMFI(n int) (*MFI, error) {
	if err := checkPeriod("indicators.NewMFI", "n", n, 2); err != nil {
		return nil, err
	}
	return &MFI{n: n, flows: make([]moneyFlow, n)}, nil
}

// Update reads a bar's high, low, close and volume and returns the MFI, ok
// from index n on. A non-finite input is ignored and returns ok false.
func (m *MFI) Update(high, low, close, volume float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || !finite(volume) || m.n == 0 {
		return 0, false
	}
	tp := (high + low + close) / 3.0
	if m.bars == 0 {
		m.prev, m.bars = tp, 1
		return 0, false
	}
	f := &m.flows[m.at]
	if m.bars > m.n {
		// The oldest flow leaves the window before today's enters.
		m.pos -= f.pos
		m.neg -= f.neg
	}
	diff := tp - m.prev
	m.prev = tp
	flow := tp * volume
	switch {
	case diff < 0:
		*f = moneyFlow{neg: flow}
		m.neg += flow
	case diff > 0:
		*f = moneyFlow{pos: flow}
		m.pos += flow
	default:
		*f = moneyFlow{}
	}
	if m.at++; m.at == m.n {
		m.at = 0
	}
	if m.bars <= m.n {
		m.bars++
		if m.bars <= m.n {
			return 0, false
		}
	}
	total := m.pos + m.neg
	if total < 1.0 {
		return 0, true
	}
	return 100.0 * (m.pos / total), true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (m *MFI) UpdateBar(b Bar, out []float64) bool {
	v, ok := m.Update(b.High, b.Low, b.Close, b.Volume)
	out[0] = v
	return ok
}

// IdlePeriod is n.
func (m *MFI) IdlePeriod() int { return m.n }

// Reset forgets every bar, keeping the period.
func (m *MFI) Reset() { *m = MFI{n: m.n, flows: m.flows} }

// String returns "MFI(n)".
func (m *MFI) String() string { return indicatorName("MFI", float64(m.n)) }

// WillR is Williams' %R, bit for bit equal to go-talib's WillR:
// (highest - close) / ((highest - lowest) / -100) over the last n bars' highs
// and lows, 0 when the range is 0, defined from index n-1.
type WillR struct {
	n      int
	hi, lo peakDeque
	bars   int
}

// NewWillR returns a %R of period n, 2..[MaxPeriod] (TA-Lib's bounds).
func NewWillR(n int) (*WillR, error) {
	if err := checkPeriod("indicators.NewWillR", "n", n, 2); err != nil {
		return nil, err
	}
	w := &WillR{n: n}
	w.hi.init(n, false)
	w.lo.init(n, true)
	return w, nil
}

// Update reads a bar's high, low and close and returns %R, ok from index n-1
// on. A non-finite input is ignored and returns ok false.
func (w *WillR) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || w.n == 0 {
		return 0, false
	}
	w.hi.push(high, w.bars)
	w.lo.push(low, w.bars)
	w.bars++
	if w.bars < w.n {
		return 0, false
	}
	hi, _ := w.hi.peak()
	lo, _ := w.lo.peak()
	diff := (hi - lo) / (-100.0)
	if diff != 0.0 {
		return (hi - close) / diff, true
	}
	return 0, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (w *WillR) UpdateBar(b Bar, out []float64) bool {
	v, ok := w.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n-1.
func (w *WillR) IdlePeriod() int { return w.n - 1 }

// Reset forgets every bar, keeping the period.
func (w *WillR) Reset() { w.hi.reset(); w.lo.reset(); w.bars = 0 }

// String returns "WILLR(n)".
func (w *WillR) String() string { return indicatorName("WILLR", float64(w.n)) }

// Aroon is TA-Lib's Aroon, bit for bit equal to go-talib's Aroon and
// AroonOsc: over the last n+1 bars, up = 100/n * (n - bars since the highest
// high), down the same for the lowest low (the latest of equal extremes),
// defined from index n. As an oscillator ([Aroon.Oscillator], AROONOSC) it
// returns up - down, computed as 100/n * (index of the high - index of the
// low). Each call reads one bar: call one of Update and Oscillator per bar.
type Aroon struct {
	n      int
	osc    bool
	factor float64
	hi, lo peakDeque
	bars   int
}

// NewAroon returns an Aroon of period n, 2..[MaxPeriod] (TA-Lib's bounds).
func NewAroon(n int) (*Aroon, error) { return newAroon("indicators.NewAroon", n, false) }

// NewAroonOsc returns an Aroon oscillator of period n, 2..[MaxPeriod].
func NewAroonOsc(n int) (*Aroon, error) { return newAroon("indicators.NewAroonOsc", n, true) }

func newAroon(place string, n int, osc bool) (*Aroon, error) {
	if err := checkPeriod(place, "n", n, 2); err != nil {
		return nil, err
	}
	a := &Aroon{n: n, osc: osc, factor: 100.0 / float64(n)}
	a.hi.init(n+1, false)
	a.lo.init(n+1, true)
	return a, nil
}

// Update reads a bar's high and low and returns Aroon down and up, ok from
// index n on. A non-finite input is ignored and returns ok false.
func (a *Aroon) Update(high, low float64) (down, up float64, ok bool) {
	if !finite(high) || !finite(low) || a.n == 0 {
		return 0, 0, false
	}
	today := a.bars
	a.hi.push(high, today)
	a.lo.push(low, today)
	a.bars++
	if today < a.n {
		return 0, 0, false
	}
	_, hi := a.hi.peak()
	_, lo := a.lo.peak()
	return a.factor * float64(a.n-(today-lo)), a.factor * float64(a.n-(today-hi)), true
}

// Oscillator reads a bar's high and low and returns up - down in go-talib's
// AroonOsc form, ok from index n on.
func (a *Aroon) Oscillator(high, low float64) (float64, bool) {
	if !finite(high) || !finite(low) || a.n == 0 {
		return 0, false
	}
	today := a.bars
	a.hi.push(high, today)
	a.lo.push(low, today)
	a.bars++
	if today < a.n {
		return 0, false
	}
	_, hi := a.hi.peak()
	_, lo := a.lo.peak()
	return a.factor * float64(hi-lo), true
}

// UpdateBar writes down and up to out[0] and out[1], or the oscillator to
// out[0] for one made by [NewAroonOsc].
func (a *Aroon) UpdateBar(b Bar, out []float64) bool {
	if a.osc {
		v, ok := a.Oscillator(b.High, b.Low)
		out[0] = v
		return ok
	}
	down, up, ok := a.Update(b.High, b.Low)
	out[0], out[1] = down, up
	return ok
}

// IdlePeriod is n.
func (a *Aroon) IdlePeriod() int { return a.n }

// Reset forgets every bar, keeping the period.
func (a *Aroon) Reset() { a.hi.reset(); a.lo.reset(); a.bars = 0 }

// String returns "AROON(n)" or "AROONOSC(n)".
func (a *Aroon) String() string {
	if a.osc {
		return indicatorName("AROONOSC", float64(a.n))
	}
	return indicatorName("AROON", float64(a.n))
}

// UltOsc is Williams' ultimate oscillator, bit for bit equal to go-talib's
// UltOsc: with bp = close - min(low, prevClose) and the true range tr, summed
// over the shortest, middle and longest of the three periods (go-talib sorts
// them), 100 * (4*bp1/tr1 + 2*bp2/tr2 + bp3/tr3) / 7, a term left out when its
// range sum is near zero. Defined from index max(periods).
type UltOsc struct {
	periods [3]int // as given
	p       [3]int // shortest, middle, longest
	a, b    [3]float64
	bp, tr  []float64 // the last longest values, a ring
	at      int
	bars    int // saturating at longest+1
	prev    float64
}

// NewUltOsc returns an ultimate oscillator of periods p1, p2, p3, each
// 1..[MaxPeriod], in any order.
func NewUltOsc(p1, p2, p3 int) (*UltOsc, error) {
	const place = "indicators.NewUltOsc"
	for i, p := range [3]int{p1, p2, p3} {
		if err := checkPeriod(place, "p"+string(rune('1'+i)), p, 1); err != nil {
			return nil, err
		}
	}
	u := &UltOsc{periods: [3]int{p1, p2, p3}, p: [3]int{p1, p2, p3}}
	// Sort ascending: a three-element insertion sort.
	for i := 1; i < 3; i++ {
		for j := i; j > 0 && u.p[j] < u.p[j-1]; j-- {
			u.p[j], u.p[j-1] = u.p[j-1], u.p[j]
		}
	}
	u.bp = make([]float64, u.p[2])
	u.tr = make([]float64, u.p[2])
	return u, nil
}

// Update reads a bar's high, low and close and returns the oscillator, ok
// from index max(periods) on. A non-finite input is ignored and returns ok
// false.
func (u *UltOsc) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) || u.p[2] == 0 {
		return 0, false
	}
	today := u.bars
	if today == 0 {
		u.prev, u.bars = close, 1
		return 0, false
	}
	trueLow := u.prev
	if low < u.prev {
		trueLow = low
	}
	bp := close - trueLow
	tr := trueRange(high, low, u.prev)
	u.prev = close
	longest := u.p[2]
	// go-talib starts window k's sums at bar longest-p_k+1, in bar order.
	for k, p := range u.p {
		if today >= longest-p+1 {
			u.a[k] += bp
			u.b[k] += tr
		}
	}
	u.bp[u.at], u.tr[u.at] = bp, tr
	if u.at++; u.at == longest {
		u.at = 0
	}
	if today < longest {
		u.bars++
		return 0, false
	}
	out := 0.0
	if !nearZero(u.b[0]) {
		out += 4.0 * (u.a[0] / u.b[0])
	}
	if !nearZero(u.b[1]) {
		out += 2.0 * (u.a[1] / u.b[1])
	}
	if !nearZero(u.b[2]) {
		out += u.a[2] / u.b[2]
	}
	// Then the bar p_k-1 back leaves window k: it sits p_k slots behind the
	// next write in the ring.
	for k, p := range u.p {
		j := u.at - p
		if j < 0 {
			j += longest
		}
		u.a[k] -= u.bp[j]
		u.b[k] -= u.tr[j]
	}
	return 100.0 * (out / 7.0), true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (u *UltOsc) UpdateBar(b Bar, out []float64) bool {
	v, ok := u.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is the longest period.
func (u *UltOsc) IdlePeriod() int { return u.p[2] }

// Reset forgets every bar, keeping the periods.
func (u *UltOsc) Reset() {
	*u = UltOsc{periods: u.periods, p: u.p, bp: u.bp, tr: u.tr}
}

// String returns "ULTOSC(p1,p2,p3)" with the periods as given.
func (u *UltOsc) String() string {
	return indicatorName("ULTOSC", float64(u.periods[0]), float64(u.periods[1]), float64(u.periods[2]))
}

// BOP is the balance of power, (close - open) / (high - low), 0 when the range
// is below 1e-14, on every bar; bit for bit equal to go-talib's Bop.
type BOP struct{}

// NewBOP returns a balance of power.
func NewBOP() *BOP { return new(BOP) }

// Update reads a bar's open, high, low and close and returns its balance of
// power; ok is false only for a non-finite input.
func (*BOP) Update(open, high, low, close float64) (float64, bool) {
	if !finite(open) || !finite(high) || !finite(low) || !finite(close) {
		return 0, false
	}
	r := high - low
	if r < 0.00000000000001 {
		return 0, true
	}
	return (close - open) / r, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (x *BOP) UpdateBar(b Bar, out []float64) bool {
	v, ok := x.Update(b.Open, b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is 0.
func (*BOP) IdlePeriod() int { return 0 }

// Reset does nothing: BOP keeps no state.
func (*BOP) Reset() {}

// String returns "BOP()".
func (*BOP) String() string { return "BOP()" }
