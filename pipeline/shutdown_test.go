package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/pipeline"
)

// A live source that waits for input without calling Flush: a linger sends
// its item on, instead of holding it until the source ends.
func TestLingerSendsWhatALiveSourceHolds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		linger  time.Duration
		workers int
		want    time.Duration // when the item reaches the sink
	}{
		{"5ms", 5 * time.Millisecond, 1, 5 * time.Millisecond},
		{"40ms", 40 * time.Millisecond, 1, 40 * time.Millisecond},
		{"40ms, two workers", 40 * time.Millisecond, 2, 40 * time.Millisecond},
		{"none (the default): held until the source ends", 0, 1, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				start := time.Now()
				src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
					if err := out.Emit(item{Key: "k"}); err != nil {
						return err
					}
					<-ctx.Done() // the feed is quiet; no Flush
					return ctx.Err()
				})
				var arrived []time.Duration
				sink := pipeline.SinkFunc[item](func(_ context.Context, items []item) error {
					for range items {
						arrived = append(arrived, time.Since(start))
					}
					return nil
				})
				p := pipeline.New(pipeline.Config[item]{Workers: tc.workers, Key: itemKey, Linger: tc.linger}).
					From("feed", src).Then("sum", newRunningSum).To("sink", sink)
				require.ErrorIs(t, p.Run(ctx), context.DeadlineExceeded)
				assert.Equal(t, []time.Duration{tc.want}, arrived)
			})
		})
	}
}

// stuckSink blocks its first Write until released, ignoring its context.
type stuckSink struct {
	release chan struct{}
	writes  atomic.Int32
	closed  atomic.Bool
}

func (s *stuckSink) Write(_ context.Context, items []item) error {
	if s.writes.Add(1) == 1 {
		<-s.release
	}
	return nil
}

func (s *stuckSink) Close() error { s.closed.Store(true); return nil }

func TestShutdownIsBoundedWhateverTheComponentsDo(t *testing.T) {
	const timeout = 5 * time.Second
	t.Run("sink ignores its context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var emitted atomic.Int64
			src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
				for i := 0; ; i++ {
					if err := out.Emit(item{Key: "k", N: i}); err != nil {
						return err
					}
					emitted.Add(1)
				}
			})
			sink := &stuckSink{release: make(chan struct{})}
			p := pipeline.New(pipeline.Config[item]{BatchSize: 10, Buffer: 2, DrainTimeout: timeout}).
				From("feed", src).Then("sum", newRunningSum).To("out", sink)
			start := time.Now()
			err := p.Run(ctx)
			assert.Equal(t, time.Minute+timeout, time.Since(start), "Run returns when the drain timeout is over")
			var ae *pipeline.AbortError
			require.ErrorAs(t, err, &ae)
			assert.ErrorIs(t, err, pipeline.ErrDrainTimeout)
			assert.NotErrorIs(t, err, context.DeadlineExceeded, "not a clean stop")
			assert.Equal(t, []string{"sink out (*pipeline_test.stuckSink)"}, ae.Stuck)
			assert.Contains(t, err.Error(), "sink out (*pipeline_test.stuckSink) did not stop within 5s")
			st := p.Stats()
			// Every accepted item is in the stuck Write (one batch) or counted.
			assert.Equal(t, emitted.Load()-10, ae.Discarded)
			assert.Equal(t, ae.Discarded, st[0].Discarded+st[2].Discarded)
			assert.Positive(t, st[2].Discarded)
			assert.Zero(t, st[0].Queued+st[2].Queued)

			// Released, the abandoned sink gets no further Write, only Close.
			close(sink.release)
			synctest.Wait()
			assert.Equal(t, int32(1), sink.writes.Load())
			assert.True(t, sink.closed.Load())
		})
	})
	t.Run("source ignores its context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			release := make(chan struct{})
			var closed atomic.Bool
			src := &closingSource{close: func() error { closed.Store(true); return nil },
				SourceFunc: func(ctx context.Context, out pipeline.Emitter[item]) error {
					for i := range 25 {
						if err := out.Emit(item{Key: "k", N: i}); err != nil {
							return err
						}
					}
					if err := out.Flush(); err != nil {
						return err
					}
					<-release // a read that does not honour ctx
					return nil
				}}
			var c collect
			p := pipeline.New(pipeline.Config[item]{BatchSize: 10, DrainTimeout: timeout}).
				From("feed", src).Then("sum", newRunningSum).To("out", &c)
			start := time.Now()
			err := p.Run(ctx)
			assert.Equal(t, time.Minute+timeout, time.Since(start))
			var ae *pipeline.AbortError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, []string{"source feed (*pipeline_test.closingSource)"}, ae.Stuck)
			assert.Contains(t, err.Error(), "drain did not finish within 4s")
			assert.Zero(t, ae.Discarded)
			assert.Len(t, c.items, 25, "what the source emitted was delivered while it hung")
			close(release)
			synctest.Wait()
			assert.True(t, closed.Load())
		})
	})
	t.Run("stage ignores its context after a fatal error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			boom := errors.New("feed lost")
			release := make(chan struct{})
			src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
				for i := range 100 {
					if err := out.Emit(item{Key: "k", N: i}); err != nil {
						return err
					}
				}
				if err := out.Flush(); err != nil {
					return err
				}
				time.Sleep(time.Second)
				return boom
			})
			calls := 0
			hang := func() pipeline.Stage[item] {
				return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
					calls++
					if calls == 1 {
						<-release
					}
					return out.Emit(it)
				})
			}
			p := pipeline.New(pipeline.Config[item]{BatchSize: 10, Buffer: 20, DrainTimeout: timeout}).
				From("feed", src).Then("hang", hang).To("out", &collect{})
			start := time.Now()
			err := p.Run(context.Background())
			assert.Equal(t, time.Second+timeout, time.Since(start), "Run returns the drain timeout after the fatal error")
			require.ErrorIs(t, err, boom)
			var ae *pipeline.AbortError
			require.ErrorAs(t, err, &ae)
			assert.Regexp(t, `^stage hang \(worker 0, pipeline\.StageFunc\[.*item\]\)$`, ae.Stuck[0])
			assert.Equal(t, int64(90), ae.Discarded, "nine batches queued behind the stuck one")
			close(release)
			synctest.Wait()
			assert.Equal(t, 1, calls, "the abandoned stage got no further item")
		})
	})
	t.Run("the bound of a fatal error stands when ctx is done later", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			boom := errors.New("feed lost")
			src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
				if err := out.Emit(item{Key: "k"}); err != nil {
					return err
				}
				if err := out.Flush(); err != nil {
					return err
				}
				time.Sleep(time.Second)
				return boom
			})
			sink := &stuckSink{release: make(chan struct{})}
			p := pipeline.New(pipeline.Config[item]{DrainTimeout: timeout}).From("feed", src).To("out", sink)
			start := time.Now()
			err := p.Run(ctx)
			assert.Equal(t, time.Second+timeout, time.Since(start))
			require.ErrorIs(t, err, boom)
			close(sink.release)
			synctest.Wait()
		})
	})
	t.Run("stage calls runtime.Goexit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			exit := func() pipeline.Stage[item] {
				return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
					if it.N == 50 {
						runtime.Goexit()
					}
					return out.Emit(it)
				})
			}
			_, err := run(t, keyed(4, 100), 2, pipeline.Config[item]{}, exit)
			require.ErrorIs(t, err, pipeline.ErrGoexit)
			assert.Contains(t, err.Error(), "stage0 (worker ")
		})
	})
}

type closingSource struct {
	pipeline.SourceFunc[item]
	close func() error
}

func (s *closingSource) Close() error { return s.close() }

// Whatever the moment of the abort, every item the source emitted is either
// delivered or counted as discarded.
func TestAbortAccountsForEveryItem(t *testing.T) {
	boom := errors.New("feed lost")
	for _, workers := range []int{1, 3} {
		for range 20 {
			src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
				for i := range 2005 {
					if err := out.Emit(item{Key: fmt.Sprint("k", i%7), N: i}); err != nil {
						return err
					}
				}
				return boom // with 5 items still in the source's batch
			})
			var c collect
			p := pipeline.New(pipeline.Config[item]{Workers: workers, Key: itemKey, BatchSize: 10, Buffer: 4}).
				From("feed", src).Then("sum", newRunningSum).To("out", &c)
			err := p.Run(context.Background())
			require.ErrorIs(t, err, boom)
			var discarded int64
			if ae := (*pipeline.AbortError)(nil); errors.As(err, &ae) {
				discarded = ae.Discarded
				assert.Contains(t, err.Error(), fmt.Sprintf("; %d queued items discarded", discarded))
			}
			if workers == 1 {
				// One batch of 10 per send: the last 5 are never sent. (With
				// more workers, a blocked send also sends other workers'
				// partial batches.)
				assert.GreaterOrEqual(t, discarded, int64(5))
			}
			assert.Equal(t, int64(2005), int64(len(c.items))+discarded, "workers=%d", workers)
			st := p.Stats()
			assert.Equal(t, discarded, st[0].Discarded+st[2].Discarded)
		}
	}
}

func TestGoexitInSourceOrSinkAbortsAndCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var closed atomic.Int32
		src := &closingSource{close: func() error { closed.Add(1); return nil },
			SourceFunc: func(ctx context.Context, out pipeline.Emitter[item]) error { runtime.Goexit(); return nil }}
		err := pipeline.New(pipeline.Config[item]{}).From("feed", src).To("out", &collect{}).Run(context.Background())
		require.ErrorIs(t, err, pipeline.ErrGoexit)
		assert.Contains(t, err.Error(), "source feed: called runtime.Goexit")

		sink := &stuckSink{release: make(chan struct{})}
		exit := pipeline.SinkFunc[item](func(context.Context, []item) error { runtime.Goexit(); return nil })
		err = pipeline.New(pipeline.Config[item]{}).From("feed", keyed(2, 10)).
			To("out", closingSink{exit, sink}).Run(context.Background())
		require.ErrorIs(t, err, pipeline.ErrGoexit)
		assert.Contains(t, err.Error(), "sink out: called runtime.Goexit")
		assert.Equal(t, int32(1), closed.Load())
		assert.True(t, sink.closed.Load())
	})
}

type closingSink struct {
	pipeline.SinkFunc[item]
	c *stuckSink
}

func (s closingSink) Close() error { return s.c.Close() }
