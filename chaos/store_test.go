package chaos_test

import (
	"context"
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
