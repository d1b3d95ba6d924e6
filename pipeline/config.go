package pipeline

import (
	"fmt"
	"time"
)

// Overflow is what an edge does when its buffer is full.
type Overflow uint8

const (
	// Block makes the producer wait for room: backpressure, nothing lost.
	Block Overflow = iota
	// DropOldest discards the oldest queued batch to make room: for a live
	// feed whose newest data matters most. Every dropped item is counted.
	DropOldest
	// DropNewest discards the batch being sent: the producer is never slowed
	// and what is already queued is kept. Every dropped item is counted.
	DropNewest
)

// String returns "block", "drop-oldest" or "drop-newest".
func (o Overflow) String() string {
	switch o {
	case Block:
		return "block"
	case DropOldest:
		return "drop-oldest"
	case DropNewest:
		return "drop-newest"
	}
	return fmt.Sprintf("Overflow(%d)", uint8(o))
}

// ParseOverflow is the inverse of [Overflow.String].
func ParseOverflow(s string) (Overflow, error) {
	for _, o := range []Overflow{Block, DropOldest, DropNewest} {
		if o.String() == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("pipeline: overflow %q is not block, drop-oldest or drop-newest", s)
}

// Defaults used where a Config field is zero.
const (
	DefaultBatchSize = 256
	DefaultBuffer    = 16
)

// Config configures a Pipeline. Its zero value means the defaults.
type Config[T any] struct {
	// Workers is how many goroutines run the stages (default 1). Items are
	// partitioned among them by Key: every item of a key goes to the same
	// worker, so each key keeps its order and a worker owns its keys' state.
	Workers int
	// Key partitions items among workers. It is required when Workers > 1.
	Key func(item T) string
	// KeyOf, when set, is Key read through a pointer: a worker finds the
	// per-key state of an item's chain with it, which spares copying a
	// large item once per item. It must return what Key returns.
	KeyOf func(item *T) string
	// BatchSize is how many items travel together through a channel
	// (default 256). Each batch pays for a channel operation and, often, for
	// waking the goroutine that receives it: one by one an item costs
	// 800-900 ns through a pipeline's two hops, in batches of 64 57-70 ns, of
	// 256 36-54 ns (BenchmarkPipeline, 2 cores). Batches wait only while items keep coming: a
	// source that waits for input flushes, and a worker flushes whenever it
	// is idle.
	BatchSize int
	// Buffer is how many batches each channel holds (default 16).
	Buffer int
	// Overflow is what the source's edge does when full (default Block).
	// Use a dropping policy for a live feed that cannot be slowed; the
	// workers' edge to the sink always blocks.
	Overflow Overflow
	// Observer receives per-batch observations; nil observes nothing.
	Observer Observer
	// Linger, when set, is the longest an item waits in a source's batch
	// that is not full: a goroutine sends the batch on once it has waited
	// that long. It is for a live source that waits for input without
	// calling Emitter.Flush (which pipelinetest fails); zero means none:
	// a batch waits until it is full or the source flushes or ends. Its
	// cost: one timer for the source's edge, armed once per Linger at
	// most, and a lock per Emit shared with that goroutine: 20-30 ns of
	// CPU per item on 2 cores (BenchmarkPipeline/workers=1 against
	// workers=1/linger=5ms), a third of the engine's own cost per item,
	// which is why it is not on by default.
	Linger time.Duration
	// DrainTimeout bounds a shutdown: once the context given to Run is done
	// (or a fatal error aborted the run), Run returns within this long,
	// whatever the components do. The drain gets all of it but an abort
	// phase (a fifth of it, at most a second): then the run is aborted, and
	// the components that have still not returned at the end are abandoned
	// and named in an [AbortError]. Zero means no bound: Run waits for every
	// component.
	DrainTimeout time.Duration
}
