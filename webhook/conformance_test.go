package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/webhook"
)

func TestSinkConforms(t *testing.T) {
	var posted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		posted.Add(1)
	}))
	defer srv.Close()
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	var events []market.Event
	for i := range 12 {
		e := market.Event{Bar: market.Bar{Symbol: "AAPL", Time: t0.Add(time.Duration(i) * time.Minute), Close: 100 + float64(i)}}
		if i%3 == 0 {
			e.Signal = &market.Signal{Symbol: "AAPL", Time: e.Time, Side: market.Buy, Price: e.Close, Reason: "test"}
		}
		events = append(events, e)
	}
	pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] {
		posted.Store(0)
		// No keep-alive: an idle connection's server goroutine would count
		// as a leak of the sink's.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		return mustNew(t, webhook.Config{URL: srv.URL, Transport: client.Transport, Rate: 1000, Burst: 100})
	}, events, func(t *testing.T, s pipeline.Sink[market.Event]) {
		// Write delivers: every signal has been posted by now.
		if got := posted.Load(); got != 4 {
			t.Errorf("posted %d signals, want 4", got)
		}
	})
}
