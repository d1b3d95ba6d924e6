package indicators

import "strconv"

// Bar is what a streaming indicator reads of one bar. Time is the bar's open
// time in Unix nanoseconds (VWAP anchors its sessions on it); the other fields
// are the bar's prices and volume.
type Bar struct {
	Time                           int64
	Open, High, Low, Close, Volume float64
}

// Streamer is one streaming indicator of one symbol, updated bar by bar in
// O(1) amortised time with no allocation.
//
// Update reads the next bar and writes the indicator's outputs, in the order
// its [Func] lists them, into out (len(out) is at least the number of
// outputs); ok reports whether they are defined on this bar. A bar with a
// NaN or infinite input the indicator reads is ignored: the state does not
// change and ok is false.
type Streamer interface {
	Update(b Bar, out []float64) (ok bool)
	// IdlePeriod is the index, counting accepted bars from 0, of the first
	// defined output, as go-talib's first-output index.
	IdlePeriod() int
	// Reset forgets every bar, keeping the parameters.
	Reset()
	// String names the indicator with its parameters, as "MACD(12,26,9)".
	String() string
}

// indicatorName writes a name with its parameters, as every String does:
// "ATR(14)", "SAR(0.02,0.2)".
func indicatorName(name string, args ...float64) string {
	b := make([]byte, 0, 24)
	b = append(b, name...)
	b = append(b, '(')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, a, 'g', -1, 64)
	}
	return string(append(b, ')'))
}
