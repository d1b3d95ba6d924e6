//go:build full

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/server"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

// The stream benchmarks compose the pipeline as `tickflow stream` does
// (metrics observer and source wrapper, metrics sink, server feed, health,
// drop-oldest source edge) over the synthetic source with 5,000 symbols:
//
//	go test -run '^$' -bench Stream -benchtime 1x ./cmd/tickflow/
//
// BenchmarkStreamThroughput runs history as fast as it goes (sustained
// bars/s); BenchmarkStreamLatency paces the live feed at 50,000 bars/s and
// measures every bar's latency from its arrival (its Emit by the source) to
// the sink, and the heap and resident memory per symbol.

const benchSymbols = 5000

// arrivals records when each bar left the source, per symbol in order, so
// the sink can tell each bar's latency.
type arrivals struct {
	mu    sync.Mutex
	base  time.Time
	queue map[string][]time.Duration // since base
}

type stampedSource struct {
	a   *arrivals
	src pipeline.Source[market.Event]
}

func (s stampedSource) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	return s.src.Produce(ctx, stampEmitter{s.a, out})
}

type stampEmitter struct {
	a   *arrivals
	out pipeline.Emitter[market.Event]
}

func (e stampEmitter) Emit(item market.Event) error {
	e.a.mu.Lock()
	e.a.queue[item.Symbol] = append(e.a.queue[item.Symbol], time.Since(e.a.base))
	e.a.mu.Unlock()
	return e.out.Emit(item)
}
func (e stampEmitter) Flush() error               { return e.out.Flush() }
func (e stampEmitter) Fail(key string, err error) { e.out.Fail(key, err) }

// latencySink pops each bar's arrival and keeps the latency.
type latencySink struct {
	a    *arrivals
	lat  []time.Duration
	sigs int
}

func (s *latencySink) Write(_ context.Context, items []market.Event) error {
	now := time.Since(s.a.base)
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	for i := range items {
		q := s.a.queue[items[i].Symbol]
		if len(q) == 0 {
			continue
		}
		s.lat = append(s.lat, now-q[0])
		s.a.queue[items[i].Symbol] = q[1:]
		if items[i].Signal != nil {
			s.sigs++
		}
	}
	return nil
}

type streamBench struct {
	p     *pipeline.Pipeline[market.Event]
	lat   *latencySink
	srv   *server.Server
	feed  *server.Feed
	drops func() int64
}

func newStreamBench(b *testing.B, src pipeline.Source[market.Event], overflow pipeline.Overflow, stamp bool) *streamBench {
	b.Helper()
	cfg := config.Default()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		b.Fatal(err)
	}
	a := &arrivals{base: time.Now(), queue: map[string][]time.Duration{}}
	lat := &latencySink{a: a}
	mon := health.New(health.Options{Activity: m})
	srv, err := server.New(server.Options{Gatherer: reg, Registerer: reg, Health: mon})
	if err != nil {
		b.Fatal(err)
	}
	sink := sinks.Tee(m.Sink(), srv.Feed())
	if stamp {
		src = stampedSource{a, src}
		sink = sinks.Tee(m.Sink(), srv.Feed(), lat)
	}
	p, err := tickflow.New(m.Source(src), sink, tickflow.Config{
		Workers: runtime.GOMAXPROCS(0), Overflow: overflow, Observer: m,
		Oversold: cfg.Strategy.Oversold, Overbought: cfg.Strategy.Overbought,
	})
	if err != nil {
		b.Fatal(err)
	}
	m.WatchPipeline(p)
	return &streamBench{p: p, lat: lat, srv: srv, feed: srv.Feed(), drops: func() int64 {
		var n int64
		for _, s := range p.Stats() {
			n += s.Dropped
		}
		return n
	}}
}

func BenchmarkStreamThroughput(b *testing.B) {
	bars := 200 // per symbol: 1,000,000 bars in all
	if n, err := strconv.Atoi(os.Getenv("TICKFLOW_BENCH_BARS")); err == nil {
		bars = n
	}
	// observed is the stream's composition; bare is the same pipeline
	// into a discard sink, without metrics, feed or health: the difference
	// is what observing costs.
	b.Run("observed", func(b *testing.B) {
		for b.Loop() {
			// History cannot be dropped: the source is slowed to the pipeline's pace.
			s := newStreamBench(b, &sources.Synthetic{Symbols: benchSymbols, Bars: bars, Seed: 1}, pipeline.Block, false)
			start := time.Now()
			if err := s.p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(benchSymbols*bars)/time.Since(start).Seconds(), "bars/s")
		}
	})
	b.Run("bare", func(b *testing.B) {
		for b.Loop() {
			p, err := tickflow.New(&sources.Synthetic{Symbols: benchSymbols, Bars: bars, Seed: 1}, &sinks.Discard{},
				tickflow.Config{Workers: runtime.GOMAXPROCS(0)})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(benchSymbols*bars)/time.Since(start).Seconds(), "bars/s")
		}
	})
}

func BenchmarkStreamLatency(b *testing.B) {
	const rate = 50000
	run := 3 * time.Second
	if d, err := time.ParseDuration(os.Getenv("TICKFLOW_BENCH_DURATION")); err == nil {
		run = d
	}
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		rssBefore := rss()

		src := syntheticFeed(&config.Config{Stream: config.Stream{SyntheticSymbols: benchSymbols, Rate: rate}}, 1)
		s := newStreamBench(b, src, pipeline.DropOldest, true) // as tickflow stream
		ctx, cancel := context.WithTimeout(context.Background(), run)
		var heap, rssDuring uint64
		go func() {
			// Measure memory while every symbol is live (after one round of bars).
			time.Sleep(run * 2 / 3)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap, rssDuring = ms.HeapAlloc, rss()
		}()
		start := time.Now()
		err := s.p.Run(ctx)
		el := time.Since(start)
		cancel()
		if err != nil && ctx.Err() == nil {
			b.Fatal(err)
		}
		lat := s.lat.lat
		if len(lat) == 0 {
			b.Fatal("no latencies")
		}
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		st := s.feed.Stats()
		b.ReportMetric(float64(st.Bars)/el.Seconds(), "bars/s")
		b.ReportMetric(float64(q(0.50).Microseconds()), "p50-µs")
		b.ReportMetric(float64(q(0.99).Microseconds()), "p99-µs")
		b.ReportMetric(float64(q(0.999).Microseconds()), "p99.9-µs")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		b.ReportMetric(float64(s.drops()), "dropped")
		b.ReportMetric(float64(st.Symbols), "symbols")
		if heap > before.HeapAlloc {
			b.ReportMetric(float64(heap-before.HeapAlloc)/benchSymbols, "heap-B/symbol")
		}
		if rssDuring > rssBefore {
			b.ReportMetric(float64(rssDuring-rssBefore)/benchSymbols, "rss-B/symbol")
		}
		b.Logf("%d bars in %v, %d signals; latency p50 %v p99 %v p99.9 %v max %v; heap %d MB, RSS %d MB",
			st.Bars, el.Round(time.Millisecond), s.lat.sigs, q(0.5), q(0.99), q(0.999), lat[len(lat)-1], heap>>20, rssDuring>>20)
	}
}

// BenchmarkServeUnderLoad is issue 13's load on the stream's composition:
// a live feed of 20,000 bars/s over 1,000 symbols, the server on loopback
// with 200 /events readers (each checking that it gets every id, in order)
// and 500 /api/symbols requests, 50 at a time:
//
//	go test -run '^$' -bench ServeUnderLoad -benchtime 1x ./cmd/tickflow/
//
// It reports the pipeline's rate and drops, the readers the server
// dropped, the events the readers missed, and the API answers.
func BenchmarkServeUnderLoad(b *testing.B) {
	// idle is the same pipeline and server without clients: the baseline.
	b.Run("idle", func(b *testing.B) { benchServe(b, 0, 0) })
	b.Run("loaded", func(b *testing.B) { benchServe(b, 200, 500) })
}

func benchServe(b *testing.B, readers int, requests int64) {
	const rate, symbols, parallel = 20000, 1000, 50
	run := 3 * time.Second
	if d, err := time.ParseDuration(os.Getenv("TICKFLOW_BENCH_DURATION")); err == nil {
		run = d
	}
	for b.Loop() {
		src := syntheticFeed(&config.Config{Stream: config.Stream{SyntheticSymbols: symbols, Rate: rate}}, 1)
		s := newStreamBench(b, src, pipeline.DropOldest, false)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srvCtx, stopSrv := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := s.srv.Serve(srvCtx, ln); err != nil {
				b.Error(err)
			}
		})
		base := "http://" + ln.Addr().String()
		// Large reads: the readers stand for browsers on other machines.
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: parallel, ReadBufferSize: 256 << 10}}

		type seen struct{ count, last, gaps uint64 }
		logs := make([]seen, readers)
		var readWG sync.WaitGroup
		var bodies []io.Closer
		for i := range readers {
			resp, err := client.Get(base + "/events")
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("reader %d: %v %v", i, err, resp)
			}
			bodies = append(bodies, resp.Body)
			r := bufio.NewReaderSize(resp.Body, 256<<10)
			if _, err := r.ReadString('\n'); err != nil {
				b.Fatal(err)
			}
			readWG.Go(func() {
				for {
					line, err := r.ReadSlice('\n')
					if err == bufio.ErrBufferFull {
						continue // the rest of a long data line
					}
					if err != nil {
						return
					}
					if id, ok := bytes.CutPrefix(line, []byte("id: ")); ok {
						n, _ := strconv.ParseUint(string(bytes.TrimSpace(id)), 10, 64)
						if logs[i].count > 0 && n != logs[i].last+1 {
							logs[i].gaps++
						}
						logs[i].last = n
						logs[i].count++
					}
					if len(line) < 256 && bytes.Contains(line, []byte(`"symbol":"END"`)) {
						return
					}
				}
			})
		}

		ctx, cancel := context.WithTimeout(context.Background(), run)
		var ok, busy, failed atomic.Int64
		var next atomic.Int64
		var apiWG sync.WaitGroup
		for range parallel {
			apiWG.Go(func() {
				for ctx.Err() == nil && next.Add(1) <= requests {
					resp, err := client.Get(base + "/api/symbols")
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch resp.StatusCode {
					case http.StatusOK:
						ok.Add(1)
					case http.StatusServiceUnavailable:
						busy.Add(1)
					default:
						failed.Add(1)
					}
				}
			})
		}
		start := time.Now()
		if err := s.p.Run(ctx); err != nil && ctx.Err() == nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		cancel()
		apiWG.Wait()
		bars := s.feed.Stats().Bars
		_ = s.feed.Write(context.Background(), []market.Event{{Bar: market.Bar{Symbol: "END", Time: time.Now()}}})
		done := make(chan struct{})
		go func() { readWG.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Error("readers still reading 30 s after the end")
		}
		var last, missed, gaps uint64
		for _, l := range logs {
			last = max(last, l.last)
		}
		for _, l := range logs {
			missed += last - l.count
			gaps += l.gaps
		}
		b.ReportMetric(float64(bars)/el.Seconds(), "bars/s")
		b.ReportMetric(float64(s.drops()), "dropped")
		b.ReportMetric(float64(s.feed.Stats().Dropped), "readers-dropped")
		b.ReportMetric(float64(missed), "events-missed")
		b.ReportMetric(float64(ok.Load()), "api-ok")
		b.ReportMetric(float64(busy.Load()), "api-503")
		b.Logf("%d bars in %v, %d events per reader, %d gaps; /api/symbols %d ok, %d busy, %d failed",
			bars, el.Round(time.Millisecond), last, gaps, ok.Load(), busy.Load(), failed.Load())
		for _, c := range bodies {
			c.Close()
		}
		stopSrv()
		wg.Wait()
		client.CloseIdleConnections()
	}
}

// rss returns the process's resident memory in bytes (Linux), or 0.
func rss() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
