package tickflow_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
)

// BenchmarkEndToEndBars is BenchmarkEndToEnd with a source that makes each
// event from a bar as it emits it, as the CSV, store and Alpaca sources do,
// instead of a slice of whole events: the input held in memory is then the
// bars alone (160 MB), so the figure is the pipeline's cost rather than the
// memory bandwidth of reading a slice of events twice that size.
func BenchmarkEndToEndBars(b *testing.B) {
	const symbols, bars = 1000, 2000
	names := make([]string, symbols)
	for s := range names {
		names[s] = fmt.Sprintf("S%04d", s)
	}
	in := make([]market.Bar, 0, symbols*bars)
	for i := range bars {
		for s := range symbols {
			in = append(in, market.Bar{Symbol: names[s], Close: 100 + float64((i*7+s*13)%97)/10})
		}
	}
	src := pipeline.SourceFunc[market.Event](func(_ context.Context, out pipeline.Emitter[market.Event]) error {
		for i := range in {
			if err := out.Emit(market.Event{Bar: in[i]}); err != nil {
				return err
			}
		}
		return nil
	})
	runtime.GC()
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				var d sinks.Discard
				p, err := tickflow.New(src, &d, tickflow.Config{Workers: workers, SignalsOnly: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "bars/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/bar")
		})
	}
}
