package sinks

import (
	"context"
	"sync/atomic"

	"github.com/tickflow/tickflow/market"
)

// Discard is a sink that drops what it is given and counts it: the end of a
// benchmark pipeline. Its counters may be read while the pipeline runs.
type Discard struct {
	items, signals atomic.Int64
}

// Write counts items and their signals.
func (d *Discard) Write(_ context.Context, items []market.Event) error {
	n := 0
	for i := range items {
		if items[i].Signal != nil {
			n++
		}
	}
	d.items.Add(int64(len(items)))
	d.signals.Add(int64(n))
	return nil
}

// Items returns how many events Write was given.
func (d *Discard) Items() int64 { return d.items.Load() }

// Signals returns how many of those events carried a signal.
func (d *Discard) Signals() int64 { return d.signals.Load() }
