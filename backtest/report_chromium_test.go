package backtest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

// TestReportInChromium opens the report of a real backtest (stops on, so
// every kind of marker is there) in headless Chromium and checks, from the
// DOM it dumps once the scripts ran, that the page drew its charts and
// caught no error, and from Chromium's log that nothing reached the console
// (a refused request, an exception, a console.error).
func TestReportInChromium(t *testing.T) {
	bin := os.Getenv("TICKFLOW_TEST_CHROMIUM")
	if bin == "" {
		t.Skip("set TICKFLOW_TEST_CHROMIUM=/usr/bin/chromium to open a backtest report in headless Chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := backtest.Run(ctx, &sources.Synthetic{Symbols: 2, Bars: 3000, Seed: 5},
		backtest.Config{KeepBars: true, StopLoss: 0.01, TakeProfit: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.WriteReport(f, backtest.ReportOptions{Title: "synthetic"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom", "file://"+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	page := string(dom)
	// The page's error handler prepends each error it catches as a <pre class="error">.
	if i := strings.Index(page, `<pre class="error">`); i >= 0 {
		t.Errorf("the page caught an error: %.300s", page[i:])
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		// Chromium logs every console message at INFO, whatever its level,
		// and the page logs nothing of its own: any message is a failure.
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console: %s", line)
		}
	}
	// A chart (price, oscillator, account panels) and a monthly heatmap
	// per symbol and for the portfolio, each a canvas page.js made.
	if n, want := strings.Count(page, "<canvas"), 2*len(res.Symbols)+2; n != want {
		t.Errorf("%d canvases for %d symbols, want %d", n, len(res.Symbols), want)
	}
	for _, s := range res.Symbols {
		if !strings.Contains(page, `aria-label="`+s.Symbol+` chart"`) {
			t.Errorf("no chart of %s on the page", s.Symbol)
		}
	}
}
