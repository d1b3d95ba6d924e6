package pipeline

import (
	"context"
	"hash/maphash"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// batch is what travels through an edge channel: items with the sequence
// number each inherited from the source item it came from, and a watermark.
//
// mark = m promises that the sender will send nothing more with a sequence
// number <= m to this receiver. Receivers merge their inputs by sequence
// number with these promises, so the sink sees items in source order whatever
// the number of workers: concurrent output equals sequential output.
type batch[T any] struct {
	items []T
	seqs  []uint64
	mark  uint64
}

const endMark = math.MaxUint64

// pool recycles batches of one pipeline; a batch has one owner at a time.
type pool[T any] struct {
	p    sync.Pool
	size int
}

func newPool[T any](size int) *pool[T] {
	bp := &pool[T]{size: size}
	bp.p.New = func() any {
		return &batch[T]{items: make([]T, 0, size), seqs: make([]uint64, 0, size)}
	}
	return bp
}

func (bp *pool[T]) get() *batch[T] { return bp.p.Get().(*batch[T]) }

func (bp *pool[T]) put(b *batch[T]) {
	clear(b.items) // drop references held by the items
	b.items, b.seqs, b.mark = b.items[:0], b.seqs[:0], 0
	bp.p.Put(b)
}

// edge is the set of channels between the workers of one node and the
// workers of the next: ch[consumer][producer]. One channel per pair keeps
// each producer's stream FIFO and lets a consumer wait on exactly the input
// it needs next.
type edge[T any] struct {
	name     string
	ch       [][]chan *batch[T]
	overflow Overflow
	st       *stats // of the consumer: queued and dropped items
}

func newEdge[T any](name string, producers, consumers, buffer int, overflow Overflow, st *stats) *edge[T] {
	e := &edge[T]{name: name, overflow: overflow, st: st, ch: make([][]chan *batch[T], consumers)}
	for c := range e.ch {
		e.ch[c] = make([]chan *batch[T], producers)
		for p := range e.ch[c] {
			e.ch[c][p] = make(chan *batch[T], buffer)
		}
	}
	return e
}

// router is one producer's side of an edge: it batches items per consumer,
// routes them by key and applies the edge's overflow policy. It belongs to
// the producer's goroutine.
type router[T any] struct {
	e        *edge[T]
	pool     *pool[T]
	obs      Observer
	producer int
	key      func(T) string
	seed     maphash.Seed
	size     int

	pend []*batch[T] // per consumer, nil when empty
	sent []uint64    // mark last sent per consumer
	mark uint64      // nothing more with seq <= mark will be routed
	out  int         // items routed since the last report
	// published, when set, counts routed items for Stats as batches leave
	// (the source's counter; stages publish through observe).
	published *atomic.Int64
	ctx       context.Context
	// timed, when set, adds the time spent waiting for room to blocked, so
	// that a worker's busy time leaves it out. Only the slow path pays.
	timed   bool
	blocked time.Duration
	// countRejected counts an item push refuses (the run was aborted) as
	// discarded: set for a worker, whose input the source saw accepted.
	countRejected bool

	cases []reflect.SelectCase // scratch of waitAny
	owed  []int
	owedN []int64
}

func newRouter[T any](e *edge[T], bp *pool[T], obs Observer, producer int, key func(T) string, seed maphash.Seed, size int) *router[T] {
	n := len(e.ch)
	return &router[T]{e: e, pool: bp, obs: obs, producer: producer, key: key, seed: seed, size: size,
		pend: make([]*batch[T], n), sent: make([]uint64, n)}
}

func (r *router[T]) route(item T) int {
	if len(r.pend) == 1 {
		return 0
	}
	return int(maphash.String(r.seed, r.key(item)) % uint64(len(r.pend)))
}

// push adds item to its consumer's batch and sends the batch once full.
func (r *router[T]) push(item T, seq uint64) error {
	c := r.route(item)
	b := r.pend[c]
	if b == nil {
		b = r.pool.get()
		r.pend[c] = b
	}
	b.items = append(b.items, item)
	b.seqs = append(b.seqs, seq)
	r.out++
	if len(b.items) >= r.size {
		if err := r.send(c); err != nil {
			// Not accepted: the caller is told so, and the drain must not
			// deliver it behind the caller's back.
			if b := r.pend[c]; b != nil && len(b.items) > 0 {
				var zero T
				b.items[len(b.items)-1] = zero
				b.items, b.seqs = b.items[:len(b.items)-1], b.seqs[:len(b.seqs)-1]
			}
			r.out--
			if r.countRejected {
				// A stage's output: its input was accepted, so the abort
				// discards it.
				r.e.st.discarded.Add(1)
			}
			return err
		}
	}
	return nil
}

// send hands consumer c its pending batch, stamped with the current mark.
func (r *router[T]) send(c int) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.published != nil && r.out > 0 {
		r.published.Add(int64(r.out))
		r.out = 0
	}
	b := r.take(c)
	if r.offer(c, b) {
		return nil
	}
	switch r.e.overflow {
	case DropNewest:
		// The batch is lost but its promise is kept: the next batch to c
		// carries a mark at least as high.
		r.drop(b)
		return nil
	case DropOldest:
		ch := r.e.ch[c][r.producer]
		for !r.offer(c, b) {
			select {
			case old := <-ch:
				r.e.st.queued.Add(-int64(len(old.items)))
				r.drop(old)
			default:
			}
		}
		return nil
	}
	r.pend[c] = b
	if len(r.pend) == 1 {
		return r.wait(c)
	}
	return r.waitAny(c)
}

// wait sends consumer c's pending batch, waiting for room until r.ctx is
// done; then the batch stays pending so that the drain can still send it.
func (r *router[T]) wait(c int) error {
	if r.timed {
		defer r.timeBlocked(time.Now())
	}
	b := r.pend[c]
	mark, n := b.mark, int64(len(b.items))
	select {
	case r.e.ch[c][r.producer] <- b:
		r.sentTo(c, mark, n)
		r.pend[c] = nil
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

// waitAny sends consumer c's pending batch and, while it waits for room,
// whatever any other consumer is owed (its pending items or the current
// mark), to whichever has room first. Waiting on c alone could deadlock: the
// sink may be waiting for another worker's promise, which that worker can
// only give once it hears from this producer.
func (r *router[T]) waitAny(c int) error {
	if r.timed {
		defer r.timeBlocked(time.Now())
	}
	defer func() {
		// Announcements that found no room are not needed any more.
		for o, b := range r.pend {
			if b != nil && len(b.items) == 0 && o != c {
				r.pool.put(b)
				r.pend[o] = nil
			}
		}
	}()
	for r.pend[c] != nil {
		r.cases = append(r.cases[:0], reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(r.ctx.Done())})
		r.owed, r.owedN = r.owed[:0], r.owedN[:0]
		for o := range r.pend {
			if o != c && r.pend[o] == nil && r.sent[o] >= r.mark {
				continue
			}
			if r.pend[o] == nil {
				r.pend[o] = r.pool.get()
			}
			r.pend[o].mark = r.mark
			r.cases = append(r.cases, reflect.SelectCase{Dir: reflect.SelectSend,
				Chan: reflect.ValueOf(r.e.ch[o][r.producer]), Send: reflect.ValueOf(r.pend[o])})
			r.owed = append(r.owed, o)
			r.owedN = append(r.owedN, int64(len(r.pend[o].items)))
		}
		chosen, _, _ := reflect.Select(r.cases)
		if chosen == 0 {
			return r.ctx.Err()
		}
		o := r.owed[chosen-1]
		r.sentTo(o, r.mark, r.owedN[chosen-1])
		r.pend[o] = nil
	}
	return nil
}

func (r *router[T]) timeBlocked(since time.Time) { r.blocked += time.Since(since) }

// take removes consumer c's pending batch (an empty one when there is none)
// and stamps it with the current mark.
func (r *router[T]) take(c int) *batch[T] {
	b := r.pend[c]
	r.pend[c] = nil
	if b == nil {
		b = r.pool.get()
	}
	b.mark = r.mark
	return b
}

// offer sends b to c if there is room right now.
func (r *router[T]) offer(c int, b *batch[T]) bool {
	// Read b before sending: once sent, the consumer owns and recycles it.
	mark, n := b.mark, int64(len(b.items))
	select {
	case r.e.ch[c][r.producer] <- b:
		r.sentTo(c, mark, n)
		return true
	default:
		return false
	}
}

func (r *router[T]) sentTo(c int, mark uint64, n int64) {
	r.sent[c] = mark
	r.e.st.queued.Add(n)
}

func (r *router[T]) drop(b *batch[T]) {
	n := len(b.items)
	if n > 0 {
		r.e.st.dropped.Add(int64(n))
		if r.obs != nil {
			r.obs.Dropped(r.e.name, n)
		}
	}
	r.pool.put(b)
}

// flush sends every pending batch, and the current mark to every consumer
// that has not heard it yet.
func (r *router[T]) flush() error {
	for c := range r.pend {
		if r.pend[c] != nil || r.sent[c] < r.mark {
			if err := r.send(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// offerAll sends every pending batch, and the current mark, to each
// consumer that has room now; it never waits. It reports whether something
// is still owed.
func (r *router[T]) offerAll() (owed bool) {
	if r.ctx.Err() != nil {
		return false
	}
	if r.published != nil && r.out > 0 {
		r.published.Add(int64(r.out))
		r.out = 0
	}
	for c := range r.pend {
		if r.pend[c] == nil && r.sent[c] >= r.mark {
			continue
		}
		if b := r.take(c); !r.offer(c, b) {
			r.pend[c] = b
			owed = true
		}
	}
	return owed
}

// discardPending counts the pending batches, which will never be sent, as
// discarded.
func (r *router[T]) discardPending() {
	for c, b := range r.pend {
		if b != nil {
			r.e.st.discarded.Add(int64(len(b.items)))
			r.pool.put(b)
			r.pend[c] = nil
		}
	}
}

// discardQueued empties the edge's channels after an abort, counting their
// items as discarded. Their consumers have stopped (or are abandoned and
// will take nothing more).
func discardQueued[T any](e *edge[T]) {
	for _, row := range e.ch {
		for _, ch := range row {
			for more := true; more; {
				select {
				case b, open := <-ch:
					if !open {
						more = false
						break
					}
					n := int64(len(b.items))
					e.st.queued.Add(-n)
					e.st.discarded.Add(n)
				default:
					more = false
				}
			}
		}
	}
}

// close ends this producer's streams: the pipeline, not the component,
// closes every channel, once its only writer is done.
func (r *router[T]) close() {
	for c := range r.e.ch {
		close(r.e.ch[c][r.producer])
	}
}

// merge is one consumer's side of an edge: it yields the items of all its
// producers in sequence order.
type merge[T any] struct {
	e    *edge[T]
	pool *pool[T]
	ins  []chan *batch[T]
	cur  []*batch[T]
	pos  []int
	mark []uint64
	done []bool
	// retired is the last exhausted batch, kept until the caller is done
	// with the item next returned from it.
	retired *batch[T]
	// timed, when set, adds the time spent waiting for input to waited.
	timed  bool
	waited time.Duration
}

func newMerge[T any](e *edge[T], bp *pool[T], consumer int) *merge[T] {
	n := len(e.ch[consumer])
	return &merge[T]{e: e, pool: bp, ins: e.ch[consumer],
		cur: make([]*batch[T], n), pos: make([]int, n), mark: make([]uint64, n), done: make([]bool, n)}
}

// next returns the next item in sequence order, valid until the next call.
// It calls idle before it blocks, so that the caller can flush its output.
// ok is false once every producer has finished.
func (m *merge[T]) next(ctx context.Context, idle func() error) (item *T, seq uint64, ok bool, err error) {
	if m.retired != nil {
		m.pool.put(m.retired)
		m.retired = nil
	}
	for {
		best, bestKey, bestHas := -1, uint64(endMark), false
		for i := range m.ins {
			var k uint64
			has := m.cur[i] != nil
			switch {
			case has:
				k = m.cur[i].seqs[m.pos[i]]
			case m.done[i] || m.mark[i] == endMark:
				continue
			default:
				k = m.mark[i] + 1
			}
			if best < 0 || k < bestKey || (k == bestKey && has && !bestHas) {
				best, bestKey, bestHas = i, k, has
			}
		}
		if best < 0 {
			return nil, 0, false, nil
		}
		if bestHas {
			b := m.cur[best]
			p := m.pos[best]
			m.pos[best]++
			if m.pos[best] == len(b.items) {
				m.retire(best)
			}
			return &b.items[p], b.seqs[p], true, nil
		}
		if err := idle(); err != nil {
			return nil, 0, false, err
		}
		if err := m.receive(ctx, best); err != nil {
			return nil, 0, false, err
		}
	}
}

// retire takes input i's exhausted batch out of the merge, keeping its
// promise.
func (m *merge[T]) retire(i int) {
	b := m.cur[i]
	m.cur[i] = nil
	if b.mark > m.mark[i] {
		m.mark[i] = b.mark
	}
	m.e.st.queued.Add(-int64(len(b.items)))
	m.retired = b
}

func (m *merge[T]) receive(ctx context.Context, i int) error {
	// Try first without waiting: only a real wait is timed, as two clock
	// reads per batch would cost small batches more than the batch itself.
	select {
	case b, open := <-m.ins[i]:
		m.got(i, b, open)
		return nil
	default:
	}
	if m.timed {
		defer m.timeWaited(time.Now())
	}
	select {
	case b, open := <-m.ins[i]:
		m.got(i, b, open)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// got takes in the batch b received from input i (open false: i has ended).
func (m *merge[T]) got(i int, b *batch[T], open bool) {
	if !open {
		m.done[i] = true
		return
	}
	if len(b.items) == 0 {
		if b.mark > m.mark[i] {
			m.mark[i] = b.mark
		}
		m.pool.put(b)
		return
	}
	m.cur[i], m.pos[i] = b, 0
}

// discardCurrent counts the items of the batches being read that next has
// not returned as discarded, after an abort.
func (m *merge[T]) discardCurrent() {
	for i, b := range m.cur {
		if b != nil {
			m.e.st.queued.Add(-int64(len(b.items)))
			m.e.st.discarded.Add(int64(len(b.items) - m.pos[i]))
			m.cur[i] = nil
		}
	}
}

func (m *merge[T]) timeWaited(since time.Time) { m.waited += time.Since(since) }

// frontier is the highest seq such that every item up to it has been
// returned by next: the promise a worker may forward downstream.
func (m *merge[T]) frontier() uint64 {
	f := uint64(endMark)
	for i := range m.ins {
		var k uint64
		switch {
		case m.cur[i] != nil:
			k = m.cur[i].seqs[m.pos[i]] - 1
		case m.done[i]:
			continue
		default:
			k = m.mark[i]
		}
		if k < f {
			f = k
		}
	}
	return f
}
