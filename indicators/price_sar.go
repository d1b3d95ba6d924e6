package indicators

import (
	"errors"
	"math"
)

// SAR is Wilder's parabolic stop and reverse, bit for bit equal to go-talib's
// Sar. The second bar sets the first trend: short when its -DM1 is positive
// (the low fell further than the high rose), long otherwise; the first stop
// is the first bar's low (long) or high (short) and the extreme point the
// second bar's high or low. Each bar then moves the stop by
// af*(ep - sar), af growing by acceleration at each new extreme up to
// maximum, and reverses when the price crosses it. Defined from index 1.
type SAR struct {
	acc, max float64 // as given
	accel    float64 // acceleration, capped at max as go-talib caps it
	af       float64
	long     bool
	sar, ep  float64
	newHigh  float64 // the last bar's high and low
	newLow   float64
	bars     int // saturating at 2
}

// NewSAR returns a parabolic SAR with the given acceleration and its
// maximum, both finite and >= 0 (TA-Lib's bounds; TA-Lib's defaults are 0.02
// and 0.2). An acceleration above the maximum is lowered to it, as TA-Lib
// does.
func NewSAR(acceleration, maximum float64) (*SAR, error) {
	const place = "indicators.NewSAR"
	if err := errors.Join(checkParam(place, "acceleration", acceleration, 0, math.MaxFloat64),
		checkParam(place, "maximum", maximum, 0, math.MaxFloat64)); err != nil {
		return nil, err
	}
	s := &SAR{acc: acceleration, max: maximum}
	s.Reset()
	return s, nil
}

// Update reads a bar's high and low and returns the stop for this bar, ok
// from index 1 on. A non-finite input is ignored and returns ok false.
func (s *SAR) Update(high, low float64) (float64, bool) {
	if !finite(high) || !finite(low) {
		return 0, false
	}
	switch s.bars {
	case 0:
		s.newHigh, s.newLow = high, low
		s.bars = 1
		return 0, false
	case 1:
		// go-talib reads the trend off MinusDM(high, low, 1) at index 1.
		diffP := high - s.newHigh
		diffM := s.newLow - low
		s.long = !((diffM > 0) && (diffP < diffM))
		if s.long {
			s.ep, s.sar = high, s.newLow
		} else {
			s.ep, s.sar = low, s.newHigh
		}
		// The first step compares the second bar with itself.
		s.newHigh, s.newLow = high, low
		s.bars = 2
	}
	return s.step(high, low), true
}

func (s *SAR) step(high, low float64) float64 {
	prevHigh, prevLow := s.newHigh, s.newLow
	s.newHigh, s.newLow = high, low
	var out float64
	if s.long {
		if low <= s.sar {
			// Reverse to short: the stop jumps to the extreme point.
			s.long = false
			s.sar = atLeast(s.ep, prevHigh, high)
			out = s.sar
			s.af = s.accel
			s.ep = low
			s.sar = s.sar + s.af*(s.ep-s.sar)
			s.sar = atLeast(s.sar, prevHigh, high)
			return out
		}
		out = s.sar
		if high > s.ep {
			s.ep = high
			s.af = atMost(s.af+s.accel, s.max, s.max)
		}
		s.sar = s.sar + s.af*(s.ep-s.sar)
		s.sar = atMost(s.sar, prevLow, low)
		return out
	}
	if high >= s.sar {
		s.long = true
		s.sar = atMost(s.ep, prevLow, low)
		out = s.sar
		s.af = s.accel
		s.ep = high
		s.sar = s.sar + s.af*(s.ep-s.sar)
		s.sar = atMost(s.sar, prevLow, low)
		return out
	}
	out = s.sar
	if low < s.ep {
		s.ep = low
		s.af = atMost(s.af+s.accel, s.max, s.max)
	}
	s.sar = s.sar + s.af*(s.ep-s.sar)
	s.sar = atLeast(s.sar, prevHigh, high)
	return out
}

// UpdateBar is Update for a [Bar], writing out[0].
func (s *SAR) UpdateBar(b Bar, out []float64) bool {
	v, ok := s.Update(b.High, b.Low)
	out[0] = v
	return ok
}

// IdlePeriod is 1.
func (*SAR) IdlePeriod() int { return 1 }

// Reset forgets every bar, keeping the parameters.
func (s *SAR) Reset() {
	*s = SAR{acc: s.acc, max: s.max, accel: s.acc, af: s.acc}
	if s.accel > s.max {
		s.accel, s.af = s.max, s.max
	}
}

// String returns "SAR(acceleration,maximum)".
func (s *SAR) String() string { return indicatorName("SAR", s.acc, s.max) }

// atLeast raises x to a, then to b, with go-talib's comparisons (the builtin
// max orders -0 and +0, go-talib does not).
func atLeast(x, a, b float64) float64 {
	if x < a {
		x = a
	}
	if x < b {
		x = b
	}
	return x
}

// atMost lowers x to a, then to b, as go-talib does.
func atMost(x, a, b float64) float64 {
	if x > a {
		x = a
	}
	if x > b {
		x = b
	}
	return x
}
