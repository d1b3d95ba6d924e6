package sources

import (
	"context"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Slice is a source that emits its items in order: an in-memory source for
// tests and benchmarks.
//
//	src := sources.Slice[market.Event](events)
type Slice[T any] []T

// Produce emits every item of s, in order.
func (s Slice[T]) Produce(ctx context.Context, out pipeline.Emitter[T]) error {
	for i, item := range s {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := out.Emit(item); err != nil {
			return emitErr(ctx, err)
		}
	}
	return nil
}

// BarSlice is a source that emits an event for each of its bars, in order.
type BarSlice []market.Bar

// Produce emits market.Event{Bar: b} for every bar b of s, in order.
func (s BarSlice) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	for i := range s {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := out.Emit(market.Event{Bar: s[i]}); err != nil {
			return emitErr(ctx, err)
		}
	}
	return nil
}
