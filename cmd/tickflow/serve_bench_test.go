package main

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	return &streamBench{p: p, lat: lat, feed: srv.Feed(), drops: func() int64 {
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
