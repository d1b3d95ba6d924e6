package chaos_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/sources"
)

// The ADR's success criteria, measured (docs/faults.md has the figures):
//
//	go test -run '^$' -bench . -benchtime 3x ./chaos/

// BenchmarkSuccessRateUnderFaults is the ADR's "async operation success
// rate under the injected faults" (goal 99.9 % after retries): history
// fetched through 429s on every n-th request, a millisecond's delay on
// each, and every 2n-th connection (up to 20) reset part-way through an
// answer, with the client's default retries (3) and circuit breaker. A
// request succeeds when one of its attempts does: success-% counts
// requests, attempt-fail-% the attempts that failed, bars-% the bars that
// reached the sink (a request given up on fails its symbol).
func BenchmarkSuccessRateUnderFaults(b *testing.B) {
	for _, every := range []int{3, 10} {
		b.Run(fmt.Sprintf("429-every=%d", every), func(b *testing.B) {
			var requests, failedAttempts, exhausted, bars, want int64
			for b.Loop() {
				res := fetch(b, fetchSpec{symbols: 20, bars: 2000, adr: true,
					faults:     alpacatest.Faults{FailEvery: every, FailStatus: 429, Delay: time.Millisecond},
					proxyEvery: 2 * every, proxyAfter: 1000, proxyMax: 20})
				requests += res.stats.Requests - res.stats.Retries // attempts that were not retries
				failedAttempts += res.stats.Retries + res.stats.Exhausted
				exhausted += res.stats.Exhausted
				got, _, _, _ := res.sink.barCounts(res.want)
				bars += int64(got)
				want += int64(len(res.want))
			}
			b.ReportMetric(100*float64(requests-exhausted)/float64(requests), "success-%")
			b.ReportMetric(100*float64(failedAttempts)/float64(requests+failedAttempts-exhausted), "attempt-fail-%")
			b.ReportMetric(100*float64(bars)/float64(want), "bars-%")
			b.ReportMetric(float64(requests), "requests")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// batchRun runs a batch of synthetic history (symbols × bars) through the
// StochRSI/EMA pipeline with workers workers into a counting sink, and
// returns the bars out, the wall time, the CPU time (user + system) and
// the peaks, sampled every millisecond, of the live heap and of the memory
// the Go runtime holds from the system (all of it, less what it has
// returned: what the process's resident size follows).
func batchRun(tb testing.TB, workers, symbols, bars int) (n int64, wall, cpu time.Duration, peak memPeak) {
	tb.Helper()
	runtime.GC()
	var count atomic.Int64
	sink := sinkFunc(func(items []market.Event) { count.Add(int64(len(items))) })
	p, err := tickflow.New(&sources.Synthetic{Symbols: symbols, Bars: bars, Seed: 5}, sink, tickflow.Config{Workers: workers})
	if err != nil {
		tb.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"},
			{Name: "/memory/classes/heap/released:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak.heap = max(peak.heap, sample[0].Value.Uint64())
			peak.held = max(peak.held, sample[1].Value.Uint64()-sample[2].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	before, start := rusage(tb), time.Now()
	err = p.Run(context.Background())
	wall, cpu = time.Since(start), rusage(tb)-before
	close(stop)
	wg.Wait()
	if err != nil {
		tb.Fatal(err)
	}
	if want := int64(symbols * bars); count.Load() != want {
		tb.Fatalf("bars in %d, bars out %d", want, count.Load())
	}
	return count.Load(), wall, cpu, peak
}

// memPeak is the most memory a run used, in bytes.
type memPeak struct {
	heap uint64 // live heap objects
	held uint64 // memory the Go runtime held from the system
}

type sinkFunc func([]market.Event)

func (f sinkFunc) Write(_ context.Context, items []market.Event) error { f(items); return nil }

// rusage is this process's CPU time so far, user and system.
func rusage(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCPUUse is the ADR's "CPU utilization across all cores" during
// a batch run: (user + system CPU time) / wall time, in cores, of 1,000,000
// bars (40 symbols) through the pipeline, sequential (1 worker) and with a
// worker per core; the goal is near the core count.
func BenchmarkCPUUse(b *testing.B) {
	for _, w := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(map[bool]string{true: "sequential", false: "workers=GOMAXPROCS"}[w == 1], func(b *testing.B) {
			var wall, cpu time.Duration
			var bars int64
			for b.Loop() {
				n, wl, c, _ := batchRun(b, w, 40, 25_000)
				bars, wall, cpu = bars+n, wall+wl, cpu+c
			}
			b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cores")
			b.ReportMetric(float64(bars)/wall.Seconds(), "bars/s")
			b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "of-cores")
		})
	}
}

// BenchmarkMemoryConcurrentVsSequential is the ADR's "memory usage of
// concurrent against sequential mode" (goal: under +20 %): the peak memory
// of the same batch run with 4 workers (the default) and with 1, each run
// after a GC, in turns: the memory the Go runtime holds from the system
// (held-extra-%, the ADR's criterion) and the live heap alone
// (heap-extra-%: each worker's edge holds its own batches).
func BenchmarkMemoryConcurrentVsSequential(b *testing.B) {
	var seq, conc memPeak
	for b.Loop() {
		_, _, _, s := batchRun(b, 1, 40, 25_000)
		_, _, _, c := batchRun(b, 4, 40, 25_000)
		seq = memPeak{max(seq.heap, s.heap), max(seq.held, s.held)}
		conc = memPeak{max(conc.heap, c.heap), max(conc.held, c.held)}
	}
	b.ReportMetric(float64(seq.held)/(1<<20), "seq-held-MB")
	b.ReportMetric(float64(conc.held)/(1<<20), "conc-held-MB")
	b.ReportMetric(100*(float64(conc.held)/float64(seq.held)-1), "held-extra-%")
	b.ReportMetric(float64(seq.heap)/(1<<20), "seq-heap-MB")
	b.ReportMetric(float64(conc.heap)/(1<<20), "conc-heap-MB")
	b.ReportMetric(100*(float64(conc.heap)/float64(seq.heap)-1), "heap-extra-%")
	b.ReportMetric(0, "ns/op")
}
