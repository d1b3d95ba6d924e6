package pipeline_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tickflow/tickflow/pipeline"
)

// BenchmarkPipeline measures the engine's own cost per item: a source of
// 1,000 keys, one pass-through stage, and a counting sink.
func BenchmarkPipeline(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("SYM%04d", i)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var got int
			p := pipeline.New(pipeline.Config[item]{Workers: workers, Key: itemKey}).
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
