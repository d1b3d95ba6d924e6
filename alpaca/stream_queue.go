package alpaca

import (
	"sync"

	"github.com/tickflow/tickflow/market"
)

// barQueue is the bounded hand-off from the SDK's handler goroutine(s) to
// Produce. push never blocks. It also tracks gaps: stretches of a symbol's
// bars the stream may have missed, to be back-filled before that symbol's
// later live bars.
//
// The SDK runs its connect and disconnect callbacks on goroutines of their
// own, so they may run in either order: a connection counts as down while
// it has seen as many disconnects as connects, whatever their order, and a
// gap's mark is the earliest of the two callbacks of a reconnection (both
// run before the new socket's first bar in practice: they are started
// before it is read).
type barQueue struct {
	mu       sync.Mutex
	items    []qItem
	seq      uint64
	size     int
	notify   chan struct{}
	st       *streamCounters
	gap      *gapInfo
	live     map[int]bool // generations in use
	connects map[int]int
	drops    map[int]int // disconnects
}

type qItem struct {
	seq uint64
	bar market.Bar
}

type gapInfo struct {
	mark uint64          // bars queued from here on may follow the gap
	syms map[string]bool // the symbols to back-fill
}

func newBarQueue(size int, st *streamCounters) *barQueue {
	return &barQueue{size: size, notify: make(chan struct{}, 1), st: st,
		live: map[int]bool{}, connects: map[int]int{}, drops: map[int]int{}}
}

func (q *barQueue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *barQueue) push(b market.Bar) {
	q.st.received.Add(1)
	q.mu.Lock()
	if len(q.items) >= q.size {
		q.st.dropped.Add(1)
		q.addGapLocked([]string{b.Symbol})
	} else {
		q.items = append(q.items, qItem{q.seq, b})
	}
	q.seq++
	q.mu.Unlock()
	q.signal()
}

func (q *barQueue) addGapLocked(syms []string) {
	if q.gap == nil {
		q.gap = &gapInfo{mark: q.seq, syms: map[string]bool{}}
	}
	for _, s := range syms {
		q.gap.syms[s] = true
	}
}

// downLocked tells whether a connection in use is not (yet, or any more)
// connected: the gap must wait for it.
func (q *barQueue) downLocked() bool {
	for gen := range q.live {
		if q.drops[gen] >= q.connects[gen] {
			return true
		}
	}
	return false
}

// startGap opens a gap for syms that waits for generation gen to connect.
func (q *barQueue) startGap(gen int, syms []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.live[gen] = true
	q.addGapLocked(syms)
}

// lost marks syms for back-fill now (the SDK dropped a frame).
func (q *barQueue) lost(syms []string) {
	q.mu.Lock()
	q.addGapLocked(syms)
	q.mu.Unlock()
	q.signal()
}

func (q *barQueue) disconnected(gen int, syms []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.live[gen] {
		return
	}
	q.drops[gen]++
	q.addGapLocked(syms)
}

func (q *barQueue) connected(gen int, syms []string) {
	q.mu.Lock()
	if q.live[gen] {
		q.connects[gen]++
		if q.connects[gen] > 1 { // a reconnection: its disconnect may not have run yet
			q.addGapLocked(syms)
		}
	}
	q.mu.Unlock()
	q.signal()
}

// retire replaces generation old by next, for the same symbols, whose
// bars since old went away are back-filled once next connects.
func (q *barQueue) retire(old, next int, syms []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.live, old)
	q.live[next] = true
	q.addGapLocked(syms)
}

// take returns the bars that may be emitted now (reusing buf) and, when
// every connection is up, the gap to back-fill. While a connection is
// down, bars of the gap's symbols queued after its mark stay queued.
func (q *barQueue) take(buf []qItem) ([]qItem, *gapInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.gap == nil:
		items := q.items
		q.items = buf
		return items, nil
	case q.downLocked():
		keep := q.items[:0]
		for _, it := range q.items {
			if it.seq < q.gap.mark || !q.gap.syms[it.bar.Symbol] {
				buf = append(buf, it)
			} else {
				keep = append(keep, it)
			}
		}
		q.items = keep
		return buf, nil
	default:
		items, gap := q.items, q.gap
		q.items, q.gap = buf, nil
		return items, gap
	}
}
