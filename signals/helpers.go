package signals

import "github.com/tickflow/tickflow/market"

// CrossUp reports whether series a crossed above series b between the
// previous bar (prevA, prevB) and this one (a, b): prevA <= prevB and a > b.
// A touch from below (prevA == prevB) counts as the start of a cross.
func CrossUp(prevA, prevB, a, b float64) bool { return prevA <= prevB && a > b }

// CrossDown reports whether series a crossed below series b between the
// previous bar and this one: prevA >= prevB and a < b.
func CrossDown(prevA, prevB, a, b float64) bool { return prevA >= prevB && a < b }

// Cross follows two series bar by bar and tells when the first crosses the
// second, remembering the previous bar's values so that a strategy need
// not. The zero Cross has seen no bar.
type Cross struct {
	a, b float64
	has  bool // a and b are the previous bar's, both defined
}

// Update reads this bar's values (ok: both are defined) and reports
// whether a crossed above b ([CrossUp]) or below it ([CrossDown]) since the
// previous bar. Both are false on a bar where either bar's values are not
// defined.
func (c *Cross) Update(a, b float64, ok bool) (up, down bool) {
	pa, pb, had := c.a, c.b, c.has
	c.a, c.b, c.has = a, b, ok
	if !ok || !had {
		return false, false
	}
	return CrossUp(pa, pb, a, b), CrossDown(pa, pb, a, b)
}

// Buy returns a buy signal for the bar e at its close, carrying e's
// indicator record: the six fields of a Signal filled from the event.
func Buy(e *market.Event, reason string) *Signal { return signal(e, market.Buy, reason) }

// Sell returns a sell signal for the bar e at its close, as [Buy].
func Sell(e *market.Event, reason string) *Signal { return signal(e, market.Sell, reason) }

func signal(e *market.Event, side market.Side, reason string) *Signal {
	return &Signal{Symbol: e.Symbol, Time: e.Time, Side: side, Price: e.Close, Reason: reason, Indicators: e.Indicators}
}
