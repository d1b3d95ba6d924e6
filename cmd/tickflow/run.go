package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run the StochRSI/EMA pipeline over history and print signals or indicators",
		Description: `With no input flag, runs over built-in deterministic synthetic data (no files,
keys or network). With --csv, reads CSV files (header symbol,time,open,high,low,close,volume;
time in RFC 3339 or Unix seconds/milliseconds; without a symbol column the file name is the symbol).

Output goes to stdout, a summary to stderr. Exit status: 0 success, 1 failure
(any symbol failed), 2 usage error.`,
		Flags:  append(append(inputFlags(), storeRunFlags()...), append(outputFlags(), pipelineFlags()...)...),
		Action: runAction,
	}
}

func inputFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: "csv", Usage: "read bars from CSV `PATH` (file or folder; repeatable)"},
		&cli.BoolFlag{Name: "skip-bad-rows", Usage: "skip and count bad CSV rows instead of failing their symbol"},
		&cli.IntFlag{Name: "synthetic-symbols", Value: 5, Usage: "symbols of the built-in synthetic data"},
		&cli.IntFlag{Name: "synthetic-bars", Value: 5000, Usage: "bars per symbol of the built-in synthetic data"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the built-in synthetic data"},
	}, alpacaFlags()...) // --source alpaca --symbols ... (alpaca.go)
}

func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Usage: "output format: table|jsonl|csv (default: table on a terminal, else jsonl)"},
		&cli.StringFlag{Name: "emit", Value: "signals", Usage: "what to write: signals|indicators"},
	}
}

func pipelineFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "ema", Value: indicators.DefaultEMA, Usage: "EMA period"},
		&cli.IntFlag{Name: "rsi", Value: indicators.DefaultRSI, Usage: "StochRSI's RSI period"},
		&cli.IntFlag{Name: "stoch", Value: indicators.DefaultStoch, Usage: "StochRSI's stochastic (%K) period"},
		&cli.IntFlag{Name: "d", Value: indicators.DefaultD, Usage: "StochRSI's %D period (SMA)"},
		&cli.Float64Flag{Name: "oversold", Value: 20, Usage: "buy only when %D is below this"},
		&cli.Float64Flag{Name: "overbought", Value: 80, Usage: "sell on a cross down only when %D is above this"},
		&cli.IntFlag{Name: "concurrency", Value: runtime.GOMAXPROCS(0), Usage: "workers computing indicators (1 = sequential; same output)"},
		&cli.IntFlag{Name: "buffer", Value: pipeline.DefaultBuffer, Usage: "batches each pipeline edge holds"},
	}
}

// input builds the source the flags ask for, and a name for it.
func input(c *cli.Context) (pipeline.Source[market.Event], *sources.CSV, error) {
	if c.IsSet("db") {
		return storeInput(c) // db.go
	}
	if alp, err := alpacaSelected(c); alp || err != nil {
		return alpacaInput(c, err)
	}
	if paths := c.StringSlice("csv"); len(paths) > 0 {
		src := &sources.CSV{Paths: paths, SkipBadRows: c.Bool("skip-bad-rows")}
		return src, src, nil
	}
	n, bars := c.Int("synthetic-symbols"), c.Int("synthetic-bars")
	if n < 1 || bars < 1 {
		return nil, nil, usageError("--synthetic-symbols and --synthetic-bars must be at least 1")
	}
	return &sources.Synthetic{Symbols: n, Bars: bars, Seed: c.Uint64("seed")}, nil, nil
}

// output builds the sink for --format and --emit on w.
func output(c *cli.Context, w io.Writer) (pipeline.Sink[market.Event], sinks.Emit, error) {
	emit, err := sinks.ParseEmit(c.String("emit"))
	if err != nil {
		return nil, 0, usageError("--emit: %q is not signals or indicators", c.String("emit"))
	}
	format := c.String("format")
	if format == "" {
		format = "jsonl"
		if isTerminal(w) {
			format = "table"
		}
	}
	switch format {
	case "jsonl":
		return &sinks.JSONL{W: w, Emit: emit}, emit, nil
	case "csv":
		return &sinks.CSV{W: w, Emit: emit}, emit, nil
	case "table":
		return &sinks.Table{W: w, Emit: emit}, emit, nil
	}
	return nil, 0, usageError("--format: %q is not table, jsonl or csv", format)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// pipelineConfig reads the indicator, strategy and concurrency flags.
func pipelineConfig(c *cli.Context) (tickflow.Config, error) {
	cfg := tickflow.Config{
		Indicators: indicators.Config{EMA: c.Int("ema"), RSI: c.Int("rsi"), Stoch: c.Int("stoch"), D: c.Int("d")},
		Oversold:   c.Float64("oversold"), Overbought: c.Float64("overbought"),
		Workers: c.Int("concurrency"), Buffer: c.Int("buffer"),
	}
	for _, f := range []string{"ema", "rsi", "stoch", "d", "concurrency", "buffer"} {
		if c.Int(f) < 1 {
			return cfg, usageError("--%s must be at least 1, not %d", f, c.Int(f))
		}
	}
	if cfg.Oversold <= 0 || cfg.Overbought <= cfg.Oversold || cfg.Overbought > 100 {
		return cfg, usageError("--oversold %g and --overbought %g: want 0 < oversold < overbought <= 100", cfg.Oversold, cfg.Overbought)
	}
	return cfg, nil
}

func runAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("run takes no arguments, got %q (did you mean --csv %s?)", c.Args().First(), c.Args().First())
	}
	src, csv, err := input(c)
	if err != nil {
		return err
	}
	return runPipeline(c, src, csv)
}

// runPipeline runs src through the StochRSI/EMA pipeline into the output the
// flags ask for, then prints the summary. Other commands' sources use it too.
func runPipeline(c *cli.Context, src pipeline.Source[market.Event], csv *sources.CSV) error {
	cfg, err := pipelineConfig(c)
	if err != nil {
		return err
	}
	sink, emit, err := output(c, c.App.Writer)
	if err != nil {
		return err
	}
	if sink, err = withJournal(c, sink); err != nil { // db.go
		return cli.Exit(err.Error(), exitFailure)
	}
	strategy, err := signals.NewStochRSIEMA(cfg.Oversold, cfg.Overbought)
	if err != nil {
		return usageError("%v", err)
	}
	// The strategy is made once per symbol: counting there costs nothing
	// per bar.
	var symbols atomic.Int64
	cfg.Strategy = func(symbol string) signals.Strategy {
		symbols.Add(1)
		return strategy(symbol)
	}
	// Only signals need reach the sink when only signals are written.
	cfg.SignalsOnly = emit == sinks.EmitSignals
	sig := &signalCount{next: sink}
	p, err := tickflow.New(src, sig, cfg)
	if err != nil {
		return usageError("%v", err)
	}
	start := time.Now()
	stopProgress := progress(c.App.ErrWriter, p.Stats)
	err = p.Run(c.Context)
	stopProgress()
	elapsed := time.Since(start)
	bars := p.Stats()[0].Out
	var failures pipeline.Failures
	if err != nil && !errors.As(err, &failures) && !errors.Is(err, c.Context.Err()) {
		return exitFor(c, err, "", "") // fatal: the error is the whole story
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: %s, %d bars, %d signals, %d failed, %s, %.0f bars/s\n",
		plural(int(symbols.Load()), "symbol"), bars, sig.n, len(p.Failures()), elapsed.Round(time.Millisecond), float64(bars)/elapsed.Seconds())
	reportSkipped(c, csv)
	return exitFor(c, err, "failed", "interrupted; what was read before was processed and written")
}

// reportSkipped says how many bad rows --skip-bad-rows skipped, if any.
func reportSkipped(c *cli.Context, csv *sources.CSV) {
	if csv != nil && csv.Skipped() > 0 {
		fmt.Fprintf(c.App.ErrWriter, "tickflow: skipped %s; first: %v\n", plural(int(csv.Skipped()), "bad row"), csv.SkipReasons()[0])
	}
}

// exitFor turns a pipeline's result into the command's: the failed symbols
// listed with their errors ("N symbols <failed>:"), an interruption, or the
// fatal error; all exit 1.
func exitFor(c *cli.Context, err error, failed, interrupted string) error {
	var failures pipeline.Failures
	switch {
	case err == nil:
		return nil
	case errors.As(err, &failures):
		var b strings.Builder
		for _, f := range failures {
			fmt.Fprintf(&b, "\n  %s: %v", f.Key, f.Err)
		}
		return cli.Exit(fmt.Sprintf("%s %s:%s", plural(len(failures), "symbol"), failed, b.String()), exitFailure)
	case errors.Is(err, c.Context.Err()):
		return cli.Exit(interrupted, exitFailure)
	}
	return cli.Exit(err.Error(), exitFailure)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
