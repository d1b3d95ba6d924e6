package market

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MarshalJSON writes
//
//	{"symbol","time","side":"buy"|"sell","price","reason","ema","stochrsi_k","stochrsi_d",...}
//
// with time in UTC, then every value of the signal's record by name, a
// number null while undefined (or not finite, which JSON cannot hold), as
// [AppendSignalJSON] writes it.
func (s Signal) MarshalJSON() ([]byte, error) {
	return AppendSignalJSON(nil, &s, true), nil
}

// UnmarshalJSON reads what MarshalJSON writes: the keys after the signal's
// own are its record's values, in a schema of their names in the order
// they come.
func (s *Signal) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil {
		return fmt.Errorf("market: signal: %w", err)
	} else if t != json.Delim('{') {
		return fmt.Errorf("market: signal: want an object, got %v", t)
	}
	var (
		out    Signal
		side   string
		names  []string
		values []*float64
	)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("market: signal: %w", err)
		}
		key, _ := t.(string)
		switch key {
		case "symbol":
			err = dec.Decode(&out.Symbol)
		case "time":
			err = dec.Decode(&out.Time)
		case "side":
			err = dec.Decode(&side)
		case "price":
			err = dec.Decode(&out.Price)
		case "reason":
			err = dec.Decode(&out.Reason)
		default:
			var v *float64
			err = dec.Decode(&v)
			names, values = append(names, key), append(values, v)
		}
		if err != nil {
			return fmt.Errorf("market: signal of %s: field %q: %w", out.Symbol, key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("market: signal of %s: %w", out.Symbol, err)
	}
	var err error
	if out.Side, err = ParseSide(side); err != nil {
		return fmt.Errorf("market: signal of %s: %w", out.Symbol, err)
	}
	if len(names) > 0 {
		if out.Indicators.Schema, err = NewSchema(names...); err != nil {
			return fmt.Errorf("market: signal of %s: %w", out.Symbol, err)
		}
		for i, v := range values {
			if v != nil {
				out.Indicators.Set(Handle(i), *v)
			}
		}
	}
	*s = out
	return nil
}
