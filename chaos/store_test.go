package chaos_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// cuttingSink passes every batch to the bar sink, first cutting every
// database connection (through the proxy) before every cutEvery-th batch,
// and keeps the bars it was given.
type cuttingSink struct {
	*store.BarSink
	proxy    *faultProxy
	cutEvery int
	writes   int
	in       []market.Bar
}

func (c *cuttingSink) Write(ctx context.Context, events []market.Event) error {
	c.writes++
	if c.writes%c.cutEvery == 0 {
		c.proxy.CutAll()
	}
	for _, e := range events {
		c.in = append(c.in, e.Bar)
	}
	return c.BarSink.Write(ctx, events)
}

// TestStoreThroughDroppedConnections runs the pipeline into a PostgreSQL
// bar store whose connections a proxy resets, all at once, before every
// third batch, as a database restart or a failover does: the sink
// reconnects and retries, and the store holds every bar exactly once.
func TestStoreThroughDroppedConnections(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFaultProxy(t, u.Host, 0, 0, 0, false)
	u.Host = proxy.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var retries atomic.Int64
	sink := &cuttingSink{proxy: proxy, cutEvery: 3, BarSink: &store.BarSink{DB: st, Timeframe: "1m",
		Retry: store.RetryPolicy{Attempts: 10, Initial: time.Millisecond, Max: 20 * time.Millisecond,
			OnRetry: func(int, time.Duration, error) { retries.Add(1) }}}}
	src := &sources.Synthetic{Symbols: 6, Bars: 2000, Seed: 13}
	p, err := tickflow.New(src, sink, tickflow.Config{Workers: 4, BatchSize: 500, DrainTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}

	type key struct {
		sym string
		t   int64
	}
	in := map[key]market.Bar{}
	for _, b := range sink.in {
		in[key{b.Symbol, b.Time.UnixNano()}] = b
	}
	stored, dup, altered := 0, 0, 0
	seen := map[key]bool{}
	for b, err := range st.Bars(ctx, store.Query{Timeframe: "1m"}) {
		if err != nil {
			t.Fatal(err)
		}
		k := key{b.Symbol, b.Time.UnixNano()}
		switch w, ok := in[k]; {
		case seen[k]:
			dup++
		case !ok || w.Open != b.Open || w.High != b.High || w.Low != b.Low || w.Close != b.Close || w.Volume != b.Volume:
			altered++
		default:
			stored++
		}
		seen[k] = true
	}
	t.Logf("%d bars in, %d stored, %d written by the sink; %d connections cut, %d retries", len(sink.in), stored,
		sink.Written(), proxy.cutAll.Load(), retries.Load())
	if want := src.Symbols * src.Bars; len(sink.in) != want || len(in) != want {
		t.Fatalf("the sink was given %d bars (%d distinct), want %d", len(sink.in), len(in), want)
	}
	if stored != len(in) || dup != 0 || altered != 0 || sink.Written() != int64(len(in)) {
		t.Errorf("bars in %d, stored %d, %d twice, %d unknown or altered, sink counted %d", len(in), stored, dup, altered, sink.Written())
	}
	if proxy.cutAll.Load() == 0 || retries.Load() == 0 {
		t.Errorf("%d connections cut, %d retries: the fault was not exercised", proxy.cutAll.Load(), retries.Load())
	}
}

// TestJournalCountsItsReconnections journals signals into PostgreSQL
// through a proxy that resets every connection before every third commit:
// every signal is journaled once, and the journal counts exactly the
// retries its policy made, the figure `run --journal` reports.
func TestJournalCountsItsReconnections(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFaultProxy(t, u.Host, 0, 0, 0, false)
	u.Host = proxy.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var retries atomic.Int64
	j := &store.Journal{DB: st, Run: store.Run{Command: "chaos", Strategy: fmt.Sprintf("chaos-%d", time.Now().UnixNano())},
		Retry: store.RetryPolicy{Attempts: 10, Initial: time.Millisecond, Max: 20 * time.Millisecond,
			OnRetry: func(int, time.Duration, error) { retries.Add(1) }}}
	t0 := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	const commits, perCommit = 12, 50
	for c := range commits {
		if c%3 == 2 {
			proxy.CutAll()
		}
		events := make([]market.Event, perCommit)
		for i := range events {
			at := t0.Add(time.Duration(c*perCommit+i) * time.Minute)
			events[i] = market.Event{Bar: market.Bar{Symbol: "SYM", Time: at, Close: 100},
				Signal: &market.Signal{Symbol: "SYM", Time: at, Side: market.Buy, Price: 100, Reason: "chaos"}}
		}
		if err := j.Write(ctx, events); err != nil {
			t.Fatalf("commit %d: %v", c, err)
		}
	}
	t.Logf("%d signals journaled, %d duplicates, %d retried commits, %d connections cut", j.Added(), j.Duplicates(), j.Retried(), proxy.cutAll.Load())
	if j.Added() != commits*perCommit || j.Duplicates() != 0 {
		t.Errorf("journaled %d new and %d duplicates, want %d and 0", j.Added(), j.Duplicates(), commits*perCommit)
	}
	if j.Retried() == 0 || j.Retried() != retries.Load() {
		t.Errorf("the journal counts %d retries, its policy made %d (want the same, and some)", j.Retried(), retries.Load())
	}
}
