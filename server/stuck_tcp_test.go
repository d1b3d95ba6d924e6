package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/server"
)

// TestStuckTCPClientIsDropped is the real-network twin of
// TestStuckClientIsDroppedWithoutSlowingOthers: a client on 127.0.0.1 that
// sends its request and never reads fills its socket buffers, then its
// queue; the Feed drops it while a reading client gets every batch.
func TestStuckTCPClientIsDropped(t *testing.T) {
	s, err := server.New(server.Options{ClientBuffer: 4, WriteTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()

	stuck, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if _, err := fmt.Fprintf(stuck, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	good := dial(t, base)
	// Subscribed once both count: the stuck one has sent its request.
	for s.Feed().Stats().Clients < 2 {
		resp, err := http.Get(base + "/readyz") // a round trip, not a sleep
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	batch := make([]market.Event, 500) // ~60 KB a message
	for i := range batch {
		batch[i] = event(fmt.Sprintf("SYM%03d", i), i, 0)
	}
	got := make(chan struct{}, 1)
	go func() {
		defer close(got)
		for {
			ev, _ := nextOrEOF(good)
			if ev == "" {
				return
			}
			got <- struct{}{}
		}
	}()
	sent := 0
	for s.Feed().Stats().Dropped == 0 {
		if sent == 2000 {
			t.Fatalf("the stuck client was not dropped after %d batches (~%d MB)", sent, sent*60/1000)
		}
		start := time.Now()
		if err := s.Feed().Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("Write took %v: it waited for a client", d)
		}
		sent++
		<-got // the reading client keeps up with every batch
	}
	if st := s.Feed().Stats(); st.Clients != 1 || st.Dropped != 1 {
		t.Errorf("stats %+v: want the stuck client dropped, the reader kept", st)
	}
	t.Logf("stuck client dropped after %d batches", sent)
	good.body.Close()
}

// nextOrEOF is next without failing the test at the end of the stream.
func nextOrEOF(c *sseClient) (event, data string) {
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", ""
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && event != "":
			return event, data
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data += line[len("data: "):]
		}
	}
}
