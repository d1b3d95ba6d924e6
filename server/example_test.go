package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/server"
)

// The Feed is the pipeline's sink; the API shows what it was given: the
// default values where they always were, and every value of the record by
// name under "indicators", here a user's slow=sma(200) too.
func ExampleServer() {
	s, err := server.New(server.Options{})
	if err != nil {
		panic(err)
	}
	schema := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "slow")
	slow, _ := schema.Lookup("slow")
	rec := market.Indicators{Schema: schema}
	rec.SetDefault(184.9, true, 0, 0, false)
	rec.Set(slow, 171.25)
	t := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	_ = s.Feed().Write(context.Background(), []market.Event{{
		Bar:        market.Bar{Symbol: "AAPL", Time: t, Open: 185, High: 186, Low: 184.5, Close: 185.5, Volume: 1200},
		Indicators: rec,
	}})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost/api/symbols", nil))
	fmt.Print(w.Body.String())
	// Output:
	// [
	//   {
	//     "symbol": "AAPL",
	//     "time": "2024-01-02T14:30:00Z",
	//     "open": 185,
	//     "high": 186,
	//     "low": 184.5,
	//     "close": 185.5,
	//     "volume": 1200,
	//     "ema": 184.9,
	//     "stochrsi_k": null,
	//     "stochrsi_d": null,
	//     "bars": 1,
	//     "last_signal": null,
	//     "indicators": {
	//       "ema": 184.9,
	//       "stochrsi_k": null,
	//       "stochrsi_d": null,
	//       "slow": 171.25
	//     }
	//   }
	// ]
}

// With a Token every route wants it; a Host that is not this server's (a
// rebound name) is refused whatever the credentials.
func ExampleOptions_token() {
	s, err := server.New(server.Options{Token: "correct-horse"})
	if err != nil {
		panic(err)
	}
	for _, tc := range []struct{ host, auth string }{
		{"localhost:9090", ""},
		{"localhost:9090", "Bearer correct-horse"},
		{"rebound.example:9090", "Bearer correct-horse"},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://"+tc.host+"/api/signals", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		fmt.Println(tc.host, tc.auth != "", rec.Code)
	}
	// Output:
	// localhost:9090 false 401
	// localhost:9090 true 200
	// rebound.example:9090 true 421
}
