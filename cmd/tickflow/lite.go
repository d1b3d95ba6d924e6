//go:build !full

package main

// The default build of tickflow is the offline core: run over built-in
// synthetic data or CSV files, sample, backtest, indicators and config. It
// links no database driver, broker client, HTTP stack or NATS server, so a
// first "go run ./cmd/tickflow run" compiles in a minute on two cores. The
// integrations (import, fetch, signals, stream, ingest, and run's --db,
// --journal, --source alpaca and --bus) are in the full build, -tags full;
// here their commands and flags exist only to say so.

import (
	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// fullBuild says how to get the build with every integration.
const fullBuild = "go install -tags full github.com/tickflow/tickflow/cmd/tickflow@latest " +
	"(in a clone: go run -tags full ./cmd/tickflow)"

// errNeedsFull is the usage error (exit 2) of an integration asked of the
// default build.
func errNeedsFull(what string) error {
	return usageError("%s needs the full build of tickflow (databases, Alpaca, NATS, the dashboard): %s", what, fullBuild)
}

// fullOnly is a command of the full build: it takes any arguments and
// refuses.
func fullOnly(name, usage string) *cli.Command {
	return &cli.Command{
		Name: name, Usage: usage + " (full build only: -tags full)", SkipFlagParsing: true,
		Description: "This tickflow is the default build, without its integrations. Install the full one:\n  " + fullBuild,
		Action:      func(*cli.Context) error { return errNeedsFull("tickflow " + name) },
	}
}

func fetchCommand() *cli.Command {
	return fullOnly("fetch", "fetch Alpaca history to a CSV file or a database")
}

func streamCommand() *cli.Command {
	return fullOnly("stream", "run the pipeline on a live feed, with a dashboard")
}

func importCommand() *cli.Command {
	return fullOnly("import", "store bars from CSV files in a database (SQLite file or PostgreSQL)")
}

func signalsCommand() *cli.Command {
	return fullOnly("signals", "list the signals journaled in a database")
}

func ingestCommand() *cli.Command {
	return fullOnly("ingest", "publish bars onto NATS JetStream for run --bus workers")
}

// alpacaFlags are, in this build, only the input flags that CSV files and
// backtests share with Alpaca; --source alpaca is refused.
func alpacaFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "source", Usage: "where bars come from: csv or synthetic (default; alpaca needs the full build, -tags full)"},
		&cli.StringFlag{Name: "symbols", Usage: "comma-separated `SYMBOLS`"},
		&cli.StringFlag{Name: "timeframe", Value: "1Min", Usage: "bar size: 1Min, 5Min, 15Min, 1Hour, 1Day, ... (with --csv: resample to it)"},
		&cli.StringFlag{Name: "start", Usage: "first bar `TIME`, inclusive: " + dateRule},
		&cli.StringFlag{Name: "end", Usage: "last bar `TIME`, inclusive (default now): " + dateRule},
		tzFlag(),
	}
}

func alpacaSelected(c *cli.Context) (bool, error) {
	switch s := c.String("source"); s {
	case "alpaca":
		return false, errNeedsFull("--source alpaca")
	case "", "csv", "synthetic":
		return false, nil
	default:
		return false, usageError("--source: %q is not csv or synthetic (alpaca needs the full build)", s)
	}
}

func alpacaInput(_ *cli.Context, _ *config.Config, err error) (pipeline.Source[market.Event], *sources.CSV, error) {
	return nil, nil, err
}

func (lookback) alpacaWindow(src pipeline.Source[market.Event]) (pipeline.Source[market.Event], bool) {
	return src, false
}

func streamSymbols(pipeline.Source[market.Event]) ([]string, bool) { return nil, false }

func storeRunFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "db", Usage: "read bars from a database (full build only, -tags full)"},
		&cli.StringFlag{Name: "journal", Usage: "journal signals in a database (full build only, -tags full)"},
	}
}

func storeInput(*cli.Context, *config.Config, lookback) (pipeline.Source[market.Event], *sources.CSV, error) {
	return nil, nil, errNeedsFull("--db")
}

func withJournal(c *cli.Context, _ *config.Config, sink pipeline.Sink[market.Event]) (pipeline.Sink[market.Event], error) {
	if c.IsSet("journal") {
		return nil, errNeedsFull("--journal")
	}
	return sink, nil
}

func workerFlags() []cli.Flag {
	return []cli.Flag{&cli.StringFlag{Name: "bus", Usage: "work on a NATS JetStream bus (full build only, -tags full)"}}
}

func runBus(*cli.Context, *config.Config) error { return errNeedsFull("--bus") }
