package pipeline

import "context"

// KeyedStage is a Stage whose per-key state the pipeline keeps: each worker
// holds, per key, one slot for every KeyedStage of its chain, and looks an
// item's slots up once, when the item enters the chain. A chain of keyed
// stages so costs one key lookup per item, where stages that each keep a
// map by key cost one each. Make one with [Keyed].
//
// The slots are those of the key of the item that entered the chain: a
// keyed stage must get items of that key only (a stage before it must not
// emit items of other keys). A pipeline with a KeyedStage needs Config.Key.
type KeyedStage[T any] interface {
	Stage[T] // what it does outside a pipeline, keeping its own state
	// ProcessKeyed is Process with the item's key and this stage's slot
	// for that key: nil on the key's first item, then what the stage
	// stored in it. item is the pipeline's own copy, valid during the
	// call: the stage may change it and emit *item, so that a large item
	// is not copied from call to call.
	ProcessKeyed(ctx context.Context, key string, item *T, slot *any, out Emitter[T]) error
}

// KeyedFunc is the work of a [Keyed] stage: state is item's key's state;
// item, valid during the call, may be changed and emitted.
type KeyedFunc[T, S any] func(ctx context.Context, item *T, state *S, out Emitter[T]) error

// Keyed returns the constructor of a [KeyedStage] that keeps one S per key,
// made by newState(key) on the key's first item (it must not return nil),
// and calls process with it for every item. In a pipeline the states live
// in the worker's per-key slots, shared by the whole fused chain; run
// alone, the stage keeps them in its own map, by key(item).
func Keyed[T, S any](key func(T) string, newState func(key string) *S, process KeyedFunc[T, S]) func() Stage[T] {
	return func() Stage[T] {
		return &keyed[T, S]{key: key, newState: newState, process: process}
	}
}

type keyed[T, S any] struct {
	key      func(T) string
	newState func(string) *S
	process  KeyedFunc[T, S]
	own      map[string]*S // outside a pipeline only
	item     T             // Process's copy of its item (see link.emitted)
}

func (k *keyed[T, S]) Process(ctx context.Context, item T, out Emitter[T]) error {
	key := k.key(item)
	s := k.own[key]
	if s == nil {
		if k.own == nil {
			k.own = map[string]*S{}
		}
		s = k.newState(key)
		k.own[key] = s
	}
	k.item = item
	return k.process(ctx, &k.item, s, out)
}

func (k *keyed[T, S]) ProcessKeyed(ctx context.Context, key string, item *T, slot *any, out Emitter[T]) error {
	s, _ := (*slot).(*S)
	if s == nil {
		s = k.newState(key)
		*slot = s
	}
	return k.process(ctx, item, s, out)
}
