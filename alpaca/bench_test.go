package alpaca_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

func symbolNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("S%04d", i)
	}
	return out
}

// counter is an Emitter that only counts, and signals when it reaches want.
type counter struct {
	n    atomic.Int64
	want atomic.Int64
	hit  chan struct{}
}

func (c *counter) Emit(market.Event) error {
	if c.n.Add(1) == c.want.Load() {
		c.hit <- struct{}{}
	}
	return nil
}
func (c *counter) Flush() error       { return nil }
func (c *counter) Fail(string, error) {}
func (c *counter) waitFor(ctx context.Context, n int64) error {
	c.want.Store(n)
	if c.n.Load() >= n {
		select { // Emit may have signalled already
		case <-c.hit:
		default:
		}
		return nil
	}
	select {
	case <-c.hit:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// How many REST requests does fetching 1,000 symbols x 1 day of minute
// bars take? (One regular session, 390 bars a symbol: 390,000 bars.)
// Reported as requests/op; fewer is better.
func BenchmarkBarsRequests1000Symbols1Day(b *testing.B) {
	syms := symbolNames(1000)
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	open := day.Add(14*time.Hour + 30*time.Minute)
	var bars []market.Bar
	for i, s := range syms {
		bars = append(bars, walk(s, 390, open, uint64(i+1))...)
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	defer srv.Close()
	rest := fastREST(srv)
	rest.Transport = handlerTransport{srv.Handler()} // in-process: count requests, not sockets
	for _, maxBars := range []int{0, 200_000} {
		name := "MaxBarsPerCall=default"
		if maxBars > 0 {
			name = fmt.Sprintf("MaxBarsPerCall=%d", maxBars)
		}
		b.Run(name, func(b *testing.B) {
			var requests int
			var total int64
			for range b.N {
				before := srv.Stats().BarRequests
				src := &alpaca.Bars{Client: mustClient(rest), Symbols: syms, TimeFrame: "1Min", Start: day,
					End: day.Add(24*time.Hour - time.Minute), MaxBarsPerCall: maxBars}
				c := &counter{hit: make(chan struct{}, 1)}
				if err := src.Produce(context.Background(), c); err != nil {
					b.Fatal(err)
				}
				requests = srv.Stats().BarRequests - before
				total += c.n.Load()
			}
			if total != int64(b.N)*390_000 {
				b.Fatalf("%d bars", total)
			}
			b.ReportMetric(float64(requests), "requests/op")
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "bars/s")
		})
	}
}

// Bars per second through the stream source at 1,000 subscribed symbols:
// the fake publishes a frame of 1,000 bars (one per symbol) per minute
// round; the source decodes them (SDK), queues, deduplicates and emits.
func BenchmarkStream1000Symbols(b *testing.B) {
	syms := symbolNames(1000)
	srv := alpacatest.NewServer(alpacatest.Options{})
	defer srv.Close()
	src := &alpaca.Stream{Client: mustClient(fastREST(srv)), Symbols: syms,
		WarmupBars: -1, StaleAfter: -1}
	c := &counter{hit: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Produce(ctx, c) }()
	if err := srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.Subscribed == len(syms) }); err != nil {
		b.Fatal(err)
	}
	rounds := max(1, b.N/len(syms))
	frames := make([][]market.Bar, rounds)
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	for r := range frames {
		frames[r] = make([]market.Bar, len(syms))
		for i, s := range syms {
			p := 100 + float64(r%50)
			frames[r][i] = market.Bar{Symbol: s, Time: t0.Add(time.Duration(r) * time.Minute), Open: p, High: p + 1, Low: p - 1, Close: p, Volume: 100}
		}
	}
	b.ResetTimer()
	for r, f := range frames {
		srv.Publish(f...)
		if r%256 == 255 { // keep the fake's per-connection queue short
			if err := c.waitFor(ctx, int64((r+1)*len(syms))); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := c.waitFor(ctx, int64(rounds*len(syms))); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(c.n.Load())/b.Elapsed().Seconds(), "bars/s")
	cancel()
	<-done
	src.Client.Close()
}
