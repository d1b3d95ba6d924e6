package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/server"
)

// serve runs s on a loopback listener until the test ends.
func serve(t *testing.T, s *server.Server) (base string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, s, ln)
}

func serveOn(t *testing.T, s *server.Server, ln net.Listener) (base string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// manySymbols writes one bar of each of n symbols: /api/symbols is then
// about 330 bytes a symbol.
func manySymbols(t *testing.T, f *server.Feed, n int) {
	t.Helper()
	batch := make([]market.Event, n)
	for i := range batch {
		batch[i] = event(fmt.Sprintf("SYM%04d", i), i, market.Buy)
	}
	if err := f.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func rejected(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tickflow_http_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no tickflow_http_rejected_total{reason=%q}", reason)
	return 0
}

// eventually polls ok until it holds or the deadline passes: for what a
// real network does in its own time.
func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond) // polling a real network, not synchronising goroutines of ours
	}
}

// TestConnectionsThatNeverReadAreClosed is issue 13's 1,000 connections
// that request and never read (scaled to 150): beyond MaxConnections they
// are answered 503 with Retry-After at once; the others are closed when
// their response's write deadline passes, so neither goroutines nor
// connections pile up.
func TestConnectionsThatNeverReadAreClosed(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := server.New(server.Options{Registerer: reg, MaxConnections: 50, MaxAPIRequests: 1000, WriteTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	manySymbols(t, s.Feed(), 2000) // /api/symbols: about 660 KB
	// Small socket buffers on both sides (the accepted sockets inherit the
	// listener's), so that a response cannot fit in them: the server's
	// write blocks until its deadline.
	small := func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096)
		})
	}
	ln, err := (&net.ListenConfig{Control: small}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := serveOn(t, s, ln)
	addr := strings.TrimPrefix(base, "http://")
	once := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // leaves no connection open
	resp, err := once.Get(base + "/api/symbols")                              // builds the snapshot: the stuck requests below only write
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	before := runtime.NumGoroutine()

	const n = 150
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	d := net.Dialer{Control: small}
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := fmt.Fprintf(c, "GET /api/symbols HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "the connections beyond the bound were not refused", func() bool {
		return rejected(t, reg, "connections") > 0
	})
	resp, err = once.Get(base + "/favicon.ico")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}

	// Without a byte read, the server lets every stuck connection go once
	// its write deadline passes: no connection, no goroutine left.
	eventually(t, 10*time.Second, "connections still open, or their goroutines running", func() bool {
		return gauge(t, reg, "tickflow_http_connections") == 0 && runtime.NumGoroutine() <= before+2
	})
	resp, err = once.Get(base + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("once the stuck connections are gone: %s", resp.Status)
	}
}

// TestAPIRequestsAreBounded: beyond MaxAPIRequests at once, /api/* and
// /metrics answer 503 with Retry-After, counted; health and the page do
// not queue behind them.
func TestAPIRequestsAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := server.New(server.Options{Registerer: reg, Gatherer: reg, MaxAPIRequests: 1,
		Stats: func() []pipeline.StageStats {
			entered <- struct{}{}
			<-release
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	var wg sync.WaitGroup
	wg.Go(func() {
		if rec := get(t, h, "/api/stats"); rec.Code != http.StatusOK {
			t.Errorf("the request holding the slot: %d", rec.Code)
		}
	})
	<-entered // /api/stats holds the only slot
	for _, path := range []string{"/api/symbols", "/api/signals", "/metrics"} {
		rec := get(t, h, path)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s while the slot is taken: %d, Retry-After %q", path, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	for _, path := range []string{"/readyz", "/"} {
		if rec := get(t, h, path); rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") != "" {
			t.Errorf("%s is bounded with the API", path)
		}
	}
	if got := rejected(t, reg, "api_busy"); got != 3 {
		t.Errorf(`tickflow_http_rejected_total{reason="api_busy"} = %v, want 3`, got)
	}
	close(release)
	wg.Wait()
	if rec := get(t, h, "/api/symbols"); rec.Code != http.StatusOK {
		t.Errorf("/api/symbols once the slot is free: %d", rec.Code)
	}
}

func TestSSEClientsAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := server.New(server.Options{Registerer: reg, MaxSSEClients: 2})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	a, b := dial(t, ts.URL), dial(t, ts.URL)
	resp, err := http.Get(ts.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third client: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	if got := rejected(t, reg, "sse_clients"); got != 1 {
		t.Errorf(`rejected{reason="sse_clients"} = %v`, got)
	}
	if st := s.Feed().Stats(); st.Clients != 2 {
		t.Errorf("clients = %d, want 2", st.Clients)
	}
	a.body.Close()
	b.body.Close()
}

// TestAPIServesASnapshot: between rebuilds every /api/symbols request is
// the same bytes; after SnapshotInterval a request sees the Feed's state;
// a reader that does not read holds nothing the Feed's Write waits for.
func TestAPIServesASnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := server.New(server.Options{SnapshotInterval: 250 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		h := s.Handler()
		write := func(i int) {
			if err := s.Feed().Write(context.Background(), []market.Event{event("SYM1", i, 0)}); err != nil {
				t.Fatal(err)
			}
		}
		write(1)
		first := get(t, h, "/api/symbols").Body.String()
		if !strings.Contains(first, `"bars": 1,`) {
			t.Fatalf("first read: %s", first)
		}

		// A reader stuck writing the body out, while the Feed goes on.
		stuck := &stuckWriter{header: http.Header{}, release: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(stuck, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/api/symbols", nil))
		}()
		synctest.Wait()
		start := time.Now()
		write(2)
		write(3)
		if d := time.Since(start); d != 0 {
			t.Errorf("Write waited %v for a reader", d)
		}
		if got := get(t, h, "/api/symbols").Body.String(); got != first {
			t.Errorf("within the interval: a rebuild\n%s", got)
		}
		if n := s.Feed().Symbols()[0].Bars; n != 3 {
			t.Errorf("Feed.Symbols: %d bars, want 3 (it is not a snapshot)", n)
		}
		time.Sleep(250 * time.Millisecond) // the fake clock
		if got := get(t, h, "/api/symbols").Body.String(); !strings.Contains(got, `"bars": 3,`) {
			t.Errorf("after the interval: %s", got)
		}
		close(stuck.release)
		<-done
	})
}
