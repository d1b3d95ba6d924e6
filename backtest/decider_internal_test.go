package backtest

import (
	"context"
	"os"
	"testing"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sources"
)

// TestStochDeciderEqualsSignals holds the sweeps' decider to the strategy
// of `tickflow run`, bar for bar, on recorded and synthetic bars (whole-unit
// ticks make flat stretches and exact %K = %D ties).
func TestStochDeciderEqualsSignals(t *testing.T) {
	srcs := map[string]pipeline.Source[market.Event]{
		"synthetic":       &sources.Synthetic{Symbols: 3, Bars: 20000, Seed: 8},
		"synthetic-ticks": &sources.Synthetic{Symbols: 3, Bars: 20000, Seed: 9, Tick: 1},
	}
	for _, f := range []string{"spy-1d.csv", "btcperp-1m.csv"} {
		if p := "../../shared/data/" + f; fileExists(p) {
			srcs[f] = &sources.CSV{Paths: []string{p}}
		}
	}
	for name, src := range srcs {
		data, err := Load(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range [][2]float64{{20, 80}, {10, 90}, {35, 60}} {
			for _, ic := range []indicators.Config{{}, {EMA: 5, RSI: 7, Stoch: 5, D: 2, SmoothK: 3}} {
				factory, err := signals.NewStochRSIEMA(th[0], th[1])
				if err != nil {
					t.Fatal(err)
				}
				signalsSeen := 0
				for _, s := range data.Symbols {
					set, err := indicators.NewSet(ic)
					if err != nil {
						t.Fatal(err)
					}
					strat := factory(s.Symbol)
					dec := newStochDecider(th[0], th[1])
					for j := range s.Close {
						e := market.Event{Bar: market.Bar{Symbol: s.Symbol, Close: s.Close[j]}}
						in := &e.Indicators
						in.Schema = market.DefaultSchema
						in.SetDefault(set.Update(s.Close[j]))
						ema, hasEMA := in.Get(market.DefaultEMA)
						k, hasStoch := in.Get(market.DefaultStochK)
						d := in.Value(market.DefaultStochD)
						var want market.Side
						if sig := strat.Decide(e); sig != nil {
							want = sig.Side
							signalsSeen++
						}
						if got := dec.decide(s.Close[j], ema, hasEMA, k, d, hasStoch); got != want {
							t.Fatalf("%s %s %v %+v bar %d: decider %v, signals %v", name, s.Symbol, th, ic, j, got, want)
						}
					}
				}
				if signalsSeen == 0 {
					t.Fatalf("%s %v: no signal to compare", name, th)
				}
			}
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
