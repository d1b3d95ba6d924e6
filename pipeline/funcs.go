package pipeline

import "context"

// SourceFunc adapts a function to a Source.
type SourceFunc[T any] func(ctx context.Context, out Emitter[T]) error

// Produce calls f.
func (f SourceFunc[T]) Produce(ctx context.Context, out Emitter[T]) error { return f(ctx, out) }

// StageFunc adapts a stateless function to a Stage.
type StageFunc[T any] func(ctx context.Context, item T, out Emitter[T]) error

// Process calls f.
func (f StageFunc[T]) Process(ctx context.Context, item T, out Emitter[T]) error {
	return f(ctx, item, out)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc[T any] func(ctx context.Context, items []T) error

// Write calls f.
func (f SinkFunc[T]) Write(ctx context.Context, items []T) error { return f(ctx, items) }

// Map returns a constructor of a Stage that emits f(item) for every item; use
// it with [Pipeline.Then] for stateless transforms.
func Map[T any](f func(T) T) func() Stage[T] {
	return func() Stage[T] {
		return StageFunc[T](func(_ context.Context, item T, out Emitter[T]) error { return out.Emit(f(item)) })
	}
}
