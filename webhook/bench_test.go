package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/webhook"
)

// BenchmarkWrite is the time the pipeline's sink step spends on a
// batch of 256 bars holding 4 signals, when the endpoint takes 1 ms to
// answer: direct, the step waits for every POST; behind sinks.Async it only
// queues (a full queue drops the newest, counted).
func BenchmarkWrite(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	batch := make([]market.Event, 256)
	for i := range batch {
		batch[i].Bar = market.Bar{Symbol: "SYM1", Time: day.Add(time.Duration(i) * time.Minute), Close: 100}
		if i%64 == 0 {
			batch[i].Signal = &market.Signal{Symbol: "SYM1", Time: batch[i].Time, Side: market.Buy, Price: 100}
		}
	}
	for _, mode := range []string{"direct", "async"} {
		b.Run(mode, func(b *testing.B) {
			w, err := webhook.New(webhook.Config{URL: srv.URL, Rate: 1e6, Burst: 1e6, Retry: webhook.RetryPolicy{Attempts: -1}})
			if err != nil {
				b.Fatal(err)
			}
			var s pipeline.Sink[market.Event] = w
			var q *sinks.AsyncSink
			if mode == "async" {
				q = sinks.Async(w, sinks.AsyncConfig{Capacity: 1024, BatchSize: 1, Overflow: pipeline.DropNewest, Keep: sinks.HasSignal})
				s = q
			}
			ctx := context.Background()
			for b.Loop() {
				if err := s.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if q != nil {
				st := q.Stats()
				b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
				_ = q.Close()
			}
		})
	}
}
