package signals_test

import (
	"context"
	"fmt"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sources"
)

// macdTrend is a user's strategy on MACD and SMA(200), long only: buy when
// the MACD line crosses above its signal line while the close is above the
// 200-bar SMA; sell when it crosses below.
type macdTrend struct{}

// Needs declares the indicators the strategy reads: the pipeline computes
// them for every symbol, after the default ones.
func (macdTrend) Needs() []indicators.Spec {
	specs, err := indicators.ParseSpecs("macd(12,26,9),trend=sma(200)")
	if err != nil {
		panic(err) // a constant list
	}
	return specs
}

// New resolves the inputs by name once; Decide then reads them by handle.
func (macdTrend) New(c *signals.Computed) (signals.Factory, error) {
	s := c.Schema()
	macd, err := s.Handle("macd")
	if err != nil {
		return nil, err
	}
	sig, err := s.Handle("macd_signal")
	if err != nil {
		return nil, err
	}
	trend, err := s.Handle("trend")
	if err != nil {
		return nil, err
	}
	return func(string) signals.Strategy { return &macdTrendState{macd: macd, sig: sig, trend: trend} }, nil
}

type macdTrendState struct {
	macd, sig, trend market.Handle
	cross            signals.Cross
	long             bool
}

func (s *macdTrendState) Decide(e market.Event) *signals.Signal {
	in := &e.Indicators
	m, mok := in.Get(s.macd)
	g, gok := in.Get(s.sig)
	trend, tok := in.Get(s.trend)
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

// A strategy of your own on indicators the default set lacks: it declares
// them, the pipeline computes them, and every signal carries their values
// by name.
func Example_userStrategy() {
	src := &sources.Synthetic{Symbols: 1, Bars: 2000, Seed: 3}
	n := 0
	out := pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
		for _, e := range es {
			if n++; n > 4 {
				return nil
			}
			fmt.Printf("%s %s %s %.2f\n", e.Time.Format("15:04"), e.Signal.Side, e.Signal.Reason, e.Signal.Price)
			e.Signal.Indicators.Each(func(name string, v float64, ok bool) {
				if ok && name != "stochrsi_k" && name != "stochrsi_d" {
					fmt.Printf("  %s=%.4f", name, v)
				}
			})
			fmt.Println()
		}
		return nil
	})
	p, err := tickflow.New(src, out, tickflow.Config{StrategyBuilder: macdTrend{}, SignalsOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 19:07 buy macd crossed above its signal, close above sma(200) 102.77
	//   ema=100.9670  macd=-0.2036  macd_signal=-0.2198  macd_hist=0.0162  trend=101.2373
	// 19:10 sell macd crossed below its signal 99.39
	//   ema=100.7994  macd=-0.2758  macd_signal=-0.2149  macd_hist=-0.0610  trend=101.1971
	// 23:02 buy macd crossed above its signal, close above sma(200) 96.82
	//   ema=93.2382  macd=1.6359  macd_signal=1.5939  macd_hist=0.0420  trend=90.4997
	// 23:09 sell macd crossed below its signal 97.16
	//   ema=95.4668  macd=1.8736  macd_signal=1.8761  macd_hist=-0.0025  trend=90.4882
}
