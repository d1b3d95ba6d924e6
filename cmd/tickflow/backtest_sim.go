package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// simFlags are the simulated broker's settings, the same in backtest and in
// stream --orders sim, so both fill signals by one rule.
func simFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Float64Flag{Name: "cash", Value: backtest.DefaultCash, Usage: "starting cash, split equally across the symbols"},
		&cli.Float64Flag{Name: "fee", Value: backtest.DefaultFee, Usage: "fee rate on each fill's notional (0: none)"},
		&cli.Float64Flag{Name: "slippage", Value: backtest.DefaultSlippage, Usage: "each fill moves against the trader by this fraction of the price (0: none)"},
		&cli.BoolFlag{Name: "whole-units", Usage: "buy whole units only, not fractional quantities"},
		&cli.Float64Flag{Name: "stop-loss", Usage: "sell when the price falls this `FRACTION` below the entry (0.02 is 2 %; 0: off)"},
		&cli.Float64Flag{Name: "take-profit", Usage: "sell when the price rises this `FRACTION` above the entry (0: off)"},
		&cli.Float64Flag{Name: "trailing-stop", Usage: "sell when the price falls this `FRACTION` below the highest close since the entry (0: off)"},
		&cli.Float64Flag{Name: "periods-per-year", Usage: "bars per year that annualise volatility, Sharpe and Sortino (0: from the data's span)"},
	}
}

// simConfig reads simFlags. Out-of-range values are the backtest package's
// usage errors; the flags' 0 means none where the package's means default.
func simConfig(c *cli.Context) (backtest.Config, error) {
	none := func(v float64) float64 {
		if v == 0 {
			return -1
		}
		return v
	}
	cfg := backtest.Config{
		Cash: c.Float64("cash"), Fee: none(c.Float64("fee")), Slippage: none(c.Float64("slippage")),
		WholeUnits: c.Bool("whole-units"), StopLoss: c.Float64("stop-loss"), TakeProfit: c.Float64("take-profit"),
		TrailingStop: c.Float64("trailing-stop"), PeriodsPerYear: c.Float64("periods-per-year"),
	}
	for _, f := range []string{"cash", "fee", "slippage"} {
		// The package reads a negative rate as none: from the command line
		// it is a mistake.
		if v := c.Float64(f); v < 0 || math.IsNaN(v) || (f == "cash" && v == 0) {
			return cfg, usageError("--%s: %v is out of range", f, v)
		}
	}
	if _, err := backtest.NewBroker(cfg, []string{"check"}); err != nil {
		return cfg, usageError("%v", err) // every field checked once, here
	}
	return cfg, nil
}

// simBroker is the paper wallet of stream --orders sim, or nil for another
// --orders. It needs the feed's symbols up front to split the cash; the
// synthetic feed is given its names so that both agree.
func simBroker(c *cli.Context, feed pipeline.Source[market.Event]) (*backtest.Broker, error) {
	if c.String("orders") != "sim" {
		for _, f := range append(simFlags(), &cli.StringFlag{Name: "statement"}) {
			if name := f.Names()[0]; c.IsSet(name) {
				return nil, usageError("--%s is a setting of the paper wallet: add --orders sim", name)
			}
		}
		return nil, nil
	}
	cfg, err := simConfig(c)
	if err != nil {
		return nil, err
	}
	var symbols []string
	switch f := feed.(type) {
	case *sources.Synthetic:
		if len(f.Names) == 0 {
			f.Names = syntheticNames(f.Symbols)
		}
		symbols = f.Names
	default:
		var ok bool
		if symbols, ok = streamSymbols(feed); !ok {
			return nil, usageError("--orders sim: the feed %T does not list its symbols", feed)
		}
	}
	b, err := backtest.NewBroker(cfg, symbols)
	if err != nil {
		return nil, usageError("--orders sim: %v", err)
	}
	return b, nil
}

// syntheticNames are SYM1, SYM2, ... padded to a common width, as the
// synthetic feed names its symbols.
func syntheticNames(n int) []string {
	width := len(fmt.Sprint(n))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("SYM%0*d", width, i+1)
	}
	return names
}

// writeStatement ends the paper wallet's session: its statement as a table
// on stderr, or as the JSON of tickflow backtest --format json in
// --statement FILE.
func writeStatement(c *cli.Context, b *backtest.Broker) error {
	res, err := b.Statement()
	if errors.Is(err, backtest.ErrUsage) { // stopped before the first bar: nothing traded
		fmt.Fprintln(c.App.ErrWriter, "tickflow: paper wallet: no bars arrived, no statement")
		return nil
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("--orders sim: %v", err), exitFailure)
	}
	if path := c.String("statement"); path != "" {
		if err := writeFileAtomic(path, res.WriteJSON); err != nil {
			return cli.Exit(fmt.Sprintf("--statement: %v", err), exitFailure)
		}
		fmt.Fprintf(c.App.ErrWriter, "tickflow: paper wallet: final equity %.2f, %d trades; statement in %s\n",
			res.Portfolio.Metrics.FinalEquity, res.Portfolio.Metrics.Trades, path)
		return nil
	}
	fmt.Fprintln(c.App.ErrWriter, "tickflow: paper wallet statement:")
	if err := writeResult(c.App.ErrWriter, "table", res, nil); err != nil {
		return cli.Exit(fmt.Sprintf("--orders sim: %v", err), exitFailure)
	}
	return nil
}
