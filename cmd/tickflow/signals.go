//go:build full

package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
)

func signalsCommand() *cli.Command {
	return &cli.Command{
		Name:  "signals",
		Usage: "list the signals journaled by tickflow run --journal",
		Description: `Lists the journal in time order: strategy, symbol, time, side, price, reason,
the indicator values that caused each signal, and when it was recorded.

  tickflow run --csv data/ --journal sqlite:journal.db
  tickflow signals --db sqlite:journal.db --symbols SPY --format jsonl`,
		Flags: append([]cli.Flag{
			dbFlag("read the journal in the database at"),
			&cli.StringFlag{Name: "strategy", Usage: "only signals of this strategy (default all)"},
			&cli.StringFlag{Name: "symbols", Usage: "only these comma-separated `SYMBOLS` (default all)"},
			&cli.StringFlag{Name: "start", Usage: "only signals at or after `TIME`: " + dateRule},
			&cli.StringFlag{Name: "end", Usage: "only signals at or before `TIME` (inclusive): " + dateRule},
			tzFlag(),
		}, configFlags("output.format")...),
		Action: signalsAction,
	}
}

// journalRecord is one JSON line of tickflow signals; indicator values are
// null when they were not defined.
type journalRecord struct {
	Strategy string   `json:"strategy"`
	Symbol   string   `json:"symbol"`
	Time     string   `json:"time"`
	Side     string   `json:"side"`
	Price    float64  `json:"price"`
	Reason   string   `json:"reason"`
	EMA      *float64 `json:"ema"`
	K        *float64 `json:"stochrsi_k"`
	D        *float64 `json:"stochrsi_d"`
	Recorded string   `json:"recorded_at"`
}

func newJournalRecord(e store.Entry) journalRecord {
	s := e.Signal
	r := journalRecord{Strategy: e.Strategy, Symbol: s.Symbol, Time: s.Time.UTC().Format(time.RFC3339Nano),
		Side: s.Side.String(), Price: s.Price, Reason: s.Reason, Recorded: e.Recorded.UTC().Format(time.RFC3339Nano)}
	opt := func(h market.Handle) *float64 {
		if v, ok := s.Indicators.Get(h); ok {
			return &v
		}
		return nil
	}
	r.EMA, r.K, r.D = opt(market.DefaultEMA), opt(market.DefaultStochK), opt(market.DefaultStochD)
	return r
}

func signalsAction(c *cli.Context) (err error) {
	if c.NArg() > 0 {
		return usageError("signals takes no arguments, got %q", c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	q := store.SignalQuery{Strategy: c.String("strategy"), Symbols: splitSymbols(c.String("symbols"))}
	r, err := parseRange(c)
	if err != nil {
		return err
	}
	q.Start, q.End = r.Start, r.End
	format := outputFormat(cfg, c.App.Writer)
	var w journalWriter
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	switch format {
	case "jsonl":
		w = &jsonlJournal{enc: json.NewEncoder(out)}
	case "csv":
		w = &csvJournal{w: csv.NewWriter(out)}
	case "table":
		w = &tableJournal{w: tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)}
	default:
		return usageError("output.format: %q is not table, jsonl or csv", format)
	}
	st, err := openStore(c.Context, "--db", c.String("db"), forReading)
	if err != nil {
		return err
	}
	defer st.Close()
	n := 0
	for e, err := range st.Signals(c.Context, q) {
		if err != nil {
			return cli.Exit(err.Error(), exitFailure)
		}
		if err := w.write(newJournalRecord(e)); err != nil {
			return cli.Exit(err.Error(), exitFailure)
		}
		n++
	}
	if err := w.end(); err != nil {
		return cli.Exit(err.Error(), exitFailure)
	}
	if err := out.Flush(); err != nil {
		return cli.Exit(err.Error(), exitFailure)
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: %s in %s\n", plural(n, "signal"), st)
	return nil
}

type journalWriter interface {
	write(r journalRecord) error
	end() error
}

type jsonlJournal struct{ enc *json.Encoder }

func (j *jsonlJournal) write(r journalRecord) error { return j.enc.Encode(r) }
func (j *jsonlJournal) end() error                  { return nil }

var journalColumns = []string{"strategy", "symbol", "time", "side", "price", "reason", "ema", "stochrsi_k", "stochrsi_d", "recorded_at"}

func (r journalRecord) fields() []string {
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	return []string{r.Strategy, r.Symbol, r.Time, r.Side, strconv.FormatFloat(r.Price, 'g', -1, 64), r.Reason,
		num(r.EMA), num(r.K), num(r.D), r.Recorded}
}

type csvJournal struct {
	w      *csv.Writer
	header bool
}

func (j *csvJournal) write(r journalRecord) error {
	if !j.header {
		j.header = true
		if err := j.w.Write(journalColumns); err != nil {
			return err
		}
	}
	return j.w.Write(r.fields())
}

func (j *csvJournal) end() error {
	if !j.header {
		if err := j.w.Write(journalColumns); err != nil {
			return err
		}
	}
	j.w.Flush()
	return j.w.Error()
}

type tableJournal struct {
	w      *tabwriter.Writer
	header bool
}

func (j *tableJournal) row(f []string) error {
	for i, s := range f {
		sep := "\t"
		if i == len(f)-1 {
			sep = "\n"
		}
		if _, err := io.WriteString(j.w, s+sep); err != nil {
			return err
		}
	}
	return nil
}

func (j *tableJournal) write(r journalRecord) error {
	if !j.header {
		j.header = true
		if err := j.row(journalColumns); err != nil {
			return err
		}
	}
	f := r.fields()
	for i := 6; i <= 8; i++ { // indicator values, rounded for reading
		if v, err := strconv.ParseFloat(f[i], 64); err == nil {
			f[i] = strconv.FormatFloat(v, 'f', 4, 64)
		} else {
			f[i] = "-"
		}
	}
	return j.row(f)
}

func (j *tableJournal) end() error { return j.w.Flush() }
