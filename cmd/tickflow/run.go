package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/config"
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
With --db, reads bars stored by tickflow import or fetch --db. With --source alpaca, fetches them.
With --bus, works on the partitions of the NATS JetStream bus that tickflow ingest fills: signals
go to stdout, --journal and the bus's signals stream, exactly once in effect across restarts.

Output goes to stdout, a summary to stderr. Settings (periods, thresholds, workers, output) come
from the defaults, --config FILE, TICKFLOW_* variables and flags, in that order (tickflow config).`,
		Flags:  append(append(append(append(inputFlags(), warmupFlag()), storeRunFlags()...), workerFlags()...), configFlags("async.", "indicators.", "strategy.", "pipeline.", "output.")...),
		Action: runAction,
	}
}

func inputFlags() []cli.Flag {
	return append(append([]cli.Flag{
		&cli.StringSliceFlag{Name: "csv", Usage: "read bars from CSV `PATH` (file, .csv.gz, or folder read recursively; repeatable)"},
	}, csvReaderFlags()...), append([]cli.Flag{
		&cli.IntFlag{Name: "synthetic-symbols", Value: 5, Usage: fmt.Sprintf("symbols of the built-in synthetic data: 1 to %d", maxSyntheticSymbols)},
		&cli.IntFlag{Name: "synthetic-bars", Value: 5000, Usage: fmt.Sprintf("bars per symbol of the built-in synthetic data: 1 to %d", maxSyntheticBars)},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the built-in synthetic data"},
	}, alpacaFlags()...)...) // --source alpaca --symbols ... (alpaca.go)
}

// csvReaderFlags are the CSV reader's settings, for every command that reads
// --csv.
func csvReaderFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "skip-bad-rows", Usage: "skip and count bad CSV rows instead of failing their symbol"},
		&cli.StringFlag{Name: "columns", Usage: "map CSV columns the reader does not recognise: `FIELD=NAME,...` (fields time, symbol, open, high, low, close, volume), e.g. time=Date,close=Adj Close"},
		&cli.StringFlag{Name: "on-duplicate", Value: "error", Usage: "a CSV row repeating a time with other values: error (naming both lines), first or last (exact duplicates are always dropped and counted)"},
		&cli.BoolFlag{Name: "sort", Usage: "sort CSV rows out of time order instead of failing their symbol (a file wholly newest first is always read oldest first)"},
	}
}

// Bounds of run's synthetic data: far above any use, low enough that a
// typo is an error rather than hours of work.
const (
	maxSyntheticSymbols = 100_000
	maxSyntheticBars    = 100_000_000
)

// input builds the source the flags ask for, for run and backtest: with
// --start, the history before it too (all of it, or --warmup's bars), as
// the warm-up of the window they write or trade.
func input(c *cli.Context, cfg *config.Config) (pipeline.Source[market.Event], *sources.CSV, error) {
	lb, err := parseLookback(c) // timerange.go
	if err != nil {
		return nil, nil, err
	}
	return inputWith(c, cfg, lb)
}

// rangeInput is the source of the flags without a look-back: the bars of
// --start to --end alone, for ingest.
func rangeInput(c *cli.Context, cfg *config.Config) (pipeline.Source[market.Event], *sources.CSV, error) {
	return inputWith(c, cfg, lookback{})
}

func inputWith(c *cli.Context, cfg *config.Config, lb lookback) (pipeline.Source[market.Event], *sources.CSV, error) {
	if c.IsSet("db") {
		return storeInput(c, cfg, lb) // db.go
	}
	if alp, err := alpacaSelected(c); alp || err != nil {
		src, csv, err := alpacaInput(c, cfg, err)
		if err == nil && lb.on {
			if w, ok := lb.alpacaWindow(src); ok {
				return w, nil, nil
			}
		}
		return src, csv, err
	}
	r := timeRange{}
	if lb.on {
		var err error
		if r, err = parseRange(c); err != nil {
			return nil, nil, err
		}
	}
	if len(c.StringSlice("csv")) > 0 {
		csv, err := csvInput(c)
		if err != nil {
			return nil, nil, err
		}
		if !c.IsSet("timeframe") {
			return lb.trimmed(csv, r.Start), csv, nil
		}
		// With --csv, --timeframe resamples the file's bars.
		tf, err := sources.ParseTimeframe(c.String("timeframe"))
		if err != nil {
			return nil, nil, usageError("--timeframe: %v", err)
		}
		return lb.trimmed(&sources.Resample{Source: csv, Timeframe: tf}, r.Start), csv, nil
	}
	n, bars := c.Int("synthetic-symbols"), c.Int("synthetic-bars")
	if n < 1 || n > maxSyntheticSymbols {
		return nil, nil, usageError("--synthetic-symbols: must be from 1 to %d, got %d", maxSyntheticSymbols, n)
	}
	if bars < 1 || bars > maxSyntheticBars {
		return nil, nil, usageError("--synthetic-bars: must be from 1 to %d, got %d", maxSyntheticBars, bars)
	}
	return lb.trimmed(&sources.Synthetic{Symbols: n, Bars: bars, Seed: c.Uint64("seed")}, r.Start), nil, nil
}

// output builds the sink of the output settings (--format, --emit) on w.
func output(cfg *config.Config, w io.Writer) (pipeline.Sink[market.Event], sinks.Emit, error) {
	emit, err := sinks.ParseEmit(cfg.Output.Emit)
	if err != nil {
		return nil, 0, usageError("output.emit: %v", err)
	}
	switch format := outputFormat(cfg, w); format {
	case "jsonl":
		return &sinks.JSONL{W: w, Emit: emit}, emit, nil
	case "csv":
		return &sinks.CSV{W: w, Emit: emit}, emit, nil
	case "table":
		return &sinks.Table{W: w, Emit: emit}, emit, nil
	default:
		return nil, 0, usageError("output.format: %q is not table, jsonl or csv", format)
	}
}

// outputFormat resolves output.format's auto: a table on a terminal, else
// JSON lines.
func outputFormat(cfg *config.Config, w io.Writer) string {
	if cfg.Output.Format != "auto" {
		return cfg.Output.Format
	}
	if isTerminal(w) {
		return "table"
	}
	return "jsonl"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// pipelineConfig is the pipeline the settings describe; they were
// validated by the config package (indicators.extra and strategy.name
// parse).
func pipelineConfig(cfg *config.Config) tickflow.Config {
	in := cfg.Indicators
	pc := tickflow.Config{
		Indicators: indicators.Config{EMA: in.EMA, RSI: in.RSI, Stoch: in.Stoch, D: in.D},
		Oversold:   cfg.Strategy.Oversold, Overbought: cfg.Strategy.Overbought,
		Workers:   cfg.Async.Indicators(),
		BatchSize: cfg.Pipeline.BatchSize, Buffer: cfg.Pipeline.Buffer,
	}
	pc.ExtraIndicators, _ = indicators.ParseSpecs(in.Extra)
	if cfg.Strategy.Name != "" {
		if named, err := signals.ParseStrategy(cfg.Strategy.Name); err == nil {
			pc.StrategyBuilder = named
		}
	}
	return pc
}

// countedBuilder counts the strategies b makes, one per symbol.
type countedBuilder struct {
	signals.Builder
	n *atomic.Int64
}

func (b countedBuilder) New(c *signals.Computed) (signals.Factory, error) {
	f, err := b.Builder.New(c)
	if err != nil {
		return nil, err
	}
	return func(symbol string) signals.Strategy {
		b.n.Add(1)
		return f(symbol)
	}, nil
}

func runAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("run takes no arguments, got %q (did you mean --csv %s?)", c.Args().First(), c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	if c.IsSet("bus") {
		return runBus(c, cfg) // a worker on the NATS bus (bus.go)
	}
	src, csv, err := input(c, cfg)
	if err != nil {
		return err
	}
	return runPipeline(c, cfg, src, csv)
}

// runPipeline runs src through the StochRSI/EMA pipeline into the output the
// flags ask for, then prints the summary. Other commands' sources use it too.
func runPipeline(c *cli.Context, settings *config.Config, src pipeline.Source[market.Event], csv *sources.CSV) error {
	cfg := pipelineConfig(settings)
	window, err := parseRange(c) // the source read the warm-up before it (input)
	if err != nil {
		return err
	}
	cfg.Start, cfg.End = window.Start, window.End
	sink, emit, err := output(settings, c.App.Writer)
	if err != nil {
		return err
	}
	if sink, err = withJournal(c, settings, sink); err != nil { // db.go
		return err
	}
	// The strategy is made once per symbol: counting there costs nothing
	// per bar.
	var symbols atomic.Int64
	if cfg.StrategyBuilder != nil {
		cfg.StrategyBuilder = countedBuilder{cfg.StrategyBuilder, &symbols}
	} else {
		strategy, err := signals.NewStochRSIEMA(cfg.Oversold, cfg.Overbought)
		if err != nil {
			return usageError("%v", err)
		}
		cfg.Strategy = func(symbol string) signals.Strategy {
			symbols.Add(1)
			return strategy(symbol)
		}
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
	inWindow := ""
	if w, ok := windowStats(p.Stats()); ok {
		if w.Out == 0 && err == nil {
			return usageError("no bars in the window %s: the input's %s are all outside it", window, plural(int(bars), "bar"))
		}
		inWindow = fmt.Sprintf(" (%d in the window)", w.Out)
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: %s, %d bars%s, %d signals, %d failed, %s, %.0f bars/s\n",
		plural(int(symbols.Load()), "symbol"), bars, inWindow, sig.n, len(p.Failures()), elapsed.Round(time.Millisecond), float64(bars)/elapsed.Seconds())
	reportSkipped(c, csv)
	return exitFor(c, err, "failed", "interrupted; what was read before was processed and written")
}

// csvInput is the CSV source of --csv and the reader's settings.
func csvInput(c *cli.Context) (*sources.CSV, error) {
	cols, err := sources.ParseCSVColumns(c.String("columns"))
	if err != nil {
		return nil, usageError("--columns: %v", err)
	}
	dup, err := sources.ParseDuplicatePolicy(c.String("on-duplicate"))
	if err != nil {
		return nil, usageError("--on-duplicate: %v", err)
	}
	return &sources.CSV{Paths: c.StringSlice("csv"), SkipBadRows: c.Bool("skip-bad-rows"),
		Columns: cols, OnDuplicate: dup, Sort: c.Bool("sort")}, nil
}

// reportSkipped says what the CSV reader dropped, reordered or skipped, if
// anything: exact duplicates, files read newest first or sorted, bad rows.
func reportSkipped(c *cli.Context, csv *sources.CSV) {
	if csv == nil {
		return
	}
	t := csv.Totals()
	if t.Duplicates > 0 || t.Conflicts > 0 {
		fmt.Fprintf(c.App.ErrWriter, "tickflow: dropped %s and %s (--on-duplicate)\n",
			plural(int(t.Duplicates), "exact duplicate row"), plural(int(t.Conflicts), "conflicting row"))
	}
	if t.Descending > 0 || t.Sorted > 0 {
		fmt.Fprintf(c.App.ErrWriter, "tickflow: read %s newest first (in time order), sorted %s\n",
			plural(t.Descending, "file"), plural(t.Sorted, "file"))
	}
	if csv.Skipped() > 0 {
		fmt.Fprintf(c.App.ErrWriter, "tickflow: skipped %s; first: %v\n", plural(int(csv.Skipped()), "bad row"), csv.SkipReasons()[0])
	}
}

// exitFor turns a pipeline's result into the command's: the failed symbols
// listed with their errors ("N symbols <failed>:", exit 1), an interruption
// (see run), or the fatal error (exit 1).
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
	case c.Context.Err() != nil && errors.Is(err, c.Context.Err()):
		return interruptedError(interrupted)
	}
	return cli.Exit(err.Error(), exitFailure)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
