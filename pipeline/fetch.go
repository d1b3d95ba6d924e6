package pipeline

import (
	"context"
	"fmt"

	"github.com/sourcegraph/conc/stream"
)

// DefaultFetchLimit is FetchEach's default concurrency: the ADR's
// max_concurrent_symbols.
const DefaultFetchLimit = 10

// FetchEach is a Source for per-key I/O (a symbol's history from an API or a
// database): it runs Fetch for each of Keys, at most Limit at a time, and
// emits each key's items whole, keys in the order given, so the output does
// not depend on which fetch ends first. A key whose Fetch fails is reported
// with Emitter.Fail and the other keys go on; Fetch should do its own
// retries. At most Limit keys' items are held in memory at once.
type FetchEach[T any] struct {
	Keys  []string
	Limit int // default DefaultFetchLimit
	Fetch func(ctx context.Context, key string) ([]T, error)
}

// Produce implements Source.
func (f *FetchEach[T]) Produce(ctx context.Context, out Emitter[T]) error {
	if f.Fetch == nil {
		return fmt.Errorf("%w: FetchEach without Fetch", ErrConfig)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultFetchLimit
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// conc's stream runs the fetches in parallel and their callbacks one at
	// a time, in submission order: the callbacks are the only emitters.
	s := stream.New().WithMaxGoroutines(limit)
	var emitErr error
	for _, key := range f.Keys {
		if ctx.Err() != nil {
			break
		}
		s.Go(func() stream.Callback {
			items, err := f.Fetch(ctx, key)
			return func() {
				switch {
				case emitErr != nil:
				case err != nil && ctx.Err() != nil:
					emitErr = ctx.Err()
				case err != nil:
					out.Fail(key, err)
				default:
					for _, it := range items {
						if emitErr = out.Emit(it); emitErr != nil {
							cancel()
							return
						}
					}
				}
			}
		})
	}
	s.Wait()
	if emitErr != nil {
		return emitErr
	}
	return ctx.Err()
}
