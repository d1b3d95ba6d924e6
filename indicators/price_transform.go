package indicators

// MedPrice is the median price (high + low) / 2 of each bar, bit for bit
// equal to go-talib's MedPrice. Defined from index 0.
type MedPrice struct{}

// NewMedPrice returns a median price.
func NewMedPrice() *MedPrice { return new(MedPrice) }

// Update returns (high + low) / 2; ok is false only for a non-finite input.
func (*MedPrice) Update(high, low float64) (float64, bool) {
	if !finite(high) || !finite(low) {
		return 0, false
	}
	return (high + low) / 2.0, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (m *MedPrice) UpdateBar(b Bar, out []float64) bool {
	v, ok := m.Update(b.High, b.Low)
	out[0] = v
	return ok
}

// IdlePeriod is 0.
func (*MedPrice) IdlePeriod() int { return 0 }

// Reset does nothing: MedPrice keeps no state.
func (*MedPrice) Reset() {}

// String returns "MEDPRICE()".
func (*MedPrice) String() string { return "MEDPRICE()" }

// TypPrice is the typical price (high + low + close) / 3 of each bar, bit for
// bit equal to go-talib's TypPrice. Defined from index 0.
type TypPrice struct{}

// NewTypPrice returns a typical price.
func NewTypPrice() *TypPrice { return new(TypPrice) }

// Update returns (high + low + close) / 3; ok is false only for a non-finite
// input.
func (*TypPrice) Update(high, low, close float64) (float64, bool) {
	if !finite(high) || !finite(low) || !finite(close) {
		return 0, false
	}
	return (high + low + close) / 3.0, true
}

// UpdateBar is Update for a [Bar], writing out[0].
func (t *TypPrice) UpdateBar(b Bar, out []float64) bool {
	v, ok := t.Update(b.High, b.Low, b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is 0.
func (*TypPrice) IdlePeriod() int { return 0 }

// Reset does nothing: TypPrice keeps no state.
func (*TypPrice) Reset() {}

// String returns "TYPPRICE()".
func (*TypPrice) String() string { return "TYPPRICE()" }

// HeikinAshi turns bars into Heikin-Ashi bars:
//
//	close = (open + high + low + close) / 4
//	open  = (open + close) / 2 of the first bar, then
//	        (previous HA open + previous HA close) / 2
//	high  = max(high, HA open, HA close)
//	low   = min(low, HA open, HA close)
//
// each summed left to right as written. Defined from index 0. There is no
// TA-Lib Heikin-Ashi; the tests check it against a batch formula.
type HeikinAshi struct {
	open, close float64 // the previous HA bar's
	seen        bool
}

// NewHeikinAshi returns a Heikin-Ashi transform.
func NewHeikinAshi() *HeikinAshi { return new(HeikinAshi) }

// Update reads a bar and returns its Heikin-Ashi bar (Time and Volume are
// the bar's own); ok is false only for a non-finite price.
func (h *HeikinAshi) Update(b Bar) (Bar, bool) {
	if !finiteHLC(b) || !finite(b.Open) {
		return Bar{}, false
	}
	ha := Bar{Time: b.Time, Volume: b.Volume}
	ha.Close = (b.Open + b.High + b.Low + b.Close) / 4
	if h.seen {
		ha.Open = (h.open + h.close) / 2
	} else {
		ha.Open = (b.Open + b.Close) / 2
		h.seen = true
	}
	ha.High = max(b.High, ha.Open, ha.Close)
	ha.Low = min(b.Low, ha.Open, ha.Close)
	h.open, h.close = ha.Open, ha.Close
	return ha, true
}

// UpdateBar writes the Heikin-Ashi open, high, low and close to out[0..3].
func (h *HeikinAshi) UpdateBar(b Bar, out []float64) bool {
	ha, ok := h.Update(b)
	out[0], out[1], out[2], out[3] = ha.Open, ha.High, ha.Low, ha.Close
	return ok
}

// IdlePeriod is 0.
func (*HeikinAshi) IdlePeriod() int { return 0 }

// Reset forgets every bar.
func (h *HeikinAshi) Reset() { *h = HeikinAshi{} }

// String returns "HEIKINASHI()".
func (*HeikinAshi) String() string { return "HEIKINASHI()" }
