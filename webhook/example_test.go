package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/webhook"
)

func ExampleSink() {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer srv.Close()

	w, err := webhook.New(webhook.Config{URL: srv.URL, Retry: webhook.RetryPolicy{Attempts: 3, Timeout: 5 * time.Second}, Rate: 10})
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

// A Slack incoming webhook takes the signal as a message; behind sinks.Async, a
// slow Slack never slows the pipeline.
func ExampleSink_slack() {
	got := make(chan string, 1)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
		_, _ = w.Write([]byte("ok"))
	}))
	defer slack.Close()

	w, err := webhook.New(webhook.Config{URL: slack.URL + "/services/T0/B0/X", Format: webhook.FormatSlack})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := sinks.Async(w, sinks.AsyncConfig{Capacity: 64, Overflow: pipeline.DropNewest, Keep: sinks.HasSignal})
	t := time.Date(2024, 1, 2, 15, 10, 0, 0, time.UTC)
	_ = q.Write(context.Background(), []market.Event{{
		Bar:    market.Bar{Symbol: "AAPL", Time: t, Close: 185.1},
		Signal: &market.Signal{Symbol: "AAPL", Time: t, Side: market.Buy, Price: 185.1, Reason: "cross up"},
	}})
	_ = q.Flush(context.Background())
	_ = q.Close()
	fmt.Println(<-got)
	// Output:
	// {"text":"BUY AAPL at 185.1 (2024-01-02T15:10:00Z): cross up"}
}
