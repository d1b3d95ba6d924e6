package backtest_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

// TestReportInChromium opens the reports of a real backtest (stops on, so
// every kind of marker is there), a sweep and a walk-forward in headless
// Chromium and checks, from the DOM it dumps once the scripts ran, that the
// page made its charts and caught no error, and from Chromium's log that
// nothing reached the console (a refused request, an exception, a
// console.error).
func TestReportInChromium(t *testing.T) {
	bin := os.Getenv("TICKFLOW_TEST_CHROMIUM")
	if bin == "" {
		t.Skip("set TICKFLOW_TEST_CHROMIUM=/usr/bin/chromium to open a backtest report in headless Chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data, err := backtest.Load(ctx, &sources.Synthetic{Symbols: 2, Bars: 3000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	fast, _ := backtest.ParseParam("fast", "5:20:5")
	slow, _ := backtest.ParseParam("slow", "30,60")
	scfg := backtest.SweepConfig{Strategy: backtest.StrategyEMACross, Params: []backtest.Param{fast, slow}}

	tests := []struct {
		name     string
		write    func(io.Writer) error
		symbols  []string
		canvases int // a chart and a monthly heatmap per symbol and for the portfolio, one per sweep heatmap
	}{
		{"backtest", func(w io.Writer) error {
			res, err := backtest.Run(ctx, &sources.Synthetic{Symbols: 2, Bars: 3000, Seed: 5},
				backtest.Config{KeepBars: true, StopLoss: 0.01, TakeProfit: 0.02})
			if err != nil {
				return err
			}
			return res.WriteReport(w, backtest.ReportOptions{Title: "synthetic"})
		}, []string{"SYM1", "SYM2"}, 6},
		{"sweep", func(w io.Writer) error {
			res, err := backtest.Sweep(ctx, data, scfg)
			if err != nil {
				return err
			}
			return res.WriteReport(ctx, w, data, scfg, backtest.ReportOptions{})
		}, []string{"SYM1", "SYM2"}, 7},
		{"walk-forward", func(w io.Writer) error {
			res, err := backtest.WalkForward(ctx, data, scfg, 3)
			if err != nil {
				return err
			}
			return res.WriteReport(w, backtest.ReportOptions{})
		}, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report.html")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.write(f); err != nil {
				f.Close()
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			page, log := dumpDOM(t, ctx, bin, dir, path)
			// The page's error handler prepends each error it catches as a <pre class="error">.
			if i := strings.Index(page, `<pre class="error">`); i >= 0 {
				t.Errorf("the page caught an error: %.300s", page[i:])
			}
			for _, line := range strings.Split(log, "\n") {
				// Chromium logs every console message at INFO, whatever its
				// level, and the page logs nothing of its own.
				if strings.Contains(line, ":CONSOLE") {
					t.Errorf("console: %s", line)
				}
			}
			if n := strings.Count(page, "<canvas"); n != tt.canvases {
				t.Errorf("%d canvases, want %d", n, tt.canvases)
			}
			for _, s := range tt.symbols {
				if !strings.Contains(page, `aria-label="`+s+` chart"`) {
					t.Errorf("no chart of %s on the page", s)
				}
			}
		})
	}
}

// dumpDOM loads path in headless Chromium, lets its scripts run and
// returns the DOM and Chromium's log.
func dumpDOM(t *testing.T, ctx context.Context, bin, dir, path string) (dom, log string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom", "file://"+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out), stderr.String()
}
