package server

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

func TestAppendUpdateIsJSON(t *testing.T) {
	e := market.Event{
		Bar:        market.Bar{Symbol: "BTC/USD", Time: time.Date(2024, 1, 2, 14, 30, 0, 5e8, time.FixedZone("x", 3600)), Close: 42000.5},
		Indicators: market.DefaultRecord(math.NaN(), true, math.Inf(1), 0, true),
		Signal:     &market.Signal{Symbol: "BTC/USD", Side: market.Sell, Reason: "close \"below\" ema"},
	}
	var u map[string]any
	if err := json.Unmarshal(appendUpdate(nil, &e), &u); err != nil {
		t.Fatal(err)
	}
	if u["time"] != "2024-01-02T13:30:00.5Z" || u["ema"] != nil || u["stochrsi_k"] != nil || u["signal"] != "sell" {
		t.Errorf("update = %v", u)
	}
}
