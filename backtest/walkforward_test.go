package backtest_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

func TestWalkForwardUsesNoOutOfSampleBar(t *testing.T) {
	data, err := backtest.Load(context.Background(), &sources.Synthetic{Symbols: 2, Bars: 4000, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	cfg := backtest.SweepConfig{Params: []backtest.Param{mustParam(t, "oversold", "10:30:5"), mustParam(t, "ema", "10,30")},
		Rank: "total_return"}
	const k = 3
	wf, err := backtest.WalkForward(context.Background(), data, cfg, k)
	if err != nil {
		t.Fatal(err)
	}
	if len(wf.Folds) != k {
		t.Fatalf("%d folds", len(wf.Folds))
	}
	for i, f := range wf.Folds {
		if !f.InEnd.Before(f.Start) || f.Start.After(f.End) || (i > 0 && !wf.Folds[i-1].End.Before(f.Start)) ||
			(i > 0 && !wf.Folds[i-1].Start.Equal(f.InStart)) {
			t.Fatalf("fold %d overlaps: %+v", i, f)
		}
	}
	if wf.Equity.Len() == 0 || wf.Metrics.FinalEquity != wf.Equity.Values[wf.Equity.Len()-1] {
		t.Fatalf("joined equity %d points, final %v", wf.Equity.Len(), wf.Metrics.FinalEquity)
	}
	// Each fold's winner is the best of a sweep on the fold before it.
	for i, f := range wf.Folds {
		in := cfg
		in.Start, in.End = f.InStart, f.InEnd
		sw, err := backtest.Sweep(context.Background(), data, in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sw.Rows[0].Values, f.Values) || !reflect.DeepEqual(sw.Rows[0].Metrics, f.InSample) {
			t.Fatalf("fold %d chose %v, the in-sample sweep's best is %v", i, f.Values, sw.Rows[0].Values)
		}
	}
	// Rewrite every bar of the last fold: the choices must not move, the
	// last fold's outcome must.
	last := wf.Folds[k-1]
	changed := 0
	for _, s := range data.Symbols {
		for j, tm := range s.Time {
			if tm >= last.Start.UnixNano() {
				f := 1 + 0.05*float64(j%7-3)
				s.Open[j], s.High[j], s.Low[j], s.Close[j] = s.Open[j]*f, s.High[j]*f*1.01, s.Low[j]*f*0.99, s.Close[j]*f
				changed++
			}
		}
	}
	if changed == 0 {
		t.Fatal("no bar in the last fold")
	}
	wf2, err := backtest.WalkForward(context.Background(), data, cfg, k)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wf.Folds {
		if !reflect.DeepEqual(wf.Folds[i].Values, wf2.Folds[i].Values) || !reflect.DeepEqual(wf.Folds[i].InSample, wf2.Folds[i].InSample) {
			t.Fatalf("fold %d: changing out-of-sample bars changed the choice %v -> %v", i, wf.Folds[i].Values, wf2.Folds[i].Values)
		}
		if i < k-1 && !reflect.DeepEqual(wf.Folds[i].OutOfSample, wf2.Folds[i].OutOfSample) {
			t.Fatalf("fold %d's out-of-sample result changed with later bars", i)
		}
	}
	if reflect.DeepEqual(wf.Folds[k-1].OutOfSample, wf2.Folds[k-1].OutOfSample) {
		t.Fatal("the last fold's result ignores its bars")
	}
}

func TestBootstrap(t *testing.T) {
	spy := recorded(t, "spy-1d.csv")
	res, err := backtest.Run(context.Background(), &sources.CSV{Paths: []string{spy}}, backtest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := res.Bootstrap(2000, 42), res.Bootstrap(2000, 42)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different intervals")
	}
	if c := res.Bootstrap(2000, 43); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gave the same intervals")
	}
	tr := a.TotalReturn
	if !tr.Low.OK || !tr.High.OK || !(tr.Low.V < tr.High.V) || !a.Sharpe.Low.OK || !(a.Sharpe.Low.V < a.Sharpe.High.V) {
		t.Fatalf("intervals %+v", a)
	}
	// The realised return (the sum of closed pnl over the cash) lies inside.
	var pnl float64
	for _, tt := range res.Symbols[0].Trades {
		pnl += tt.PnL
	}
	if x := pnl / res.Settings.Cash; x < tr.Low.V || x > tr.High.V {
		t.Fatalf("realised %v outside %+v", x, tr)
	}
	one := &backtest.Result{Settings: backtest.Settings{Cash: 1}, Symbols: []backtest.SymbolResult{{Trades: res.Symbols[0].Trades[:1]}}}
	if got := one.Bootstrap(100, 1); got.TotalReturn.Low.OK || got.Sharpe.High.OK {
		t.Fatalf("one trade gave intervals %+v", got)
	}
}

func TestWalkForwardEMACross(t *testing.T) {
	data, err := backtest.Load(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 6000, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg := backtest.SweepConfig{Strategy: backtest.StrategyEMACross, Where: "fast < slow",
		Params: []backtest.Param{mustParam(t, "fast", "2:20:3"), mustParam(t, "slow", "10:60:10")}}
	wf, err := backtest.WalkForward(context.Background(), data, cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range wf.Folds {
		// The out-of-sample fold equals a single backtest of the winner on it.
		one := cfg
		one.Params = []backtest.Param{{Name: "fast", Values: f.Values[:1]}, {Name: "slow", Values: f.Values[1:]}}
		one.Where = ""
		one.Start, one.End = f.Start, f.End
		if i > 0 {
			one.Cash = wf.Folds[i-1].OutOfSample.FinalEquity
		}
		sw, err := backtest.Sweep(context.Background(), data, one)
		if err != nil {
			t.Fatal(err)
		}
		compareMetrics(t, "fold", f.OutOfSample, metricsMap(t, sw.Rows[0].Metrics))
	}
	if got, want := wf.Metrics.FinalEquity, wf.Folds[1].OutOfSample.FinalEquity; got != want {
		t.Fatalf("joined final equity %v, last fold's %v", got, want)
	}
}
