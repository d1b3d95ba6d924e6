package indicators

// changeKind says how [Momentum] compares a price with the one n bars back.
type changeKind uint8

const (
	changeMOM  changeKind = iota // x - old
	changeROC                    // (x/old - 1) * 100
	changeROCP                   // (x - old) / old
)

var changeNames = [...]string{changeMOM: "MOM", changeROC: "ROC", changeROCP: "ROCP"}

// Momentum compares each price with the one n bars back, bit for bit as
// go-talib's Mom (x - old), Roc ((x/old - 1) * 100) and Rocp ((x - old) / old)
// do; the ratios are 0 where old is 0. Defined from index n.
type Momentum struct {
	kind changeKind
	n    int
	past lagRing
}

// NewMOM returns a momentum x - x[n bars back], n 1..[MaxPeriod].
func NewMOM(n int) (*Momentum, error) { return newMomentum("indicators.NewMOM", changeMOM, n) }

// NewROC returns a rate of change in percent, n 1..[MaxPeriod].
func NewROC(n int) (*Momentum, error) { return newMomentum("indicators.NewROC", changeROC, n) }

// NewROCP returns a rate of change as a fraction, n 1..[MaxPeriod].
func NewROCP(n int) (*Momentum, error) { return newMomentum("indicators.NewROCP", changeROCP, n) }

func newMomentum(place string, kind changeKind, n int) (*Momentum, error) {
	if err := checkPeriod(place, "n", n, 1); err != nil {
		return nil, err
	}
	m := &Momentum{kind: kind, n: n}
	m.past.init(n)
	return m, nil
}

// Update adds the next price and returns the change, ok from index n on. A
// non-finite x is ignored and returns ok false.
func (m *Momentum) Update(x float64) (float64, bool) {
	if !finite(x) || m.n == 0 {
		return 0, false
	}
	old, ok := m.past.push(x)
	if !ok {
		return 0, false
	}
	switch m.kind {
	case changeROC:
		if old == 0.0 {
			return 0, true
		}
		return ((x / old) - 1.0) * 100.0, true
	case changeROCP:
		if old == 0.0 {
			return 0, true
		}
		return (x - old) / old, true
	}
	return x - old, true
}

// UpdateBar reads the bar's close, writing out[0].
func (m *Momentum) UpdateBar(b Bar, out []float64) bool {
	v, ok := m.Update(b.Close)
	out[0] = v
	return ok
}

// IdlePeriod is n.
func (m *Momentum) IdlePeriod() int { return m.n }

// Reset forgets every price, keeping the period.
func (m *Momentum) Reset() { m.past.reset() }

// String returns "MOM(n)", "ROC(n)" or "ROCP(n)".
func (m *Momentum) String() string { return indicatorName(changeNames[m.kind], float64(m.n)) }
