package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/indicators"
)

func backtestCommand() *cli.Command {
	return &cli.Command{
		Name:  "backtest",
		Usage: "simulate the strategy's signals with a paper broker and report returns, risk and trades",
		Description: `Runs the same pipeline as "tickflow run" over the same sources (built-in synthetic data by
default, --csv, --db, --source alpaca) and fills its signals by the rule of package backtest:
a signal on a bar fills at the next bar's open, with --slippage and --fee, long only, the cash
split equally across the symbols (https://pkg.go.dev/github.com/tickflow/tickflow/backtest).

  tickflow backtest                                    # the default StochRSI/EMA strategy
  tickflow backtest --csv bars.csv --start 2024-01-01 --stop-loss 0.02 --trades trades.csv
  tickflow backtest --strategy ema-cross --fast 5:50:5 --slow 20,50,100,200 --where "fast<slow" --rank calmar --top 5

A strategy parameter given a list (20,50) or a range (10:30:5, ends inclusive) makes a sweep:
every combination is backtested on all cores and ranked; --format json prints the --top rows
as JSON lines, --out FILE.json or .csv every row. --start and --end bound the traded window;
bars before it still warm the indicators.`,
		Flags:  backtestFlags(),
		Action: backtestAction,
	}
}

// strategyParams are the parameter flags of each strategy, as the backtest
// package names them.
var strategyParams = map[string][]string{
	backtest.StrategyStochRSIEMA: {"ema", "rsi", "stoch", "d", "smoothk", "oversold", "overbought"},
	backtest.StrategyEMACross:    {"fast", "slow"},
}

// paramUsage says what each parameter flag is, and which setting gives its
// default when the flag is absent.
var paramUsage = []struct{ name, usage string }{
	{"ema", "stochrsi-ema: EMA trend period (default indicators.ema)"},
	{"rsi", "stochrsi-ema: RSI period (default indicators.rsi)"},
	{"stoch", "stochrsi-ema: stochastic period (default indicators.stoch)"},
	{"d", "stochrsi-ema: %D smoothing period (default indicators.d)"},
	{"smoothk", fmt.Sprintf("stochrsi-ema: %%K smoothing period, 1 = off (default %d)", indicators.DefaultSmoothK)},
	{"oversold", "stochrsi-ema: buy threshold (default strategy.oversold)"},
	{"overbought", "stochrsi-ema: sell threshold (default strategy.overbought)"},
	{"fast", fmt.Sprintf("ema-cross: fast EMA period (default %d)", backtest.DefaultFast)},
	{"slow", fmt.Sprintf("ema-cross: slow EMA period (default %d)", backtest.DefaultSlow)},
}

// flagText is the text of a flag that shares a setting's name but not its
// syntax: a parameter's list or range (--ema 10:30), --format json. It is
// not a cli.StringFlag, so loadConfig does not read it as the setting
// (indicators.ema, output.format); a single parameter value still
// overrides the setting here.
type flagText struct{ s string }

func (p *flagText) Set(s string) error { p.s = s; return nil }
func (p *flagText) String() string {
	if p == nil {
		return ""
	}
	return p.s
}

func flagString(c *cli.Context, name string) string { return c.Generic(name).(*flagText).s }

func backtestFlags() []cli.Flag {
	flags := inputFlags() // --csv, the synthetic data, --source alpaca (run.go, alpaca.go)
	for _, f := range storeRunFlags() {
		if f.Names()[0] == "db" { // --journal records live signals; a backtest has none
			flags = append(flags, f)
		}
	}
	flags = append(flags, configFlags("async.", "pipeline.")...)
	flags = append(flags,
		&cli.StringFlag{Name: "strategy", Value: backtest.StrategyStochRSIEMA, Usage: "the strategy: stochrsi-ema or ema-cross"})
	for _, p := range paramUsage {
		flags = append(flags, &cli.GenericFlag{Name: p.name, Value: &flagText{}, Usage: p.usage + "; a list 20,50 or a range 10:30:5 sweeps it"})
	}
	flags = append(flags, simFlags()...) // --cash, --fee, ... (backtest_sim.go)
	return append(flags,
		&cli.GenericFlag{Name: "format", Value: &flagText{"auto"}, Usage: "output: table, json, or auto (a table on a terminal, else json)"},
		&cli.StringFlag{Name: "trades", Usage: "write every closed trade as CSV to `FILE`"},
		&cli.StringFlag{Name: "equity", Usage: "write the portfolio's equity curve as CSV to `FILE`"},
		&cli.StringFlag{Name: "report", Usage: "write a self-contained HTML report (charts, trades, metrics; works offline) to `FILE`"},
		&cli.StringFlag{Name: "report-x", Usage: "with --report on a sweep: the parameter across the heatmap (default: the first swept)"},
		&cli.StringFlag{Name: "report-y", Usage: "with --report on a sweep: the parameter down the heatmap (default: the second swept)"},
		&cli.IntFlag{Name: "bootstrap", Usage: "95 % confidence intervals of total_return and sharpe from `N` resamples of the trades (seeded by --seed)"},
		&cli.StringFlag{Name: "where", Usage: `sweep: keep only the combinations the ` + "`EXPR`" + ` accepts, e.g. "fast<slow"`},
		&cli.StringFlag{Name: "rank", Value: backtest.DefaultRank, Usage: "sweep: rank by this metric: " + strings.Join(backtest.MetricKeys(), ", ")},
		&cli.IntFlag{Name: "top", Value: 10, Usage: "sweep: print the best `N` rows"},
		&cli.StringFlag{Name: "out", Usage: "sweep: write every row to `FILE` (.csv or .json)"},
		&cli.IntFlag{Name: "walk-forward", Usage: "sweep on each of `K`+1 folds and trade each winner on the next fold"},
	)
}

// backtestRequest is what the command line asks for, checked.
type backtestRequest struct {
	sweep  backtest.SweepConfig // Config, Strategy, Params (one Param per set flag), Where, Rank
	swept  bool                 // a parameter has several values, or a sweep flag is set
	format string               // table or json
}

func backtestAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("backtest takes no arguments, got %q (did you mean --csv %s?)", c.Args().First(), c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	req, err := parseBacktest(c, cfg)
	if err != nil {
		return err
	}
	src, csv, err := input(c, cfg) // the sources of run (run.go)
	if err != nil {
		return err
	}
	counted := &countedSource{src: src}
	stopProgress := progress(c.App.ErrWriter, counted.stats)
	if req.swept {
		err = runSweep(c, req, counted, stopProgress)
	} else {
		err = runBacktest(c, req, counted, stopProgress)
	}
	reportSkipped(c, csv)
	return err
}

// parseBacktest reads the flags other than the input's.
func parseBacktest(c *cli.Context, cfg *config.Config) (backtestRequest, error) {
	var req backtestRequest
	sim, err := simConfig(c)
	if err != nil {
		return req, err
	}
	r, err := parseRange(c)
	if err != nil {
		return req, err
	}
	sim.Start, sim.End = r.Start, r.Last()
	sim.Signals = pipelineConfig(cfg)
	strategy := c.String("strategy")
	names, ok := strategyParams[strategy]
	if !ok {
		return req, usageError("--strategy: %q is not %s or %s", strategy, backtest.StrategyStochRSIEMA, backtest.StrategyEMACross)
	}
	req.sweep = backtest.SweepConfig{Config: sim, Strategy: strategy, Where: c.String("where"),
		Rank: c.String("rank"), Workers: cfg.Async.Indicators()}
	for _, p := range paramUsage {
		if !c.IsSet(p.name) {
			continue
		}
		if !slices.Contains(names, p.name) {
			return req, usageError("--%s is not a parameter of %s (its parameters: --%s)", p.name, strategy, strings.Join(names, ", --"))
		}
		param, err := backtest.ParseParam(p.name, flagString(c, p.name))
		if err != nil {
			return req, usageError("%v", err)
		}
		req.sweep.Params = append(req.sweep.Params, param)
		req.swept = req.swept || len(param.Values) > 1
	}
	for _, f := range []string{"where", "rank", "top", "out", "walk-forward"} {
		req.swept = req.swept || c.IsSet(f)
	}
	if req.swept {
		for _, f := range []string{"trades", "equity", "bootstrap"} {
			if c.IsSet(f) {
				return req, usageError("--%s reports a single backtest; a sweep reports its rows (--top, --out): run the chosen parameters alone", f)
			}
		}
		if n := c.Int("top"); n < 1 {
			return req, usageError("--top: must be at least 1, got %d", n)
		}
		if out := c.String("out"); out != "" && !strings.HasSuffix(out, ".csv") && !strings.HasSuffix(out, ".json") {
			return req, usageError("--out %s: the name must end in .csv or .json", out)
		}
		if k := c.Int("walk-forward"); c.IsSet("walk-forward") && k < 1 {
			return req, usageError("--walk-forward: must be at least 1 fold, got %d", k)
		}
	} else if n := c.Int("bootstrap"); n < 0 || n > maxBootstrap {
		return req, usageError("--bootstrap: must be from 0 to %d, got %d", maxBootstrap, n)
	}
	switch req.format = flagString(c, "format"); req.format {
	case "auto":
		req.format = "json"
		if isTerminal(c.App.Writer) {
			req.format = "table"
		}
	case "table", "json":
	default:
		return req, usageError("--format: %q is not table, json or auto", req.format)
	}
	return req, nil
}

// maxBootstrap bounds --bootstrap: a typo of three zeros must not run for
// an hour.
const maxBootstrap = 1_000_000

// singleConfig is the Config of a backtest without a sweep: the strategy
// with its parameters set. The backtest package checks them as a sweep
// does (periods, fast < slow, thresholds), so a bad value is ErrUsage.
func singleConfig(sc backtest.SweepConfig) (backtest.Config, map[string]float64, error) {
	row := backtest.Row{}
	res := &backtest.SweepResult{Strategy: sc.Strategy, Rows: []backtest.Row{row}}
	for _, p := range sc.Params {
		res.Names = append(res.Names, p.Name)
		res.Rows[0].Values = append(res.Rows[0].Values, p.Values[0])
	}
	cfg, err := res.Best(sc, 0)
	if err != nil {
		return cfg, nil, err
	}
	params := map[string]float64{}
	if sc.Strategy == backtest.StrategyEMACross {
		params["fast"], params["slow"] = backtest.DefaultFast, backtest.DefaultSlow
		for i, n := range res.Names {
			params[n] = res.Rows[0].Values[i]
		}
	}
	return cfg, params, nil
}

// backtestError maps an error of package backtest to the command's: what
// the caller asked for is a usage error (exit 2), the rest a failure.
func backtestError(c *cli.Context, err error) error {
	switch {
	case errors.Is(err, backtest.ErrUsage):
		return usageError("%v", err)
	case c.Context.Err() != nil && errors.Is(err, c.Context.Err()):
		return interruptedError("nothing was reported")
	}
	return exitFor(c, err, "failed", "")
}

func formatPct(n backtest.Number) string {
	if v, ok := n.Float(); ok {
		return fmt.Sprintf("%.2f%%", v*100)
	}
	return "-"
}

func formatNum(n backtest.Number, prec int) string {
	if v, ok := n.Float(); ok && !math.IsInf(v, 0) {
		return fmt.Sprintf("%.*f", prec, v)
	}
	return "-"
}
