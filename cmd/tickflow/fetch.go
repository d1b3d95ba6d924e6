//go:build full

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/store"
)

func fetchCommand() *cli.Command {
	return &cli.Command{
		Name:  "fetch",
		Usage: "download historical bars from Alpaca to CSV",
		Description: `Fetches bars of --symbols from --start to --end (both inclusive; a date is its whole day) from Alpaca's
market-data API and writes them as CSV (symbol,time,open,high,low,close,volume; the format
"tickflow run --csv" reads), each symbol's bars in time order, to --out or stdout; or, with
--db, stores them in a database ("tickflow run --db" reads them back).

Credentials come from APCA_API_KEY_ID and APCA_API_SECRET_KEY (or --key, --secret), the endpoint
from APCA_API_DATA_URL (or --data-url). Requests are batched across symbols, rate limited
(--rate-limit per minute), retried with back-off (async.retry_attempts, async.backoff_factor,
async.request_timeout: --config, TICKFLOW_* or flags); a symbol that still fails, or has no bars,
is reported and the others are written.

Example:
  tickflow fetch --symbols AAPL,MSFT,BTC/USD --timeframe 1Day --start 2024-01-01 --end 2024-06-30 --out bars.csv`,
		Flags: append(append(alpacaFlags()[1:], // all but --source
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write to `FILE` (default stdout)"},
			&cli.StringFlag{Name: "db", Usage: "store the bars in the database at `URL` (" + dbURLForms + ") under --timeframe, instead of CSV"},
		), configFlags("async.", "store.")...),
		Action: fetchAction,
	}
}

func fetchAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("fetch takes no arguments, got %q (did you mean --symbols %s?)", c.Args().First(), c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	src, err := alpacaBars(c, cfg)
	if err != nil {
		return err
	}
	if c.IsSet("db") {
		return fetchToDB(c, cfg, src)
	}
	var bars int64
	symbols := map[string]bool{}
	start := time.Now()
	fetch := func(out io.Writer) error {
		w := bufio.NewWriterSize(out, 1<<16)
		w.WriteString("symbol,time,open,high,low,close,volume\n")
		var line []byte
		sink := pipeline.SinkFunc[market.Event](func(_ context.Context, items []market.Event) error {
			for _, e := range items {
				line = appendBarCSV(line[:0], e.Bar)
				if _, err := w.Write(line); err != nil {
					return err
				}
				symbols[e.Symbol] = true
			}
			bars += int64(len(items))
			return nil
		})
		runErr := pipeline.New(pipeline.Config[market.Event]{}).From("alpaca", src).To("csv", sink).Run(c.Context)
		if err := w.Flush(); err != nil && runErr == nil {
			runErr = err
		}
		return runErr
	}
	name, runErr := "stdout", error(nil)
	if path := c.String("out"); path != "" && path != "-" {
		// A failed fetch leaves an existing file as it was: the bars go to
		// a temporary file beside it, renamed over it only on success.
		name, runErr = path, writeFileAtomic(path, fetch)
	} else {
		runErr = fetch(c.App.Writer)
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: fetched %d bars of %s to %s in %s (%s)\n",
		bars, plural(len(symbols), "symbol"), name, time.Since(start).Round(time.Millisecond), alpacaNote(src))
	return fetchResult(c, runErr)
}

// fetchToDB stores the fetched bars with the Store sink; fetching again
// updates the same rows.
func fetchToDB(c *cli.Context, cfg *config.Config, src *alpaca.Bars) error {
	db, err := openStore(c.Context, "--db", c.String("db"), forWriting)
	if err != nil {
		return err
	}
	defer db.Close()
	sink := &store.BarSink{DB: db, Timeframe: c.String("timeframe"), BatchSize: cfg.Store.BatchSize, MaxHold: time.Second}
	start := time.Now()
	runErr := pipeline.New(pipeline.Config[market.Event]{}).From("alpaca", src).To("db", sink).Run(c.Context)
	fmt.Fprintf(c.App.ErrWriter, "tickflow: stored %d bars (timeframe %s) in %s (%s)\n",
		sink.Written(), c.String("timeframe"), time.Since(start).Round(time.Millisecond), alpacaNote(src))
	return fetchResult(c, runErr)
}

// fetchResult turns the run's error into fetch's exit.
func fetchResult(c *cli.Context, runErr error) error {
	var failures pipeline.Failures
	switch {
	case runErr == nil:
		return nil
	case errors.As(runErr, &failures):
		var b strings.Builder
		for _, f := range failures {
			fmt.Fprintf(&b, "\n  %s: %v", f.Key, f.Err)
		}
		return cli.Exit(fmt.Sprintf("%s failed:%s", plural(len(failures), "symbol"), b.String()), exitFailure)
	case errors.Is(runErr, context.Canceled) && c.Context.Err() != nil:
		if path := c.String("out"); path != "" && path != "-" {
			return interruptedError(path + " was left as it was")
		}
		return interruptedError("the bars fetched before were written")
	}
	return cli.Exit(runErr.Error(), exitFailure)
}
