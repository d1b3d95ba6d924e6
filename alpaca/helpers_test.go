package alpaca_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
	"go.uber.org/goleak"
)

var (
	alpacaT0     = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	quietLogger  = slog.New(slog.NewTextHandler(io.Discard, nil))
	alpacaSyms3  = []string{"AAPL", "MSFT", "SPY"}
	testDeadline = 60 * time.Second
)

// walk returns n minute bars of sym from start, a seeded random walk.
func walk(sym string, n int, start time.Time, seed uint64) []market.Bar {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]market.Bar, n)
	p := 100.0
	for i := range out {
		o := p
		p += r.NormFloat64() * 0.25
		if p < 1 {
			p = 1
		}
		hi, lo := max(o, p)+0.5, min(o, p)-0.5
		out[i] = market.Bar{Symbol: sym, Time: start.Add(time.Duration(i) * time.Minute),
			Open: o, High: hi, Low: lo, Close: p, Volume: float64(100 + r.IntN(1000))}
	}
	return out
}

func multiWalk(syms []string, n int, start time.Time) []market.Bar {
	var all []market.Bar
	for i, s := range syms {
		all = append(all, walk(s, n, start, uint64(i+1))...)
	}
	return all
}

// recorder is a pipeline.Emitter for one producer goroutine; tests read it
// from theirs, hence the lock, and wait on it with waitFor.
type recorder struct {
	mu      sync.Mutex
	events  []market.Event
	fails   map[string]error
	flushes int
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{fails: map[string]error{}, changed: make(chan struct{})}
}

func (r *recorder) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Emit(e market.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	r.notifyLocked()
	return nil
}

func (r *recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
	r.notifyLocked()
	return nil
}

func (r *recorder) Fail(key string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fails[key] = err
	r.notifyLocked()
}

// waitFor blocks until cond holds for the recorded events or ctx ends.
func (r *recorder) waitFor(ctx context.Context, cond func(events []market.Event) bool) error {
	for {
		r.mu.Lock()
		ok := cond(r.events)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *recorder) bySymbol() map[string][]market.Bar {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]market.Bar{}
	for _, e := range r.events {
		out[e.Symbol] = append(out[e.Symbol], e.Bar)
	}
	return out
}

func (r *recorder) failures() map[string]error {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]error{}
	for k, v := range r.fails {
		out[k] = v
	}
	return out
}

// sameBars reports the first difference between got and want, bar for bar.
func sameBars(got, want []market.Bar) error {
	for i := 0; i < min(len(got), len(want)); i++ {
		g, w := got[i], want[i]
		g.Time, w.Time = g.Time.UTC(), w.Time.UTC()
		if g != w {
			return fmt.Errorf("bar %d: got %+v, want %+v", i, g, w)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("got %d bars, want %d", len(got), len(want))
	}
	return nil
}

// checkAll compares every symbol's emitted bars with the fake's history.
func checkAll(t *testing.T, srv *alpacatest.Server, got map[string][]market.Bar, syms []string) {
	t.Helper()
	for _, s := range syms {
		if err := sameBars(got[s], srv.Bars(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	var extra []string
	for s := range got {
		if !contains(syms, s) {
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("unexpected symbols %v", extra)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// handlerTransport serves requests in-process from h: no sockets, so it
// works inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	t.Cleanup(cancel)
	return ctx
}

func noSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), alpacatest.Secret) || strings.Contains(err.Error(), "wrong-secret")) {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

// mustClient makes a client for a test, or panics: a bad test config.
func mustClient(cfg alpaca.Config) *alpaca.Client {
	c, err := alpaca.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
