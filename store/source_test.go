package store_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// storeEmitter records what a Store source emits; stopAfter > 0 makes it
// refuse items from the stopAfter-th on, cancelling cancel.
type storeEmitter struct {
	bars      []market.Bar
	fails     map[string]error
	stopAfter int
	cancel    context.CancelFunc
}

func (e *storeEmitter) Emit(ev market.Event) error {
	if e.stopAfter > 0 && len(e.bars) >= e.stopAfter {
		e.cancel()
		return context.Canceled
	}
	e.bars = append(e.bars, ev.Bar)
	return nil
}

func (e *storeEmitter) Flush() error { return nil }

func (e *storeEmitter) Fail(key string, err error) {
	if e.fails == nil {
		e.fails = map[string]error{}
	}
	e.fails[key] = err
}

var storeT0 = time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)

// fillStore writes n[i] bars of symbol syms[i] and returns them in the order
// a Store source over syms emits them.
func fillStore(t *testing.T, st store.Store, syms []string, n []int) []market.Bar {
	t.Helper()
	var all []market.Bar
	for i, s := range syms {
		for j := range n[i] {
			p := 50 + float64(i) + float64(j%13)
			all = append(all, market.Bar{Symbol: s, Time: storeT0.Add(time.Duration(j) * time.Hour),
				Open: p, High: p + 2, Low: p - 2, Close: p + 1, Volume: float64(j)})
		}
	}
	// Write each symbol's bars in an order unlike the read order, the
	// symbols in the order of syms (the order a store reads them back).
	start := 0
	for i := range syms {
		mine := slices.Clone(all[start : start+n[i]])
		start += n[i]
		slices.Reverse(mine)
		if err := st.WriteBars(context.Background(), "1h", mine); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

func openStore(t *testing.T, dbURL string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestStoreSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		st := openStore(t, dbURL)
		syms := []string{"AAA", "BBB", "CCC", "DDD", "EEE"}
		all := fillStore(t, st, syms, []int{1500, 3, 0, 2000, 700})
		for _, limit := range []int{1, 3, 0} {
			t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
				em := &storeEmitter{}
				src := &store.Source{DB: st, Timeframe: "1h", MaxConcurrentSymbols: limit}
				if err := src.Produce(context.Background(), em); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(em.bars, all) || len(em.fails) != 0 {
					t.Fatalf("got %d bars (fails %v), want %d in symbol then time order", len(em.bars), em.fails, len(all))
				}
			})
		}
		t.Run("symbols and range", func(t *testing.T) {
			start, end := storeT0.Add(100*time.Hour), storeT0.Add(1000*time.Hour)
			order := []string{"EEE", "CCC", "AAA", "NOPE"}
			asked := append(slices.Clone(order), "EEE") // named twice, read once
			var want []market.Bar
			for _, s := range order {
				for _, b := range all {
					if b.Symbol == s && !b.Time.Before(start) && b.Time.Before(end) {
						want = append(want, b)
					}
				}
			}
			em := &storeEmitter{}
			src := &store.Source{DB: st, Timeframe: "1h", Symbols: asked, Start: start, End: end, MaxConcurrentSymbols: 2}
			if err := src.Produce(context.Background(), em); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(em.bars, want) {
				t.Fatalf("got %d bars, want %d", len(em.bars), len(want))
			}
			if len(em.fails) != 2 || !errors.Is(em.fails["NOPE"], store.ErrNoBars) || !errors.Is(em.fails["CCC"], store.ErrNoBars) {
				t.Fatalf("fails = %v, want NOPE and CCC with store.ErrNoBars", em.fails)
			}
		})
		t.Run("cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			em := &storeEmitter{stopAfter: 1700, cancel: cancel}
			err := (&store.Source{DB: st, Timeframe: "1h"}).Produce(ctx, em)
			if !errors.Is(err, context.Canceled) || !slices.Equal(em.bars, all[:1700]) {
				t.Fatalf("err = %v after %d bars", err, len(em.bars))
			}
		})
	})
}

// flakyStore fails each symbol's read after `after` bars, `times` times, with
// a transient error, and the symbol "BAD" always with a permanent one.
type flakyStore struct {
	store.Store
	after  int
	times  int
	failed map[string]*atomic.Int32
}

var errPermanent = errors.New("permanent failure")

func (f *flakyStore) Bars(ctx context.Context, q store.Query) iter.Seq2[market.Bar, error] {
	return func(yield func(market.Bar, error) bool) {
		sym := q.Symbols[0]
		if sym == "BAD" {
			yield(market.Bar{}, errPermanent)
			return
		}
		n := 0
		for b, err := range f.Store.Bars(ctx, q) {
			if err == nil && n == f.after && int(f.failed[sym].Add(1)) <= f.times {
				yield(market.Bar{}, fmt.Errorf("connection reset: %w", store.ErrUnavailable))
				return
			}
			n++
			if !yield(b, err) {
				return
			}
		}
	}
}

func TestStoreSourceRetriesTransientReads(t *testing.T) {
	st := openStore(t, storetest.SQLiteURL(t))
	syms := []string{"AAA", "BAD", "CCC"}
	all := fillStore(t, st, syms, []int{1300, 10, 900})
	var want []market.Bar
	for _, b := range all {
		if b.Symbol != "BAD" {
			want = append(want, b)
		}
	}
	flaky := &flakyStore{Store: st, after: 600, times: 2, failed: map[string]*atomic.Int32{
		"AAA": new(atomic.Int32), "CCC": new(atomic.Int32)}}
	var retries atomic.Int32
	src := &store.Source{DB: flaky, Timeframe: "1h", Retry: store.RetryPolicy{Initial: time.Millisecond,
		OnRetry: func(int, time.Duration, error) { retries.Add(1) }}}
	em := &storeEmitter{}
	if err := src.Produce(context.Background(), em); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(em.bars, want) {
		t.Fatalf("got %d bars, want %d each once in order", len(em.bars), len(want))
	}
	if len(em.fails) != 1 || !errors.Is(em.fails["BAD"], errPermanent) || !strings.Contains(em.fails["BAD"].Error(), "BAD") {
		t.Fatalf("fails = %v, want only BAD", em.fails)
	}
	// A retry reads the symbol again from its first bar (the attempt's
	// bars are dropped): AAA and CCC each fail twice at bar 600.
	if retries.Load() != 4 {
		t.Fatalf("%d retries, want 4", retries.Load())
	}

	// Retries exhausted: the symbol fails, with the count.
	flaky = &flakyStore{Store: st, after: 0, times: 100, failed: map[string]*atomic.Int32{
		"AAA": new(atomic.Int32), "CCC": new(atomic.Int32)}}
	em = &storeEmitter{}
	src = &store.Source{DB: flaky, Timeframe: "1h", Symbols: []string{"AAA"}, Retry: store.RetryPolicy{Attempts: 3, Initial: time.Millisecond}}
	if err := src.Produce(context.Background(), em); err != nil {
		t.Fatal(err)
	}
	if err := em.fails["AAA"]; !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "4 attempts") {
		t.Fatalf("fails = %v", em.fails)
	}
}

// TestStoreSourceSurvivesLostConnections terminates the source's PostgreSQL
// connections while it is part way through its reads: each reader
// reconnects and resumes after its last bar.
func TestStoreSourceSurvivesLostConnections(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	app := "tickflow_" + storetest.Schema(dbURL)
	st := openStore(t, dbURL+"&application_name="+app)
	// Symbols large enough that the server is still sending when its
	// connections are terminated (loopback buffers hold megabytes).
	storetest.Exec(t, dbURL, `INSERT INTO bars (symbol, timeframe, time, open, high, low, close, volume)
		SELECT s, '1h', timestamptz '2023-03-01 00:00:00+00' + i * interval '1 hour', i, i + 2, i - 2, i + 1, i
		FROM unnest(array['AAA', 'BBB', 'CCC']) AS s, generate_series(1, 60000) AS i`)
	var all []market.Bar
	for b, err := range st.Bars(context.Background(), store.Query{Timeframe: "1h"}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b)
	}
	var retries atomic.Int32
	src := &store.Source{DB: st, Timeframe: "1h", MaxConcurrentSymbols: 2, Retry: store.RetryPolicy{Initial: time.Millisecond,
		OnRetry: func(_ int, _ time.Duration, err error) { retries.Add(1); t.Logf("retry after: %v", err) }}}
	em := &terminatingEmitter{t: t, dbURL: dbURL, app: app, at: map[int]bool{1000: true, 90_000: true}}
	if err := src.Produce(context.Background(), em); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(em.bars, all) || len(em.fails) != 0 {
		t.Fatalf("got %d bars (fails %v), want %d once each in order", len(em.bars), em.fails, len(all))
	}
	if retries.Load() == 0 {
		t.Fatal("no read met a terminated connection")
	}
}

// terminatingEmitter records bars and, on reaching each count in at,
// terminates the server connections of application app.
type terminatingEmitter struct {
	storeEmitter
	t     *testing.T
	dbURL string
	app   string
	at    map[int]bool
}

func (e *terminatingEmitter) Emit(ev market.Event) error {
	if e.at[len(e.bars)] {
		storetest.Exec(e.t, e.dbURL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, e.app)
	}
	return e.storeEmitter.Emit(ev)
}

// gatedStore counts the reads in flight and holds the first ones until
// want of them run at once, so that a test sees the bound reached.
type gatedStore struct {
	store.Store
	want          int32
	running, peak atomic.Int32
	once          sync.Once
	full          chan struct{}
}

func (g *gatedStore) Bars(ctx context.Context, q store.Query) iter.Seq2[market.Bar, error] {
	return func(yield func(market.Bar, error) bool) {
		n := g.running.Add(1)
		defer g.running.Add(-1)
		for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
		}
		if n == g.want {
			g.once.Do(func() { close(g.full) })
		}
		select {
		case <-g.full:
		case <-ctx.Done():
			yield(market.Bar{}, ctx.Err())
			return
		}
		for b, err := range g.Store.Bars(ctx, q) {
			if !yield(b, err) {
				return
			}
		}
	}
}

// max_concurrent_symbols: a limit of 3 caps the reads in flight at 3 (and
// they do overlap), whatever the number of symbols; the output order does
// not change.
func TestStoreSourceBoundsConcurrentReads(t *testing.T) {
	st := openStore(t, storetest.SQLiteURL(t))
	syms := []string{"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"}
	want := fillStore(t, st, syms, []int{5, 6, 7, 8, 9, 10, 11, 12})
	g := &gatedStore{Store: st, want: 3, full: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	em := &storeEmitter{}
	src := &store.Source{DB: g, Timeframe: "1h", Symbols: syms, MaxConcurrentSymbols: 3}
	if err := src.Produce(ctx, em); err != nil {
		t.Fatalf("%v (peak %d reads at once: fewer than 3 never release the gate)", err, g.peak.Load())
	}
	if g.peak.Load() != 3 {
		t.Fatalf("peak %d reads at once, want 3", g.peak.Load())
	}
	if !slices.Equal(em.bars, want) {
		t.Fatalf("got %d bars, want %d in symbol order", len(em.bars), len(want))
	}
}
