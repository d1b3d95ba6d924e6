package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/webhook"
)

// hook records a Sink's observations.
type hook struct {
	mu      sync.Mutex
	calls   []string
	active  atomic.Int64
	maxLive atomic.Int64
}

func (h *hook) add(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, s)
}

func (h *hook) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (h *hook) OperationStarted(string) {
	n := h.active.Add(1)
	if n > h.maxLive.Load() {
		h.maxLive.Store(n)
	}
}
func (h *hook) OperationEnded(op string, _, _ time.Time, errClass string) {
	h.active.Add(-1)
	h.add("done " + op + " " + errClass)
}
func (h *hook) Retried(op string)                      { h.add("retry " + op) }
func (h *hook) Discarded(op, reason string)            { h.add("discard " + op + " " + reason) }
func (h *hook) RateLimited(op string, _ time.Duration) { h.add("ratelimited " + op) }
func (h *hook) BreakerState(name, state string)        { h.add("breaker " + name + " " + state) }

var day = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

func signals(n int) []market.Event {
	var out []market.Event
	for i := range n {
		e := market.Event{Bar: market.Bar{Symbol: "SYM1", Time: day.Add(time.Duration(i) * time.Minute), Close: 100 + float64(i)}}
		out = append(out, e) // a bar without a signal: not posted
		e.Indicators = market.DefaultRecord(99.5, true, 25, 15, true)
		e.Signal = &market.Signal{Symbol: "SYM1", Time: e.Time, Side: market.Buy, Price: e.Close, Reason: "cross up", Indicators: e.Indicators}
		out = append(out, e)
	}
	return out
}

// endpoint is an httptest server on 127.0.0.1 answering with status(i) to
// the i-th request (from 0), recording the bodies.
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	auth   []string
}

func newEndpoint(t *testing.T, status func(i int) int) *endpoint {
	t.Helper()
	e := &endpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		i := len(e.bodies)
		e.bodies = append(e.bodies, string(b))
		e.auth = append(e.auth, r.Header.Get("Authorization"))
		e.mu.Unlock()
		if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(status(i))
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.bodies)
}

func run(t *testing.T, w *webhook.Sink, events []market.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Write(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// mustNew makes a Sink or fails the test.
func mustNew(t *testing.T, cfg webhook.Config) *webhook.Sink {
	t.Helper()
	w, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func leakCheck(t *testing.T) { t.Cleanup(func() { goleak.VerifyNone(t) }) }

func TestPostsEachSignal(t *testing.T) {
	leakCheck(t)
	ep := newEndpoint(t, func(int) int { return http.StatusNoContent })
	h := &hook{}
	w := mustNew(t, webhook.Config{URL: ep.URL + "/hook", Header: http.Header{"Authorization": {"Bearer tok"}}, Hook: h, Observer: h, Rate: 1000, Burst: 100})
	run(t, w, signals(3))
	if ep.requests() != 3 || w.Delivered() != 3 {
		t.Fatalf("%d requests, %d delivered; want 3 (one per signal, none per plain bar)", ep.requests(), w.Delivered())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(ep.bodies[2]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"symbol": "SYM1", "time": "2024-01-02T14:32:00Z", "side": "buy", "price": 102.0,
		"reason": "cross up", "ema": 99.5, "stochrsi_k": 25.0, "stochrsi_d": 15.0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("body = %v, want %v", got, want)
	}
	if ep.auth[0] != "Bearer tok" {
		t.Errorf("Authorization = %q", ep.auth[0])
	}
	if n := h.count("done webhook "); n != 3 || h.count("done webhook status") != 0 {
		t.Errorf("hook calls %v", h.calls)
	}
	if h.active.Load() != 0 {
		t.Errorf("tasks still active: %d", h.active.Load())
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	leakCheck(t)
	ep := newEndpoint(t, func(i int) int {
		if i < 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	h := &hook{}
	w := mustNew(t, webhook.Config{URL: ep.URL, Hook: h, Observer: h, Retry: webhook.RetryPolicy{Initial: time.Millisecond}, Rate: 1000})
	run(t, w, signals(1))
	if ep.requests() != 3 || w.Delivered() != 1 {
		t.Fatalf("%d requests, %d delivered; want 3 and 1", ep.requests(), w.Delivered())
	}
	if h.count("retry webhook") != 2 || h.count("done webhook status_5xx") != 2 {
		t.Errorf("hook calls %v", h.calls)
	}
}

func TestGivesUp(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		retries  int
		requests int
		reason   string
	}{
		{"rejected: no retry", http.StatusBadRequest, 3, 1, "discard webhook rejected"},
		{"retries exhausted", http.StatusInternalServerError, 2, 3, "discard webhook retries_exhausted"},
		{"429 is retried", http.StatusTooManyRequests, 1, 2, "discard webhook retries_exhausted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			ep := newEndpoint(t, func(int) int { return tt.status })
			h := &hook{}
			w := mustNew(t, webhook.Config{URL: ep.URL, Hook: h, Observer: h, Retry: webhook.RetryPolicy{Attempts: tt.retries, Initial: time.Millisecond}, Rate: 1000, BreakerFailures: 100})
			run(t, w, signals(1))
			if ep.requests() != tt.requests || h.count(tt.reason) != 1 || w.DiscardedSignals() != 1 {
				t.Errorf("%d requests (want %d), hook calls %v", ep.requests(), tt.requests, h.calls)
			}
		})
	}
}

func TestCircuitBreakerOpens(t *testing.T) {
	leakCheck(t)
	ep := newEndpoint(t, func(int) int { return http.StatusBadGateway })
	h := &hook{}
	w := mustNew(t, webhook.Config{URL: ep.URL, Hook: h, Observer: h, Retry: webhook.RetryPolicy{Attempts: -1}, BreakerFailures: 2, BreakerCooldown: time.Hour, Rate: 1000})
	run(t, w, signals(6))
	if ep.requests() != 2 {
		t.Errorf("%d requests reached the endpoint, want 2 before the breaker opens", ep.requests())
	}
	if h.count("discard webhook breaker_open") != 4 || h.count("discard webhook retries_exhausted") != 2 {
		t.Errorf("hook calls %v", h.calls)
	}
	if h.count("breaker webhook open") != 1 || w.BreakerState() != "open" {
		t.Errorf("breaker %s, hook calls %v", w.BreakerState(), h.calls)
	}
}

func TestRateLimit(t *testing.T) {
	leakCheck(t)
	ep := newEndpoint(t, func(int) int { return http.StatusOK })
	h := &hook{}
	w := mustNew(t, webhook.Config{URL: ep.URL, Hook: h, Observer: h, Rate: 100, Burst: 1})
	run(t, w, signals(4))
	if w.Delivered() != 4 || h.count("ratelimited webhook") < 2 {
		t.Errorf("delivered %d, hook calls %v; want all 4 delivered, most after a wait", w.Delivered(), h.calls)
	}
}

func TestTimeout(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	h := &hook{}
	w := mustNew(t, webhook.Config{URL: srv.URL, Hook: h, Observer: h, Retry: webhook.RetryPolicy{Timeout: 20 * time.Millisecond, Attempts: -1}, Rate: 1000})
	run(t, w, signals(1))
	if h.count("done webhook timeout") != 1 || h.count("discard webhook retries_exhausted") != 1 {
		t.Errorf("hook calls %v", h.calls)
	}
}

// Behind sinks.Async, a hanging endpoint neither blocks the writer nor looks
// healthy, and every signal it could not take is counted.
func TestBehindAsync(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	h := &hook{}
	w := mustNew(t, webhook.Config{URL: srv.URL, Hook: h, Observer: h, Rate: 1000, SlowAfter: time.Millisecond})
	q := sinks.Async(w, sinks.AsyncConfig{Capacity: 2, BatchSize: 1, Overflow: pipeline.DropNewest, Keep: sinks.HasSignal,
		OnDrop: func(_ market.Event, reason string) { h.Discarded(w.Name(), reason) }})
	ctx := context.Background()
	if err := q.Write(ctx, signals(1)); err != nil {
		t.Fatal(err)
	}
	<-arrived // the webhook is stuck on the first signal
	if err := q.Write(ctx, signals(5)); err != nil {
		t.Fatal(err)
	}
	if n := h.count("discard webhook queue_full"); n != 3 {
		t.Errorf("%d discarded for a full queue, want 3 (queue of 2); calls %v", n, h.calls)
	}
	// A hanging endpoint is unhealthy before its attempt times out.
	deadline := time.Now().Add(5 * time.Second)
	for w.Health(ctx) == nil && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if err := w.Health(ctx); err == nil || !strings.Contains(err.Error(), "waited") {
		t.Errorf("Health = %v while a delivery hangs", err)
	}
	if err := q.Close(); err == nil {
		t.Error("Close returned nil with signals undelivered")
	}
	if n := h.count("discard webhook shutdown"); n != 3 {
		t.Errorf("%d counted at Close, want 3 (one in flight, two queued): %v", n, h.calls)
	}
	if err := w.Write(ctx, signals(1)); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// At 50 % failures every signal is delivered within the retry policy; when
// every attempt fails each signal is counted, logged with the signal, and
// Health says so.
func TestFailingEndpoint(t *testing.T) {
	tests := []struct {
		name                 string
		status               func(i int) int
		delivered, discarded int64
		healthy              bool
	}{
		{"half fail", func(i int) int {
			if i%2 == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}, 10, 0, true},
		{"all fail", func(int) int { return http.StatusInternalServerError }, 0, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			ep := newEndpoint(t, tt.status)
			h := &hook{}
			var logs syncLog
			w := mustNew(t, webhook.Config{URL: ep.URL, Hook: h, Observer: h, Rate: 10_000, Burst: 100, BreakerFailures: 1000,
				Retry:  webhook.RetryPolicy{Attempts: 3, Initial: time.Microsecond, Max: time.Microsecond},
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			run(t, w, signals(10))
			if w.Delivered() != tt.delivered || w.DiscardedSignals() != tt.discarded {
				t.Errorf("delivered %d, discarded %d; want %d and %d", w.Delivered(), w.DiscardedSignals(), tt.delivered, tt.discarded)
			}
			if n := int64(h.count("discard webhook retries_exhausted")); n != tt.discarded {
				t.Errorf("%d discards reported to the hook, want %d", n, tt.discarded)
			}
			if n := int64(strings.Count(logs.String(), "webhook gave up a signal")); n != tt.discarded {
				t.Errorf("%d signals logged as given up, want %d: %s", n, tt.discarded, logs.String())
			}
			if tt.discarded > 0 && !strings.Contains(logs.String(), "symbol=SYM") {
				t.Errorf("the log does not name the signal: %s", logs.String())
			}
			if err := w.Health(context.Background()); (err == nil) != tt.healthy {
				t.Errorf("Health = %v, want healthy %v", err, tt.healthy)
			}
		})
	}
}

// syncLog is a log buffer safe for concurrent writes.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestKeepsSecretsOutOfLogs(t *testing.T) {
	leakCheck(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every attempt fails to connect
	var logs bytes.Buffer
	h := &hook{}
	w := mustNew(t, webhook.Config{
		URL:    "http://bot:s3cret@" + addr + "/services/T0K3N?key=k3y",
		Header: http.Header{"Authorization": {"Bearer b3arer"}},
		Hook:   h, Observer: h, Retry: webhook.RetryPolicy{Attempts: 1, Initial: time.Millisecond}, Rate: 1000,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	run(t, w, signals(1))
	if h.count("done webhook network") != 2 {
		t.Errorf("hook calls %v", h.calls)
	}
	if !strings.Contains(logs.String(), "http://"+addr) {
		t.Errorf("logs do not name the target: %s", logs.String())
	}
	for _, secret := range []string{"s3cret", "T0K3N", "k3y", "b3arer", "bot"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs reveal %q: %s", secret, logs.String())
		}
	}
	// A bad URL is refused when the sink is made, not at its first signal.
	if _, err := webhook.New(webhook.Config{URL: "ftp://bot:s3cret@example.com/T0K3N"}); err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "T0K3N") {
		t.Errorf("bad URL error = %v", err)
	}
}
