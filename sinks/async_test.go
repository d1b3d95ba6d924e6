package sinks_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/sinks"
)

// recording is a sink that keeps the closes it was given; its first Write
// can be held until released, ignoring its context, like an order sink
// waiting through its retries.
type recording struct {
	mu      sync.Mutex
	closes  []float64
	started chan struct{} // closed by the first Write (when not nil)
	release chan struct{} // the first Write waits for it (when not nil)
	err     error         // returned by every Write
	closed  bool
}

func (r *recording) Write(_ context.Context, items []market.Event) error {
	r.mu.Lock()
	first := len(r.closes) == 0
	for _, e := range items {
		r.closes = append(r.closes, e.Close)
	}
	r.mu.Unlock()
	if first && r.started != nil {
		close(r.started)
		<-r.release
	}
	return r.err
}

func (r *recording) Close() error { r.closed = true; return nil }

func (r *recording) got() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]float64(nil), r.closes...)
}

func bar(i int) market.Event { return market.Event{Bar: market.Bar{Symbol: "AAPL", Close: float64(i)}} }

// feed emits bar 0 alone, waits until the slow sink is writing it, then
// emits bars 1 to n-1 as fast as the pipeline takes them.
func feed(n int, started <-chan struct{}) pipeline.Source[market.Event] {
	return pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
		if err := out.Emit(bar(0)); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		<-started
		for i := 1; i < n; i++ {
			if err := out.Emit(bar(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

func span(from, to int) []float64 {
	var s []float64
	for i := from; i < to; i++ {
		s = append(s, float64(i))
	}
	return s
}

// A slow sink behind Async in a Tee beside a fast one: under a dropping
// policy the fast sink and the source keep their rate, the queue holds
// exactly its capacity, and every other event is counted as dropped.
func TestAsyncKeepsSiblingsAtTheirRate(t *testing.T) {
	const n, capacity = 1000, 100
	for _, tc := range []struct {
		policy pipeline.Overflow
		kept   []float64 // what the slow sink gets in the end
	}{
		{pipeline.DropNewest, span(0, capacity+1)},
		{pipeline.DropOldest, append([]float64{0}, span(n-capacity, n)...)},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			slow := &recording{started: make(chan struct{}), release: make(chan struct{})}
			var drops []float64
			async := sinks.Async(slow, sinks.AsyncConfig{Capacity: capacity, Overflow: tc.policy,
				OnDrop: func(e market.Event, reason string) {
					assert.Equal(t, sinks.DiscardQueueFull, reason)
					drops = append(drops, e.Close)
				}})
			// The fast sink releases the slow one once it has every bar:
			// all of them passed while the slow sink was stuck.
			fast := &recording{}
			release := pipeline.SinkFunc[market.Event](func(ctx context.Context, items []market.Event) error {
				err := fast.Write(ctx, items)
				if len(fast.got()) == n {
					close(slow.release)
				}
				return err
			})
			p := pipeline.New(pipeline.Config[market.Event]{BatchSize: 10}).
				From("feed", feed(n, slow.started)).To("tee", sinks.Tee(async, release))
			require.NoError(t, p.Run(context.Background()))

			assert.Equal(t, span(0, n), fast.got())
			assert.Equal(t, tc.kept, slow.got())
			assert.Equal(t, sinks.AsyncStats{Written: capacity + 1, Dropped: n - 1 - capacity}, async.Stats())
			assert.Len(t, drops, n-1-capacity)
			assert.True(t, slow.closed)
		})
	}
}

// Under the Block policy a stuck sink holds the pipeline back, as
// documented: its siblings get what was queued before the queue filled.
func TestAsyncBlockBackpressures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, capacity = 1000, 100
		slow := &recording{started: make(chan struct{}), release: make(chan struct{})}
		async := sinks.Async(slow, sinks.AsyncConfig{Capacity: capacity})
		fast := &recording{}
		p := pipeline.New(pipeline.Config[market.Event]{BatchSize: 10}).
			From("feed", feed(n, slow.started)).To("tee", sinks.Tee(async, fast))
		done := make(chan error, 1)
		go func() { done <- p.Run(context.Background()) }()

		synctest.Wait() // everything is blocked behind the stuck sink
		assert.Len(t, fast.got(), 1+capacity, "bar 0, then the batches that filled the queue")
		assert.Equal(t, sinks.AsyncStats{Queued: 1 + capacity}, async.Stats(), "the queue and the batch in the stuck Write")

		close(slow.release)
		require.NoError(t, <-done)
		assert.Equal(t, span(0, n), fast.got())
		assert.Equal(t, span(0, n), slow.got())
		assert.Equal(t, sinks.AsyncStats{Written: n}, async.Stats())
	})
}

func TestAsyncConformance(t *testing.T) {
	var items []market.Event
	for i := range 40 {
		items = append(items, bar(i))
	}
	for _, policy := range []pipeline.Overflow{pipeline.Block, pipeline.DropOldest, pipeline.DropNewest} {
		t.Run(policy.String(), func(t *testing.T) {
			inner := map[pipeline.Sink[market.Event]]*recording{}
			pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] {
				r := &recording{}
				s := sinks.Async(r, sinks.AsyncConfig{Capacity: 64, BatchSize: 7, Overflow: policy})
				inner[s] = r
				return s
			}, items, func(t *testing.T, s pipeline.Sink[market.Event]) {
				assert.Equal(t, span(0, 40), inner[s].got())
			})
		})
	}
}

func TestAsyncKeepSelectsWhatIsQueued(t *testing.T) {
	inner := &recording{}
	s := sinks.Async(inner, sinks.AsyncConfig{Capacity: 2, Overflow: pipeline.DropNewest,
		Keep: func(e market.Event) bool { return e.Signal != nil }})
	var batch []market.Event
	for i := range 6 {
		e := bar(i)
		if i%2 == 1 {
			e.Signal = &market.Signal{Symbol: "AAPL", Side: market.Buy}
		}
		batch = append(batch, e)
	}
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, batch))
	require.NoError(t, s.Flush(ctx))
	require.NoError(t, s.Close())
	got := s.Stats()
	assert.Equal(t, got.Written+got.Dropped, int64(3), "only the three signals count")
	assert.Subset(t, []float64{1, 3, 5}, inner.got())
}

func TestAsyncInnerFailure(t *testing.T) {
	boom := errors.New("orders API is down")
	inner := &recording{err: boom, started: make(chan struct{}), release: make(chan struct{})}
	var discarded []string
	s := sinks.Async(inner, sinks.AsyncConfig{OnDrop: func(_ market.Event, reason string) { discarded = append(discarded, reason) }})
	ctx := context.Background()
	require.NoError(t, s.Write(ctx, []market.Event{bar(0)}))
	<-inner.started
	require.NoError(t, s.Write(ctx, []market.Event{bar(1), bar(2)}), "queued while the inner sink works")
	close(inner.release)

	err := s.Flush(ctx)
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "sinks.Async(*sinks_test.recording)")
	assert.ErrorIs(t, s.Write(ctx, []market.Event{bar(3)}), boom, "a failed sink takes nothing more")
	err = s.Close()
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "2 events discarded")
	assert.Equal(t, []string{sinks.DiscardSinkFailed, sinks.DiscardSinkFailed}, discarded)
	assert.Equal(t, sinks.AsyncStats{Discarded: 2}, s.Stats())
	assert.Equal(t, []float64{0}, inner.got(), "the inner sink got no batch after it failed")
}

// A stuck inner sink that honours its context: the pipeline's drain
// timeout bounds Flush, and Close gives up what was queued, counted.
func TestAsyncHonoursTheDrainTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		started := make(chan struct{})
		var once sync.Once
		stuck := pipeline.SinkFunc[market.Event](func(ctx context.Context, _ []market.Event) error {
			once.Do(func() { close(started) })
			<-ctx.Done()
			return ctx.Err()
		})
		var dropped int
		async := sinks.Async(stuck, sinks.AsyncConfig{OnDrop: func(_ market.Event, reason string) {
			assert.Equal(t, sinks.DiscardShutdown, reason)
			dropped++
		}})
		p := pipeline.New(pipeline.Config[market.Event]{BatchSize: 10, DrainTimeout: 5 * time.Second}).
			From("feed", feed(100, started)).To("orders", async)
		start := time.Now()
		err := p.Run(ctx)
		assert.Equal(t, time.Minute+4*time.Second, time.Since(start), "aborted after the drain phase, nothing stuck")
		require.ErrorIs(t, err, pipeline.ErrDrainTimeout)
		assert.Contains(t, err.Error(), "orders: close: sinks.Async(pipeline.SinkFunc[github.com/tickflow/tickflow/market.Event]): close: 100 events discarded")
		assert.Equal(t, sinks.AsyncStats{Discarded: 100}, async.Stats(), "99 queued, and bar 0 in the Write that Close cancelled")
		assert.Equal(t, 100, dropped)
	})
}
