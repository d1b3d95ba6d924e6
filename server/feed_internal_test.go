package server

import (
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tickflow/tickflow/market"
)

// FuzzAppendString checks the hand-written JSON string encoder against
// encoding/json: valid JSON that decodes to the input (invalid UTF-8 as
// U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "AAPL", `quote " and \ back`, "tab\tnew\nline\x00", "é ✓ 😀", "\xff\xfe", "</script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, b, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // bad bytes become U+FFFD, as range does
		}
		if got != want {
			t.Errorf("appendString(%q) decodes to %q", s, got)
		}
	})
}

func TestAppendUpdateIsJSON(t *testing.T) {
	e := market.Event{
		Bar:        market.Bar{Symbol: "BTC/USD", Time: time.Date(2024, 1, 2, 14, 30, 0, 5e8, time.FixedZone("x", 3600)), Close: 42000.5},
		Indicators: market.Indicators{EMA: math.NaN(), HasEMA: true, StochK: math.Inf(1), HasStoch: true},
		Signal:     &market.Signal{Symbol: "BTC/USD", Side: market.Sell, Reason: "close \"below\" ema"},
	}
	var u map[string]any
	if err := json.Unmarshal(appendUpdate(nil, &e), &u); err != nil {
		t.Fatal(err)
	}
	if u["time"] != "2024-01-02T13:30:00.5Z" || u["ema"] != nil || u["stochrsi_k"] != nil || u["signal"] != "sell" {
		t.Errorf("update = %v", u)
	}
	var s map[string]any
	if err := json.Unmarshal(appendSignal(nil, e.Signal), &s); err != nil {
		t.Fatal(err)
	}
	if s["reason"] != `close "below" ema` || s["side"] != "sell" {
		t.Errorf("signal = %v", s)
	}
}
