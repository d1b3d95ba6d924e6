package tickflow_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWorkersDoNotChangeOutput(t *testing.T) {
	run := func(workers int) []market.Event {
		var got []market.Event
		p, err := tickflow.New(&sources.Synthetic{Symbols: 40, Bars: 1500, Seed: 9},
			pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
				for _, e := range es {
					if e.Signal != nil {
						s := *e.Signal
						e.Signal = &s // the pointer differs run to run, the value must not
					}
					got = append(got, e)
				}
				return nil
			}), tickflow.Config{Workers: workers})
		require.NoError(t, err)
		require.NoError(t, p.Run(context.Background()))
		return got
	}
	want := run(1)
	require.Len(t, want, 40*1500)
	for _, w := range []int{2, 3, 8} {
		require.Equal(t, want, run(w), "workers=%d", w)
	}
}

// BenchmarkEndToEnd is the ADR's throughput figure: 1,000 symbols x 2,000
// bars from memory through indicators and strategy into a discarding sink.
func BenchmarkEndToEnd(b *testing.B) {
	const symbols, bars = 1000, 2000
	names := make([]string, symbols)
	for s := range names {
		names[s] = fmt.Sprintf("S%04d", s)
	}
	evs := make(sources.Slice[market.Event], 0, symbols*bars)
	for i := range bars {
		for s := range symbols {
			evs = append(evs, market.Event{Bar: market.Bar{Symbol: names[s], Close: 100 + float64((i*7+s*13)%97)/10}})
		}
	}
	runtime.GC() // the setup's garbage is not the pipeline's cost
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				var d sinks.Discard
				p, err := tickflow.New(evs, &d, tickflow.Config{Workers: workers, SignalsOnly: true})
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "bars/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/bar")
		})
	}
}

// ExtraIndicators land in every event's record, named after the default
// values, and the one-stage path gives what the chain with a stage between
// the indicators and the strategy gives.
func TestExtraIndicators(t *testing.T) {
	extra, err := indicators.ParseSpecs("macd(12,26,9),slow=sma(50)")
	require.NoError(t, err)
	run := func(stages []tickflow.Stage) []market.Event {
		var got []market.Event
		p, err := tickflow.New(&sources.Synthetic{Symbols: 5, Bars: 400, Seed: 3},
			pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
				for _, e := range es {
					if e.Signal != nil {
						s := *e.Signal
						e.Signal = &s
					}
					got = append(got, e)
				}
				return nil
			}), tickflow.Config{Workers: 2, ExtraIndicators: extra, Stages: stages})
		require.NoError(t, err)
		require.NoError(t, p.Run(context.Background()))
		return got
	}
	fused := run(nil)
	require.Len(t, fused, 5*400)
	last := fused[len(fused)-1].Indicators
	require.Equal(t, []string{"ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "macd_hist", "slow"}, last.Schema.Names())
	for _, name := range last.Schema.Names() {
		_, ok := last.Lookup(name)
		require.True(t, ok, "%s is defined on bar 400", name)
	}
	pass := tickflow.Stage{Name: "pass", New: func() pipeline.Stage[market.Event] {
		return pipeline.StageFunc[market.Event](func(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
			return out.Emit(e)
		})
	}}
	require.Equal(t, fused, run([]tickflow.Stage{pass}))

	dup, err := indicators.ParseSpecs("ema(50)")
	require.NoError(t, err)
	_, err = tickflow.New(&sources.Synthetic{}, &sinks.Discard{}, tickflow.Config{ExtraIndicators: dup})
	require.ErrorContains(t, err, "add name=")
}

// A named strategy through tickflow.New: its indicators are added to the
// computed set (a user's identical spec reused) and its signals come out.
func TestStrategyBuilder(t *testing.T) {
	named, err := signals.ParseStrategy("ema-cross(5,20)")
	require.NoError(t, err)
	extra, err := indicators.ParseSpecs("fast=ema(5)")
	require.NoError(t, err)
	var got []market.Event
	p, err := tickflow.New(&sources.Synthetic{Symbols: 3, Bars: 500, Seed: 4},
		pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
			got = append(got, es...)
			return nil
		}), tickflow.Config{Workers: 2, ExtraIndicators: extra, StrategyBuilder: named, SignalsOnly: true})
	require.NoError(t, err)
	require.NoError(t, p.Run(context.Background()))
	require.NotEmpty(t, got)
	require.Equal(t, []string{"ema", "stochrsi_k", "stochrsi_d", "fast", "ema20"}, got[0].Indicators.Schema.Names())
	for _, e := range got {
		require.Contains(t, e.Signal.Reason, "ema(5) crossed")
	}
	_, err = tickflow.New(&sources.Synthetic{}, &sinks.Discard{}, tickflow.Config{StrategyBuilder: named,
		Strategy: func(string) signals.Strategy { return nil }})
	require.ErrorIs(t, err, pipeline.ErrConfig)
}
