package metrics_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

func TestWrappersConform(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	var events []market.Event
	for i := range 30 {
		events = append(events, market.Event{Bar: market.Bar{Symbol: fmt.Sprint("S", i%3), Time: t0.Add(time.Duration(i/3) * time.Minute), Close: 10}})
	}
	newMetrics := func() *metrics.Metrics {
		m, err := metrics.New(prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
		return newMetrics().Source(pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
			for _, e := range events {
				if err := out.Emit(e); err != nil {
					return err
				}
			}
			return ctx.Err()
		}))
	}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 5})
	pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] { return newMetrics().Sink() }, events, nil)
}
