package alpaca_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/internal/retry"
)

// fixedLimitRequests makes n REST requests to srv with `workers` always in
// flight (a fixed concurrency limit), retrying a 429 after the same back-off
// as the client's, and returns how many were refused for capacity.
func fixedLimitRequests(t *testing.T, srv *alpacatest.Server, workers, n int) int {
	t.Helper()
	before := srv.Stats().OverCapacity
	ctx := testCtx(t)
	var next atomic.Int64
	var wg sync.WaitGroup
	policy := retry.Policy{Initial: time.Millisecond, Max: 5 * time.Millisecond}.Resolved()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				for attempt := 0; ctx.Err() == nil; attempt++ {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.TradingURL+"/v2/account", nil)
					req.Header.Set("APCA-API-KEY-ID", alpacatest.Key)
					req.Header.Set("APCA-API-SECRET-KEY", alpacatest.Secret)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusTooManyRequests {
						break
					}
					_ = retry.Sleep(ctx, policy.Backoff(attempt))
				}
			}
		})
	}
	wg.Wait()
	return srv.Stats().OverCapacity - before
}

// limitGauge is an Observer that records op's limits, as a gauge would.
type limitGauge struct {
	op   string
	mu   sync.Mutex
	seen []int
}

func (g *limitGauge) OperationStarted(string)                             {}
func (g *limitGauge) OperationEnded(string, time.Time, time.Time, string) {}
func (g *limitGauge) ConcurrencyLimit(op string, limit int) {
	if op == g.op {
		g.mu.Lock()
		g.seen = append(g.seen, limit)
		g.mu.Unlock()
	}
}

// Against a server that refuses requests above 3 in flight, the client's
// adaptive limit (max_concurrent_requests 12) converges near 3, with far
// fewer refusals than a fixed limit of 12, never exceeds 12, is reported to
// the Observer, and grows again when the server allows more.
func TestClientAdaptsToAConcurrencyCap(t *testing.T) {
	const cap, maxRequests, n = 3, 12, 120
	var syms []string
	for i := range n {
		syms = append(syms, fmt.Sprintf("S%03d", i))
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 2, alpacaT0)})
	defer srv.Close()
	srv.SetFaults(alpacatest.Faults{MaxInFlight: cap, Delay: 5 * time.Millisecond})
	fixed := fixedLimitRequests(t, srv, maxRequests, n)

	gauge := &limitGauge{op: alpaca.OpREST}
	rest := fastREST(srv)
	rest.MaxConcurrentRequests = maxRequests
	rest.BreakerFailures = 1_000_000
	rest.Retry.Attempts = 50
	rest.Observer = gauge
	client := mustClient(rest)
	fetch := func() int {
		before := srv.Stats().OverCapacity
		src := &alpaca.Bars{Client: client, Symbols: syms, Start: alpacaT0, End: alpacaT0.Add(time.Hour),
			SymbolsPerRequest: 1, MaxConcurrentSymbols: n}
		rec := newRecorder()
		if err := src.Produce(testCtx(t), rec); err != nil {
			t.Fatal(err)
		}
		if got := len(rec.bySymbol()); got != n {
			t.Fatalf("%d symbols fetched, want %d: %v", got, n, rec.failures())
		}
		return srv.Stats().OverCapacity - before
	}
	adaptive := fetch()
	limit := client.ConcurrencyLimit(alpaca.OpREST)
	t.Logf("cap %d: fixed limit %d refused %d times, adaptive %d (limit now %d)", cap, maxRequests, fixed, adaptive, limit)
	if limit < 1 || limit > cap+2 {
		t.Errorf("adaptive limit %d, want near the server's cap %d", limit, cap)
	}
	if adaptive*2 > fixed {
		t.Errorf("adaptive limit refused %d times, fixed %d: want under half", adaptive, fixed)
	}
	if peak := srv.Stats().RESTPeak; peak > maxRequests {
		t.Errorf("%d requests in flight, above max_concurrent_requests %d", peak, maxRequests)
	}

	srv.SetFaults(alpacatest.Faults{MaxInFlight: maxRequests, Delay: 5 * time.Millisecond})
	fetch()
	if got := client.ConcurrencyLimit(alpaca.OpREST); got <= limit {
		t.Errorf("limit %d after the server allowed %d, want above %d", got, maxRequests, limit)
	}
	gauge.mu.Lock()
	defer gauge.mu.Unlock()
	seen := gauge.seen
	if len(seen) < 3 || seen[0] != maxRequests {
		t.Errorf("the Observer saw %v, want the start at %d and the changes", seen, maxRequests)
	}
	for _, l := range seen {
		if l > maxRequests {
			t.Errorf("limit %d above max_concurrent_requests %d", l, maxRequests)
		}
	}
	_ = client.Close()
}
