//go:build full

package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/store"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:  "import",
		Usage: "store bars from CSV files in a database (SQLite file or PostgreSQL)",
		Description: `Reads CSV files or folders (the format of tickflow run --csv) and stores their
bars, keyed by (symbol, timeframe, time). Importing the same bars again changes
nothing; a bar that differs from the stored one replaces it.

  tickflow import --csv data/ --db sqlite:bars.db
  tickflow run --db sqlite:bars.db --symbols SPY --start 2020-01-01

The database and its folders are created if missing.

A bad row fails its symbol (the others are imported; exit status 1) unless
--skip-bad-rows. A database that goes away during the import is waited for
and retried; a summary goes to stderr.`,
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "csv", Usage: "read bars from CSV `PATH` (file or folder; repeatable; required)"},
			dbFlag("store the bars in the database at"),
			&cli.StringFlag{Name: "timeframe", Usage: "label the bars with this timeframe (e.g. 1m, 1d); tickflow run --db --timeframe reads it back"},
		}, append(csvReaderFlags(), configFlags("store.")...)...),
		Action: importAction,
	}
}

func importAction(c *cli.Context) (err error) {
	if c.NArg() > 0 {
		return usageError("import takes no arguments, got %q (did you mean --csv %s?)", c.Args().First(), c.Args().First())
	}
	if len(c.StringSlice("csv")) == 0 {
		return usageError("import needs --csv PATH (a CSV file or a folder of them)")
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	st, err := openStore(c.Context, "--db", c.String("db"), forWriting)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cli.Exit(cerr.Error(), exitFailure)
		}
	}()
	src, err := csvInput(c)
	if err != nil {
		return err
	}
	// An import can be replayed: hold bars for full batches.
	sink := &store.BarSink{DB: st, Timeframe: c.String("timeframe"), BatchSize: cfg.Store.BatchSize, MaxHold: time.Hour}
	p := pipeline.New(pipeline.Config[market.Event]{}).From("csv", src).To("store", sink)
	start := time.Now()
	err = p.Run(c.Context)
	elapsed := time.Since(start)
	fmt.Fprintf(c.App.ErrWriter, "tickflow: imported %s into %s, %d failed, %s, %.0f bars/s\n",
		plural(int(sink.Written()), "bar"), st, len(p.Failures()), elapsed.Round(time.Millisecond), float64(sink.Written())/elapsed.Seconds())
	reportSkipped(c, src)
	return exitFor(c, storedBefore(err, src), "failed", "interrupted; the bars read before were stored")
}

// storedBefore says, in each failed symbol's error, how many of its bars
// were stored before it: the bars read before a symbol's bad row are
// imported (the pipeline keeps what a key emitted before it failed), so
// "failed" alone would wrongly read as "nothing stored". Errors other than
// per-symbol failures are returned as they are.
func storedBefore(err error, src *sources.CSV) error {
	var failures pipeline.Failures
	if !errors.As(err, &failures) {
		return err
	}
	bars := map[string]int64{}
	for _, f := range src.Stats() {
		for _, s := range f.Symbols {
			bars[s.Symbol] += s.Bars
		}
	}
	out := make(pipeline.Failures, len(failures))
	for i, f := range failures {
		e := *f
		e.Err = fmt.Errorf("%s of it stored, the rest not: %w", plural(int(bars[f.Key]), "bar"), f.Err)
		out[i] = &e
	}
	return out
}
