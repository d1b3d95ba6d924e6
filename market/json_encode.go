package market

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The append-style JSON encoder: every JSON form of an event or a signal
// (JSON lines, the server's event stream and API, webhooks) is built from
// these functions, so that a value is written one way everywhere, byte for
// byte as encoding/json writes it (with HTML escaping off), without its
// reflection or allocations.

// AppendJSONFloat appends v as encoding/json writes a float64: the shortest
// decimal that reads back as v, in exponent form only below 1e-6 or from
// 1e21 (1e-07 as 1e-7). A NaN or an infinity, which JSON cannot hold, is
// written as null.
func AppendJSONFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		b = strconv.AppendFloat(b, v, 'e', -1, 64)
		// e-07 → e-7, as JavaScript and encoding/json write it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendOptFloat appends v, or null while it is not defined.
func appendOptFloat(b []byte, v float64, ok bool) []byte {
	if !ok {
		return append(b, "null"...)
	}
	return AppendJSONFloat(b, v)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping off: quote, backslash and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, and U+2028 and
// U+2029 escaped, since JavaScript (an EventSource's JSON.parse of older
// engines, a script tag) reads them as line ends.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSONTime appends t in UTC as a JSON string in time.RFC3339Nano,
// as time.Time's MarshalJSON writes it for years 0 to 9999.
func AppendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendEventJSON appends e's indicator record, keys in this order:
//
//	{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","close":185.64,"ema":185.2,"stochrsi_k":null,"stochrsi_d":null}
//
// then every other value of the record's schema, by name, in the schema's
// order; a value is null while it is not defined. A record without a schema
// is written with the default schema's names, all null. This is the form of
// `tickflow run --emit indicators` and of the server's "bars" events.
func AppendEventJSON(b []byte, e *Event) []byte {
	b = append(b, `{"symbol":`...)
	b = AppendJSONString(b, e.Symbol)
	b = append(b, `,"time":`...)
	b = AppendJSONTime(b, e.Time)
	b = append(b, `,"close":`...)
	b = AppendJSONFloat(b, e.Close)
	b = appendIndicators(b, &e.Indicators)
	return append(b, '}')
}

func appendIndicators(b []byte, in *Indicators) []byte {
	s := in.Schema
	if s == nil {
		s = DefaultSchema
	}
	for i, key := range s.keys {
		b = append(b, key...)
		b = appendOptFloat(b, in.values[i], in.defined&(1<<i) != 0)
	}
	return b
}

// AppendSignalJSON appends s in the form [Signal.MarshalJSON] writes:
//
//	{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","side":"buy","price":185.64,"reason":"...","ema":185.2,"stochrsi_k":12.5,"stochrsi_d":10}
//
// followed by the other values of its record, as [AppendEventJSON]. With indicators false it stops after reason: the form of `tickflow run
// --emit signals`.
func AppendSignalJSON(b []byte, s *Signal, indicators bool) []byte {
	b = append(b, `{"symbol":`...)
	b = AppendJSONString(b, s.Symbol)
	b = append(b, `,"time":`...)
	b = AppendJSONTime(b, s.Time)
	b = append(b, `,"side":`...)
	b = AppendJSONString(b, s.Side.String())
	b = append(b, `,"price":`...)
	b = AppendJSONFloat(b, s.Price)
	b = append(b, `,"reason":`...)
	b = AppendJSONString(b, s.Reason)
	if indicators {
		b = appendIndicators(b, &s.Indicators)
	}
	return append(b, '}')
}
