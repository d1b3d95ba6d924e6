package backtest

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
	"github.com/tickflow/tickflow/sources"
)

const reportDataDir = "../../shared/data"

func recordedCSV(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(reportDataDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("recorded data %s is absent (%v)", p, err)
	}
	return p
}

func sameValue(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// checkSymbolReport checks one symbol's section against its result.
func checkSymbolReport(t *testing.T, sr *SymbolResult, s *report.Symbol) {
	t.Helper()
	fills := 2 * len(sr.Trades)
	if sr.Open != nil {
		fills++
	}
	if len(s.Markers) != fills {
		t.Errorf("%s: %d markers for %d fills", sr.Symbol, len(s.Markers), fills)
	}
	stops := 0
	for _, tr := range sr.Trades {
		if tr.Exit != ExitSignal {
			stops++
		}
	}
	labelled := 0
	for _, m := range s.Markers {
		if m.Side == market.Sell && m.Label != "sell: signal" {
			labelled++
		}
	}
	if labelled != stops {
		t.Errorf("%s: %d sells labelled by a stop for %d stop exits", sr.Symbol, labelled, stops)
	}
	if n := sr.Equity.Len(); len(s.Equity) != n || len(s.Bars) != n || len(s.BuyHold) != n || len(s.Drawdown) != n {
		t.Errorf("%s: equity %d, bars %d, buy-and-hold %d, drawdown %d values for %d bars",
			sr.Symbol, len(s.Equity), len(s.Bars), len(s.BuyHold), len(s.Drawdown), n)
	}
	for j := range s.Bars {
		if s.Bars[j].Time.UnixNano() != sr.Equity.Times[j] {
			t.Fatalf("%s: bar %d at %v, equity at %v", sr.Symbol, j, s.Bars[j].Time, time.Unix(0, sr.Equity.Times[j]).UTC())
		}
	}
	checkMetrics(t, sr.Symbol, &sr.Metrics, s.Metrics)
	open := 0
	for _, tr := range s.Trades {
		if tr.Exit.IsZero() {
			open++
			if tr.Entry != sr.Open.EntryTime || tr.PnL != sr.Open.Unrealized {
				t.Errorf("%s: open trade %+v, position %+v", sr.Symbol, tr, sr.Open)
			}
		}
	}
	if want := len(s.Trades) - len(sr.Trades); open != want || (sr.Open != nil) != (open == 1) {
		t.Errorf("%s: %d open trades in the report, position %v", sr.Symbol, open, sr.Open)
	}
}

func checkMetrics(t *testing.T, who string, m *Metrics, got []report.Metric) {
	t.Helper()
	byName := map[string]float64{}
	for _, rm := range got {
		byName[rm.Name] = rm.Value
	}
	for _, k := range MetricKeys() {
		n, _ := m.Get(k)
		v, ok := byName[k]
		if !ok || !sameValue(v, value(n)) {
			t.Errorf("%s: metric %s = %v (present %v), result %v", who, k, v, ok, n)
		}
	}
}

func TestResultReportSynthetic(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		stops bool // some exits are stops
	}{
		{"defaults", Config{KeepBars: true}, false},
		{"stops", Config{KeepBars: true, StopLoss: 0.01, TakeProfit: 0.02, TrailingStop: 0.015}, true},
		{"whole units", Config{KeepBars: true, WholeUnits: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &sources.Synthetic{Symbols: 3, Bars: 3000, Seed: 5}
			res, err := Run(context.Background(), src, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			d, err := res.reportData("t", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Symbols) != len(res.Symbols) {
				t.Fatalf("%d symbols, want %d", len(d.Symbols), len(res.Symbols))
			}
			for i := range res.Symbols {
				checkSymbolReport(t, &res.Symbols[i], &d.Symbols[i])
				s := &d.Symbols[i]
				if len(s.Overlays) != 1 || len(s.Oscillators) != 1 || len(s.Oscillators[0].Series) != 2 {
					t.Fatalf("%s: %d overlays, %d oscillators", s.Name, len(s.Overlays), len(s.Oscillators))
				}
				if lv := s.Oscillators[0].Levels; len(lv) != 2 || lv[0] != res.Settings.Params["oversold"] || lv[1] != res.Settings.Params["overbought"] {
					t.Errorf("%s: levels %v", s.Name, lv)
				}
			}
			stops := 0
			for _, s := range d.Symbols {
				for _, m := range s.Markers {
					if m.Side == market.Sell && m.Label != "sell: signal" {
						stops++
					}
				}
			}
			if tt.stops != (stops > 0) {
				t.Errorf("%d sells labelled by a stop", stops)
			}
			checkMetrics(t, "portfolio", &res.Portfolio.Metrics, d.Portfolio.Metrics)
			if n := res.Portfolio.Equity.Len(); len(d.Portfolio.Times) != n || len(d.Portfolio.BuyHold) != n {
				t.Errorf("portfolio: %d times, %d buy-and-hold for %d", len(d.Portfolio.Times), len(d.Portfolio.BuyHold), n)
			}
			// Buy-and-hold ends where the metric says, per symbol and summed.
			var bhSum float64
			for i, s := range d.Symbols {
				share := res.Settings.Cash / float64(len(d.Symbols))
				bh := s.BuyHold[len(s.BuyHold)-1]/share - 1
				if math.Abs(bh-res.Symbols[i].Metrics.BuyHoldReturn.V) > 1e-9 {
					t.Errorf("%s: buy-and-hold ends at %v, metric %v", s.Name, bh, res.Symbols[i].Metrics.BuyHoldReturn.V)
				}
				bhSum += s.BuyHold[len(s.BuyHold)-1]
			}
			if last := d.Portfolio.BuyHold[len(d.Portfolio.BuyHold)-1]; math.Abs(last-bhSum) > 1e-6 {
				t.Errorf("portfolio buy-and-hold ends at %v, symbols sum to %v", last, bhSum)
			}
		})
	}
}

// TestResultReportWarmup: with a window, the indicators are computed from
// the warm-up bars before it, as the strategy read them: defined from the
// window's first bar.
func TestResultReportWarmup(t *testing.T) {
	all, err := Load(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(0, all.Symbols[0].Time[200]).UTC()
	res, err := Run(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 500, Seed: 3}, Config{KeepBars: true, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	d, err := res.reportData("t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s := d.Symbols[0]
	if len(s.Bars) != 300 || !s.Bars[0].Time.Equal(start) {
		t.Fatalf("%d bars from %v, want 300 from %v", len(s.Bars), s.Bars[0].Time, start)
	}
	if v := s.Overlays[0].Values[0]; math.IsNaN(v) {
		t.Errorf("%s undefined on the window's first bar", s.Overlays[0].Name)
	}
	if v := s.Oscillators[0].Series[0].Values[0]; math.IsNaN(v) {
		t.Errorf("%%K undefined on the window's first bar")
	}
}

// TestResultReportWithoutBars: without KeepBars a symbol shows its
// metrics, trades and fills, without per-bar charts.
func TestResultReportWithoutBars(t *testing.T) {
	res, err := Run(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 1000, Seed: 1}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := res.reportData("t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Symbols[0]; len(s.Bars) != 0 || len(s.Overlays) != 0 || len(s.Equity) != 0 || d.Portfolio.BuyHold != nil ||
		len(s.Trades) != len(res.Symbols[0].Trades) || len(d.Portfolio.Equity) != res.Portfolio.Equity.Len() {
		t.Fatalf("%d bars, %d overlays, %d equity", len(s.Bars), len(s.Overlays), len(s.Equity))
	}
	var page strings.Builder
	if err := res.WriteReport(&page, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestResultReportSPY: the default strategy on recorded daily bars.
func TestResultReportSPY(t *testing.T) {
	path := recordedCSV(t, "spy-1d.csv")
	for _, cfg := range []Config{{KeepBars: true}, {KeepBars: true, StopLoss: 0.03}} {
		res, err := Run(context.Background(), &sources.CSV{Paths: []string{path}, SkipBadRows: true}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		d, err := res.reportData("t", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Symbols {
			checkSymbolReport(t, &res.Symbols[i], &d.Symbols[i])
			checkBuysOnIndicators(t, &d.Symbols[i], stochRSIBuyRule(&d.Symbols[i], res.Settings.Params["oversold"]))
		}
		var page strings.Builder
		if err := res.WriteReport(&page, ReportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestResultReportOpenPosition: a buy on the second-to-last bar leaves a
// position open; the report shows it as an open trade with its marker.
func TestResultReportOpenPosition(t *testing.T) {
	data, err := Load(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 50, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := data.Symbols[0]
	s.Signal = make([]market.Side, s.Len())
	s.Signal[10], s.Signal[20], s.Signal[s.Len()-2] = market.Buy, market.Sell, market.Buy
	res, err := Simulate(data, Config{KeepBars: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Symbols[0].Open == nil || len(res.Symbols[0].Trades) != 1 {
		t.Fatalf("open %v, %d trades", res.Symbols[0].Open, len(res.Symbols[0].Trades))
	}
	d, err := res.reportData("t", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkSymbolReport(t, &res.Symbols[0], &d.Symbols[0])
	if got := d.Symbols[0].Trades; len(got) != 2 || !got[1].Exit.IsZero() {
		t.Fatalf("trades %+v", got)
	}
}

func TestSweepReport(t *testing.T) {
	data, err := Load(context.Background(), &sources.Synthetic{Symbols: 2, Bars: 3000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fast, _ := ParseParam("fast", "5:20:5")
	slow, _ := ParseParam("slow", "20,50,100")
	cfg := SweepConfig{Strategy: StrategyEMACross, Params: []Param{fast, slow}, Where: "fast < slow", Rank: "max_drawdown",
		Config: Config{StopLoss: 0.02}}
	sw, err := Sweep(context.Background(), data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sw.reportData(context.Background(), data, cfg, ReportOptions{X: "slow", Y: "fast"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sweep == nil || len(d.Sweep.Rows) != len(sw.Rows) || !d.Sweep.LowerIsBetter || d.Sweep.X != "slow" {
		t.Fatalf("sweep section %+v for %d rows", d.Sweep, len(sw.Rows))
	}
	for i, row := range d.Sweep.Rows {
		checkMetrics(t, "row", &sw.Rows[i].Metrics, namedMetrics(d.Sweep.Metrics, row.Metrics))
	}
	// The symbols are the best row's backtest: its portfolio metrics are row 0's.
	checkMetrics(t, "best", &sw.Rows[0].Metrics, d.Portfolio.Metrics)
	for i, s := range d.Symbols {
		if len(s.Overlays) != 2 || s.Overlays[0].Name != "EMA("+ftoa(sw.Rows[0].Values[0])+")" {
			t.Errorf("%s: overlays %d, first %q", s.Name, len(s.Overlays), s.Overlays[0].Name)
		}
		if len(s.Equity) != len(s.Bars) || len(s.Bars) == 0 {
			t.Errorf("symbol %d: %d equity values for %d bars", i, len(s.Equity), len(s.Bars))
		}
		checkBuysOnIndicators(t, &d.Symbols[i], emaCrossBuyRule(&d.Symbols[i]))
	}
	var page strings.Builder
	if err := sw.WriteReport(context.Background(), &page, data, cfg, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	err = sw.WriteReport(context.Background(), &page, data, cfg, ReportOptions{Y: "ema"})
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), `"ema"`) {
		t.Errorf("heatmap Y not swept: %v", err)
	}
}

// TestSweepReportSPY: a StochRSI/EMA sweep on recorded daily bars; the
// report has one row per combination and the best row's oscillator.
func TestSweepReportSPY(t *testing.T) {
	data, err := Load(context.Background(), &sources.CSV{Paths: []string{recordedCSV(t, "spy-1d.csv")}, SkipBadRows: true})
	if err != nil {
		t.Fatal(err)
	}
	ema, _ := ParseParam("ema", "10,20,50")
	oversold, _ := ParseParam("oversold", "10:30:10")
	cfg := SweepConfig{Params: []Param{ema, oversold}, Rank: "total_return"}
	sw, err := Sweep(context.Background(), data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := sw.reportData(context.Background(), data, cfg, ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sweep.Rows) != 9 || len(sw.Rows) != 9 {
		t.Fatalf("%d report rows, %d sweep rows, want 9", len(d.Sweep.Rows), len(sw.Rows))
	}
	checkMetrics(t, "best", &sw.Rows[0].Metrics, d.Portfolio.Metrics)
	s := &d.Symbols[0]
	if lv := s.Oscillators[0].Levels; lv[0] != sw.Rows[0].Values[1] {
		t.Errorf("oversold level %v, best row %v", lv[0], sw.Rows[0].Values)
	}
	checkBuysOnIndicators(t, s, stochRSIBuyRule(s, sw.Rows[0].Values[1]))
}

func namedMetrics(names []string, values []float64) []report.Metric {
	out := make([]report.Metric, len(names))
	for i := range names {
		out[i] = report.Metric{Name: names[i], Value: values[i]}
	}
	return out
}

func TestWalkForwardReport(t *testing.T) {
	data, err := Load(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 4000, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	fast, _ := ParseParam("fast", "5,10")
	slow, _ := ParseParam("slow", "30,60")
	wf, err := WalkForward(context.Background(), data, SweepConfig{Strategy: StrategyEMACross, Params: []Param{fast, slow}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	d := wf.reportData(ReportOptions{})
	if d.Sweep == nil || len(d.Sweep.Rows) != len(wf.Folds) {
		t.Fatalf("folds table %+v for %d folds", d.Sweep, len(wf.Folds))
	}
	for i, row := range d.Sweep.Rows {
		f := wf.Folds[i]
		if row.Params[0] != float64(i+1) || row.Params[1] != f.Values[0] || row.Params[2] != f.Values[1] ||
			!sameValue(row.Metrics[0], value(f.InSample.Sharpe)) || !sameValue(row.Metrics[1], value(f.OutOfSample.Sharpe)) {
			t.Errorf("fold %d: row %+v, fold %+v", i+1, row, f)
		}
	}
	if len(d.Portfolio.Equity) != wf.Equity.Len() || len(d.Portfolio.Times) != wf.Equity.Len() {
		t.Errorf("%d equity values for %d", len(d.Portfolio.Equity), wf.Equity.Len())
	}
	checkMetrics(t, "walk-forward", &wf.Metrics, d.Portfolio.Metrics)
	var page strings.Builder
	if err := wf.WriteReport(&page, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkBuysOnIndicators checks that every buy filled at bar j followed a
// buy signal on bar j-1 by the strategy's rule, read from the report's own
// overlays and oscillators: what the report draws is what the strategy read.
func checkBuysOnIndicators(t *testing.T, s *report.Symbol, rule func(j int) bool) {
	t.Helper()
	index := make(map[int64]int, len(s.Bars))
	for j, b := range s.Bars {
		index[b.Time.UnixNano()] = j
	}
	buys := 0
	for _, m := range s.Markers {
		if m.Side != market.Buy {
			continue
		}
		buys++
		j, ok := index[m.Time.UnixNano()]
		if !ok || j < 2 {
			t.Fatalf("%s: buy at %v is not after the second bar", s.Name, m.Time)
		}
		if !rule(j - 1) {
			t.Errorf("%s: buy at %v: the indicators drawn on the bar before do not give a buy", s.Name, m.Time)
		}
	}
	if buys == 0 {
		t.Fatalf("%s: no buys to check", s.Name)
	}
}

func stochRSIBuyRule(s *report.Symbol, oversold float64) func(int) bool {
	ema, k, d := s.Overlays[0].Values, s.Oscillators[0].Series[0].Values, s.Oscillators[0].Series[1].Values
	return func(j int) bool {
		return k[j-1] <= d[j-1] && k[j] > d[j] && d[j] < oversold && s.Bars[j].Close > ema[j]
	}
}

func emaCrossBuyRule(s *report.Symbol) func(int) bool {
	f, sl := s.Overlays[0].Values, s.Overlays[1].Values
	return func(j int) bool { return f[j-1] <= sl[j-1] && f[j] > sl[j] }
}

func TestReportIndicatorsAreWhatTheStrategyRead(t *testing.T) {
	t.Run("stochrsi-ema", func(t *testing.T) {
		res, err := Run(context.Background(), &sources.Synthetic{Symbols: 2, Bars: 3000, Seed: 7}, Config{KeepBars: true})
		if err != nil {
			t.Fatal(err)
		}
		d, err := res.reportData("t", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range d.Symbols {
			checkBuysOnIndicators(t, &d.Symbols[i], stochRSIBuyRule(&d.Symbols[i], res.Settings.Params["oversold"]))
		}
	})
	t.Run("ema-cross", func(t *testing.T) {
		// As the CLI runs ema-cross: Run with the strategy, then name it in the settings.
		f, err := NewEMACross(8, 21)
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{KeepBars: true}
		cfg.Signals.Strategy = f
		res, err := Run(context.Background(), &sources.Synthetic{Symbols: 1, Bars: 3000, Seed: 7}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res.Settings.Strategy, res.Settings.Params = StrategyEMACross, map[string]float64{"fast": 8, "slow": 21}
		d, err := res.reportData("t", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		s := &d.Symbols[0]
		if len(s.Overlays) != 2 || s.Overlays[0].Name != "EMA(8)" || s.Overlays[1].Name != "EMA(21)" || len(s.Oscillators) != 0 {
			t.Fatalf("overlays %d, oscillators %d", len(s.Overlays), len(s.Oscillators))
		}
		checkBuysOnIndicators(t, s, emaCrossBuyRule(s))
	})
}
