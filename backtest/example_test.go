package backtest_test

import (
	"context"
	"fmt"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

// Run backtests the default strategy on the bars of any source that
// `tickflow run` reads.
func ExampleRun() {
	src := &sources.Synthetic{Symbols: 4, Bars: 5000, Seed: 1}
	res, err := backtest.Run(context.Background(), src, backtest.Config{Cash: 10_000, StopLoss: 0.02})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := res.Portfolio.Metrics
	fmt.Printf("trades %d, win rate %.3f, total return %.4f, buy and hold %.4f\n",
		m.Trades, m.WinRate.V, m.TotalReturn.V, m.BuyHoldReturn.V)
	for _, s := range res.Symbols {
		fmt.Printf("%s: %d trades, final equity %.2f, open %v\n", s.Symbol, len(s.Trades), s.Metrics.FinalEquity, s.Open != nil)
	}
	// Output:
	// trades 270, win rate 0.281, total return -0.0606, buy and hold 0.4406
	// SYM1: 61 trades, final equity 1957.41, open false
	// SYM2: 72 trades, final equity 2905.96, open false
	// SYM3: 61 trades, final equity 2673.12, open false
	// SYM4: 76 trades, final equity 1857.81, open false
}

// Sweep ranks every combination of the listed parameters; the others keep
// their defaults.
func ExampleSweep() {
	data, err := backtest.Load(context.Background(), &sources.Synthetic{Symbols: 2, Bars: 5000, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fast, _ := backtest.ParseParam("fast", "5:20:5")
	slow, _ := backtest.ParseParam("slow", "20,50,100")
	res, err := backtest.Sweep(context.Background(), data, backtest.SweepConfig{
		Strategy: backtest.StrategyEMACross,
		Params:   []backtest.Param{fast, slow},
		Where:    "fast < slow",
		Rank:     "total_return",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d combinations, %d pruned\n", len(res.Rows), res.Pruned)
	for _, row := range res.Rows[:3] {
		fmt.Printf("fast %v slow %v: total return %.4f over %d trades\n", row.Values[0], row.Values[1],
			row.Metrics.TotalReturn.V, row.Metrics.Trades)
	}
	// Output:
	// 11 combinations, 1 pruned
	// fast 15 slow 50: total return 0.2253 over 112 trades
	// fast 20 slow 50: total return 0.2133 over 98 trades
	// fast 10 slow 50: total return 0.1284 over 133 trades
}
