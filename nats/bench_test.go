package nats_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	tickflow "github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
)

// BenchmarkEndToEnd ingests 400,000 bars (200 symbols) into JetStream, then
// consumes them with 1 and 2 workers (each as a separate Source and
// pipeline, as separate processes would run, over disjoint partitions),
// through the StochRSI/EMA pipeline or straight to a discarding sink. On
// the embedded server, or the real one when TICKFLOW_TEST_NATS is set.
func BenchmarkEndToEnd(b *testing.B) {
	const symbols, bars = 200, 2000
	for _, where := range []string{"embedded", "real"} {
		b.Run(where, func(b *testing.B) {
			var bs *bus
			switch where {
			case "embedded":
				bs = embedded(b)
			default:
				url := os.Getenv("TICKFLOW_TEST_NATS")
				if url == "" {
					b.Skip("TICKFLOW_TEST_NATS is not set")
				}
				bs = connect(b, url, nil, "")
			}
			b.Run("ingest", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					fresh := *bs
					fresh.ns = nats.Namespace(fmt.Sprintf("%s_ingest%d", bs.ns, i))
					if _, err := ingest(context.Background(), &fresh, synthetic(symbols, bars)); err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() {
						_ = fresh.js.DeleteStream(context.Background(), fresh.ns.BarsStream())
						_ = fresh.js.DeleteStream(context.Background(), fresh.ns.SignalsStream())
						_ = fresh.js.DeleteKeyValue(context.Background(), fresh.ns.PositionsBucket())
					})
				}
				b.ReportMetric(float64(symbols*bars)*float64(b.N)/b.Elapsed().Seconds(), "bars/s")
			})
			if _, err := ingest(context.Background(), bs, synthetic(symbols, bars)); err != nil {
				b.Fatal(err)
			}
			for _, workers := range []int{1, 2} {
				for _, signals := range []bool{false, true} {
					name := fmt.Sprintf("workers=%d/transport", workers)
					if signals {
						name = fmt.Sprintf("workers=%d/stochrsi-ema", workers)
					}
					b.Run(name, func(b *testing.B) {
						for b.Loop() {
							benchConsume(b, bs, workers, signals)
						}
						b.ReportMetric(float64(symbols*bars)*float64(b.N)/b.Elapsed().Seconds(), "bars/s")
					})
				}
			}
		})
	}
}

func benchConsume(b *testing.B, bs *bus, workers int, signals bool) {
	parts := make([][]int, workers)
	for p := range testPartitions {
		parts[p%workers] = append(parts[p%workers], p)
	}
	// Each iteration reads from the start: reset the positions.
	kv, err := bs.js.KeyValue(context.Background(), bs.ns.PositionsBucket())
	if err != nil {
		b.Fatal(err)
	}
	for p := range testPartitions {
		_ = kv.Purge(context.Background(), fmt.Sprintf("p%d", p))
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			src, err := nats.NewSource(context.Background(), bs.js, nats.SourceConfig{Namespace: bs.ns, Partitions: parts[i], UntilCaughtUp: true})
			if err != nil {
				errs[i] = err
				return
			}
			discard := pipeline.SinkFunc[market.Event](func(context.Context, []market.Event) error { return nil })
			sink := src.CommitSink(discard, true)
			if signals {
				p, err := tickflow.New(src, sink, tickflow.Config{Workers: 1})
				if err == nil {
					err = p.Run(context.Background())
				}
				errs[i] = err
				return
			}
			errs[i] = pipeline.New(pipeline.Config[market.Event]{}).From("nats", src).To("commit", sink).Run(context.Background())
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}
