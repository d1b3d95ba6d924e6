package nats_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	tickflow "github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// BenchmarkEndToEnd ingests 400,000 bars (200 symbols) into JetStream, then
// consumes them with 1 and 2 workers (each as a separate Source and
// pipeline, as separate processes would run, over disjoint partitions),
// through the StochRSI/EMA pipeline or straight to a discarding sink. On
// the embedded server, or the real one when TICKFLOW_TEST_NATS is set.
func BenchmarkEndToEnd(b *testing.B) {
	const symbols, bars = 200, 2000
	for _, where := range []string{"embedded", "real"} {
		b.Run(where, func(b *testing.B) {
			var bs *bus
			switch where {
			case "embedded":
				bs = embedded(b)
			default:
				url := os.Getenv("TICKFLOW_TEST_NATS")
				if url == "" {
					b.Skip("TICKFLOW_TEST_NATS is not set")
				}
				bs = connect(b, url, nil, "")
			}
			b.Run("ingest", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					fresh := *bs
					fresh.ns = nats.Namespace(fmt.Sprintf("%s_ingest%d", bs.ns, i))
					if _, err := ingest(context.Background(), &fresh, synthetic(symbols, bars)); err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() {
						_ = fresh.js.DeleteStream(context.Background(), fresh.ns.BarsStream())
						_ = fresh.js.DeleteStream(context.Background(), fresh.ns.SignalsStream())
						_ = fresh.js.DeleteKeyValue(context.Background(), fresh.ns.PositionsBucket())
					})
				}
				b.ReportMetric(float64(symbols*bars)*float64(b.N)/b.Elapsed().Seconds(), "bars/s")
			})
			if _, err := ingest(context.Background(), bs, synthetic(symbols, bars)); err != nil {
				b.Fatal(err)
			}
			for _, workers := range []int{1, 2} {
				for _, signals := range []bool{false, true} {
					name := fmt.Sprintf("workers=%d/transport", workers)
					if signals {
						name = fmt.Sprintf("workers=%d/stochrsi-ema", workers)
					}
					b.Run(name, func(b *testing.B) {
						cpu := cpuTime(b)
						for b.Loop() {
							benchConsume(b, bs, workers, signals)
						}
						b.ReportMetric(float64(symbols*bars)*float64(b.N)/b.Elapsed().Seconds(), "bars/s")
						b.ReportMetric(float64((cpuTime(b)-cpu).Nanoseconds())/float64(symbols*bars*b.N), "cpu-ns/bar")
					})
				}
			}
		})
	}
}

// cpuTime is the CPU time the process has used (user and system, the
// embedded server's included): per bar, the cost that a shared machine's
// load does not blur as it blurs bars/s.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchConsume(b *testing.B, bs *bus, workers int, signals bool) {
	parts := make([][]int, workers)
	for p := range testPartitions {
		parts[p%workers] = append(parts[p%workers], p)
	}
	// Each iteration reads from the start: reset the positions.
	kv, err := bs.js.KeyValue(context.Background(), bs.ns.PositionsBucket())
	if err != nil {
		b.Fatal(err)
	}
	for p := range testPartitions {
		_ = kv.Purge(context.Background(), fmt.Sprintf("p%d", p))
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			src, err := nats.NewSource(context.Background(), bs.js, nats.SourceConfig{Namespace: bs.ns, Partitions: parts[i], UntilCaughtUp: true})
			if err != nil {
				errs[i] = err
				return
			}
			discard := pipeline.SinkFunc[market.Event](func(context.Context, []market.Event) error { return nil })
			sink := src.CommitSink(discard, true)
			if signals {
				p, err := tickflow.New(src, sink, tickflow.Config{Workers: 1})
				if err == nil {
					err = p.Run(context.Background())
				}
				errs[i] = err
				return
			}
			errs[i] = pipeline.New(pipeline.Config[market.Event]{}).From("nats", src).To("commit", sink).Run(context.Background())
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTakeover is the time a worker taking over 6 partitions holding
// 400,000 committed bars (200 symbols) needs before it processes a new
// message: it replays the history through the StochRSI/EMA stages to rebuild
// every symbol's state (outputs dropped). It bounds what a worker's death
// costs beyond the detection of the death itself.
func BenchmarkTakeover(b *testing.B) {
	bs := benchBus(b)
	ctx := context.Background()
	if _, err := ingest(ctx, bs, synthetic(200, 2000)); err != nil {
		b.Fatal(err)
	}
	discard := pipeline.SinkFunc[market.Event](func(context.Context, []market.Event) error { return nil })
	run := func() *nats.Source {
		src, err := nats.NewSource(ctx, bs.js, nats.SourceConfig{Namespace: bs.ns, UntilCaughtUp: true})
		if err != nil {
			b.Fatal(err)
		}
		p, err := tickflow.New(src, src.CommitSink(discard, true), tickflow.Config{})
		if err == nil {
			err = p.Run(ctx)
		}
		if err != nil {
			b.Fatal(err)
		}
		return src
	}
	run() // commits everything
	for b.Loop() {
		if src := run(); src.Stats().Replayed == 0 {
			b.Fatal("nothing replayed")
		}
	}
}

func benchBus(b *testing.B) *bus {
	if url := os.Getenv("TICKFLOW_TEST_NATS"); url != "" {
		return connect(b, url, nil, "")
	}
	return embedded(b)
}

// BenchmarkSteadyLag feeds 50,000 bars/s (200 symbols, live, messages sent
// after 20ms at the latest) to one worker for 2s and reports its consumer
// lag, sampled every 10ms: messages in the stream not yet read, and the
// time from a message being read to its commit.
func BenchmarkSteadyLag(b *testing.B) {
	for b.Loop() {
		bs := benchBus(b)
		ctx, cancel := context.WithCancel(context.Background())
		if err := nats.EnsureLayout(ctx, bs.js, nats.Layout{Namespace: bs.ns, Partitions: testPartitions}); err != nil {
			b.Fatal(err)
		}
		pub, err := nats.NewPublisher(ctx, bs.js, nats.PublisherConfig{Namespace: bs.ns, Partitions: testPartitions, Linger: 20 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		src, err := nats.NewSource(ctx, bs.js, nats.SourceConfig{Namespace: bs.ns})
		if err != nil {
			b.Fatal(err)
		}
		discard := pipeline.SinkFunc[market.Event](func(context.Context, []market.Event) error { return nil })
		p, err := tickflow.New(src, src.CommitSink(discard, true), tickflow.Config{})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() { _ = p.Run(ctx) })
		feed := &sources.Synthetic{Symbols: 200, Bars: 500, Live: true, Rate: 50000, Seed: 3}
		fed := make(chan error, 1)
		go func() {
			fed <- pipeline.New(pipeline.Config[market.Event]{}).From("live", feed).To("bus", pub).Run(ctx)
		}()
		var samples, sum, peak uint64
		tick := time.NewTicker(10 * time.Millisecond)
	sample:
		for {
			select {
			case err := <-fed:
				if err != nil {
					b.Fatal(err)
				}
				break sample
			case <-tick.C:
				var lag uint64
				for _, ps := range src.Stats().Partitions {
					lag += ps.Lag
				}
				samples++
				sum += lag
				peak = max(peak, lag)
			}
		}
		tick.Stop()
		cancel()
		wg.Wait()
		st := src.Stats()
		b.ReportMetric(float64(sum)/float64(max(samples, 1)), "mean-lag-msgs")
		b.ReportMetric(float64(peak), "max-lag-msgs")
		if st.Acked > 0 {
			b.ReportMetric(float64(st.AckLatency.Microseconds())/float64(st.Acked), "ack-µs")
		}
	}
}
