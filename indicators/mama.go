package indicators

import (
	"errors"
	"math"
	"strconv"
)

// The Hilbert transform's constants, as go-talib computes them.
var (
	hilbertA = 0.0962
	hilbertB = 0.5769
	rad2Deg  = 180.0 / (4.0 * math.Atan(1))
)

// mamaIdle is MAMA's lookback in TA-Lib.
const mamaIdle = 32

// hilbertStage is one of the four Hilbert-transform filters of MAMA, with
// separate state for odd and even bars, as go-talib keeps it.
type hilbertStage struct {
	odd, even                   [3]float64
	prevOdd, prevEven           float64
	prevInputOdd, prevInputEven float64
}

// step filters x on an even or odd bar, at position idx of the rings.
func (h *hilbertStage) step(even bool, idx int, x, adjustedPrevPeriod float64) float64 {
	ring, prev, prevInput := &h.odd, &h.prevOdd, &h.prevInputOdd
	if even {
		ring, prev, prevInput = &h.even, &h.prevEven, &h.prevInputEven
	}
	t := hilbertA * x
	out := -ring[idx]
	ring[idx] = t
	out += t
	out -= *prev
	*prev = hilbertB * *prevInput
	out += *prev
	*prevInput = x
	out *= adjustedPrevPeriod
	return out
}

// MAMA is Ehlers' MESA adaptive moving average and its following average
// FAMA, bit for bit go-talib's Mama: a 4-bar WMA of the price feeds a
// Hilbert transform whose phase rate sets the smoothing, between fast and
// slow. Both are defined from bar 32 on.
type MAMA struct {
	fast, slow float64
	bar        int        // prices accepted so far
	recent     [4]float64 // the last four prices, by bar mod 4
	// The 4-bar WMA that smooths the price.
	wmaSub, wmaSum, wmaTrailing float64

	detrender, q1, jI, jQ          hilbertStage
	hilbertIdx                     int
	i1OddPrev3, i1OddPrev2         float64
	i1EvenPrev3, i1EvenPrev2       float64
	prevQ2, prevI2, re, im, period float64
	prevPhase                      float64
	mama, fama                     float64
}

// NewMAMA returns a MAMA with fast and slow limits 0.01..0.99 (TA-Lib's
// defaults 0.5 and 0.05).
func NewMAMA(fast, slow float64) (*MAMA, error) {
	const place = "indicators.NewMAMA"
	if err := errors.Join(checkParam(place, "fastlimit", fast, 0.01, 0.99), checkParam(place, "slowlimit", slow, 0.01, 0.99)); err != nil {
		return nil, err
	}
	return &MAMA{fast: fast, slow: slow}, nil
}

// Update adds the next price and returns MAMA and FAMA, ok from bar 32 on. A
// NaN or infinite x is ignored and returns ok false, as does every call on a
// zero MAMA.
func (m *MAMA) Update(x float64) (mama, fama float64, ok bool) {
	if !finite(x) || m.fast == 0 {
		return 0, 0, false
	}
	return m.update(x)
}

func (m *MAMA) update(x float64) (mama, fama float64, ok bool) {
	today := m.bar
	m.bar++
	m.recent[today&3] = x
	switch {
	case today == 0:
		m.wmaSub, m.wmaSum = x, x
		return 0, 0, false
	case today < 3:
		m.wmaSub += x
		m.wmaSum += x * float64(today+1)
		return 0, 0, false
	}
	adjustedPrevPeriod := (0.075 * m.period) + 0.54
	m.wmaSub += x
	m.wmaSub -= m.wmaTrailing
	m.wmaSum += x * 4.0
	m.wmaTrailing = m.recent[(today+1)&3] // the price three bars back
	smoothed := m.wmaSum * 0.1
	m.wmaSum -= m.wmaSub
	if today < 12 {
		return 0, 0, false // go-talib only fills the WMA on these bars
	}

	even := today%2 == 0
	i1Prev3 := m.i1OddPrev3
	if even {
		i1Prev3 = m.i1EvenPrev3
	}
	idx := m.hilbertIdx
	detrender := m.detrender.step(even, idx, smoothed, adjustedPrevPeriod)
	q1 := m.q1.step(even, idx, detrender, adjustedPrevPeriod)
	jI := m.jI.step(even, idx, i1Prev3, adjustedPrevPeriod)
	jQ := m.jQ.step(even, idx, q1, adjustedPrevPeriod)
	q2 := (0.2 * (q1 + jI)) + (0.8 * m.prevQ2)
	i2 := (0.2 * (i1Prev3 - jQ)) + (0.8 * m.prevI2)
	if even {
		if m.hilbertIdx++; m.hilbertIdx == 3 {
			m.hilbertIdx = 0
		}
		m.i1OddPrev3, m.i1OddPrev2 = m.i1OddPrev2, detrender
	} else {
		m.i1EvenPrev3, m.i1EvenPrev2 = m.i1EvenPrev2, detrender
	}
	phase := 0.0
	if i1Prev3 != 0.0 {
		phase = math.Atan(q1/i1Prev3) * rad2Deg
	}
	alpha := m.prevPhase - phase
	m.prevPhase = phase
	if alpha < 1.0 {
		alpha = 1.0
	}
	if alpha > 1.0 {
		if alpha = m.fast / alpha; alpha < m.slow {
			alpha = m.slow
		}
	} else {
		alpha = m.fast
	}
	m.mama = (alpha * x) + ((1 - alpha) * m.mama)
	alpha *= 0.5
	m.fama = (alpha * m.mama) + ((1 - alpha) * m.fama)

	m.re = (0.2 * ((i2 * m.prevI2) + (q2 * m.prevQ2))) + (0.8 * m.re)
	m.im = (0.2 * ((i2 * m.prevQ2) - (q2 * m.prevI2))) + (0.8 * m.im)
	m.prevQ2, m.prevI2 = q2, i2
	prev := m.period
	if (m.im != 0.0) && (m.re != 0.0) {
		m.period = 360.0 / (math.Atan(m.im/m.re) * rad2Deg)
	}
	if limit := 1.5 * prev; m.period > limit {
		m.period = limit
	}
	if limit := 0.67 * prev; m.period < limit {
		m.period = limit
	}
	if m.period < 6 {
		m.period = 6
	} else if m.period > 50 {
		m.period = 50
	}
	m.period = (0.2 * m.period) + (0.8 * prev)
	if today < mamaIdle {
		return 0, 0, false
	}
	return m.mama, m.fama, true
}

// IdlePeriod is 32.
func (m *MAMA) IdlePeriod() int { return mamaIdle }

// Reset forgets all prices, keeping the limits.
func (m *MAMA) Reset() { *m = MAMA{fast: m.fast, slow: m.slow} }

// String returns "MAMA(fast,slow)".
func (m *MAMA) String() string {
	return "MAMA(" + strconv.FormatFloat(m.fast, 'g', -1, 64) + "," + strconv.FormatFloat(m.slow, 'g', -1, 64) + ")"
}

// mamaAverage is MAMA as the moving average of type MAMA, as TA-Lib's MA
// uses it: limits 0.5 and 0.05, the MAMA line alone.
type mamaAverage struct{ *MAMA }

func (m mamaAverage) update(x float64) (float64, bool) {
	v, _, ok := m.MAMA.update(x)
	return v, ok
}
