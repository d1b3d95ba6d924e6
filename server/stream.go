package server

import (
	"sync"
	"sync/atomic"
)

// maxStreamBytes bounds the encoded messages the stream keeps for clients
// that are behind: a client whose next message was let go is dropped.
const maxStreamBytes = 16 << 20

// stream is the /events broadcast: one ring of encoded messages that every
// client reads at its own pace. A publish costs the same for 1 client as for
// 500: the message is encoded once, stored once, and one channel close
// wakes the clients that wait.
//
//	publish ──▶ ring [tail … head) ◀── client.pos (each client's next id)
//	             (full: oldest let go; a client behind tail is dropped)
type stream struct {
	mu       sync.Mutex
	ring     []message
	head     uint64 // id of the next message; ids start at 1
	tail     uint64 // id of the oldest message kept
	bytes    int    // bytes kept
	maxBytes int
	wake     chan struct{} // closed at each publish, then replaced
	clients  map[*client]struct{}
	max      int // subscribers allowed; 0: any

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
	pos    uint64        // id of the next message it reads; under stream.mu
	gone   bool          // dropped or unsubscribed; under stream.mu
	kicked chan struct{} // closed when the stream drops it
}

func newStream(buffer, maxBytes int) *stream {
	return &stream{
		ring: make([]message, buffer), head: 1, tail: 1, maxBytes: maxBytes,
		wake: make(chan struct{}), clients: map[*client]struct{}{},
	}
}

// publish appends msgs, lets go of the oldest beyond the bounds, drops the
// clients left behind, and wakes the others.
func (s *stream) publish(msgs ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint64(len(s.ring))
	for _, m := range msgs {
		if s.head-s.tail == n {
			s.evictLocked()
		}
		s.ring[s.head%n] = message{id: s.head, data: m}
		s.head++
		s.bytes += len(m)
		for s.bytes > s.maxBytes && s.head-s.tail > 1 {
			s.evictLocked()
		}
	}
	for c := range s.clients {
		if c.pos < s.tail {
			s.removeLocked(c)
			close(c.kicked)
			s.dropped.Add(1)
		}
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

func (s *stream) evictLocked() {
	slot := &s.ring[s.tail%uint64(len(s.ring))]
	s.bytes -= len(slot.data)
	*slot = message{} // let the bytes go
	s.tail++
}

// subscribe adds a client that reads from the next message on, or returns
// nil when the stream has its maximum of clients.
func (s *stream) subscribe() *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && len(s.clients) >= s.max {
		return nil
	}
	c := &client{pos: s.head, kicked: make(chan struct{})}
	s.clients[c] = struct{}{}
	s.subscribers.Add(1)
	return c
}

// unsubscribe removes c unless it was dropped already.
func (s *stream) unsubscribe(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.gone {
		s.removeLocked(c)
	}
}

// fellBehind drops c, counted, unless it is gone already: its write
// timed out.
func (s *stream) fellBehind(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.gone {
		s.removeLocked(c)
		close(c.kicked)
		s.dropped.Add(1)
	}
}

func (s *stream) removeLocked(c *client) {
	c.gone = true
	delete(s.clients, c)
	s.subscribers.Add(-1)
}

// read appends to into c's next messages, up to limit bytes (and at least
// one), and returns them with the channel the next publish closes; ok is
// false once c is gone. A client stuck in a write keeps its place, so it
// is dropped when the ring passes it.
func (s *stream) read(c *client, into []message, limit int) (msgs []message, wake <-chan struct{}, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gone {
		return into, nil, false
	}
	n := uint64(len(s.ring))
	for size := 0; c.pos < s.head && (size < limit || len(into) == 0); c.pos++ {
		m := s.ring[c.pos%n]
		into = append(into, m)
		size += len(m.data)
	}
	return into, s.wake, true
}
