package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// countedSource counts the bars its source emits, for the progress bar:
// backtest.Run and Load own their pipelines.
type countedSource struct {
	src pipeline.Source[market.Event]
	n   atomic.Int64
}

func (s *countedSource) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	return s.src.Produce(ctx, countingEmitter{out, &s.n})
}

// Close closes the source when it owns something (a database).
func (s *countedSource) Close() error {
	if c, ok := s.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (s *countedSource) stats() []pipeline.StageStats {
	return []pipeline.StageStats{{Name: "source", Out: s.n.Load()}}
}

type countingEmitter struct {
	pipeline.Emitter[market.Event]
	n *atomic.Int64
}

func (e countingEmitter) Emit(ev market.Event) error {
	if err := e.Emitter.Emit(ev); err != nil {
		return err
	}
	e.n.Add(1)
	return nil
}

// leftOut ends exitFor's line about failed symbols: the others were
// reported.
const leftOut = "failed (left out of the results)"

// runBacktest is a single backtest: results on stdout, --trades and
// --equity files, --bootstrap intervals.
func runBacktest(c *cli.Context, req backtestRequest, src pipeline.Source[market.Event], stopProgress func()) error {
	cfg, params, err := singleConfig(req.sweep)
	if err != nil {
		stopProgress()
		return backtestError(c, err)
	}
	cfg.KeepBars = c.String("report") != "" // the report draws every bar
	res, err := backtest.Run(c.Context, src, cfg)
	stopProgress()
	if res == nil {
		return backtestError(c, err)
	}
	if req.sweep.Strategy == backtest.StrategyEMACross {
		res.Settings.Strategy, res.Settings.Params = backtest.StrategyEMACross, params
	}
	var boot *backtest.BootstrapResult
	if n := c.Int("bootstrap"); n > 0 {
		b := res.Bootstrap(n, c.Uint64("seed"))
		boot = &b
	}
	if werr := writeResult(c.App.Writer, req.format, res, boot); werr != nil {
		return cli.Exit(werr.Error(), exitFailure)
	}
	for _, f := range []struct {
		flag  string
		write func(io.Writer) error
	}{{"trades", res.WriteTrades}, {"equity", res.WriteEquity}, {"report", func(w io.Writer) error {
		return res.WriteReport(w, reportOptions(c))
	}}} {
		if path := c.String(f.flag); path != "" {
			if werr := writeFileAtomic(path, f.write); werr != nil {
				return cli.Exit(fmt.Sprintf("--%s: %v", f.flag, werr), exitFailure)
			}
		}
	}
	return exitFor(c, err, leftOut, "") // some symbols failed: reported, exit 1
}

// reportOptions are the --report settings.
func reportOptions(c *cli.Context) backtest.ReportOptions {
	return backtest.ReportOptions{Generated: time.Now().UTC(), X: c.String("report-x"), Y: c.String("report-y")}
}

// resultJSON is the result with its bootstrap intervals, when asked for.
type resultJSON struct {
	*backtest.Result
	Bootstrap *backtest.BootstrapResult `json:"bootstrap,omitempty"`
}

// writeResult prints res as a table (portfolio first, then each symbol) or
// as the backtest package's JSON object.
func writeResult(w io.Writer, format string, res *backtest.Result, boot *backtest.BootstrapResult) error {
	if format == "json" {
		if boot == nil {
			return res.WriteJSON(w)
		}
		if err := json.NewEncoder(w).Encode(resultJSON{res, boot}); err != nil {
			return fmt.Errorf("backtest: write json: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tequity\treturn\tbuy&hold\tcagr\tmax dd\tsharpe\tsortino\tcalmar\ttrades\twin rate\tprofit f.\texposure\tfees\topen\t")
	row := func(name string, m *backtest.Metrics, open string) {
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.2f\t%s\t\n", name, m.FinalEquity,
			formatPct(m.TotalReturn), formatPct(m.BuyHoldReturn), formatPct(m.CAGR), formatPct(m.MaxDrawdown),
			formatNum(m.Sharpe, 2), formatNum(m.Sortino, 2), formatNum(m.Calmar, 2), m.Trades,
			formatPct(m.WinRate), formatNum(m.ProfitFactor, 2), formatPct(m.Exposure), m.Fees, open)
	}
	open := 0
	for _, s := range res.Symbols {
		if s.Open != nil {
			open++
		}
	}
	row("portfolio", &res.Portfolio.Metrics, fmt.Sprint(open))
	for _, s := range res.Symbols {
		o := "-"
		if s.Open != nil {
			o = "long"
		}
		row(s.Symbol, &s.Metrics, o)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if boot != nil {
		_, err := fmt.Fprintf(w, "bootstrap (%d resamples of the trades, seed %d): total return %s to %s, sharpe %s to %s (95 %%)\n",
			boot.Samples, boot.Seed, formatPct(boot.TotalReturn.Low), formatPct(boot.TotalReturn.High),
			formatNum(boot.Sharpe.Low, 2), formatNum(boot.Sharpe.High, 2))
		return err
	}
	return nil
}

// runSweep loads the bars once, then sweeps (or walks forward) on all cores.
func runSweep(c *cli.Context, req backtestRequest, src pipeline.Source[market.Event], stopProgress func()) error {
	data, loadErr := backtest.Load(c.Context, src)
	stopProgress()
	var failures pipeline.Failures
	if loadErr != nil && (!errors.As(loadErr, &failures) || len(data.Symbols) == 0) {
		return backtestError(c, loadErr) // a failure of every symbol is the whole story
	}
	if k := c.Int("walk-forward"); k > 0 {
		wf, err := backtest.WalkForward(c.Context, data, req.sweep, k)
		if err != nil {
			return backtestError(c, err)
		}
		if err := writeWalkForward(c.App.Writer, req.format, wf); err != nil {
			return cli.Exit(err.Error(), exitFailure)
		}
		if path := c.String("report"); path != "" {
			if err := writeFileAtomic(path, func(w io.Writer) error { return wf.WriteReport(w, reportOptions(c)) }); err != nil {
				return cli.Exit(fmt.Sprintf("--report: %v", err), exitFailure)
			}
		}
		return exitFor(c, loadErr, leftOut, "")
	}
	res, err := backtest.Sweep(c.Context, data, req.sweep)
	if err != nil {
		return backtestError(c, err)
	}
	if err := writeSweep(c.App.Writer, req.format, res, c.Int("top")); err != nil {
		return cli.Exit(err.Error(), exitFailure)
	}
	if out := c.String("out"); out != "" {
		write := res.WriteCSV
		if strings.HasSuffix(out, ".json") {
			write = res.WriteJSON
		}
		if err := writeFileAtomic(out, write); err != nil {
			return cli.Exit(fmt.Sprintf("--out: %v", err), exitFailure)
		}
	}
	if path := c.String("report"); path != "" {
		err := writeFileAtomic(path, func(w io.Writer) error { return res.WriteReport(c.Context, w, data, req.sweep, reportOptions(c)) })
		if errors.Is(err, backtest.ErrUsage) {
			return usageError("--report: %v", err)
		}
		if err != nil {
			return cli.Exit(fmt.Sprintf("--report: %v", err), exitFailure)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: %d combinations ranked by %s, %d removed by --where, %d the strategy cannot run\n",
		len(res.Rows), res.Rank, res.Pruned, res.Invalid)
	return exitFor(c, loadErr, leftOut, "")
}

// sweepMetrics are the columns of a sweep's table.
var sweepMetrics = []string{"total_return", "cagr", "max_drawdown", "sharpe", "sortino", "calmar", "trades", "win_rate", "profit_factor"}

// writeSweep prints the best top rows: a table, or JSON lines of
// {"rank", "params", "metrics"}.
func writeSweep(w io.Writer, format string, res *backtest.SweepResult, top int) error {
	n := min(top, len(res.Rows))
	if format == "json" {
		enc := json.NewEncoder(w)
		for i := range n {
			params := map[string]float64{}
			for k, name := range res.Names {
				params[name] = res.Rows[i].Values[k]
			}
			if err := enc.Encode(struct {
				Rank    int                `json:"rank"`
				Params  map[string]float64 `json:"params"`
				Metrics *backtest.Metrics  `json:"metrics"`
			}{i + 1, params, &res.Rows[i].Metrics}); err != nil {
				return fmt.Errorf("backtest: write sweep: %w", err)
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "rank\t%s\t%s\t\n", strings.Join(res.Names, "\t"), strings.Join(sweepMetrics, "\t"))
	for i := range n {
		fmt.Fprintf(tw, "%d\t", i+1)
		for _, v := range res.Rows[i].Values {
			fmt.Fprintf(tw, "%g\t", v)
		}
		for _, k := range sweepMetrics {
			m, _ := res.Rows[i].Metrics.Get(k) // the keys are the package's
			prec := 4
			if k == "trades" {
				prec = 0
			}
			fmt.Fprintf(tw, "%s\t", formatNum(m, prec))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// writeWalkForward prints each fold's winner and the out-of-sample total.
func writeWalkForward(w io.Writer, format string, wf *backtest.WalkForwardResult) error {
	type foldJSON struct {
		Start       string             `json:"start"`
		End         string             `json:"end"`
		Params      map[string]float64 `json:"params"`
		InSample    *backtest.Metrics  `json:"in_sample"`
		OutOfSample *backtest.Metrics  `json:"out_of_sample"`
	}
	doc := struct {
		Rank    string            `json:"rank"`
		Folds   []foldJSON        `json:"folds"`
		Metrics *backtest.Metrics `json:"metrics"`
	}{Rank: wf.Rank, Metrics: &wf.Metrics}
	for i := range wf.Folds {
		f := &wf.Folds[i]
		p := map[string]float64{}
		for k, n := range wf.Names {
			p[n] = f.Values[k]
		}
		doc.Folds = append(doc.Folds, foldJSON{ttoa(f.Start), ttoa(f.End), p, &f.InSample, &f.OutOfSample})
	}
	if format == "json" {
		if err := json.NewEncoder(w).Encode(doc); err != nil {
			return fmt.Errorf("backtest: write walk-forward: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "fold\tstart\tend\t%s\tin-sample %s\tout-of-sample %s\treturn\t\n", strings.Join(wf.Names, "\t"), wf.Rank, wf.Rank)
	for i, f := range doc.Folds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t", i+1, f.Start, f.End)
		for _, v := range wf.Folds[i].Values {
			fmt.Fprintf(tw, "%g\t", v)
		}
		in, _ := f.InSample.Get(wf.Rank)
		out, _ := f.OutOfSample.Get(wf.Rank)
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", formatNum(in, 4), formatNum(out, 4), formatPct(f.OutOfSample.TotalReturn))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	m := &wf.Metrics
	_, err := fmt.Fprintf(w, "out of sample: final equity %.2f, total return %s, max drawdown %s, sharpe %s, %d trades\n",
		m.FinalEquity, formatPct(m.TotalReturn), formatPct(m.MaxDrawdown), formatNum(m.Sharpe, 2), m.Trades)
	return err
}

func ttoa(t time.Time) string { return t.UTC().Format(time.RFC3339) }
