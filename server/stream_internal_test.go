package server

import (
	"slices"
	"testing"
)

func ids(msgs []message) []uint64 {
	var out []uint64
	for _, m := range msgs {
		out = append(out, m.id)
	}
	return out
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestStream: every client reads every message in order at its own pace;
// one that falls a ring (or the byte bound) behind is dropped and counted;
// a publish wakes the clients waiting.
func TestStream(t *testing.T) {
	s := newStream(4, 1<<20)
	a, b := s.subscribe(), s.subscribe()
	msgs, wake, ok := s.read(a, nil, readBytes)
	if !ok || len(msgs) != 0 || isClosed(wake) {
		t.Fatalf("empty read: %v %v %v", msgs, ok, isClosed(wake))
	}
	s.publish([]byte("1"), []byte("2"), []byte("3"))
	if !isClosed(wake) {
		t.Error("publish did not wake the waiting client")
	}
	msgs, _, _ = s.read(a, nil, readBytes)
	if got := ids(msgs); !slices.Equal(got, []uint64{1, 2, 3}) || string(msgs[2].data) != "3" {
		t.Errorf("a read %v", got)
	}
	s.publish([]byte("4"), []byte("5")) // the ring of 4 lets 1 go: b, at 1, is behind
	if !isClosed(b.kicked) || s.dropped.Load() != 1 || s.subscribers.Load() != 1 {
		t.Errorf("b kicked %v, dropped %d, subscribers %d", isClosed(b.kicked), s.dropped.Load(), s.subscribers.Load())
	}
	if _, _, ok := s.read(b, nil, readBytes); ok {
		t.Error("a dropped client still reads")
	}
	msgs, _, _ = s.read(a, nil, 1) // a limit of 1 byte still gives one message
	if got := ids(msgs); !slices.Equal(got, []uint64{4}) {
		t.Errorf("a read %v with a limit of 1 byte", got)
	}
	s.unsubscribe(b)
	s.unsubscribe(a)
	if s.dropped.Load() != 1 || s.subscribers.Load() != 0 || len(*s.clients.Load()) != 0 {
		t.Errorf("after unsubscribing: dropped %d, subscribers %d, clients %d", s.dropped.Load(), s.subscribers.Load(), len(*s.clients.Load()))
	}

	// The byte bound lets messages go before the count does.
	s = newStream(100, 10)
	c, d := s.subscribe(), s.subscribe()
	s.publish([]byte("aaaa"), []byte("bbbb"))
	if _, _, ok := s.read(c, nil, readBytes); !ok {
		t.Fatal("c dropped")
	}
	s.publish([]byte("cccc")) // 12 bytes: the first goes, and d with it
	if !isClosed(d.kicked) || isClosed(c.kicked) || s.bytes != 8 {
		t.Errorf("d kicked %v, c kicked %v, %d bytes kept", isClosed(d.kicked), isClosed(c.kicked), s.bytes)
	}

	// The bound on clients.
	s = newStream(4, 1<<20)
	s.max = 1
	if s.subscribe() == nil || s.subscribe() != nil {
		t.Error("max 1: want one client and a refusal")
	}
}
