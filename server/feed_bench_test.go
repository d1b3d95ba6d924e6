package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

func benchBatch(n, symbols int) []market.Event {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	batch := make([]market.Event, n)
	for i := range batch {
		batch[i] = market.Event{
			Bar:        market.Bar{Symbol: fmt.Sprintf("SYM%04d", i%symbols), Time: t0.Add(time.Duration(i) * time.Minute), Close: 100 + float64(i%7)},
			Indicators: market.DefaultRecord(100.5, true, 15, 12, true),
		}
	}
	batch[n/2].Signal = &market.Signal{Symbol: batch[n/2].Symbol, Time: batch[n/2].Time, Side: market.Buy, Price: 100, Reason: "bench"}
	return batch
}

// BenchmarkFeedWrite is the pipeline's cost of a batch of 100 events with
// 0 and 200 /events clients reading the ring (without a network): the
// publish is one encoding and one wake-up whatever the clients.
func BenchmarkFeedWrite(b *testing.B) {
	for _, clients := range []int{0, 200} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			f := newFeed(DefaultRecentSignals, DefaultClientBuffer, DefaultSnapshotInterval)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range clients {
				c := f.stream.subscribe()
				wg.Go(func() {
					var msgs []message
					for {
						var wake <-chan struct{}
						var ok bool
						msgs, wake, ok = f.stream.read(c, msgs[:0], readBytes)
						if !ok {
							return
						}
						if len(msgs) > 0 {
							continue
						}
						select {
						case <-wake:
						case <-ctx.Done():
							return
						}
					}
				})
			}
			batch := benchBatch(100, 1000)
			b.ReportAllocs()
			for b.Loop() {
				if err := f.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
			if d := f.stream.dropped.Load(); d != 0 {
				b.Errorf("%d clients dropped", d)
			}
			cancel()
			wg.Wait()
		})
	}
}

// BenchmarkAPISymbols is one /api/symbols request over 1,000 symbols:
// from the snapshot, and rebuilt because the Feed changed.
func BenchmarkAPISymbols(b *testing.B) {
	for _, rebuild := range []bool{false, true} {
		b.Run(map[bool]string{false: "snapshot", true: "rebuild"}[rebuild], func(b *testing.B) {
			every := time.Hour
			if rebuild {
				every = -1
			}
			f := newFeed(DefaultRecentSignals, DefaultClientBuffer, every)
			batch := benchBatch(1000, 1000)
			if err := f.Write(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			s := &Server{feed: f}
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/api/symbols", nil)
			b.ReportAllocs()
			for b.Loop() {
				if rebuild {
					_ = f.Write(context.Background(), batch[:1])
				}
				s.apiSymbols(discardResponse{h: http.Header{}}, r)
			}
		})
	}
}

type discardResponse struct{ h http.Header }

func (d discardResponse) Header() http.Header         { return d.h }
func (d discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d discardResponse) WriteHeader(int)             {}

// FuzzHostAllowed: any Host header is judged without a panic, and on
// loopback without Hosts only loopback names and IPs pass.
func FuzzHostAllowed(f *testing.F) {
	for _, h := range []string{"127.0.0.1:9090", "[::1]", "localhost.", "a.localhost", "evil.example", "[", "]:80", "::ffff:127.0.0.1", "%", ""} {
		f.Add(h)
	}
	g := newGuard(&Options{}, nil)
	f.Fuzz(func(t *testing.T, host string) {
		if !g.hostAllowed(host) {
			return
		}
		h := hostName(host)
		if h != "localhost" && !hasSuffix(h, ".localhost") && !isLoopbackIP(h) {
			t.Errorf("Host %q (%q) allowed on loopback", host, h)
		}
	})
}
