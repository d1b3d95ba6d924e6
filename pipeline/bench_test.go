package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tickflow/tickflow/pipeline"
)

// BenchmarkPipeline measures the engine's own cost per item: a source of
// 1,000 keys, one pass-through stage, and a counting sink; by worker count,
// by batch size (batch=1 is the cost of moving items one by one), and with
// a linger (its lock per Emit is the difference).
func BenchmarkPipeline(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("SYM%04d", i)
	}
	for _, tc := range []struct {
		workers, batch int
		linger         time.Duration
	}{{1, 0, 0}, {2, 0, 0}, {1, 1, 0}, {1, 64, 0}, {1, 0, 5 * time.Millisecond}} {
		name := fmt.Sprintf("workers=%d", tc.workers)
		if tc.batch > 0 {
			name += fmt.Sprintf("/batch=%d", tc.batch)
		}
		if tc.linger > 0 {
			name += fmt.Sprintf("/linger=%v", tc.linger)
		}
		b.Run(name, func(b *testing.B) {
			var got int
			p := pipeline.New(pipeline.Config[item]{Workers: tc.workers, Key: itemKey, BatchSize: tc.batch, Linger: tc.linger}).
				From("src", pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
					for i := range b.N {
						if err := out.Emit(item{Key: keys[i%len(keys)], N: i}); err != nil {
							return err
						}
					}
					return nil
				})).
				Then("pass", pipeline.Map(func(it item) item { return it })).
				To("count", pipeline.SinkFunc[item](func(_ context.Context, items []item) error {
					got += len(items)
					return nil
				}))
			b.ResetTimer()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			if got != b.N {
				b.Fatalf("sink got %d items, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
