//go:build full

package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
)

func signalsCommand() *cli.Command {
	return &cli.Command{
		Name:  "signals",
		Usage: "list the signals journaled by tickflow run --journal, or the runs that journaled them",
		Description: `Lists the journal in time order: strategy, symbol, time, side, price, reason, the
indicator values that caused each signal (ema, stochrsi_k, stochrsi_d), when it was recorded,
the ID of the run that journaled it, then any other indicator value the run computed, by name.
Today's columns keep their places; run and the other values follow them.

Every run with --journal is recorded with an ID: --runs lists the runs (ID, start, command,
strategy, its parameters, the indicators computed, how many signals it journaled) and
--run ID lists one run's signals. A run with the settings of an earlier one journals no
signal twice: its signals stay under the earlier run.

  tickflow run --csv data/ --journal sqlite:journal.db
  tickflow signals --db sqlite:journal.db --runs
  tickflow signals --db sqlite:journal.db --run 2 --symbols SPY --format jsonl`,
		Flags: append([]cli.Flag{
			dbFlag("read the journal in the database at"),
			&cli.BoolFlag{Name: "runs", Usage: "list the runs instead of the signals (with --run ID: that run, with --strategy: its runs)"},
			&cli.Int64Flag{Name: "run", Usage: "only signals journaled by the run of this `ID` (see --runs; default all)"},
			&cli.StringFlag{Name: "strategy", Usage: "only signals of this strategy (default all)"},
			&cli.StringFlag{Name: "symbols", Usage: "only these comma-separated `SYMBOLS` (default all)"},
			&cli.StringFlag{Name: "start", Usage: "only signals at or after `TIME`: " + dateRule},
			&cli.StringFlag{Name: "end", Usage: "only signals at or before `TIME` (inclusive): " + dateRule},
			tzFlag(),
		}, configFlags("output.format")...),
		Action: signalsAction,
	}
}

func signalsAction(c *cli.Context) (err error) {
	if c.NArg() > 0 {
		return usageError("signals takes no arguments, got %q", c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	if c.Int64("run") < 0 {
		return usageError("--run: %d is not a run ID (see --runs)", c.Int64("run"))
	}
	q := store.SignalQuery{Run: c.Int64("run"), Strategy: c.String("strategy"), Symbols: splitSymbols(c.String("symbols"))}
	if c.Bool("runs") {
		for _, f := range []string{"symbols", "start", "end"} {
			if c.IsSet(f) {
				return usageError("--runs lists runs: drop --%s", f)
			}
		}
	}
	r, err := parseRange(c)
	if err != nil {
		return err
	}
	q.Start, q.End = r.Start, r.End
	format := outputFormat(cfg, c.App.Writer)
	switch format {
	case "jsonl", "csv", "table":
	default:
		return usageError("output.format: %q is not table, jsonl or csv", format)
	}
	st, err := openStore(c.Context, "--db", c.String("db"), forReading)
	if err != nil {
		return err
	}
	defer st.Close()
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	var what string
	if c.Bool("runs") {
		n, err := listRuns(c, st, q, format, out)
		if err != nil {
			return cli.Exit(err.Error(), exitFailure)
		}
		what = plural(n, "run")
	} else {
		n, err := listSignals(c, st, q, format, out)
		if err != nil {
			return cli.Exit(err.Error(), exitFailure)
		}
		what = plural(n, "signal")
	}
	if err := out.Flush(); err != nil {
		return cli.Exit(err.Error(), exitFailure)
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: %s in %s\n", what, st)
	return nil
}

// listSignals writes the entries q selects. JSON lines name each value on
// its own line; csv and table need their columns first, so the journal is
// read twice, once for the names of the values.
func listSignals(c *cli.Context, st store.Store, q store.SignalQuery, format string, out io.Writer) (int, error) {
	var w journalWriter
	switch format {
	case "jsonl":
		w = &jsonlJournal{w: out}
	case "csv":
		w = &csvJournal{w: csv.NewWriter(out)}
	default:
		w = &tableJournal{w: tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)}
	}
	var cols valueColumns
	if format != "jsonl" {
		cols.add(market.DefaultSchema)
		for e, err := range st.Signals(c.Context, q) {
			if err != nil {
				return 0, err
			}
			cols.add(e.Signal.Indicators.Schema)
		}
		if err := w.header(cols.names); err != nil {
			return 0, err
		}
	}
	n := 0
	for e, err := range st.Signals(c.Context, q) {
		if err != nil {
			return n, err
		}
		if format != "jsonl" && !cols.has(e.Signal.Indicators.Schema) {
			return n, fmt.Errorf("signals: the journal changed while it was listed (a value %s is new): list again",
				e.Signal.Indicators.Schema)
		}
		if err := w.write(&e, &cols); err != nil {
			return n, err
		}
		n++
	}
	return n, w.end()
}

// valueColumns are the names of the values the listed entries hold: the
// default ones, then the others in the order they first appear.
type valueColumns struct {
	names []string
	index map[string]int
	seen  map[*market.Schema]bool
}

func (v *valueColumns) add(s *market.Schema) {
	if v.seen[s] {
		return
	}
	if v.seen == nil {
		v.seen, v.index = map[*market.Schema]bool{}, map[string]int{}
	}
	v.seen[s] = true
	for i := range s.Len() {
		if n := s.Name(i); !v.hasName(n) {
			v.index[n] = len(v.names)
			v.names = append(v.names, n)
		}
	}
}

func (v *valueColumns) hasName(n string) bool { _, ok := v.index[n]; return ok }

func (v *valueColumns) has(s *market.Schema) bool {
	if v.seen[s] {
		return true
	}
	for i := range s.Len() {
		if !v.hasName(s.Name(i)) {
			return false
		}
	}
	return true
}

// cells lays an entry's values out in the columns, format writing each
// defined value, undefined ones undef.
func (v *valueColumns) cells(r *market.Indicators, format func(float64) string, undef string) []string {
	out := make([]string, len(v.names))
	for i := range out {
		out[i] = undef
	}
	r.Each(func(name string, x float64, ok bool) {
		if ok {
			out[v.index[name]] = format(x)
		}
	})
	return out
}

type journalWriter interface {
	header(values []string) error
	write(e *store.Entry, cols *valueColumns) error
	end() error
}

// The columns of csv and table: signalColumns, the default values,
// recorded_at and run (today's columns in their places), then the other
// values by name.
var (
	signalColumns = []string{"strategy", "symbol", "time", "side", "price", "reason"}
	recordedCols  = []string{"recorded_at", "run"}
	nDefault      = len(market.DefaultNames)
)

func entryFields(e *store.Entry) []string {
	s := &e.Signal
	return []string{e.Strategy, s.Symbol, s.Time.UTC().Format(time.RFC3339Nano), s.Side.String(),
		strconv.FormatFloat(s.Price, 'g', -1, 64), s.Reason}
}

// columns is the header of csv and table for the value columns.
func columns(values []string) []string {
	out := append(append([]string(nil), signalColumns...), values[:nDefault]...)
	return append(append(out, recordedCols...), values[nDefault:]...)
}

// row is an entry's cells under columns.
func row(e *store.Entry, values []string) []string {
	out := append(entryFields(e), values[:nDefault]...)
	out = append(out, e.Recorded.UTC().Format(time.RFC3339Nano), strconv.FormatInt(e.Run, 10))
	return append(out, values[nDefault:]...)
}

// jsonlJournal writes one object per signal, its values by name (null
// while undefined, or not finite, which JSON cannot hold), in the order of
// the csv columns:
//
//	{"strategy","symbol","time","side","price","reason","ema","stochrsi_k","stochrsi_d","recorded_at","run",...}
type jsonlJournal struct {
	w   io.Writer
	buf []byte
}

func (j *jsonlJournal) header([]string) error { return nil }

func (j *jsonlJournal) write(e *store.Entry, _ *valueColumns) error {
	s := &e.Signal
	b := append(j.buf[:0], `{"strategy":`...)
	b = market.AppendJSONString(b, e.Strategy)
	b = append(b, `,"symbol":`...)
	b = market.AppendJSONString(b, s.Symbol)
	b = append(b, `,"time":`...)
	b = market.AppendJSONTime(b, s.Time)
	b = append(b, `,"side":`...)
	b = market.AppendJSONString(b, s.Side.String())
	b = append(b, `,"price":`...)
	b = market.AppendJSONFloat(b, s.Price)
	b = append(b, `,"reason":`...)
	b = market.AppendJSONString(b, s.Reason)
	value := func(i int) {
		h := market.Handle(i)
		b = append(b, ',')
		b = market.AppendJSONString(b, s.Indicators.Schema.Name(i))
		b = append(b, ':')
		if v, ok := s.Indicators.Get(h); ok {
			b = market.AppendJSONFloat(b, v)
		} else {
			b = append(b, "null"...)
		}
	}
	// The store reads every record back with the default names first.
	n := s.Indicators.Len()
	for i := range min(n, nDefault) {
		value(i)
	}
	b = append(b, `,"recorded_at":`...)
	b = market.AppendJSONTime(b, e.Recorded)
	b = append(b, `,"run":`...)
	b = strconv.AppendInt(b, e.Run, 10)
	for i := nDefault; i < n; i++ {
		value(i)
	}
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonlJournal) end() error { return nil }

func csvNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

type csvJournal struct{ w *csv.Writer }

func (j *csvJournal) header(values []string) error { return j.w.Write(columns(values)) }

func (j *csvJournal) write(e *store.Entry, cols *valueColumns) error {
	return j.w.Write(row(e, cols.cells(&e.Signal.Indicators, csvNumber, "")))
}

func (j *csvJournal) end() error {
	j.w.Flush()
	return j.w.Error()
}

type tableJournal struct{ w *tabwriter.Writer }

func (j *tableJournal) row(f []string) error {
	_, err := io.WriteString(j.w, strings.Join(f, "\t")+"\n")
	return err
}

func (j *tableJournal) header(values []string) error { return j.row(columns(values)) }

// tableNumber rounds an indicator value for reading.
func tableNumber(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func (j *tableJournal) write(e *store.Entry, cols *valueColumns) error {
	return j.row(row(e, cols.cells(&e.Signal.Indicators, tableNumber, "-")))
}

func (j *tableJournal) end() error { return j.w.Flush() }

// listRuns writes the journal's runs, those of q.Run and q.Strategy if set:
//
//	{"run":1,"started":"...","command":"run","strategy":"stochrsi-ema","params":{"oversold":20,"overbought":80},"indicators":["ema(20)","stochrsi(14,14,3,sma)"],"signals":12}
//
// csv and table write the parameters as "oversold=20 overbought=80" and the
// indicators space-separated.
func listRuns(c *cli.Context, st store.Store, q store.SignalQuery, format string, out io.Writer) (int, error) {
	runs, err := st.Runs(c.Context)
	if err != nil {
		return 0, err
	}
	var cw *csv.Writer
	var tw *tabwriter.Writer
	row := func(f []string) error {
		if cw != nil {
			return cw.Write(f)
		}
		_, err := io.WriteString(tw, strings.Join(f, "\t")+"\n")
		return err
	}
	switch format {
	case "csv":
		cw = csv.NewWriter(out)
	case "table":
		tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	}
	if format != "jsonl" {
		if err := row([]string{"run", "started", "command", "strategy", "params", "indicators", "signals"}); err != nil {
			return 0, err
		}
	}
	n := 0
	var b []byte
	for _, r := range runs {
		if q.Run != 0 && r.ID != q.Run || q.Strategy != "" && r.Strategy != q.Strategy {
			continue
		}
		n++
		if format == "jsonl" {
			b = append(b[:0], `{"run":`...)
			b = strconv.AppendInt(b, r.ID, 10)
			b = append(b, `,"started":`...)
			b = market.AppendJSONTime(b, r.Started)
			b = append(b, `,"command":`...)
			b = market.AppendJSONString(b, r.Command)
			b = append(b, `,"strategy":`...)
			b = market.AppendJSONString(b, r.Strategy)
			b = append(b, `,"params":{`...)
			for i, p := range r.Params {
				if i > 0 {
					b = append(b, ',')
				}
				b = market.AppendJSONString(b, p.Name)
				b = append(b, ':')
				b = market.AppendJSONFloat(b, p.Value)
			}
			b = append(b, `},"indicators":[`...)
			for i, s := range r.Indicators {
				if i > 0 {
					b = append(b, ',')
				}
				b = market.AppendJSONString(b, s)
			}
			b = append(b, `],"signals":`...)
			b = strconv.AppendInt(b, r.Signals, 10)
			b = append(b, '}', '\n')
			if _, err := out.Write(b); err != nil {
				return n, err
			}
			continue
		}
		params := make([]string, len(r.Params))
		for i, p := range r.Params {
			params[i] = p.Name + "=" + csvNumber(p.Value)
		}
		if err := row([]string{strconv.FormatInt(r.ID, 10), r.Started.UTC().Format(time.RFC3339), r.Command, r.Strategy,
			strings.Join(params, " "), strings.Join(r.Indicators, " "), strconv.FormatInt(r.Signals, 10)}); err != nil {
			return n, err
		}
	}
	switch {
	case cw != nil:
		cw.Flush()
		return n, cw.Error()
	case tw != nil:
		return n, tw.Flush()
	}
	return n, nil
}
