package pipeline

import (
	"context"
	"time"
)

// Source produces the pipeline's items: it emits them through out until its
// input ends (return nil), ctx is done (return ctx.Err()) or it fails.
type Source[T any] interface {
	Produce(ctx context.Context, out Emitter[T]) error
}

// Stage handles one item at a time and emits zero or more items downstream.
type Stage[T any] interface {
	Process(ctx context.Context, item T, out Emitter[T]) error
}

// Sink consumes batches of items at the end of the pipeline; it must not keep
// or change items after Write returns.
type Sink[T any] interface {
	Write(ctx context.Context, items []T) error
}

// Flusher is implemented by a Stage or Sink that holds output back: Flush is
// called once its input has ended, also after cancellation (graceful shutdown).
type Flusher interface {
	Flush(ctx context.Context) error
}

// Closer is implemented by a component that holds resources: Close is called
// once, after the component's last call, whatever the outcome of the run.
type Closer interface {
	Close() error
}

// Emitter is how a component hands items to the pipeline. It is used by one
// goroutine at a time and only while the call that received it is running.
type Emitter[T any] interface {
	// Emit passes item downstream. It may hold the item in a batch until the
	// batch is full or Flush is called, and blocks while the edge is full
	// (unless the edge drops, see Overflow). Once the component's context is
	// done it may return that error: then item was not accepted and the
	// component should stop; what was accepted before is still delivered
	// while the pipeline drains.
	Emit(item T) error
	// Flush sends any held items now. A source that waits for outside input
	// (a live feed) calls it before waiting, so no item sits in a half-full
	// batch; the pipeline flushes after every Stage batch and at the end of
	// Produce by itself.
	Flush() error
	// Fail records err as a failure confined to key (one symbol): the
	// pipeline reports it at the end, drops the key's later items, and the
	// other keys go on. Items of key emitted before Fail are kept.
	Fail(key string, err error)
}

// Observer receives per-batch observations; the metrics exporter implements
// it. Calls come from many goroutines at once and must not block.
type Observer interface {
	// Processed reports that a stage worker (or the sink) handled in items,
	// produced out items, and spent elapsed processing them (not waiting
	// for input or for room downstream).
	Processed(stage string, in, out int, elapsed time.Duration)
	// Dropped reports n items dropped by an edge's overflow policy.
	Dropped(edge string, n int)
	// Failed reports an error confined to key.
	Failed(stage, key string, err error)
}
