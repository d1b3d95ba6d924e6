package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/backtest"
)

// csvBar is one row of a bars CSV.
type csvBar struct {
	t               time.Time
	open, high, low float64
	close, volume   float64
}

// readBars reads a CSV that writeSynthetic wrote, by symbol, in file order.
func readBars(t testing.TB, path string) map[string][]csvBar {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	out := map[string][]csvBar{}
	for _, r := range rows[1:] {
		tm, err := time.Parse(time.RFC3339Nano, r[1])
		require.NoError(t, err)
		var v [5]float64
		for i := range v {
			v[i], err = strconv.ParseFloat(r[2+i], 64)
			require.NoError(t, err)
		}
		out[r[0]] = append(out[r[0]], csvBar{tm, v[0], v[1], v[2], v[3], v[4]})
	}
	return out
}

// backtestJSON runs tickflow backtest with args and decodes its JSON.
func backtestJSON(t testing.TB, args ...string) backtest.Result {
	t.Helper()
	out, errOut, code := cmdline(t, append([]string{"backtest", "--format", "json"}, args...)...)
	require.Equal(t, 0, code, errOut)
	var res backtest.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return res
}

// The backtest fills exactly the signals tickflow run prints on the same
// bars: every buy while flat at the next bar's open plus slippage, every
// sell while long at the next bar's open minus slippage.
func TestBacktestFillsAreRunSignals(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 4, 1500)
	settings := []string{"--csv", path, "--ema", "30", "--oversold", "25", "--overbought", "75"}
	out, errOut, code := cmdline(t, append([]string{"run", "--format", "jsonl", "--emit", "signals"}, settings...)...)
	require.Equal(t, 0, code, errOut)
	type signal struct {
		Symbol string    `json:"symbol"`
		Time   time.Time `json:"time"`
		Side   string    `json:"side"`
	}
	signals := map[string][]signal{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var s signal
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s))
		signals[s.Symbol] = append(signals[s.Symbol], s)
	}
	require.NotEmpty(t, signals)

	res := backtestJSON(t, settings...)
	const slip = backtest.DefaultSlippage
	bars := readBars(t, path)
	require.Len(t, res.Symbols, len(bars))
	fills := 0
	for _, sym := range res.Symbols {
		series := bars[sym.Symbol]
		next := map[time.Time]csvBar{}
		for i := 1; i < len(series); i++ {
			next[series[i-1].t] = series[i]
		}
		var want []backtest.Trade
		var open *backtest.Trade
		for _, s := range signals[sym.Symbol] {
			fill, ok := next[s.Time]
			switch {
			case !ok: // the last bar: nothing to fill at
			case s.Side == "buy" && open == nil:
				open = &backtest.Trade{EntryTime: fill.t, EntryPrice: fill.open * (1 + slip)}
			case s.Side == "sell" && open != nil:
				open.ExitTime, open.ExitPrice = fill.t, fill.open*(1-slip)
				want = append(want, *open)
				open = nil
			}
		}
		require.Len(t, sym.Trades, len(want), sym.Symbol)
		for i, tr := range sym.Trades {
			assert.True(t, tr.EntryTime.Equal(want[i].EntryTime), "%s trade %d entry", sym.Symbol, i)
			assert.True(t, tr.ExitTime.Equal(want[i].ExitTime), "%s trade %d exit", sym.Symbol, i)
			assert.InEpsilon(t, want[i].EntryPrice, tr.EntryPrice, 1e-12)
			assert.InEpsilon(t, want[i].ExitPrice, tr.ExitPrice, 1e-12)
		}
		if open == nil {
			assert.Nil(t, sym.Open, sym.Symbol)
		} else if assert.NotNil(t, sym.Open, sym.Symbol) {
			assert.True(t, sym.Open.EntryTime.Equal(open.EntryTime))
			assert.InEpsilon(t, open.EntryPrice, sym.Open.EntryPrice, 1e-12)
		}
		fills += len(want)
	}
	assert.Greater(t, fills, 10, "too few trades to compare")
}

func TestBacktestUsageErrors(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 2, 300)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown parameter", []string{"--fast", "5"}, "--fast is not a parameter of stochrsi-ema"},
		{"unknown strategy", []string{"--strategy", "macd"}, `--strategy: "macd"`},
		{"empty range", []string{"--ema", "30:20"}, `--ema "30:20": empty range`},
		{"not a number", []string{"--rsi", "x"}, `"x" is not a number`},
		{"fast>=slow everywhere", []string{"--strategy", "ema-cross", "--fast", "50:60", "--slow", "20,30"}, "fast 50 >= slow 20"},
		{"single fast>=slow", []string{"--strategy", "ema-cross", "--fast", "30", "--slow", "20"}, "fast 30 >= slow 20"},
		{"thresholds", []string{"--oversold", "90"}, "oversold 90, overbought 80"},
		{"no bars in the window", []string{"--csv", path, "--start", "2030-01-01"}, "no bars in the window"},
		{"where leaves none", []string{"--strategy", "ema-cross", "--fast", "5,10", "--where", "fast>100"}, "leaves no combination"},
		{"unknown rank", []string{"--strategy", "ema-cross", "--fast", "5,10", "--rank", "luck"}, `unknown metric "luck"`},
		{"negative fee", []string{"--fee", "-0.1"}, "--fee: -0.1 is out of range"},
		{"stop-loss of 100 %", []string{"--stop-loss", "1"}, "stop-loss 1 is out of range"},
		{"trades with a sweep", []string{"--ema", "20,30", "--trades", "x.csv"}, "--trades reports a single backtest"},
		{"out name", []string{"--ema", "20,30", "--out", "x.txt"}, "must end in .csv or .json"},
		{"format", []string{"--format", "yaml"}, `--format: "yaml"`},
		{"walk-forward folds", []string{"--walk-forward", "0"}, "--walk-forward: must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cmdline(t, append([]string{"backtest", "--synthetic-bars", "300"}, tc.args...)...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
		})
	}
}

// --trades and --equity replace their file only when the backtest
// succeeded; what they write is the engine's CSV.
func TestBacktestFilesAreReplacedOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	trades, equity := filepath.Join(dir, "trades.csv"), filepath.Join(dir, "equity.csv")
	for _, p := range []string{trades, equity} {
		require.NoError(t, os.WriteFile(p, []byte("keep me\n"), 0o644))
	}
	_, _, code := cmdline(t, "backtest", "--synthetic-bars", "300", "--start", "2030-01-01", "--trades", trades, "--equity", equity)
	require.Equal(t, exitUsage, code)
	for _, p := range []string{trades, equity} {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, "keep me\n", string(b))
	}

	_, errOut, code := cmdline(t, "backtest", "--format", "json", "--synthetic-symbols", "2", "--trades", trades, "--equity", equity)
	require.Equal(t, 0, code, errOut)
	tb, err := os.ReadFile(trades)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(tb)), "\n")
	assert.Equal(t, "symbol,entry_time,entry_price,exit_time,exit_price,qty,pnl,return,exit", lines[0])
	assert.Greater(t, len(lines), 10)
	eb, err := os.ReadFile(equity)
	require.NoError(t, err)
	assert.Equal(t, 5000+1, strings.Count(string(eb), "\n"), "a header and one row per bar time")
	left, err := filepath.Glob(filepath.Join(dir, ".*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file left behind")
}

func TestBacktestWriteFileAtomicKeepsOldFileOnFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	boom := errors.New("boom")
	err := writeFileAtomic(path, func(w io.Writer) error {
		fmt.Fprint(w, "half")
		return boom
	})
	require.ErrorIs(t, err, boom)
	b, _ := os.ReadFile(path)
	assert.Equal(t, "old", string(b))
	entries, _ := os.ReadDir(filepath.Dir(path))
	assert.Len(t, entries, 1, "the temporary file is removed")
	require.Error(t, writeFileAtomic(filepath.Join(path, "no", "dir"), func(io.Writer) error { return nil }))
}

// A sweep's every row reaches --out, ranked; its best row is what a single
// backtest with those parameters reports.
func TestBacktestSweepBestRowEqualsSingleRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep.json")
	_, errOut, code := cmdline(t, "backtest", "--synthetic-symbols", "2", "--strategy", "ema-cross",
		"--fast", "5:20:5", "--slow", "20,50,100", "--where", "fast<slow", "--rank", "total_return", "--top", "3",
		"--format", "table", "--out", out)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "11 combinations ranked by total_return, 1 removed by --where")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var sweep struct {
		Rows []struct {
			Params  map[string]float64 `json:"params"`
			Metrics backtest.Metrics   `json:"metrics"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(b, &sweep))
	require.Len(t, sweep.Rows, 11)
	for i := 1; i < len(sweep.Rows); i++ {
		assert.GreaterOrEqual(t, sweep.Rows[i-1].Metrics.TotalReturn.V, sweep.Rows[i].Metrics.TotalReturn.V)
	}
	best := sweep.Rows[0]
	single := backtestJSON(t, "--synthetic-symbols", "2", "--strategy", "ema-cross",
		"--fast", fmt.Sprint(best.Params["fast"]), "--slow", fmt.Sprint(best.Params["slow"]))
	assert.Equal(t, best.Metrics.Trades, single.Portfolio.Metrics.Trades)
	assert.InDelta(t, best.Metrics.FinalEquity, single.Portfolio.Metrics.FinalEquity, 1e-6)
	assert.Equal(t, map[string]float64{"fast": best.Params["fast"], "slow": best.Params["slow"]}, single.Settings.Params)
}

func TestBacktestBootstrapIsSeeded(t *testing.T) {
	run := func(seed string) string {
		out, errOut, code := cmdline(t, "backtest", "--synthetic-symbols", "1", "--format", "json", "--bootstrap", "200", "--seed", seed)
		require.Equal(t, 0, code, errOut)
		var doc struct {
			Bootstrap *backtest.BootstrapResult `json:"bootstrap"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		require.NotNil(t, doc.Bootstrap)
		assert.Equal(t, 200, doc.Bootstrap.Samples)
		assert.True(t, doc.Bootstrap.TotalReturn.Low.OK && doc.Bootstrap.TotalReturn.High.OK)
		assert.LessOrEqual(t, doc.Bootstrap.TotalReturn.Low.V, doc.Bootstrap.TotalReturn.High.V)
		return out
	}
	assert.Equal(t, run("7"), run("7"))
}

func TestBacktestWalkForward(t *testing.T) {
	out, errOut, code := cmdline(t, "backtest", "--synthetic-symbols", "2", "--strategy", "ema-cross",
		"--fast", "5:20:5", "--slow", "50", "--walk-forward", "3", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Folds []struct {
			Params map[string]float64 `json:"params"`
		} `json:"folds"`
		Metrics backtest.Metrics `json:"metrics"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Folds, 3)
	for _, f := range doc.Folds {
		assert.Equal(t, 50.0, f.Params["slow"])
		assert.Contains(t, []float64{5, 10, 15, 20}, f.Params["fast"])
	}
	assert.Greater(t, doc.Metrics.Trades, 0)
}

// The table: the portfolio first, then each symbol.
func Example_backtest() {
	code := run(context.Background(), []string{"tickflow", "backtest", "--synthetic-symbols", "2", "--format", "table"}, os.Stdout, os.Stderr)
	fmt.Println("exit", code)
	// Output:
	//               equity   return  buy&hold          cagr  max dd  sharpe  sortino      calmar  trades  win rate  profit f.  exposure     fees  open
	//   portfolio  9456.31   -5.44%     9.78%       -99.72%  14.72%   -3.48    -4.88       -6.77     133    27.07%       0.92     6.86%  1290.94     0
	//        SYM1  3784.85  -24.30%    17.70%      -100.00%  26.21%  -15.26   -20.80       -3.82      61    19.67%       0.60     5.52%   518.66     -
	//        SYM2  5671.45   13.43%     1.85%  57241660.37%  10.07%    7.48    10.77  5686958.36      72    33.33%       1.19     8.20%   772.28     -
	// exit 0
}

// BenchmarkBacktestCommand is the whole command on the built-in data (5
// symbols of 5,000 bars): flags, pipeline, simulation and JSON output.
// bar-runs/s counts each bar once per combination backtested.
func BenchmarkBacktestCommand(b *testing.B) {
	for _, bc := range []struct {
		name   string
		combos int
		args   []string
	}{
		{"single", 1, []string{"backtest", "--format", "json"}},
		{"sweep-40", 40, []string{"backtest", "--format", "json", "--strategy", "ema-cross", "--fast", "5:50:5", "--slow", "20,50,100,200"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if code := run(context.Background(), append([]string{"tickflow"}, bc.args...), io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(5*5000*bc.combos*b.N)/b.Elapsed().Seconds(), "bar-runs/s")
		})
	}
}

// An interrupted backtest exits 130, as every command does, leaving no
// goroutine behind (goleak in TestMain).
func TestBacktestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(interruption{os.Interrupt})
	for _, args := range [][]string{
		{"backtest", "--format", "json"},
		{"backtest", "--format", "json", "--ema", "20,30"},
	} {
		var out, errOut strings.Builder
		code := run(ctx, append([]string{"tickflow"}, args...), &out, &errOut)
		assert.Equal(t, exitInterrupted, code, "%v: %s", args, errOut.String())
	}
}

// A bad row fails its symbol: the others are reported and the command
// exits 1 naming the place; when every symbol fails, there is nothing to
// report but the failure (exit 1, not a usage error).
func TestBacktestFailedSymbols(t *testing.T) {
	dir := t.TempDir()
	onlyBad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(onlyBad, []byte("symbol,time,open,high,low,close,volume\nAAA,2024-01-02T14:30:00Z,10,11,9,abc,100\n"), 0o644))
	for _, tc := range []struct {
		name     string
		args     []string
		reported bool
	}{
		{"some fail", []string{"--csv", "testdata/bad_close.csv"}, true},
		{"some fail, sweep", []string{"--csv", "testdata/bad_close.csv", "--ema", "20,30"}, true},
		{"all fail", []string{"--csv", onlyBad}, false},
		{"all fail, sweep", []string{"--csv", onlyBad, "--ema", "20,30"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := cmdline(t, append([]string{"backtest", "--format", "json"}, tc.args...)...)
			assert.Equal(t, exitFailure, code, errOut)
			assert.Contains(t, errOut, "1 symbol failed")
			assert.Contains(t, errOut, `AAA: sources.CSV: `)
			assert.Contains(t, errOut, `close: "abc" is not a number`)
			assert.Equal(t, tc.reported, out != "", "stdout: %q", out)
			if tc.reported && !strings.Contains(tc.name, "sweep") { // a sweep's rows are the portfolio's
				assert.Contains(t, out, `"BBB"`)
				assert.NotContains(t, out, `"AAA"`)
			}
		})
	}
}

// On recorded daily bars, buy and hold is the file's own last close over
// its first, and --periods-per-year is reported as given.
func TestBacktestRecordedDailyBars(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "spy-1d.csv")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no recorded data at ../shared/data (a fresh clone without the shared folder)")
	}
	series := readBars(t, path)["SPY"]
	require.NotEmpty(t, series)
	res := backtestJSON(t, "--csv", path, "--periods-per-year", "252", "--whole-units")
	require.Len(t, res.Symbols, 1)
	m := res.Symbols[0].Metrics
	assert.InDelta(t, series[len(series)-1].close/series[0].close-1, m.BuyHoldReturn.V, 1e-12)
	assert.Equal(t, 252.0, res.Settings.PeriodsPerYear.V)
	assert.True(t, res.Settings.WholeUnits)
	for _, tr := range res.Symbols[0].Trades {
		assert.Equal(t, math.Trunc(tr.Qty), tr.Qty, "--whole-units buys whole shares")
	}
	assert.Greater(t, m.Trades, 5)
}

// Parameters not given as flags come from the settings (here the
// environment), and a flag overrides them, as in every command.
func TestBacktestParametersFromSettings(t *testing.T) {
	t.Setenv("TICKFLOW_INDICATORS_EMA", "33")
	t.Setenv("TICKFLOW_STRATEGY_OVERSOLD", "15")
	res := backtestJSON(t, "--synthetic-symbols", "1", "--synthetic-bars", "500")
	assert.Equal(t, 33.0, res.Settings.Params["ema"])
	assert.Equal(t, 15.0, res.Settings.Params["oversold"])
	res = backtestJSON(t, "--synthetic-symbols", "1", "--synthetic-bars", "500", "--ema", "40")
	assert.Equal(t, 40.0, res.Settings.Params["ema"])
	assert.Equal(t, 15.0, res.Settings.Params["oversold"])
}

func TestBacktestReport(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"single run", nil},
		{"sweep", []string{"--oversold", "10,20", "--ema", "10:30:10"}},
		{"walk-forward", []string{"--oversold", "10,20", "--walk-forward", "2"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".html")
			args := append([]string{"backtest", "--synthetic-symbols", "2", "--synthetic-bars", "3000", "--report", path}, tt.args...)
			_, stderr, code := cmdline(t, args...)
			require.Equal(t, 0, code, stderr)
			html, err := os.ReadFile(path)
			require.NoError(t, err)
			page := string(html)
			assert.True(t, strings.HasPrefix(strings.ToLower(page), "<!doctype html>"), "not an HTML page")
			assert.True(t, strings.Contains(page, `id="tickflow-data"`), "the report carries no data")
			if tt.name != "walk-forward" { // its report is the joined out-of-sample portfolio
				assert.True(t, strings.Contains(page, "SYM1"), "the report does not name the symbols")
			}
			assert.False(t, strings.Contains(page, "https://"), "the report must work offline")
		})
	}
	_, stderr, code := cmdline(t, "backtest", "--oversold", "10,20", "--ema", "10,20", "--report", filepath.Join(dir, "bad.html"), "--report-x", "nope")
	require.Equal(t, exitUsage, code, stderr)
	assert.NoFileExists(t, filepath.Join(dir, "bad.html"))
}
