package store

import (
	"context"
	"errors"
	"time"
)

// holding keeps items back for fuller transactions, for the sinks that
// write to a database: full batches are committed at once, the rest once
// maxHold has passed since the first item held (at once when maxHold <= 0),
// or on flush.
type holding[T any] struct {
	items []T
	since time.Time
}

func (h *holding[T]) add(x T) {
	if len(h.items) == 0 {
		h.since = time.Now()
	}
	h.items = append(h.items, x)
}

// commitDue commits what is due after a Write.
func (h *holding[T]) commitDue(ctx context.Context, size int, maxHold time.Duration, commit func(context.Context, []T) error) error {
	for len(h.items) >= size {
		if err := commit(ctx, h.items[:size]); err != nil {
			return err
		}
		h.items = h.items[:copy(h.items, h.items[size:])]
		h.since = time.Now()
	}
	if len(h.items) > 0 && (maxHold <= 0 || time.Since(h.since) >= maxHold) {
		return h.flush(ctx, commit)
	}
	return nil
}

// flush commits everything held.
func (h *holding[T]) flush(ctx context.Context, commit func(context.Context, []T) error) error {
	if len(h.items) == 0 {
		return nil
	}
	if err := commit(ctx, h.items); err != nil {
		return err
	}
	h.items = h.items[:0]
	return nil
}

// flushTo commits everything held to db, named in the error when db is
// missing.
func (h *holding[T]) flushTo(ctx context.Context, db Store, name string, commit func(context.Context, []T) error) error {
	if db == nil && len(h.items) > 0 {
		return errors.New(name + ": no DB")
	}
	return h.flush(ctx, commit)
}

// orDefault is n, or def when n is not positive.
func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}
