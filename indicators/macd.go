package indicators

import (
	"errors"
	"strconv"
)

// macdLines is TA-Lib C's MACDEXT: the faster average starts late, so that
// both are first defined on the same bar (the slower one's lookback), and
// the signal average runs over the MACD line from there:
//
//	close ─┬─► slow MA ────────────────┐
//	       └─► (wait) ─► fast MA ─► fast − slow = MACD ─► signal MA ─► hist = MACD − signal
type macdLines struct {
	fast, slow, signal seriesIndicator
	fastDelay          int // bars before the fast MA starts
	slowDelay          int
	bar                int // prices accepted so far, saturating at the larger delay
	idle               int
}

func (m *macdLines) init(fast, slow, signal seriesIndicator) {
	lf, ls := fast.IdlePeriod(), slow.IdlePeriod()
	largest := max(lf, ls)
	*m = macdLines{fast: fast, slow: slow, signal: signal,
		fastDelay: largest - lf, slowDelay: largest - ls, idle: largest + signal.IdlePeriod()}
}

func (m *macdLines) update(x float64) (macd, signal, hist float64, ok bool) {
	started := m.bar
	if m.bar < m.fastDelay || m.bar < m.slowDelay {
		m.bar++
	}
	var f, s float64
	fok, sok := false, false
	if started >= m.fastDelay {
		f, fok = m.fast.update(x)
	}
	if started >= m.slowDelay {
		s, sok = m.slow.update(x)
	}
	if !fok || !sok {
		return 0, 0, 0, false
	}
	macd = f - s
	if signal, ok = m.signal.update(macd); !ok {
		return 0, 0, 0, false
	}
	return macd, signal, macd - signal, true
}

func (m *macdLines) reset() {
	m.fast.Reset()
	m.slow.Reset()
	m.signal.Reset()
	m.bar = 0
}

// MACD is the moving-average convergence/divergence of TA-Lib C: the MACD
// line EMA(fast) − EMA(slow), its signal line EMA(signal) of the MACD line,
// and the histogram MACD − signal: a [MACDExt] of three EMAs. The fast EMA
// is seeded on the slow EMA's first bar, as TA-Lib C does. go-talib's Macd
// differs on the first hundred bars or so: it seeds the fast EMA from the
// first bar and runs the signal EMA over the zeros of the warm-up (see the
// package doc). IdlePeriod is (slow-1) + (signal-1): 33 for (12, 26, 9).
type MACD struct{ MACDExt }

// NewMACD returns a MACD(fast, slow, signal): fast and slow 2..[MaxPeriod]
// (swapped if fast > slow, as TA-Lib does), signal 1..[MaxPeriod].
func NewMACD(fast, slow, signal int) (*MACD, error) {
	m, err := newMACDExt("indicators.NewMACD", fast, EMAType, slow, EMAType, signal, EMAType)
	if err != nil {
		return nil, err
	}
	return &MACD{*m}, nil
}

// String returns "MACD(fast,slow,signal)".
func (m *MACD) String() string {
	return "MACD(" + strconv.Itoa(m.fast) + "," + strconv.Itoa(m.slow) + "," + strconv.Itoa(m.signal) + ")"
}

// MACDExt is TA-Lib C's MACDEXT, a MACD with a moving-average type for each
// of its three averages. Like [MACD] it starts the faster average late so
// that both are first defined together; go-talib's MacdExt instead runs the
// signal average over the warm-up and reports from (signal-1)+(slow-1)
// whatever the types, so it differs from TA-Lib C for every type but SMA and
// WMA signals, and there only by rounding.
type MACDExt struct {
	lines                          macdLines
	fast, slow, signal             int
	fastType, slowType, signalType MAType
}

// NewMACDExt returns a MACDEXT: fast and slow 2..[MaxPeriod] (swapped with
// their types if fast > slow, as TA-Lib does), signal 1..[MaxPeriod].
func NewMACDExt(fast int, fastType MAType, slow int, slowType MAType, signal int, signalType MAType) (*MACDExt, error) {
	return newMACDExt("indicators.NewMACDExt", fast, fastType, slow, slowType, signal, signalType)
}

func newMACDExt(place string, fast int, fastType MAType, slow int, slowType MAType, signal int, signalType MAType) (*MACDExt, error) {
	if err := errors.Join(checkPeriod(place, "fast", fast, 2), checkPeriod(place, "slow", slow, 2),
		checkPeriod(place, "signal", signal, 1)); err != nil {
		return nil, err
	}
	if slow < fast {
		fast, slow = slow, fast
		fastType, slowType = slowType, fastType
	}
	f, err1 := newMA(place, "fast", fastType, fast)
	s, err2 := newMA(place, "slow", slowType, slow)
	g, err3 := newMA(place, "signal", signalType, signal)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	m := &MACDExt{fast: fast, slow: slow, signal: signal, fastType: fastType, slowType: slowType, signalType: signalType}
	m.lines.init(f, s, g)
	return m, nil
}

// Update adds the next price and returns the MACD line, the signal line and
// the histogram, ok from [MACDExt.IdlePeriod] on. A NaN or infinite x is
// ignored and returns ok false, as does every call on a zero MACDExt.
func (m *MACDExt) Update(x float64) (macd, signal, hist float64, ok bool) {
	if !finite(x) || m.fast == 0 {
		return 0, 0, 0, false
	}
	return m.lines.update(x)
}

// IdlePeriod is the larger of the fast and slow lookbacks plus the signal's,
// each TA-Lib's MA lookback for its type (n-1 for SMA, 2(n-1) for DEMA, ...).
func (m *MACDExt) IdlePeriod() int { return m.lines.idle }

// Reset forgets all prices, keeping the parameters.
func (m *MACDExt) Reset() { m.lines.reset() }

// String returns "MACDEXT(fast,type,slow,type,signal,type)".
func (m *MACDExt) String() string {
	return "MACDEXT(" + strconv.Itoa(m.fast) + "," + m.fastType.String() + "," + strconv.Itoa(m.slow) + "," +
		m.slowType.String() + "," + strconv.Itoa(m.signal) + "," + m.signalType.String() + ")"
}

func (m *MACDExt) update(x float64) (macd, signal, hist float64, ok bool) { return m.lines.update(x) }
