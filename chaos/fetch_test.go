package chaos_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

var t0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

// walk is n one-minute bars of sym from t0, a seeded random walk.
func walk(sym string, n int, seed uint64) []market.Bar {
	r := rand.New(rand.NewPCG(seed, 13))
	out := make([]market.Bar, n)
	p := 100.0
	for i := range out {
		o := p
		p = max(1, p+r.NormFloat64()*0.25)
		out[i] = market.Bar{Symbol: sym, Time: t0.Add(time.Duration(i) * time.Minute),
			Open: o, High: max(o, p) + 0.5, Low: min(o, p) - 0.5, Close: p, Volume: float64(100 + r.IntN(1000))}
	}
	return out
}

// symbols are n stock symbols the fake accepts: SYMA, SYMB, ...
func symbols(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SYM%c%c", 'A'+i/26, 'A'+i%26)
	}
	return out
}

// collector is the pipeline's sink: it keeps every event it is given.
type collector struct {
	mu     sync.Mutex
	events []market.Event
}

func (c *collector) Write(_ context.Context, items []market.Event) error {
	c.mu.Lock()
	c.events = append(c.events, items...)
	c.mu.Unlock()
	return nil
}

// barCounts compares what reached the sink with want, bar by bar: it
// returns how many of want arrived, how many arrived twice or more, how many
// arrived that were not in want or differ from it, and how many of a
// symbol's bars came before an earlier one.
func (c *collector) barCounts(want []market.Bar) (got, dup, foreign, reordered int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	type key struct {
		sym string
		t   int64
	}
	wanted := make(map[key]market.Bar, len(want))
	for _, b := range want {
		wanted[key{b.Symbol, b.Time.UnixNano()}] = b
	}
	seen := make(map[key]int, len(want))
	last := map[string]time.Time{}
	for _, e := range c.events {
		b := e.Bar
		k := key{b.Symbol, b.Time.UnixNano()}
		w, ok := wanted[k]
		switch {
		case !ok || w != b:
			foreign++
		case seen[k] > 0:
			dup++
		default:
			got++
		}
		seen[k]++
		if l, ok := last[b.Symbol]; ok && !b.Time.After(l) {
			reordered++
		}
		last[b.Symbol] = b.Time
	}
	return got, dup, foreign, reordered
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fetchSpec is a history fetch through the whole pipeline: the fake
// Alpaca, optionally behind a fault proxy, the client with its retries,
// the indicators and strategy, a sink keeping every event.
type fetchSpec struct {
	symbols, bars int
	faults        alpacatest.Faults
	// Every proxyEvery-th connection, up to proxyMax, is reset (or
	// stalled) after proxyAfter bytes of its answer; 0: no proxy.
	proxyEvery, proxyAfter, proxyMax int
	stall                            bool
	attemptTimeout                   time.Duration // the client's per-attempt timeout (default 10 s)
	workers                          int           // pipeline workers (default 4)
	// adr: the client's retries and circuit breaker at their defaults (the
	// ADR's 3 retries), not the generous ones the tests use to count every
	// fault's retry.
	adr bool
}

type fetchResult struct {
	want     []market.Bar
	sink     *collector
	stats    alpaca.RequestStats
	server   alpacatest.Stats
	injected int64 // connections the proxy reset or stalled
	err      error
	elapsed  time.Duration
}

func fetch(tb testing.TB, spec fetchSpec) fetchResult {
	tb.Helper()
	syms := symbols(spec.symbols)
	var want []market.Bar
	for i, s := range syms {
		want = append(want, walk(s, spec.bars, uint64(i+1))...)
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: want, PageSize: 250})
	defer srv.Close()
	srv.SetFaults(spec.faults)
	dataURL := srv.DataURL
	var proxy *faultProxy
	if spec.proxyEvery > 0 {
		u, err := url.Parse(srv.DataURL)
		if err != nil {
			tb.Fatal(err)
		}
		proxy = newFaultProxy(tb, u.Host, spec.proxyEvery, spec.proxyAfter, spec.proxyMax, spec.stall)
		u.Host = proxy.Addr()
		dataURL = u.String()
	}
	timeout := spec.attemptTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	cfg := alpaca.Config{
		KeyID: alpacatest.Key, SecretKey: alpacatest.Secret, DataURL: dataURL, TradingURL: srv.TradingURL,
		RequestsPerMinute: 1_000_000, Logger: quiet, MaxConcurrentRequests: 4,
		// Retries are under test here, not the circuit breaker, which
		// would open after 5 consecutive failed attempts.
		BreakerFailures: 1000,
		Retry:           alpaca.RetryPolicy{Attempts: 20, Initial: time.Millisecond, Max: 10 * time.Millisecond, Timeout: timeout},
	}
	if spec.adr {
		cfg.BreakerFailures, cfg.Retry.Attempts = 0, 0
	}
	client, err := alpaca.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	src := &alpaca.Bars{Client: client, Symbols: syms, TimeFrame: "1Min", Start: t0,
		End: t0.Add(time.Duration(spec.bars-1) * time.Minute), SymbolsPerRequest: 1, MaxConcurrentSymbols: 4}
	sink := &collector{}
	workers := spec.workers
	if workers == 0 {
		workers = 4
	}
	p, err := tickflow.New(src, sink, tickflow.Config{Workers: workers, DrainTimeout: 30 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	err = p.Run(ctx)
	res := fetchResult{want: want, sink: sink, stats: client.Stats(), server: srv.Stats(), err: err, elapsed: time.Since(start)}
	if cerr := client.Close(); cerr != nil {
		tb.Error(cerr)
	}
	if proxy != nil {
		proxy.Close()
		res.injected = proxy.faults.Load()
	}
	return res
}

// TestFetchThroughFaults fetches history through the pipeline while the
// data API fails in each way the network and the server can: 429s on every
// third request, connections reset in the middle of an answer, answers
// that stall half-way, and all of them at once. Every bar arrives exactly
// once and in order, and every injected fault costs exactly one retry
// (stalls at least one: a slow honest answer may also time out).
func TestFetchThroughFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec fetchSpec
	}{
		{"429 every third request", fetchSpec{faults: alpacatest.Faults{FailEvery: 3, FailStatus: 429}}},
		{"500 every third request", fetchSpec{faults: alpacatest.Faults{FailEvery: 3, FailStatus: 500}}},
		{"reset after 300 bytes, 12 connections", fetchSpec{proxyEvery: 1, proxyAfter: 300, proxyMax: 12}},
		{"stalled body, 4 connections", fetchSpec{proxyEvery: 1, proxyAfter: 300, proxyMax: 4, stall: true, attemptTimeout: time.Second}},
		{"delays, 429s and resets together", fetchSpec{faults: alpacatest.Faults{FailEvery: 5, FailStatus: 429, Delay: 2 * time.Millisecond},
			proxyEvery: 2, proxyAfter: 2000, proxyMax: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.symbols, tc.spec.bars = 8, 1000
			res := fetch(t, tc.spec)
			if res.err != nil {
				t.Fatalf("Run: %v", res.err)
			}
			got, dup, foreign, reordered := res.sink.barCounts(res.want)
			t.Logf("%d bars of %d in %v; %d requests, %d retries, %d exhausted; fake: %d failed; proxy: %d faults",
				got, len(res.want), res.elapsed.Round(time.Millisecond), res.stats.Requests, res.stats.Retries, res.stats.Exhausted,
				res.server.FailedRequests, res.injected)
			if got != len(res.want) || dup != 0 || foreign != 0 || reordered != 0 {
				t.Errorf("bars: %d of %d arrived, %d duplicated, %d unknown or altered, %d out of order", got, len(res.want), dup, foreign, reordered)
			}
			if n := len(res.sink.events); n != len(res.want) {
				t.Errorf("bars in %d, bars out %d", len(res.want), n)
			}
			if res.stats.Exhausted != 0 {
				t.Errorf("%d requests exhausted their retries", res.stats.Exhausted)
			}
			faults := int64(res.server.FailedRequests) + res.injected
			if faults == 0 {
				t.Fatal("no fault was injected")
			}
			switch {
			case tc.spec.stall:
				if res.stats.Retries < faults {
					t.Errorf("%d retries for %d stalled answers", res.stats.Retries, faults)
				}
			case tc.spec.proxyEvery > 0 && tc.spec.faults.FailEvery > 0:
				// A reset may fall in a 429's answer: one retry for both.
				if res.stats.Retries < max(int64(res.server.FailedRequests), res.injected) || res.stats.Retries > faults {
					t.Errorf("%d retries for %d 429s and %d resets", res.stats.Retries, res.server.FailedRequests, res.injected)
				}
			default:
				if res.stats.Retries != faults {
					t.Errorf("%d retries for %d injected faults", res.stats.Retries, faults)
				}
			}
		})
	}
}
