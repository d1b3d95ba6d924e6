package market_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tickflow/tickflow/market"
)

// stdJSON is what encoding/json writes for v, HTML escaping off, without
// the final newline.
func stdJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// finite is v as encoding/json should see it: nil when undefined or not
// finite.
func finite(v float64, ok bool) *float64 {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// The records as encoding/json writes them.
type eventRecord struct {
	Symbol string    `json:"symbol"`
	Time   time.Time `json:"time"`
	Close  *float64  `json:"close"`
	EMA    *float64  `json:"ema"`
	K      *float64  `json:"stochrsi_k"`
	D      *float64  `json:"stochrsi_d"`
}

type signalRecord struct {
	Symbol string    `json:"symbol"`
	Time   time.Time `json:"time"`
	Side   string    `json:"side"`
	Price  *float64  `json:"price"`
	Reason string    `json:"reason"`
	EMA    *float64  `json:"ema"`
	K      *float64  `json:"stochrsi_k"`
	D      *float64  `json:"stochrsi_d"`
}

type shortSignalRecord struct {
	Symbol string    `json:"symbol"`
	Time   time.Time `json:"time"`
	Side   string    `json:"side"`
	Price  *float64  `json:"price"`
	Reason string    `json:"reason"`
}

func eventStd(e *market.Event) eventRecord {
	in := e.Indicators
	ema, hasEMA := in.Get(market.DefaultEMA)
	k, hasStoch := in.Get(market.DefaultStochK)
	d, _ := in.Get(market.DefaultStochD)
	return eventRecord{e.Symbol, e.Time.UTC(), finite(e.Close, true),
		finite(ema, hasEMA), finite(k, hasStoch), finite(d, hasStoch)}
}

func signalStd(s *market.Signal) signalRecord {
	in := s.Indicators
	ema, hasEMA := in.Get(market.DefaultEMA)
	k, hasStoch := in.Get(market.DefaultStochK)
	d, _ := in.Get(market.DefaultStochD)
	return signalRecord{s.Symbol, s.Time.UTC(), s.Side.String(), finite(s.Price, true), s.Reason,
		finite(ema, hasEMA), finite(k, hasStoch), finite(d, hasStoch)}
}

// The cases the server's former encoder got wrong, and the awkward ones.
func TestJSONEncode(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"a million", market.AppendJSONFloat(nil, 1e6), "1000000"},
		{"1e20", market.AppendJSONFloat(nil, 1e20), "100000000000000000000"},
		{"1e21", market.AppendJSONFloat(nil, 1e21), "1e+21"},
		{"1e-7", market.AppendJSONFloat(nil, 1e-7), "1e-7"},
		{"negative zero", market.AppendJSONFloat(nil, math.Copysign(0, -1)), "-0"},
		{"NaN", market.AppendJSONFloat(nil, math.NaN()), "null"},
		{"infinity", market.AppendJSONFloat(nil, math.Inf(-1)), "null"},
		{"line separators", market.AppendJSONString(nil, "a\u2028b\u2029"), `"a\u2028b\u2029"`},
		{"controls and quotes", market.AppendJSONString(nil, "\"\\\n\t\x01"), `"\"\\\n\t\u0001"`},
		{"invalid UTF-8", market.AppendJSONString(nil, "a\xffb"), `"a\ufffdb"`},
		{"HTML is not escaped", market.AppendJSONString(nil, "<&>"), `"<&>"`},
		{"time in UTC", market.AppendJSONTime(nil, t0.In(time.FixedZone("EST", -5*3600)).Add(time.Nanosecond)), `"2024-01-02T14:30:00.000000001Z"`},
		{"event warming up", market.AppendEventJSON(nil, &market.Event{Bar: market.Bar{Symbol: "AAPL", Time: t0, Close: 1e6}}),
			`{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","close":1000000,"ema":null,"stochrsi_k":null,"stochrsi_d":null}`},
		{"signal", market.AppendSignalJSON(nil, &market.Signal{Symbol: "AAPL", Time: t0, Side: market.Sell, Price: 185.5, Reason: "r",
			Indicators: market.DefaultRecord(185, true, 0, 0, false)}, true),
			`{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","side":"sell","price":185.5,"reason":"r","ema":185,"stochrsi_k":null,"stochrsi_d":null}`},
		{"short signal", market.AppendSignalJSON(nil, &market.Signal{Symbol: "AAPL", Time: t0, Side: market.Buy, Price: math.NaN()}, false),
			`{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","side":"buy","price":null,"reason":""}`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

// Appending never changes what b held.
func TestJSONEncodeAppends(t *testing.T) {
	b := []byte("data: ")
	b = market.AppendEventJSON(b, &market.Event{Bar: market.Bar{Symbol: "X"}})
	if !bytes.HasPrefix(b, []byte(`data: {"symbol":"X",`)) {
		t.Errorf("got %s", b)
	}
}

func FuzzJSONEncodeString(f *testing.F) {
	for _, s := range []string{"", "AAPL", "a\"b\\c", "\x00\x1f\x7f", "é\u2028\u2029\xff\xfe", "<&>", "\b\f\n\r\t", "😀\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := market.AppendJSONString(nil, s)
		if want := stdJSON(t, s); string(got) != want {
			t.Fatalf("AppendJSONString(%q) = %s, encoding/json %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || utf8.ValidString(s) && back != s {
			t.Fatalf("AppendJSONString(%q) = %s decodes to %q, %v", s, got, back, err)
		}
	})
}

func FuzzJSONEncodeFloat(f *testing.F) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1e-7, 1e-6, 1e6, 1e21, 185.64, 1e20, 123456789.125, 5e-324, math.MaxFloat64, -1e-300} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		got := market.AppendJSONFloat(nil, v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if string(got) != "null" {
				t.Fatalf("AppendJSONFloat(%v) = %s, want null", v, got)
			}
			return
		}
		if want := stdJSON(t, v); string(got) != want {
			t.Fatalf("AppendJSONFloat(%v) = %s, encoding/json %s", v, got, want)
		}
		var back float64
		if err := json.Unmarshal(got, &back); err != nil || math.Float64bits(back) != math.Float64bits(v) && v != 0 {
			t.Fatalf("AppendJSONFloat(%v) = %s decodes to %v, %v", v, got, back, err)
		}
	})
}

// FuzzJSONEncodeRecords checks the event and signal records against
// encoding/json byte for byte, and that encoding/json decodes them to the
// values encoded.
func FuzzJSONEncodeRecords(f *testing.F) {
	f.Add("AAPL", "K crossed D", int64(1704205800e9), 185.64, 185.2, 12.5, 10.0, true, true, uint8(1))
	f.Add("BRK.B \"q\" \\ \n\u2028\xff", "<&>\r\n", int64(-1), 1e6, math.NaN(), math.Inf(1), 1e-7, true, false, uint8(2))
	f.Add("", "", int64(0), 1e21, -0.0, 5e-324, math.MaxFloat64, false, true, uint8(0))
	f.Fuzz(func(t *testing.T, sym, reason string, nanos int64, price, ema, k, d float64, hasEMA, hasStoch bool, side uint8) {
		tm := time.Unix(0, nanos).In(time.FixedZone("X", 3600))
		in := market.DefaultRecord(ema, hasEMA, k, d, hasStoch)
		e := market.Event{Bar: market.Bar{Symbol: sym, Time: tm, Close: price}, Indicators: in}
		s := market.Signal{Symbol: sym, Time: tm, Side: market.Side(side % 3), Price: price, Reason: reason, Indicators: in}

		got := market.AppendEventJSON(nil, &e)
		if want := stdJSON(t, eventStd(&e)); string(got) != want {
			t.Fatalf("AppendEventJSON:\n got %s\nwant %s", got, want)
		}
		var er eventRecord
		if err := json.Unmarshal(got, &er); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if !er.Time.Equal(tm) || !sameFloat(er.Close, price, true) || !sameFloat(er.EMA, ema, hasEMA) ||
			!sameFloat(er.K, k, hasStoch) || !sameFloat(er.D, d, hasStoch) {
			t.Fatalf("%s decodes to %+v", got, er)
		}

		got = market.AppendSignalJSON(nil, &s, true)
		if want := stdJSON(t, signalStd(&s)); string(got) != want {
			t.Fatalf("AppendSignalJSON:\n got %s\nwant %s", got, want)
		}
		short := market.AppendSignalJSON(nil, &s, false)
		if want := stdJSON(t, shortSignalRecord{s.Symbol, s.Time.UTC(), s.Side.String(), finite(price, true), reason}); string(short) != want {
			t.Fatalf("AppendSignalJSON without indicators:\n got %s\nwant %s", short, want)
		}
		if m, err := s.MarshalJSON(); err != nil || !bytes.Equal(m, got) {
			t.Fatalf("MarshalJSON = %s, %v; AppendSignalJSON %s", m, err, got)
		}
		if s.Side == 0 {
			return // "none" is not a side that reads back
		}
		var back market.Signal
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if !back.Time.Equal(tm) || back.Side != s.Side || utf8.ValidString(reason) && back.Reason != reason ||
			!math.IsNaN(price) && !math.IsInf(price, 0) && back.Price != price {
			t.Fatalf("%s decodes to %+v", got, back)
		}
	})
}

// sameFloat reports whether a decoded number p is v (nil when v is
// undefined or not finite).
func sameFloat(p *float64, v float64, ok bool) bool {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return p == nil
	}
	return p != nil && *p == v
}

func ExampleAppendEventJSON() {
	e := market.Event{
		Bar:        market.Bar{Symbol: "AAPL", Time: time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC), Close: 1e6},
		Indicators: market.DefaultRecord(999999.5, true, 0, 0, false),
	}
	b := append([]byte("data: "), "["...)
	b = market.AppendEventJSON(b, &e)
	fmt.Printf("%s]\n", b)
	// Output:
	// data: [{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","close":1000000,"ema":999999.5,"stochrsi_k":null,"stochrsi_d":null}]
}

func BenchmarkAppendEventJSON(b *testing.B) {
	e := market.Event{
		Bar:        market.Bar{Symbol: "SYM0042", Time: time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC), Close: 185.64},
		Indicators: market.DefaultRecord(185.2123, true, 12.5123, 10.25, true),
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = market.AppendEventJSON(buf[:0], &e)
	}
}
