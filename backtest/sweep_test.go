package backtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

func mustParam(t testing.TB, name, spec string) backtest.Param {
	t.Helper()
	p, err := backtest.ParseParam(name, spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t testing.TB, paths ...string) *backtest.Data {
	t.Helper()
	d, err := backtest.Load(context.Background(), &sources.CSV{Paths: paths, SkipBadRows: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSweepBestEqualsRun: the best row of a sweep is, to the bit, what a
// single backtest with its parameters reports through the pipeline.
func TestSweepBestEqualsRun(t *testing.T) {
	spy, btc := recorded(t, "spy-1d.csv"), recorded(t, "btcusdt-1h.csv")
	data := load(t, spy, btc)
	cfg := backtest.SweepConfig{
		Params: []backtest.Param{mustParam(t, "ema", "10,20,50"), mustParam(t, "oversold", "10:30:10"), mustParam(t, "rsi", "7,14")},
		Rank:   "total_return",
	}
	res, err := backtest.Sweep(context.Background(), data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 18 || !reflect.DeepEqual(res.Names, []string{"ema", "oversold", "rsi"}) {
		t.Fatalf("%d rows, names %v", len(res.Rows), res.Names)
	}
	for i := 1; i < len(res.Rows); i++ {
		if res.Rows[i].Metrics.TotalReturn.V > res.Rows[i-1].Metrics.TotalReturn.V {
			t.Fatalf("rows not ranked: %v after %v", res.Rows[i].Metrics.TotalReturn, res.Rows[i-1].Metrics.TotalReturn)
		}
	}
	if v, ok := res.Param(0, "oversold"); !ok || v != res.Rows[0].Values[1] {
		t.Fatalf("Param(0, oversold) = %v %v", v, ok)
	}
	for _, row := range []int{0, len(res.Rows) - 1} {
		one, err := res.Best(cfg, row)
		if err != nil {
			t.Fatal(err)
		}
		run, err := backtest.Run(context.Background(), &sources.CSV{Paths: []string{spy, btc}, SkipBadRows: true}, one)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(run.Portfolio.Metrics, res.Rows[row].Metrics) {
			t.Fatalf("row %d %v:\nsweep %v\nrun   %v", row, res.Rows[row].Values, res.Rows[row].Metrics, run.Portfolio.Metrics)
		}
	}
}

// TestEMACrossFastEqualsGeneral: the fast EMA-cross path gives the metrics
// of the general engine (the pipeline with the EMACross strategy) for a
// sample of pairs, windows and settings.
func TestEMACrossFastEqualsGeneral(t *testing.T) {
	btc := recorded(t, "btcusdt-1h.csv")
	data := load(t, btc)
	start := time.Date(2021, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, base := range []backtest.Config{{}, {Start: start, End: start.AddDate(0, 2, 0)}, {Fee: -1, Slippage: 0.002, PeriodsPerYear: 8766}} {
		cfg := backtest.SweepConfig{Config: base, Strategy: backtest.StrategyEMACross,
			Params: []backtest.Param{mustParam(t, "fast", "2:40:6"), mustParam(t, "slow", "3,10:120:22")}, Where: "fast < slow"}
		res, err := backtest.Sweep(context.Background(), data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) < 20 {
			t.Fatalf("%d rows", len(res.Rows))
		}
		for i, row := range res.Rows {
			if i%3 != 0 {
				continue
			}
			one, err := res.Best(cfg, i)
			if err != nil {
				t.Fatal(err)
			}
			run, err := backtest.Run(context.Background(), &sources.CSV{Paths: []string{btc}, SkipBadRows: true}, one)
			if err != nil {
				t.Fatal(err)
			}
			compareMetrics(t, fmt.Sprintf("ema-cross%v %+v", row.Values, base), row.Metrics, metricsMap(t, run.Portfolio.Metrics))
		}
	}
}

func TestSweepBadInput(t *testing.T) {
	data := &backtest.Data{Symbols: []*backtest.Series{toSeries("X", bars([][5]float64{{1, 1, 1, 1, 0}, {1, 1, 1, 1, 0}}))}}
	p := func(name, spec string) backtest.Param {
		return backtest.Param{Name: name, Values: mustParam(t, name, spec).Values}
	}
	tests := []struct {
		name string
		cfg  backtest.SweepConfig
		want string
	}{
		{"unknown parameter", backtest.SweepConfig{Params: []backtest.Param{p("fsat", "5")}}, `no parameter "fsat"`},
		{"fast >= slow everywhere", backtest.SweepConfig{Strategy: backtest.StrategyEMACross,
			Params: []backtest.Param{p("fast", "20:30"), p("slow", "5:10")}}, "none of the 66 combinations"},
		{"where leaves nothing", backtest.SweepConfig{Strategy: backtest.StrategyEMACross,
			Params: []backtest.Param{p("fast", "2:3"), p("slow", "5:10")}, Where: "fast > slow"}, "leaves no combination"},
		{"unknown name in where", backtest.SweepConfig{Strategy: backtest.StrategyEMACross,
			Params: []backtest.Param{p("fast", "2:3")}, Where: "fast < slwo"}, `unknown parameter "slwo"`},
		{"unknown metric", backtest.SweepConfig{Rank: "sharp"}, `unknown metric "sharp"`},
		{"unknown strategy", backtest.SweepConfig{Strategy: "macd"}, `unknown strategy "macd"`},
		{"no bars in the window", backtest.SweepConfig{Config: backtest.Config{Start: day0.AddDate(5, 0, 0)}}, "no bars in the window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := backtest.Sweep(context.Background(), data, tt.cfg)
			if !errors.Is(err, backtest.ErrUsage) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one ErrUsage line containing %q", err, tt.want)
			}
		})
	}
	if _, err := backtest.ParseParam("fast", "50:5"); !errors.Is(err, backtest.ErrUsage) || !strings.Contains(err.Error(), "empty range") {
		t.Fatalf("empty range: %v", err)
	}
}

func TestSweepThresholdsShareIndicators(t *testing.T) {
	// A threshold sweep over synthetic bars: every row must equal Run.
	src := func() *sources.Synthetic { return &sources.Synthetic{Symbols: 3, Bars: 3000, Seed: 4} }
	data, err := backtest.Load(context.Background(), src())
	if err != nil {
		t.Fatal(err)
	}
	cfg := backtest.SweepConfig{Params: []backtest.Param{mustParam(t, "oversold", "10:30:10"), mustParam(t, "overbought", "70,80")},
		Config: backtest.Config{StopLoss: 0.01, Signals: tickflow.Config{Workers: 1}}}
	res, err := backtest.Sweep(context.Background(), data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.Rows {
		one, _ := res.Best(cfg, i)
		run, err := backtest.Run(context.Background(), src(), one)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(run.Portfolio.Metrics, res.Rows[i].Metrics) {
			t.Fatalf("row %v: sweep %v, run %v", res.Rows[i].Values, res.Rows[i].Metrics, run.Portfolio.Metrics)
		}
	}
}

func TestSweepWriters(t *testing.T) {
	data, err := backtest.Load(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 2000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	res, err := backtest.Sweep(context.Background(), data, backtest.SweepConfig{Strategy: backtest.StrategyEMACross,
		Params: []backtest.Param{mustParam(t, "fast", "2:4"), mustParam(t, "slow", "5,10")}})
	if err != nil {
		t.Fatal(err)
	}
	var csv, js strings.Builder
	if err := res.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "rank,fast,slow,final_equity,total_return,") ||
		len(strings.Split(lines[1], ",")) != 3+len(backtest.MetricKeys()) || !strings.HasPrefix(lines[1], "1,") {
		t.Fatalf("csv:\n%s", csv.String())
	}
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rows []struct {
			Params  map[string]float64 `json:"params"`
			Metrics map[string]any     `json:"metrics"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(js.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Rows) != 6 || doc.Rows[0].Params["fast"] != res.Rows[0].Values[0] || doc.Rows[0].Metrics["sharpe"] == nil {
		t.Fatalf("json %s", js.String())
	}
}

func TestSweepCancelled(t *testing.T) {
	data, err := backtest.Load(context.Background(), &sources.Synthetic{Symbols: 2, Bars: 500, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, strategy := range []string{backtest.StrategyStochRSIEMA, backtest.StrategyEMACross} {
		_, err = backtest.Sweep(ctx, data, backtest.SweepConfig{Strategy: strategy})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: err %v, want context.Canceled", strategy, err)
		}
	}
	one := &backtest.Data{Symbols: data.Symbols[:1]}
	if _, err := backtest.Sweep(ctx, one, backtest.SweepConfig{Strategy: backtest.StrategyEMACross}); !errors.Is(err, context.Canceled) {
		t.Fatalf("fast path: err %v, want context.Canceled", err)
	}
}
