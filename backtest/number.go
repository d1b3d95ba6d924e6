package backtest

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// Number is a metric that may be undefined (no trades, zero variance): it
// encodes as JSON null then, never as NaN or a made-up value.
type Number struct {
	V  float64
	OK bool
}

// num is a Number defined when v is finite.
func num(v float64) Number {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Number{}
	}
	return Number{V: v, OK: true}
}

// Float returns the value and whether it is defined.
func (n Number) Float() (float64, bool) { return n.V, n.OK }

// String returns the value in Go's shortest form, or "null".
func (n Number) String() string {
	if !n.OK {
		return "null"
	}
	return strconv.FormatFloat(n.V, 'g', -1, 64)
}

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*n = Number{}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Number{V: v, OK: true}
	return nil
}
