package pipeline_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

// Three per-key stages, as Keyed stages and as stages that each keep a map:
// a running sum, a count, and a running maximum of the sum.
type chainState struct{ sum, count, max int }

func keyedSum() func() pipeline.Stage[item] {
	return pipeline.Keyed(itemKey, func(string) *int { return new(int) },
		func(_ context.Context, it *item, sum *int, out pipeline.Emitter[item]) error {
			*sum += it.N
			it.Sum = *sum
			return out.Emit(*it)
		})
}

func keyedCount() func() pipeline.Stage[item] {
	return pipeline.Keyed(itemKey, func(string) *int { return new(int) },
		func(_ context.Context, it *item, n *int, out pipeline.Emitter[item]) error {
			*n++
			it.N = it.N*1000 + *n
			return out.Emit(*it)
		})
}

func keyedMax() func() pipeline.Stage[item] {
	return pipeline.Keyed(itemKey, func(string) *int { return new(int) },
		func(_ context.Context, it *item, m *int, out pipeline.Emitter[item]) error {
			*m = max(*m, it.Sum)
			if it.Sum < *m {
				return nil
			}
			return out.Emit(*it)
		})
}

// mapped is the same work with a map lookup per stage, counted in lookups
// (one worker only).
func mapped(lookups *int64, step func(st *int, it item) (item, bool)) func() pipeline.Stage[item] {
	return func() pipeline.Stage[item] {
		states := map[string]*int{}
		return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
			*lookups++
			st := states[it.Key]
			if st == nil {
				st = new(int)
				states[it.Key] = st
			}
			if it, ok := step(st, it); ok {
				return out.Emit(it)
			}
			return nil
		})
	}
}

func mappedChain(lookups *int64) []func() pipeline.Stage[item] {
	return []func() pipeline.Stage[item]{
		mapped(lookups, func(sum *int, it item) (item, bool) { *sum += it.N; it.Sum = *sum; return it, true }),
		mapped(lookups, func(n *int, it item) (item, bool) { *n++; it.N = it.N*1000 + *n; return it, true }),
		mapped(lookups, func(m *int, it item) (item, bool) { *m = max(*m, it.Sum); return it, it.Sum >= *m }),
	}
}

func TestKeyedChainLooksUpOncePerItem(t *testing.T) {
	const keys, n = 30, 200
	var mapLookups int64
	want, err := run(t, keyed(keys, n), 1, pipeline.Config[item]{}, mappedChain(&mapLookups)...)
	require.NoError(t, err)
	require.Len(t, want, keys*n)
	for _, workers := range []int{1, 3} {
		var lookups atomic.Int64
		cfg := pipeline.Config[item]{Workers: workers, Key: func(it item) string { lookups.Add(1); return it.Key }}
		var c collect
		p := pipeline.New(cfg).From("src", keyed(keys, n)).
			Then("sum", keyedSum()).Then("count", keyedCount()).Then("max", keyedMax()).To("sink", &c)
		require.NoError(t, p.Run(context.Background()))
		assert.Equal(t, want, c.items, "workers=%d", workers)
		assert.Equal(t, int64(3*keys*n), mapLookups, "the stages with maps look up three times per item")
		perItem := int64(1) // the chain's one lookup
		if workers > 1 {
			perItem++ // and the source's routing
		}
		assert.Equal(t, perItem*keys*n, lookups.Load(), "workers=%d: key lookups", workers)
	}
}

func TestKeyedChainUsesKeyOf(t *testing.T) {
	const keys, n = 30, 200
	want, err := run(t, keyed(keys, n), 1, pipeline.Config[item]{}, mappedChain(new(int64))...)
	require.NoError(t, err)
	for _, workers := range []int{1, 3} {
		var byValue, byPointer atomic.Int64
		cfg := pipeline.Config[item]{Workers: workers,
			Key:   func(it item) string { byValue.Add(1); return it.Key },
			KeyOf: func(it *item) string { byPointer.Add(1); return it.Key }}
		var c collect
		p := pipeline.New(cfg).From("src", keyed(keys, n)).
			Then("sum", keyedSum()).Then("count", keyedCount()).Then("max", keyedMax()).To("sink", &c)
		require.NoError(t, p.Run(context.Background()))
		assert.Equal(t, want, c.items, "workers=%d", workers)
		assert.Equal(t, int64(keys*n), byPointer.Load(), "workers=%d: the chain's lookup reads the key through KeyOf", workers)
		routed := int64(0)
		if workers > 1 {
			routed = keys * n // the source's routing still uses Key
		}
		assert.Equal(t, routed, byValue.Load(), "workers=%d: Key calls", workers)
	}
}

func TestKeyedConformance(t *testing.T) {
	var in []item
	for i := range 300 {
		in = append(in, item{Key: fmt.Sprint("k", i%7), N: i})
	}
	pipelinetest.TestStage(t, keyedSum(), itemKey, in)
}

func TestKeyedNeedsConfigKey(t *testing.T) {
	err := pipeline.New(pipeline.Config[item]{}).From("src", keyed(1, 1)).Then("sum", keyedSum()).
		To("sink", &collect{}).Run(context.Background())
	require.ErrorIs(t, err, pipeline.ErrConfig)
	assert.Contains(t, err.Error(), "Config.Key is nil")
}

// BenchmarkKeyedChain compares a chain of three per-key stages keeping their
// state in the worker's slots (one key lookup per item) with the same
// stages each keeping a map (three lookups per item); lookups/item counts
// the pipeline's calls of Config.Key and the stages' map lookups.
func BenchmarkKeyedChain(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("SYM%04d", i)
	}
	var lookups int64 // one worker: only its goroutine counts
	for _, tc := range []struct {
		name   string
		stages []func() pipeline.Stage[item]
	}{
		{"keyed", []func() pipeline.Stage[item]{keyedSum(), keyedCount(), keyedMax()}},
		{"maps", mappedChain(&lookups)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			lookups = 0
			p := pipeline.New(pipeline.Config[item]{Key: func(it item) string { lookups++; return it.Key }}).
				From("src", pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
					for i := range b.N {
						if err := out.Emit(item{Key: keys[i%len(keys)], N: i / len(keys)}); err != nil {
							return err
						}
					}
					return nil
				}))
			for i, s := range tc.stages {
				p.Then(fmt.Sprint("s", i), s)
			}
			p.To("sink", pipeline.SinkFunc[item](func(context.Context, []item) error { return nil }))
			b.ResetTimer()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(lookups)/float64(b.N), "lookups/item")
		})
	}
}
