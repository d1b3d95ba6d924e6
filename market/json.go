package market

import (
	"encoding/json"
	"fmt"
	"time"
)

// signalJSON is a Signal's JSON form, shared by the HTTP API, the server's
// event stream and the webhook sink.
type signalJSON struct {
	Symbol    string    `json:"symbol"`
	Time      time.Time `json:"time"`
	Side      string    `json:"side"`
	Price     float64   `json:"price"`
	Reason    string    `json:"reason"`
	EMA       *float64  `json:"ema"`
	StochRSIK *float64  `json:"stochrsi_k"`
	StochRSID *float64  `json:"stochrsi_d"`
}

// MarshalJSON writes
//
//	{"symbol","time","side":"buy"|"sell","price","reason","ema","stochrsi_k","stochrsi_d"}
//
// with time in UTC and a number null while undefined (or not finite, which
// JSON cannot hold), as [AppendSignalJSON] writes it.
func (s Signal) MarshalJSON() ([]byte, error) {
	return AppendSignalJSON(nil, &s, true), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Signal) UnmarshalJSON(b []byte) error {
	var j signalJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	side, err := ParseSide(j.Side)
	if err != nil {
		return fmt.Errorf("market: signal of %s: %w", j.Symbol, err)
	}
	*s = Signal{Symbol: j.Symbol, Time: j.Time, Side: side, Price: j.Price, Reason: j.Reason}
	if j.EMA != nil {
		s.Indicators.EMA, s.Indicators.HasEMA = *j.EMA, true
	}
	if j.StochRSIK != nil && j.StochRSID != nil {
		s.Indicators.StochK, s.Indicators.StochD, s.Indicators.HasStoch = *j.StochRSIK, *j.StochRSID, true
	}
	return nil
}
