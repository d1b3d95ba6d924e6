package sinks_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/sinks"
)

func ExampleWebhook() {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer srv.Close()

	w, err := sinks.NewWebhook(sinks.WebhookConfig{URL: srv.URL, Retry: sinks.RetryPolicy{Attempts: 3, Timeout: 5 * time.Second}, Rate: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	t := time.Date(2024, 1, 2, 15, 10, 0, 0, time.UTC)
	_ = w.Write(context.Background(), []market.Event{{
		Bar:    market.Bar{Symbol: "AAPL", Time: t, Close: 185.1},
		Signal: &market.Signal{Symbol: "AAPL", Time: t, Side: market.Buy, Price: 185.1, Reason: "cross up"},
	}})
	_ = w.Close()
	fmt.Println(<-got)
	fmt.Println("delivered:", w.Delivered())
	// Output:
	// {"symbol":"AAPL","time":"2024-01-02T15:10:00Z","side":"buy","price":185.1,"reason":"cross up","ema":null,"stochrsi_k":null,"stochrsi_d":null}
	// delivered: 1
}
