package server

import (
	"slices"
	"sync"
	"sync/atomic"
)

// maxStreamBytes bounds the encoded messages the stream keeps for clients
// that are behind: a client whose next message was let go is dropped.
const maxStreamBytes = 16 << 20

// stream is the /events broadcast: one ring of encoded messages that every
// client reads at its own pace. A publish costs the same for 1 client as for
// 500: the message is encoded once, stored once, and one channel close
// wakes the clients that wait. Clients read the ring through atomic
// pointers: no lock of theirs is one a publish waits for.
//
//	publish ──▶ ring [tail … head) ◀── client.pos (each client's next id)
//	             (full: oldest let go; a client behind tail is dropped)
type stream struct {
	ring []atomic.Pointer[message] // message id i in slot i % len(ring)
	head atomic.Uint64             // id of the next message; ids start at 1
	wake atomic.Pointer[chan struct{}]

	pubMu    sync.Mutex // serialises publishers; no client takes it
	tail     uint64     // id of the oldest message kept; under pubMu
	bytes    int        // bytes kept; under pubMu
	maxBytes int

	subMu   sync.Mutex // serialises subscribe and unsubscribe; publish does not take it
	clients atomic.Pointer[[]*client]
	max     int // subscribers allowed; 0: any

	subscribers atomic.Int64
	dropped     atomic.Int64
	sent        atomic.Int64
}

type message struct {
	id   uint64
	data []byte // never changed once published
}

// client is one /events subscriber.
type client struct {
	pos    atomic.Uint64 // id of the next message it reads
	gone   atomic.Bool   // dropped or unsubscribed
	kicked chan struct{} // closed when the stream drops it
}

func newStream(buffer, maxBytes int) *stream {
	s := &stream{ring: make([]atomic.Pointer[message], buffer), tail: 1, maxBytes: maxBytes}
	s.head.Store(1)
	wake := make(chan struct{})
	s.wake.Store(&wake)
	s.clients.Store(&[]*client{})
	return s
}

// publish appends msgs, lets go of the oldest beyond the bounds, drops the
// clients left behind, and wakes the others.
func (s *stream) publish(msgs ...[]byte) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	n := uint64(len(s.ring))
	head := s.head.Load()
	for _, m := range msgs {
		if head-s.tail == n {
			s.evictLocked()
		}
		s.ring[head%n].Store(&message{id: head, data: m})
		head++
		s.head.Store(head) // after the slot: a reader that sees head sees the message
		s.bytes += len(m)
		for s.bytes > s.maxBytes && head-s.tail > 1 {
			s.evictLocked()
		}
	}
	for _, c := range *s.clients.Load() {
		if c.pos.Load() < s.tail {
			s.drop(c)
		}
	}
	wake := make(chan struct{})
	close(*s.wake.Swap(&wake))
}

func (s *stream) evictLocked() {
	slot := &s.ring[s.tail%uint64(len(s.ring))]
	if m := slot.Load(); m != nil && m.id == s.tail {
		s.bytes -= len(m.data)
		slot.Store(nil) // let the bytes go
	}
	s.tail++
}

// drop disconnects c, counted, unless it is gone already.
func (s *stream) drop(c *client) {
	if c.gone.CompareAndSwap(false, true) {
		s.subscribers.Add(-1)
		s.dropped.Add(1)
		close(c.kicked)
	}
}

// subscribe adds a client that reads from the next message on, or returns
// nil when the stream has its maximum of clients.
func (s *stream) subscribe() *client {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	if s.max > 0 && s.subscribers.Load() >= int64(s.max) {
		return nil
	}
	c := &client{kicked: make(chan struct{})}
	c.pos.Store(s.head.Load())
	cs := append(slices.Clip(*s.clients.Load()), c) // a fresh array: publishers may be reading the old one
	s.clients.Store(&cs)
	s.subscribers.Add(1)
	return c
}

// unsubscribe removes c; it is counted as dropped only if the stream
// dropped it before.
func (s *stream) unsubscribe(c *client) {
	if c.gone.CompareAndSwap(false, true) {
		s.subscribers.Add(-1)
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	cs := slices.DeleteFunc(slices.Clone(*s.clients.Load()), func(x *client) bool { return x == c })
	s.clients.Store(&cs)
}

// read appends to into c's next messages, up to limit bytes (and at least
// one), and returns them with the channel the next publish closes; ok is
// false once c is gone. A client stuck in a write keeps its place, so it
// is dropped when the ring passes it.
func (s *stream) read(c *client, into []message, limit int) (msgs []message, wake <-chan struct{}, ok bool) {
	if c.gone.Load() {
		return into, nil, false
	}
	w := *s.wake.Load() // before head: a publish after this closes w
	head := s.head.Load()
	n := uint64(len(s.ring))
	pos := c.pos.Load()
	for size := 0; pos < head && (size < limit || len(into) == 0); pos++ {
		m := s.ring[pos%n].Load()
		if m == nil || m.id != pos { // let go: c fell a ring behind
			s.drop(c)
			return into, nil, false
		}
		into = append(into, *m)
		size += len(m.data)
	}
	c.pos.Store(pos)
	return into, w, true
}
