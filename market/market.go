package market

import (
	"fmt"
	"time"
)

// Bar is one OHLCV bar of one symbol. Time is the bar's open time.
type Bar struct {
	Symbol string
	Time   time.Time
	Open   float64
	High   float64
	Low    float64
	Close  float64
	Volume float64
}

// Side is the direction of a signal.
type Side uint8

// The sides of a signal. The zero Side is no signal.
const (
	Buy Side = iota + 1
	Sell
)

// String returns "buy" or "sell" (or "none" for the zero Side).
func (s Side) String() string {
	switch s {
	case Buy:
		return "buy"
	case Sell:
		return "sell"
	default:
		return "none"
	}
}

// ParseSide is the inverse of [Side.String] for "buy" and "sell".
func ParseSide(s string) (Side, error) {
	switch s {
	case "buy":
		return Buy, nil
	case "sell":
		return Sell, nil
	}
	return 0, fmt.Errorf("market: side %q is neither buy nor sell", s)
}

// Signal is a strategy's decision on one bar, with the indicator values that
// caused it.
type Signal struct {
	Symbol     string
	Time       time.Time
	Side       Side
	Price      float64
	Reason     string
	Indicators Indicators
}

// Event is the item that flows through the pipeline: a source fills Bar,
// the indicator stage fills Indicators (the values its schema names), the
// strategy stage sets Signal when it decides to act on this bar.
type Event struct {
	Bar
	Indicators Indicators
	Signal     *Signal
}

// Key returns the event's partition key, its symbol: every event of a symbol
// goes to the same worker, in order.
func (e Event) Key() string { return e.Symbol }
