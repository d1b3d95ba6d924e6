package nats_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
)

func sampleBars(symbol string, n int) []market.Bar {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	bars := make([]market.Bar, n)
	for i := range bars {
		p := 100 + float64(i)*0.37
		bars[i] = market.Bar{Symbol: symbol, Time: t0.Add(time.Duration(i) * time.Minute),
			Open: p, High: p + 1.5, Low: p - 0.25, Close: p + 0.1, Volume: float64(1000 + i)}
	}
	return bars
}

func equalBars(t *testing.T, got, want []market.Bar) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d bars, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Symbol != w.Symbol || !g.Time.Equal(w.Time) || g.Time.Location() != time.UTC ||
			math.Float64bits(g.Open) != math.Float64bits(w.Open) || math.Float64bits(g.High) != math.Float64bits(w.High) ||
			math.Float64bits(g.Low) != math.Float64bits(w.Low) || math.Float64bits(g.Close) != math.Float64bits(w.Close) ||
			math.Float64bits(g.Volume) != math.Float64bits(w.Volume) {
			t.Fatalf("bar %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestBarsRoundTrip(t *testing.T) {
	odd := []market.Bar{
		{Symbol: "BRK.B", Time: time.Time{}.UTC(), Open: math.SmallestNonzeroFloat64, High: math.MaxFloat64, Low: -0.0, Close: math.Inf(1), Volume: 0},
		{Symbol: "BRK.B", Time: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), Open: 1e-300, High: 2, Low: 1, Close: 1.5, Volume: 3},
		{Symbol: "BRK.B", Time: time.Date(9999, 1, 1, 0, 0, 0, 1, time.UTC), Open: 1, High: 1, Low: 1, Close: 1, Volume: 1},
	}
	for name, bars := range map[string][]market.Bar{
		"256 minutes": sampleBars("AAPL", 256),
		"one":         sampleBars("é", 1),
		"extremes":    odd,
	} {
		t.Run(name, func(t *testing.T) {
			data := nats.AppendBars(nil, bars[0].Symbol, bars)
			sym, got, err := nats.DecodeBars(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if sym != bars[0].Symbol {
				t.Fatalf("symbol %q", sym)
			}
			equalBars(t, got, bars)
		})
	}
	// Compact: regular minute bars take 43 bytes each.
	if n := len(nats.AppendBars(nil, "AAPL", sampleBars("AAPL", 256))); n > 256*44 {
		t.Errorf("256 bars take %d bytes, want at most %d", n, 256*44)
	}
}

func TestDecodeBarsErrors(t *testing.T) {
	good := nats.AppendBars(nil, "AAPL", sampleBars("AAPL", 2))
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", `no "TFB" header`, nil},
		{"json", `no "TFB" header`, []byte(`{"symbol":"AAPL"}`)},
		{"version", "version 2 (this tickflow reads 1)", append([]byte("TFB\x02"), good[4:]...)},
		{"truncated", `symbol "AAPL": 2 bars announced`, good[:len(good)-10]},
		{"trailing", "1 bytes after the last bar", append(append([]byte{}, good...), 0)},
		{"huge count", "bad bar count", []byte("TFB\x01\x01A\xff\xff\xff\x7f")},
		{"symbol length", "bad symbol length", []byte("TFB\x01\x7fA")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := nats.DecodeBars(tc.data, nil)
			if !errors.Is(err, nats.ErrForeignMessage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrForeignMessage with %q", err, tc.want)
			}
		})
	}
}

func FuzzDecodeBars(f *testing.F) {
	f.Add(nats.AppendBars(nil, "AAPL", sampleBars("AAPL", 3)))
	f.Add([]byte("TFB\x01\x00\x00"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sym, bars, err := nats.DecodeBars(data, nil)
		if err != nil {
			if !errors.Is(err, nats.ErrForeignMessage) {
				t.Fatalf("error %v does not wrap ErrForeignMessage", err)
			}
			return
		}
		// What decodes re-encodes to the same bytes.
		if again := nats.AppendBars(nil, sym, bars); string(again) != string(data) {
			t.Fatalf("re-encoding differs:\n%x\n%x", data, again)
		}
	})
}

func TestMsgIDs(t *testing.T) {
	bars := sampleBars("BRK.B", 3)
	id := nats.BarsMsgID("BRK.B", bars[0].Time, bars[2].Time, 3)
	if id != "b:BRK~2EB:1704205800.000000000:1704205920.000000000:3" {
		t.Errorf("BarsMsgID = %q", id)
	}
	if nats.BarsMsgID("BRK.B", bars[0].Time, bars[1].Time, 2) == id {
		t.Error("different bars, same id")
	}
	s := market.Signal{Symbol: "BRK.B", Time: bars[0].Time, Side: market.Buy}
	if got := nats.SignalMsgID(s); got != "s:BRK~2EB:1704205800.000000000:buy" {
		t.Errorf("SignalMsgID = %q", got)
	}
}
