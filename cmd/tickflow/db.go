//go:build full

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/store"
)

// The database side of the command line: --db where bars are stored,
// --journal where signals are recorded. Both take sqlite:PATH ("sqlite:"
// alone is the default file in the user's data directory) or a postgres://
// URL; see package store.

const dbURLForms = "sqlite:PATH (sqlite: alone: the default file in your data directory) or postgres://USER@HOST/DB"

// dbFlag is the --db flag of import and signals.
func dbFlag(what string) *cli.StringFlag {
	return &cli.StringFlag{Name: "db", Usage: what + " `URL`: " + dbURLForms, EnvVars: []string{"TICKFLOW_DB"}, Value: "sqlite:"}
}

// storeRunFlags are run's flags for reading bars from a database and
// journaling signals; --symbols, --start, --end and --timeframe are shared
// with --source alpaca.
func storeRunFlags() []cli.Flag {
	return []cli.Flag{
		// No environment variable here: TICKFLOW_DB (import's and signals'
		// default) must not turn every run into a database run.
		&cli.StringFlag{Name: "db",
			Usage: "read bars from the database at `URL` (" + dbURLForms + "), all symbols in the order they were first stored " +
				"or --symbols in their order, up to --end (inclusive) and from --start with the history before it as the warm-up (see --warmup), of --timeframe if set (default: bars imported without one)"},
		&cli.StringFlag{Name: "journal", EnvVars: []string{"TICKFLOW_JOURNAL"},
			Usage: "record every signal once, with its indicator values, in the journal at `URL` (same forms as --db; list it with tickflow signals)"},
	}
}

// timeframeOf is the stored-bars timeframe the flags select: --timeframe
// when given, else the empty one an import without --timeframe uses.
func timeframeOf(c *cli.Context) string {
	if c.IsSet("timeframe") {
		return c.String("timeframe")
	}
	return ""
}

// storeInput is run's source for --db. The source owns the store and closes
// it when the pipeline is done with it. With lb on and --start, it reads the
// history before --start too: all of it, or lb.bars bars per symbol.
func storeInput(c *cli.Context, cfg *config.Config, lb lookback) (pipeline.Source[market.Event], *sources.CSV, error) {
	if len(c.StringSlice("csv")) > 0 || c.String("source") == "alpaca" {
		return nil, nil, usageError("--db is an input of its own: drop --csv or --source")
	}
	r, err := parseRange(c)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(c.Context, "--db", c.String("db"), forReading)
	if err != nil {
		return nil, nil, err
	}
	src := store.Source{DB: st, Symbols: splitSymbols(c.String("symbols")),
		Timeframe: timeframeOf(c), Start: r.Start, End: r.End, MaxConcurrentSymbols: cfg.Async.Fetch()}
	if lb.on && lb.bars == 0 {
		src.Start = time.Time{} // the whole history: EMA-based indicators remember all of it
	} else if lb.on {
		src.Lookback = lb.bars
	}
	return &ownedSource{Source: src}, nil, nil
}

// The two ways a command opens a database.
const (
	forReading = false // the database must exist: a typo is not a new empty database
	forWriting = true  // a SQLite file (and its folders) is created if missing
)

// openStore opens the database of flag's URL. A malformed URL, or a
// database to read that does not exist, is a usage error (exit 2); a
// database that fails to open is a runtime failure (exit 1).
func openStore(ctx context.Context, flag, url string, write bool) (store.Store, error) {
	open := store.OpenExisting
	if write {
		open = store.Open
	}
	st, err := open(ctx, url)
	switch {
	case err == nil:
		return st, nil
	case errors.Is(err, store.ErrURL):
		return nil, usageError("%s: %v", flag, err)
	case errors.Is(err, fs.ErrNotExist):
		return nil, usageError("%s: %v (tickflow import or fetch --db creates it)", flag, err)
	}
	return nil, cli.Exit(err.Error(), exitFailure)
}

// ownedSource is a Store source that closes its store after its last call.
type ownedSource struct{ store.Source }

func (s *ownedSource) Close() error { return s.DB.Close() }

// withJournal adds the --journal sink beside sink, if the flag is set. Over
// history, signals are held up to a second between commits: a rerun after
// a crash journals what was held. A live source commits every batch.
func withJournal(c *cli.Context, settings *config.Config, sink pipeline.Sink[market.Event]) (pipeline.Sink[market.Event], error) {
	if !c.IsSet("journal") {
		return sink, nil
	}
	st, err := openStore(c.Context, "--journal", c.String("journal"), forWriting)
	if err != nil {
		return nil, err
	}
	j := newJournal(c, journalRun(c.Command.Name, settings), st)
	if c.String("source") != "alpaca" {
		j.MaxHold = time.Second
	}
	return sinks.Tee(sink, j), nil
}

// journalRun describes the run a journal records: the command, the
// strategy with its parameters and the indicators the pipeline computes,
// each spec with every argument written out (indicators.Spec.String).
func journalRun(command string, settings *config.Config) store.Run {
	spec := func(name string, args ...float64) string {
		f, ok := indicators.Lookup(name)
		if !ok {
			panic("tickflow: no indicator " + name) // the registry's own names
		}
		return indicators.Spec{Name: name, Func: f, Args: args}.String()
	}
	in := settings.Indicators
	run := store.Run{Command: command, Strategy: store.DefaultStrategy,
		Params: []store.Param{{Name: "oversold", Value: settings.Strategy.Oversold}, {Name: "overbought", Value: settings.Strategy.Overbought}},
		Indicators: []string{spec("ema", float64(in.EMA)),
			spec("stochrsi", float64(in.RSI), float64(in.Stoch), float64(in.D), float64(indicators.SMAType))}}
	// --strategy and --indicators were checked with the configuration.
	if named, err := signals.ParseStrategy(settings.Strategy.Name); settings.Strategy.Name != "" && err == nil {
		run.Strategy, run.Params = named.Func.Name, nil
		for i, p := range named.Func.Params {
			run.Params = append(run.Params, store.Param{Name: p.Name, Value: named.Args[i]})
		}
		for _, sp := range named.Needs() {
			run.Indicators = append(run.Indicators, sp.String())
		}
	}
	if extra, err := indicators.ParseSpecs(in.Extra); err == nil {
		for _, sp := range extra {
			run.Indicators = append(run.Indicators, sp.String())
		}
	}
	return run
}

// newJournal is the journal sink of run on st; it closes st after its last
// call and says which run it journaled.
func newJournal(c *cli.Context, run store.Run, st store.Store) *ownedJournal {
	return &ownedJournal{Journal: store.Journal{DB: st, Run: run}, log: c.App.ErrWriter}
}

// ownedJournal is a Journal sink that closes its store after its last
// call, saying how many signals its run journaled.
type ownedJournal struct {
	store.Journal
	log io.Writer
}

func (j *ownedJournal) Close() error {
	if id := j.RunID(); id != 0 && j.log != nil {
		retried := ""
		if n := j.Retried(); n > 0 {
			retried = fmt.Sprintf(", %s retried after a lost connection or a busy database", plural(int(n), "commit"))
		}
		fmt.Fprintf(j.log, "tickflow: journal run %d: %s, %d already journaled%s, in %s (tickflow signals --run %d)\n",
			id, plural(int(j.Added()), "new signal"), j.Duplicates(), retried, j.DB, id)
	}
	return j.DB.Close()
}

// splitSymbols splits a comma-separated --symbols value.
func splitSymbols(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
