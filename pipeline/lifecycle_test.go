package pipeline_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/pipeline"
)

// closing is a stage whose Close fails (or panics) in a way that names its
// instance.
type closing struct {
	pipeline.Stage[item]
	close func() error
}

func (c *closing) Close() error { return c.close() }

func TestStageCloseErrorsAreReturned(t *testing.T) {
	boom := errors.New("cannot release the indicator cache")
	built := 0
	failing := func() pipeline.Stage[item] {
		built++
		n := built
		return &closing{Stage: pipeline.Map(func(it item) item { return it })(), close: func() error {
			if n == 2 {
				panic("close exploded")
			}
			return boom
		}}
	}
	got, err := run(t, keyed(5, 100), 2, pipeline.Config[item]{}, newRunningSum, failing)
	require.Error(t, err)
	assert.Len(t, got, 500, "the run itself completed")
	assert.ErrorIs(t, err, boom)
	var pe *pipeline.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "stage1", pe.Component)
	assert.Contains(t, err.Error(), "stage1 (worker 0): close: cannot release the indicator cache")
	assert.Contains(t, err.Error(), "stage1 (worker 1): close: stage1: panic: close exploded")
}

func TestStagesAreBuiltBeforeTheWorkersStart(t *testing.T) {
	const workers = 4
	var built []int // no lock: the constructors must run one at a time (-race checks)
	counting := func() pipeline.Stage[item] {
		built = append(built, len(built))
		return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
			if len(built) != workers {
				return errors.New("a worker processed an item before every stage was built")
			}
			return out.Emit(it)
		})
	}
	got, err := run(t, keyed(20, 50), workers, pipeline.Config[item]{}, counting)
	require.NoError(t, err)
	assert.Len(t, got, 1000)
	assert.Equal(t, []int{0, 1, 2, 3}, built)
}

func TestConstructorFailureClosesWhatWasBuilt(t *testing.T) {
	closed := 0
	n := 0
	ctor := func() pipeline.Stage[item] {
		n++
		if n == 3 {
			panic("no memory for the third")
		}
		return &closing{Stage: pipeline.Map(func(it item) item { return it })(),
			close: func() error { closed++; return nil }}
	}
	ran := false
	src := pipeline.SourceFunc[item](func(context.Context, pipeline.Emitter[item]) error { ran = true; return nil })
	p := pipeline.New(pipeline.Config[item]{Workers: 3, Key: itemKey}).From("src", src).
		Then("s", ctor).To("sink", &collect{})
	err := p.Run(context.Background())
	var pe *pipeline.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "s", pe.Component)
	assert.Contains(t, err.Error(), "s (worker 2)")
	assert.Equal(t, 2, closed, "the two instances built were closed")
	assert.False(t, ran, "the source never started")
}

// The busy time is the time spent processing: with a virtual clock, a stage
// that works 1 ms per item and a sink that works 2 ms per batch report
// exactly that, however long they wait for input or for room downstream.
func TestBusyIsProcessingTimeNotWallClock(t *testing.T) {
	for _, tc := range []struct {
		name     string
		slowSink bool // the stage's output waits for room, too
	}{{"waiting for input", false}, {"waiting for input and for the sink", true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const items = 40
				src := pipeline.SourceFunc[item](func(ctx context.Context, out pipeline.Emitter[item]) error {
					for i := range items {
						if err := out.Emit(item{Key: "k", N: i}); err != nil {
							return err
						}
						if i%10 == 9 {
							if err := out.Flush(); err != nil {
								return err
							}
							time.Sleep(time.Hour) // a quiet market: the stage waits
						}
					}
					return nil
				})
				work := func() pipeline.Stage[item] {
					return pipeline.StageFunc[item](func(_ context.Context, it item, out pipeline.Emitter[item]) error {
						time.Sleep(time.Millisecond) // the work
						return out.Emit(it)
					})
				}
				var writes int
				sink := pipeline.SinkFunc[item](func(context.Context, []item) error {
					writes++
					if tc.slowSink {
						time.Sleep(time.Minute) // the stage's output waits for room
					}
					time.Sleep(2 * time.Millisecond)
					return nil
				})
				p := pipeline.New(pipeline.Config[item]{BatchSize: 2, Buffer: 1}).From("src", src).
					Then("work", work).To("sink", sink)
				require.NoError(t, p.Run(context.Background()))
				st := p.Stats()
				assert.Equal(t, items*time.Millisecond, st[1].Busy, "stage")
				want := time.Duration(writes) * 2 * time.Millisecond
				if tc.slowSink {
					want += time.Duration(writes) * time.Minute
				}
				assert.Equal(t, want, st[2].Busy, "sink: the time in Write")
			})
		})
	}
}
