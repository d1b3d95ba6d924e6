package market_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

func TestSideRoundTrip(t *testing.T) {
	for _, s := range []market.Side{market.Buy, market.Sell} {
		got, err := market.ParseSide(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSide(%q) = %v, %v", s.String(), got, err)
		}
	}
	for _, bad := range []string{"", "BUY", "hold", "none"} {
		if _, err := market.ParseSide(bad); err == nil {
			t.Errorf("ParseSide(%q) accepted", bad)
		}
	}
	if market.Side(0).String() != "none" {
		t.Errorf("zero Side prints %q", market.Side(0).String())
	}
}

func TestEventKeyIsSymbol(t *testing.T) {
	if k := (market.Event{Bar: market.Bar{Symbol: "BTC/USD"}}).Key(); k != "BTC/USD" {
		t.Errorf("Key() = %q", k)
	}
}

func TestSignalJSON(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.FixedZone("EST", -5*3600))
	for _, s := range []market.Signal{
		{Symbol: "AAPL", Time: t0, Side: market.Buy, Price: 185.64, Reason: "cross up",
			Indicators: market.DefaultRecord(184.9, true, 12.5, 8.31, true)},
		{Symbol: "BTC/USD", Time: t0, Side: market.Sell, Price: 42000.5, Reason: `close "below" ema`,
			Indicators: market.DefaultRecord(1, true, 0, 0, false)},
	} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back market.Signal
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		want := s
		want.Time = s.Time.UTC()
		if !reflect.DeepEqual(back, want) {
			t.Errorf("round trip of %s: got %+v", b, back)
		}
	}
	b, _ := json.Marshal(market.Signal{Symbol: "X", Side: market.Buy, Time: t0,
		Indicators: market.DefaultRecord(math.NaN(), true, 0, 0, false)})
	if want := `{"symbol":"X","time":"2024-01-02T19:30:00Z","side":"buy","price":0,"reason":"","ema":null,"stochrsi_k":null,"stochrsi_d":null}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var s market.Signal
	if err := json.Unmarshal([]byte(`{"symbol":"X","side":"hold"}`), &s); err == nil {
		t.Error("side hold accepted")
	}
}
