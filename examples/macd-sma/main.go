// Macd-sma runs a strategy of its own on indicators the default set lacks,
// MACD(12,26,9) and SMA(200), over CSV files (or, with no file, seeded
// random walks), and writes each signal with the values of every indicator
// the pipeline computed for that bar.
//
//	go run ./examples/macd-sma ../shared/data/spy-1d.csv
//
// The strategy, long only: buy when the MACD line crosses above its signal
// line while the close is above the 200-bar SMA; sell when it crosses
// below.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sources"
)

// strategy is a signals.Builder: it declares its indicators, then resolves
// them to handles once the pipeline's schema is known.
type strategy struct{}

func (strategy) Needs() []indicators.Spec {
	specs, err := indicators.ParseSpecs("macd(12,26,9),trend=sma(200)")
	if err != nil {
		panic(err) // a constant list
	}
	return specs
}

func (strategy) New(c *signals.Computed) (signals.Factory, error) {
	var h [3]market.Handle
	for i, name := range []string{"macd", "macd_signal", "trend"} {
		var err error
		if h[i], err = c.Schema().Handle(name); err != nil {
			return nil, fmt.Errorf("macd-sma: %w", err)
		}
	}
	return func(string) signals.Strategy { return &state{macd: h[0], signal: h[1], trend: h[2]} }, nil
}

// state is one symbol's strategy.
type state struct {
	macd, signal, trend market.Handle
	cross               signals.Cross
	long                bool
}

func (s *state) Decide(e market.Event) *signals.Signal {
	m, mok := e.Indicators.Get(s.macd)
	g, gok := e.Indicators.Get(s.signal)
	trend, tok := e.Indicators.Get(s.trend)
	up, down := s.cross.Update(m, g, mok && gok)
	switch {
	case !s.long && up && tok && e.Close > trend:
		s.long = true
		return signals.Buy(&e, "macd crossed above its signal, close above sma(200)")
	case s.long && down:
		s.long = false
		return signals.Sell(&e, "macd crossed below its signal")
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var src pipeline.Source[market.Event] = &sources.Synthetic{Symbols: 3, Bars: 3000, Seed: 1}
	if len(os.Args) > 1 {
		src = &sources.CSV{Paths: os.Args[1:]}
	}
	out := pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
		for _, e := range es {
			var b strings.Builder
			fmt.Fprintf(&b, "%s %s %-4s %.2f", e.Symbol, e.Time.Format("2006-01-02T15:04"), e.Signal.Side, e.Signal.Price)
			e.Signal.Indicators.Each(func(name string, v float64, ok bool) {
				if ok {
					fmt.Fprintf(&b, " %s=%.4g", name, v)
				}
			})
			fmt.Println(b.String())
		}
		return nil
	})
	p, err := tickflow.New(src, out, tickflow.Config{StrategyBuilder: strategy{}, SignalsOnly: true, Workers: 1})
	if err == nil {
		err = p.Run(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "macd-sma:", err)
		os.Exit(1)
	}
}
