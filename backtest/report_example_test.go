package backtest_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

// A backtest run with KeepBars writes a report with its candles,
// indicators and fills; the file loads nothing from the network.
func ExampleResult_WriteReport() {
	src := &sources.Synthetic{Symbols: 2, Bars: 2000, Seed: 1}
	res, err := backtest.Run(context.Background(), src, backtest.Config{KeepBars: true, StopLoss: 0.02})
	if err != nil {
		fmt.Println(err)
		return
	}
	var page bytes.Buffer
	if err := res.WriteReport(&page, backtest.ReportOptions{Title: "StochRSI/EMA on synthetic bars"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(page.String(), "<title>StochRSI/EMA on synthetic bars</title>"))
	fmt.Println(strings.Contains(page.String(), "https://"))
	// Output:
	// true
	// false
}

// A sweep's report backtests its best row again on the same data and
// configuration, and adds the heatmap and table of every combination.
func ExampleSweepResult_WriteReport() {
	ctx := context.Background()
	data, err := backtest.Load(ctx, &sources.Synthetic{Symbols: 1, Bars: 3000, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fast, _ := backtest.ParseParam("fast", "5:20:5")
	slow, _ := backtest.ParseParam("slow", "30,60")
	cfg := backtest.SweepConfig{Strategy: backtest.StrategyEMACross, Params: []backtest.Param{fast, slow}}
	res, err := backtest.Sweep(ctx, data, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	var page bytes.Buffer
	err = res.WriteReport(ctx, &page, data, cfg, backtest.ReportOptions{X: "fast", Y: "slow"})
	fmt.Println(err, len(res.Rows), "combinations")
	// Output:
	// <nil> 8 combinations
}

// A walk-forward's report joins the out-of-sample equity and lists each
// fold's in-sample winner with its in-sample and out-of-sample Sharpe.
func ExampleWalkForwardResult_WriteReport() {
	ctx := context.Background()
	data, err := backtest.Load(ctx, &sources.Synthetic{Symbols: 1, Bars: 3000, Seed: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fast, _ := backtest.ParseParam("fast", "5,10")
	slow, _ := backtest.ParseParam("slow", "30,60")
	wf, err := backtest.WalkForward(ctx, data, backtest.SweepConfig{Strategy: backtest.StrategyEMACross,
		Params: []backtest.Param{fast, slow}}, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	var page bytes.Buffer
	fmt.Println(wf.WriteReport(&page, backtest.ReportOptions{}), len(wf.Folds), "folds")
	// Output:
	// <nil> 3 folds
}
