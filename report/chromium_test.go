package report_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/internal/chromiumtest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
)

// bigBars is the size the issue asks the report to open at.
const bigBars = 1_000_000

// writeReport writes d to a file in dir and returns its path and size.
func writeReport(t testing.TB, dir string, d report.Data) (string, int64) {
	t.Helper()
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Write(f, d); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, st.Size()
}

func chromiumBin(t testing.TB) string { return chromiumtest.Bin(t, "a report") }

// problems are what the pages logged as errors or warnings: a report logs
// neither.
func problems(b *chromiumtest.Browser) []string { return append(b.Errors(), b.Warnings()...) }

// TestReportInChromium opens a report of a million bars in headless
// Chromium over the DevTools protocol and checks that it logs no error,
// that every canvas drew, that every marker is drawn while the candles are
// aggregated to the pixel columns, that chart.js decodes the data Go wrote
// bit for bit, and that wheel, drag and hover change the view.
// TICKFLOW_TEST_SCREENSHOT, if set, is where a PNG of the page is written
// after the interaction.
func TestReportInChromium(t *testing.T) {
	bin := chromiumBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d := sample(bigBars, "BTCUSDT")
	path, size := writeReport(t, t.TempDir(), d)
	t.Logf("%d bars: %.1f MB", bigBars, float64(size)/1e6)

	b := chromiumtest.Launch(t, ctx, bin)
	defer b.Close()
	p := b.Open(t, ctx, "file://"+path)
	waitReady(t, ctx, p)

	var stats struct {
		Charts, Candles, Lines, Markers, Cells, Frames int
		Interactive                                    float64
		Width                                          float64
	}
	p.Eval(t, ctx, `(() => { const s = tickflowReport.stats();
		s.interactive = tickflowReport.interactiveMs; s.width = document.querySelector("canvas").clientWidth; return s; })()`, &stats)
	t.Logf("stats %+v", stats)
	var marks map[string]float64
	p.Eval(t, ctx, `Object.fromEntries(performance.getEntriesByType("mark").map(m => [m.name, Math.round(m.startTime)])
		.concat([["responseEnd", Math.round(performance.getEntriesByType("navigation")[0].responseEnd)]]))`, &marks)
	t.Logf("ms after navigation: %v", marks)
	if stats.Charts != 3 {
		t.Errorf("%d charts, want 3 (the symbol's, its monthly returns, the sweep)", stats.Charts)
	}
	if want := len(d.Symbols[0].Markers); stats.Markers != want {
		t.Errorf("%d markers drawn, want all %d", stats.Markers, want)
	}
	if stats.Candles < 100 || float64(stats.Candles) > stats.Width {
		t.Errorf("%d candles drawn on a %v px chart: want one per pixel column", stats.Candles, stats.Width)
	}
	if months := 12 * 2; stats.Cells < months {
		t.Errorf("%d heatmap cells, want at least %d", stats.Cells, months)
	}

	// Aggregating a million bars into pixel columns keeps the extremes: the
	// price panel spans the lowest low to the highest high (and every fill).
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, bar := range d.Symbols[0].Bars {
		lo, hi = math.Min(lo, bar.Low), math.Max(hi, bar.High)
	}
	for _, m := range d.Symbols[0].Markers {
		lo, hi = math.Min(lo, m.Price), math.Max(hi, m.Price)
	}
	var span struct{ Lo, Hi float64 }
	p.Eval(t, ctx, `(() => { const s = tickflowReport.charts[0].summaries[0]; return {lo: s.lo, hi: s.hi}; })()`, &span)
	if pad := (hi - lo) * 0.06; math.Abs(span.Lo-(lo-pad)) > 1e-9 || math.Abs(span.Hi-(hi+pad)) > 1e-9 {
		t.Errorf("price panel spans %v to %v, want %v to %v (the extremes and 6%% padding)", span.Lo, span.Hi, lo-pad, hi+pad)
	}

	// Every canvas has drawn pixels: at least 2% differ from the background.
	var inked []float64
	p.Eval(t, ctx, `[...document.querySelectorAll("canvas")].map(c => {
		const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let ink = 0;
		for (let i = 0; i < px.length; i += 4) if (px[i] !== 22 || px[i+1] !== 33 || px[i+2] !== 44) ink++;
		return ink / (px.length / 4); })`, &inked)
	if len(inked) != 3 {
		t.Errorf("%d canvases, want 3", len(inked))
	}
	for i, f := range inked {
		if f < 0.02 {
			t.Errorf("canvas %d: %.1f%% of its pixels drawn", i, 100*f)
		}
	}

	// chart.js reads back exactly what Go wrote.
	var got struct {
		N               int
		First, Mid, End float64
		Time            float64
	}
	p.Eval(t, ctx, `(() => { const s = JSON.parse(document.getElementById("tickflow-data").textContent).symbols[0];
		const c = TickflowChart.decodeColumn(s.c), t = TickflowChart.decodeColumn(s.t);
		return {n: c.length, first: c[0], mid: c[c.length >> 1], end: c[c.length - 1], time: t[t.length - 1]}; })()`, &got)
	bars := d.Symbols[0].Bars
	if got.N != len(bars) || got.First != bars[0].Close || got.Mid != bars[len(bars)/2].Close || got.End != bars[len(bars)-1].Close ||
		int64(got.Time) != bars[len(bars)-1].Time.UnixMilli() {
		t.Errorf("chart.js decoded %+v; Go wrote %d closes %v, %v, %v ending at %d", got, len(bars),
			bars[0].Close, bars[len(bars)/2].Close, bars[len(bars)-1].Close, bars[len(bars)-1].Time.UnixMilli())
	}

	// Interaction: the wheel zooms in around the cursor, a drag pans, the
	// cursor shows the values under it.
	type view struct{ From, To float64 }
	var box struct{ X, Y, W, H float64 }
	p.Eval(t, ctx, `(() => { const c = document.querySelector("canvas"); c.scrollIntoView();
		const r = c.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; })()`, &box)
	cx, cy := box.X+box.W/2, box.Y+box.H/4
	readView := func() view {
		var v view
		p.Eval(t, ctx, `tickflowReport.charts[0].view`, &v)
		return v
	}
	mouse := func(kind string, x, y float64, extra map[string]any) {
		params := map[string]any{"type": kind, "x": x, "y": y}
		for k, v := range extra {
			params[k] = v
		}
		p.Call(t, ctx, "Input.dispatchMouseEvent", params, nil)
	}
	before := readView()
	mouse("mouseWheel", cx, cy, map[string]any{"deltaX": 0, "deltaY": -1500})
	var zoomed view
	chromiumtest.WaitFor(t, ctx, "the wheel to zoom in 20-fold", func() bool {
		zoomed = readView()
		return zoomed.To-zoomed.From < (before.To-before.From)/5
	})
	mouse("mouseMoved", cx, cy, nil)
	mouse("mousePressed", cx, cy, map[string]any{"button": "left", "buttons": 1, "clickCount": 1})
	mouse("mouseMoved", cx+300, cy, map[string]any{"button": "left", "buttons": 1})
	mouse("mouseReleased", cx+300, cy, map[string]any{"button": "left", "buttons": 0, "clickCount": 1})
	var panned view
	chromiumtest.WaitFor(t, ctx, "a drag to the right to show earlier bars", func() bool {
		panned = readView()
		return panned.From < zoomed.From
	})
	if span := panned.To - panned.From; math.Abs(span-(zoomed.To-zoomed.From)) > 1e-6 {
		t.Errorf("drag: view %+v, then %+v: the span changed", zoomed, panned)
	}
	// Keys: "0" shows every bar again.
	p.Call(t, ctx, "Runtime.evaluate", map[string]any{"expression": `document.querySelector("canvas").focus()`}, nil)
	p.Call(t, ctx, "Input.dispatchKeyEvent", map[string]any{"type": "keyDown", "key": "0", "code": "Digit0", "text": "0"}, nil)
	chromiumtest.WaitFor(t, ctx, `the "0" key to show every bar`, func() bool {
		v := readView()
		return v.From == 0 && v.To == float64(len(bars))
	})
	var hover struct {
		Index  int
		Frames int
	}
	chromiumtest.WaitFor(t, ctx, "a frame with the crosshair", func() bool {
		p.Eval(t, ctx, `({index: (tickflowReport.charts[0].hover || {index: -1}).index, frames: tickflowReport.charts[0].last.frames})`, &hover)
		return hover.Index >= 0 && hover.Frames > 1
	})
	if path := os.Getenv("TICKFLOW_TEST_SCREENSHOT"); path != "" {
		var shot struct{ Data []byte }
		p.Call(t, ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
		if err := os.WriteFile(path, shot.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if errs := problems(b); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("interactive after %.0f ms (BenchmarkReportInChromium measures it)", stats.Interactive)
	t.Logf("main thread CPU until now, the interaction included: %v", p.CPU(t, ctx))
}

// TestGoldenReportInChromium opens testdata/small.html, where every bar is
// wider than a pixel: each candle is drawn on its own, and the portfolio,
// trades and sweep sections are all there.
func TestGoldenReportInChromium(t *testing.T) {
	bin := chromiumBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path, err := filepath.Abs(filepath.Join("testdata", "small.html"))
	if err != nil {
		t.Fatal(err)
	}
	d := sample(160, "BTCUSDT", "SPY")
	b := chromiumtest.Launch(t, ctx, bin)
	defer b.Close()
	p := b.Open(t, ctx, "file://"+path)
	waitReady(t, ctx, p)
	var got struct {
		Charts, Candles, Markers, Cells int
		Trades, Sweep                   int
		Sections                        []string
	}
	p.Eval(t, ctx, `(() => { const s = tickflowReport.stats();
		s.trades = document.querySelector("section.symbol table.trades").tBodies[0].rows.length;
		s.sweep = document.querySelector("table.combinations").tBodies[0].rows.length;
		s.sections = [...document.querySelectorAll("h2")].map(h => h.textContent); return s; })()`, &got)
	markers := 0
	for _, s := range d.Symbols {
		markers += len(s.Markers)
	}
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"charts (portfolio, 2 symbols, each with monthly returns; the sweep)", got.Charts, 7},
		{"candles", got.Candles, 2 * 160},
		{"markers", got.Markers, markers},
		{"trade rows of the first symbol", got.Trades, len(d.Symbols[0].Trades)},
		{"sweep rows", got.Sweep, len(d.Sweep.Rows)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if want := []string{"Portfolio", "BTCUSDT", "SPY", "Parameter sweep"}; strings.Join(got.Sections, ",") != strings.Join(want, ",") {
		t.Errorf("sections %q, want %q", got.Sections, want)
	}
	if errs := problems(b); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestEdgeReportsInChromium opens reports at the edges of the data model:
// each must draw without an error.
func TestEdgeReportsInChromium(t *testing.T) {
	bin := chromiumBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	one := report.Symbol{Name: "ONE", Bars: []report.Bar{{Time: t0, Open: 1, High: 2, Low: 0.5, Close: 1.5}},
		Overlays: []report.Series{{Name: "warming up", Values: []float64{math.NaN()}}},
		Equity:   []float64{100}, Drawdown: []float64{0},
		Markers: []report.Marker{{Time: t0.Add(time.Hour), Price: 1.5, Side: market.Sell}}}
	oneParam := sample(30, "A")
	oneParam.Sweep = &report.Sweep{Params: []string{"n"}, Metrics: []string{"sharpe"}, Rank: "sharpe",
		Rows: []report.SweepRow{{Params: []float64{1}, Metrics: []float64{math.NaN()}}, {Params: []float64{2}, Metrics: []float64{0.5}}}}
	dir := t.TempDir()
	b := chromiumtest.Launch(t, ctx, bin)
	defer b.Close()
	for _, tc := range []struct {
		name string
		d    report.Data
	}{
		{"nothing", report.Data{}},
		{"a symbol without bars", report.Data{Symbols: []report.Symbol{{Name: "EMPTY"}}}},
		{"one bar, a gap, a fill after the last bar", report.Data{Symbols: []report.Symbol{one}}},
		{"a sweep over one parameter", oneParam},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			path, _ := writeReport(t, sub, tc.d)
			p := b.Open(t, ctx, "file://"+path)
			waitReady(t, ctx, p)
			var frames int
			p.Eval(t, ctx, `tickflowReport.stats().frames`, &frames)
			if want := len(tc.d.Symbols); frames < want {
				t.Errorf("%d frames drawn, want at least %d", frames, want)
			}
			p.Close(t, ctx)
		})
	}
	if errs := problems(b); len(errs) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// BenchmarkReportInChromium opens a million-bar report once per iteration
// and reports how long after navigation it became interactive (the page's
// performance.now() when its charts were drawn and listening), and the CPU
// time its main thread spent until then, the figure that does not depend on
// how busy the machine is; and the time of one frame that pans the whole
// million bars (aggregation, drawing and rasterizing).
func BenchmarkReportInChromium(b *testing.B) {
	bin := chromiumBin(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	path, size := writeReport(b, b.TempDir(), sample(bigBars, "BTCUSDT"))
	br := chromiumtest.Launch(b, ctx, bin)
	defer br.Close()
	var total, frame float64
	var cpu, frameCPU time.Duration
	b.ResetTimer()
	for b.Loop() {
		p := br.Open(b, ctx, "file://"+path)
		waitReady(b, ctx, p)
		var ms float64
		p.Eval(b, ctx, `tickflowReport.interactiveMs`, &ms)
		total += ms
		cpu += p.CPU(b, ctx)
		// A pan frame over all million bars: aggregate, draw, rasterize.
		var f float64
		c0 := p.CPU(b, ctx)
		p.Eval(b, ctx, `(() => { const c = tickflowReport.charts[0], t0 = performance.now();
			c.summaryKey = ""; c.draw(); c.ctx.getImageData(0, 0, 1, 1); return performance.now() - t0; })()`, &f)
		frame += f
		frameCPU += p.CPU(b, ctx) - c0
		p.Close(b, ctx)
	}
	b.ReportMetric(frame/float64(b.N), "ms-per-full-view-frame")
	b.ReportMetric(float64(frameCPU.Milliseconds())/float64(b.N), "ms-cpu-per-full-view-frame")
	b.ReportMetric(total/float64(b.N), "ms-to-interactive")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "ms-cpu-main-thread")
	b.ReportMetric(float64(size)/1e6, "MB")
	if errs := problems(br); len(errs) > 0 {
		b.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

func waitReady(t testing.TB, ctx context.Context, p *chromiumtest.Tab) {
	t.Helper()
	chromiumtest.WaitFor(t, ctx, "window.tickflowReport", func() bool {
		var ready bool
		p.Eval(t, ctx, `typeof tickflowReport === "object" || (window.tickflowErrors || []).length > 0`, &ready)
		return ready
	})
	var errs []string
	p.Eval(t, ctx, `window.tickflowErrors`, &errs)
	if len(errs) > 0 {
		t.Fatalf("the page failed: %s", strings.Join(errs, "; "))
	}
}
