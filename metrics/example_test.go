package metrics_test

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
)

// A pipeline observed by the metrics: the Observer, the source wrapper
// (arrival times) and the sink (bars, signals, latency).
func Example() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}
	src := pipeline.SourceFunc[market.Event](func(_ context.Context, out pipeline.Emitter[market.Event]) error {
		for i := range 3 {
			e := market.Event{Bar: market.Bar{Symbol: "AAPL", Time: time.Unix(int64(60*i), 0), Close: 100}}
			if i == 2 {
				e.Signal = &market.Signal{Symbol: "AAPL", Side: market.Buy}
			}
			if err := out.Emit(e); err != nil {
				return err
			}
		}
		return nil
	})
	p := pipeline.New(pipeline.Config[market.Event]{Observer: m}).
		From("source", m.Source(src)).
		Then("strategy", pipeline.Map(func(e market.Event) market.Event { return e })).
		To("sink", m.Sink())
	m.WatchPipeline(p)
	if err := p.Run(context.Background()); err != nil {
		panic(err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "tickflow_bars_processed_total":
			fmt.Println(mf.GetName(), mf.GetMetric()[0].GetCounter().GetValue())
		case "tickflow_signal_latency_seconds":
			fmt.Println(mf.GetName(), "count", mf.GetMetric()[0].GetHistogram().GetSampleCount())
		case "tickflow_stage_batch_duration_seconds":
			for _, mm := range mf.GetMetric() {
				fmt.Println(mf.GetName(), mm.GetLabel()[0].GetValue(), "batches", mm.GetHistogram().GetSampleCount() > 0)
			}
		}
	}
	// Output:
	// tickflow_bars_processed_total 3
	// tickflow_signal_latency_seconds count 1
	// tickflow_stage_batch_duration_seconds sink batches true
	// tickflow_stage_batch_duration_seconds strategy batches true
}
