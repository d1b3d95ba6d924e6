package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/pipeline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type item struct {
	Key string
	N   int // position within its key
	Sum int // running sum of N per key, filled by the stage
}

func itemKey(it item) string { return it.Key }

// keyed emits n items for each of keys keys, interleaved.
func keyed(keys, n int) pipeline.Source[item] {
	return pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
		for i := range n {
			for k := range keys {
				if err := out.Emit(item{Key: fmt.Sprintf("k%03d", k), N: i}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// runningSum is a stateful per-key stage: it needs every item of its key, in order.
type runningSum struct{ sums map[string]int }

func newRunningSum() pipeline.Stage[item] { return &runningSum{sums: map[string]int{}} }

func (s *runningSum) Process(_ context.Context, it item, out pipeline.Emitter[item]) error {
	s.sums[it.Key] += it.N
	it.Sum = s.sums[it.Key]
	return out.Emit(it)
}

type collect struct {
	mu    sync.Mutex
	items []item
}

func (c *collect) Write(_ context.Context, items []item) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = append(c.items, items...)
	return nil
}

func run(t *testing.T, src pipeline.Source[item], workers int, cfg pipeline.Config[item], stages ...func() pipeline.Stage[item]) ([]item, error) {
	t.Helper()
	cfg.Key = itemKey
	cfg.Workers = workers
	p := pipeline.New(cfg).From("src", src)
	for i, s := range stages {
		p.Then(fmt.Sprintf("stage%d", i), s)
	}
	var c collect
	p.To("sink", &c)
	err := p.Run(context.Background())
	return c.items, err
}

func TestParallelOutputEqualsSequential(t *testing.T) {
	for _, tc := range []struct {
		name        string
		keys, n     int
		workers     []int
		batch, buff int
	}{
		{"many keys", 50, 200, []int{2, 3, 8}, 0, 0},
		{"one key", 1, 1000, []int{4}, 0, 0},
		{"tiny batches and buffers", 7, 300, []int{2, 5}, 1, 1},
		{"odd batch", 13, 97, []int{3}, 5, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pipeline.Config[item]{BatchSize: tc.batch, Buffer: tc.buff}
			want, err := run(t, keyed(tc.keys, tc.n), 1, cfg, newRunningSum, newRunningSum)
			require.NoError(t, err)
			require.Len(t, want, tc.keys*tc.n)
			for _, w := range tc.workers {
				got, err := run(t, keyed(tc.keys, tc.n), w, cfg, newRunningSum, newRunningSum)
				require.NoError(t, err)
				require.Equal(t, want, got, "workers=%d", w)
			}
			// Source order reached the sink, and per key the state saw every item.
			next := map[string]int{}
			for _, it := range want {
				require.Equal(t, next[it.Key], it.N)
				next[it.Key]++
				require.Equal(t, it.N*(it.N+1)/2, it.Sum)
			}
		})
	}
}

func TestFilteringStageKeepsOrder(t *testing.T) {
	// A stage that emits rarely (a strategy) must not stall the ordered merge.
	odd := func() pipeline.Stage[item] {
		return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
			if it.N%37 == 0 && it.Key != "k001" {
				return out.Emit(it)
			}
			return nil
		})
	}
	want, err := run(t, keyed(10, 500), 1, pipeline.Config[item]{}, odd)
	require.NoError(t, err)
	got, err := run(t, keyed(10, 500), 4, pipeline.Config[item]{}, odd)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Len(t, got, 9*14)
}

func TestKeyFailureIsIsolated(t *testing.T) {
	boom := errors.New("bad row")
	src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
		for i := range 100 {
			for _, k := range []string{"a", "b", "c"} {
				if k == "b" && i == 40 {
					out.Fail("b", boom)
				}
				if err := out.Emit(item{Key: k, N: i}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	failAt := func() pipeline.Stage[item] {
		return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
			if it.Key == "c" && it.N == 70 {
				out.Fail(it.Key, fmt.Errorf("n=%d: %w", it.N, boom))
				return nil
			}
			return out.Emit(it)
		})
	}
	got, err := run(t, src, 2, pipeline.Config[item]{}, failAt)
	var f pipeline.Failures
	require.ErrorAs(t, err, &f)
	assert.Equal(t, []string{"b", "c"}, f.Keys())
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, "src", f[0].Stage)
	assert.Equal(t, "stage0", f[1].Stage)
	counts := map[string]int{}
	for _, it := range got {
		counts[it.Key]++
	}
	// Everything accepted before the failure is kept; nothing after it.
	assert.Equal(t, map[string]int{"a": 100, "b": 40, "c": 70}, counts)
}

func TestPanicBecomesErrorWithStack(t *testing.T) {
	bad := func() pipeline.Stage[item] {
		return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
			if it.N == 3 {
				panic("indicator exploded")
			}
			return out.Emit(it)
		})
	}
	_, err := run(t, keyed(4, 1000), 2, pipeline.Config[item]{}, bad)
	var pe *pipeline.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "stage0", pe.Component)
	assert.Contains(t, string(pe.Stack), "pipeline_test.go")
}

func TestFatalErrorStopsEverything(t *testing.T) {
	boom := errors.New("sink is gone")
	p := pipeline.New(pipeline.Config[item]{Key: itemKey, Workers: 3}).
		From("src", endless()).
		Then("pass", newRunningSum).
		To("sink", pipeline.SinkFunc[item](func(context.Context, []item) error { return boom }))
	err := p.Run(context.Background())
	require.ErrorIs(t, err, boom)
	assert.True(t, strings.HasPrefix(err.Error(), "sink: "), err.Error())
}

// endless emits until cancelled.
func endless() pipeline.Source[item] {
	return pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
		for i := 0; ; i++ {
			if err := out.Emit(item{Key: fmt.Sprintf("k%d", i%5), N: i / 5}); err != nil {
				return err
			}
		}
	})
}

func TestCancelDrainsAndFlushes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var emitted int
	src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
		for i := 0; ; i++ {
			if i == 5000 {
				cancel() // like SIGINT in the middle of a run
			}
			if err := out.Emit(item{Key: fmt.Sprintf("k%d", i%7), N: i / 7}); err != nil {
				return err
			}
			emitted++
		}
	})
	sink := &flushing{}
	p := pipeline.New(pipeline.Config[item]{Key: itemKey, Workers: 2, BatchSize: 16, Buffer: 2}).
		From("src", src).
		Then("sum", newRunningSum).
		To("sink", sink)
	err := p.Run(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, sink.flushed)
	// Every item the source emitted reached the sink, none twice.
	assert.Len(t, sink.items, emitted)
	assert.GreaterOrEqual(t, emitted, 5000)
}

type flushing struct {
	collect
	flushed bool
}

func (f *flushing) Flush(context.Context) error { f.flushed = true; return nil }

func TestOverflowPolicies(t *testing.T) {
	for _, policy := range []pipeline.Overflow{pipeline.DropOldest, pipeline.DropNewest} {
		t.Run(policy.String(), func(t *testing.T) {
			release := make(chan struct{})
			const total = 2000
			src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
				defer close(release) // the slow stage may go on once the feed is done
				for i := range total {
					if err := out.Emit(item{Key: "k", N: i}); err != nil {
						return err
					}
				}
				return nil
			})
			slow := func() pipeline.Stage[item] {
				first := true
				return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
					if first {
						first = false
						<-release // hold the stage until the feed has overrun its edge
					}
					return out.Emit(it)
				})
			}
			var c collect
			p := pipeline.New(pipeline.Config[item]{Key: itemKey, BatchSize: 8, Buffer: 4, Overflow: policy}).
				From("feed", src).
				Then("slow", slow).
				To("sink", &c)
			require.NoError(t, p.Run(context.Background()))
			st := p.Stats()
			dropped := st[0].Dropped
			assert.Positive(t, dropped)
			assert.Equal(t, int64(total), int64(len(c.items))+dropped, "every item delivered or counted as dropped")
			assert.True(t, slices.IsSortedFunc(c.items, func(a, b item) int { return a.N - b.N }), "no reordering")
			if policy == pipeline.DropNewest {
				assert.Equal(t, 0, c.items[0].N, "drop-newest keeps what was queued first")
			} else {
				assert.Equal(t, total-1, c.items[len(c.items)-1].N, "drop-oldest keeps the newest")
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	var c collect
	src := keyed(1, 1)
	for _, tc := range []struct {
		name string
		p    *pipeline.Pipeline[item]
		want string
	}{
		{"no source", pipeline.New(pipeline.Config[item]{}).To("s", &c), "no source"},
		{"no sink", pipeline.New(pipeline.Config[item]{}).From("a", src), "no sink"},
		{"workers without key", pipeline.New(pipeline.Config[item]{Workers: 2}).From("a", src).
			Then("b", newRunningSum).To("s", &c), "Config.Key is nil"},
		{"duplicate names", pipeline.New(pipeline.Config[item]{}).From("a", src).
			Then("a", newRunningSum).To("s", &c), `two components named "a"`},
		{"two sinks", pipeline.New(pipeline.Config[item]{}).From("a", src).To("s", &c).To("t", &c), "second sink"},
		{"negative linger", pipeline.New(pipeline.Config[item]{Linger: -time.Second}).From("a", src).To("s", &c), "negative Linger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Run(context.Background())
			require.ErrorIs(t, err, pipeline.ErrConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestStats(t *testing.T) {
	var c collect
	p := pipeline.New(pipeline.Config[item]{Key: itemKey, Workers: 2}).From("src", keyed(3, 100)).
		Then("sum", newRunningSum).To("sink", &c)
	require.NoError(t, p.Run(context.Background()))
	st := p.Stats()
	require.Len(t, st, 3)
	assert.Equal(t, int64(300), st[0].Out)
	assert.Equal(t, int64(300), st[1].In)
	assert.Equal(t, int64(300), st[1].Out)
	assert.Equal(t, int64(300), st[2].In)
	assert.Equal(t, int64(0), st[1].Queued)
	assert.Positive(t, st[1].Busy)
}

func TestDrainTimeoutAbortsAStuckDrain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stuck := make(chan struct{})
	defer close(stuck)
	src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
		if err := out.Emit(item{Key: "k"}); err != nil {
			return err
		}
		cancel() // a graceful stop, with one item in flight
		<-ctx.Done()
		return ctx.Err()
	})
	sink := pipeline.SinkFunc[item](func(ctx context.Context, _ []item) error {
		select { // a sink that cannot finish: only the abort ends it
		case <-ctx.Done():
			return ctx.Err()
		case <-stuck:
			return nil
		}
	})
	p := pipeline.New(pipeline.Config[item]{Key: itemKey, DrainTimeout: 50 * time.Millisecond}).From("src", src).To("sink", sink)
	err := p.Run(ctx)
	require.Error(t, err)
	// The last fifth of the timeout is the abort phase.
	assert.Contains(t, err.Error(), "drain did not finish within 40ms")
}
