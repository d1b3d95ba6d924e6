package backtest_test

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// syntheticEvents records a Synthetic source once, so the benchmarks
// measure the backtest, not the random walk.
func syntheticEvents(b *testing.B, symbols, bars int) sources.Slice[market.Event] {
	b.Helper()
	evs := make(sources.Slice[market.Event], 0, symbols*bars)
	sink := pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
		evs = append(evs, es...)
		return nil
	})
	err := pipeline.New(pipeline.Config[market.Event]{}).
		From("synthetic", &sources.Synthetic{Symbols: symbols, Bars: bars, Seed: 7}).To("keep", sink).Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return evs
}

// cpuTime is the CPU time this process has used. The benchmarks report
// work per CPU-second beside work per second: on a shared machine the wall
// clock measures the neighbours too.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds "unit/s" and "unit/cpu-s" for work units done in total.
func report(b *testing.B, cpu0 time.Duration, work float64, unit string) {
	b.ReportMetric(work/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(work/(cpuTime(b)-cpu0).Seconds(), unit+"/cpu-s")
}

// BenchmarkBacktest is one backtest of 1,000 symbols x 2,000 bars with the
// default strategy, end to end in process: the pipeline of `tickflow run`
// (2 workers), the recorder, the simulation and every metric.
func BenchmarkBacktest(b *testing.B) {
	evs := syntheticEvents(b, 1000, 2000)
	runtime.GC()
	b.Run("backtest", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for b.Loop() {
			res, err := backtest.Run(context.Background(), evs, backtest.Config{Signals: tickflow.Config{Workers: 2}})
			if err != nil {
				b.Fatal(err)
			}
			if res.Portfolio.Metrics.Trades == 0 {
				b.Fatal("no trades")
			}
		}
		report(b, cpu0, float64(b.N*len(evs)), "bars")
	})
	// The floor: the same pipeline handing every bar to a sink that does
	// nothing, which a backtest cannot beat (its fills need every bar).
	b.Run("pipeline-floor", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for b.Loop() {
			p, err := tickflow.New(evs, pipeline.SinkFunc[market.Event](func(context.Context, []market.Event) error { return nil }),
				tickflow.Config{Workers: 2})
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		report(b, cpu0, float64(b.N*len(evs)), "bars")
	})
}

// BenchmarkSweepDefault is a 100-combination EMA x oversold sweep of the
// default strategy on 1,000 symbols x 2,000 bars (StochRSI computed once
// per symbol, each EMA once per symbol).
func BenchmarkSweepDefault(b *testing.B) {
	data, err := backtest.Load(context.Background(), syntheticEvents(b, 1000, 2000))
	if err != nil {
		b.Fatal(err)
	}
	ema, _ := backtest.ParseParam("ema", "10:55:5")
	oversold, _ := backtest.ParseParam("oversold", "10:28:2")
	cfg := backtest.SweepConfig{Params: []backtest.Param{ema, oversold}}
	runtime.GC()
	b.ReportAllocs()
	rows := 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		res, err := backtest.Sweep(context.Background(), data, cfg)
		if err != nil {
			b.Fatal(err)
		}
		rows = len(res.Rows)
	}
	if rows != 100 {
		b.Fatalf("%d rows", rows)
	}
	report(b, cpu0, float64(b.N*rows*data.Bars()), "bar-combos")
}

// BenchmarkSweepEMACross is the workload of vectorbt issue #406: every pair
// 2 <= fast < slow <= 199 (19,503) over one 72,000-bar series, with the
// fill model of the package documentation. TICKFLOW_SWEEP_CSV names a CSV
// to use instead of the synthetic series (to run the peer on the same bars).
func BenchmarkSweepEMACross(b *testing.B) {
	var data *backtest.Data
	var err error
	if path := os.Getenv("TICKFLOW_SWEEP_CSV"); path != "" {
		data, err = backtest.Load(context.Background(), &sources.CSV{Paths: []string{path}})
	} else {
		data, err = backtest.Load(context.Background(), syntheticEvents(b, 1, 72000))
	}
	if err != nil {
		b.Fatal(err)
	}
	fast, _ := backtest.ParseParam("fast", "2:198")
	slow, _ := backtest.ParseParam("slow", "3:199")
	cfg := backtest.SweepConfig{Strategy: backtest.StrategyEMACross, Params: []backtest.Param{fast, slow},
		Where: "fast<slow", Rank: "total_return"}
	runtime.GC()
	b.ReportAllocs()
	var res *backtest.SweepResult
	cpu0 := cpuTime(b)
	for b.Loop() {
		if res, err = backtest.Sweep(context.Background(), data, cfg); err != nil {
			b.Fatal(err)
		}
	}
	if len(res.Rows) != 19503 {
		b.Fatalf("%d pairs", len(res.Rows))
	}
	best := res.Rows[0]
	b.Logf("pairs=%d bars=%d best=ema-cross(%v,%v) total_return=%.6f trades=%d", len(res.Rows), data.Bars(),
		best.Values[0], best.Values[1], best.Metrics.TotalReturn.V, best.Metrics.Trades)
	report(b, cpu0, float64(b.N*len(res.Rows)*data.Bars()), "bar-pairs")
}
