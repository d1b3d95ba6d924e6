package alpacatest_test

import (
	"fmt"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

// Point the real SDK at the fake: multi-page histories come back whole.
func Example() {
	start := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	var bars []market.Bar
	for i := range 25 {
		bars = append(bars, market.Bar{Symbol: "AAPL", Time: start.Add(time.Duration(i) * time.Minute),
			Open: 100, High: 101, Low: 99, Close: 100 + float64(i), Volume: 1000})
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	defer srv.Close()

	md := marketdata.NewClient(marketdata.ClientOpts{
		APIKey: alpacatest.Key, APISecret: alpacatest.Secret, BaseURL: srv.DataURL,
	})
	got, err := md.GetBars("AAPL", marketdata.GetBarsRequest{
		TimeFrame: marketdata.OneMin, Start: start, End: start.Add(time.Hour), PageLimit: 10,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(got), "bars, last close", got[len(got)-1].Close)
	fmt.Println(srv.Stats().BarRequests, "requests")
	// Output:
	// 25 bars, last close 124
	// 3 requests
}
