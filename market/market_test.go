package market_test

import (
	"testing"

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
