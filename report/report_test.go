package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The Chromium test starts a browser and goroutines that read it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func write(t testing.TB, d report.Data) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.Write(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// dataOf decodes the report's embedded data.
func dataOf(t testing.TB, html string) map[string]any {
	t.Helper()
	const open = `<script type="application/json" id="tickflow-data">`
	_, rest, ok := strings.Cut(html, open)
	if !ok {
		t.Fatal("no data script")
	}
	body, _, ok := strings.Cut(rest, "</script>")
	if !ok {
		t.Fatal("the data script does not end")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("the data is not JSON: %v", err)
	}
	return doc
}

func TestGolden(t *testing.T) {
	got := write(t, sample(160, "BTCUSDT", "SPY"))
	path := filepath.Join("testdata", "small.html")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("the report differs from %s (go test -update rewrites it after a deliberate change)", path)
	}
}

func TestSelfContained(t *testing.T) {
	html := write(t, sample(200, "BTCUSDT", "SPY"))
	for _, bad := range []string{"http://", "https://", "@import", "url(", "<link", "<iframe", "<img"} {
		if i := strings.Index(html, bad); i >= 0 {
			t.Errorf("the report holds %q at byte %d: %q", bad, i, html[max(0, i-40):min(len(html), i+40)])
		}
	}
	if m := regexp.MustCompile(`(?i)\b(src|href|action)\s*=`).FindString(html); m != "" {
		t.Errorf("the report loads something: %q", m)
	}
	csp := regexp.MustCompile(`http-equiv="Content-Security-Policy" content="([^"]*)"`).FindStringSubmatch(html)
	if csp == nil || !strings.HasPrefix(csp[1], "default-src &#39;none&#39;") {
		t.Errorf("no Content-Security-Policy forbidding requests: %v", csp)
	}
}

func TestHostileStrings(t *testing.T) {
	hostile := []string{
		"</script><script>alert(1)</script>",
		"</SCRIPT >",
		"<!-- <script>",
		"line\u2028separator\u2029paragraph",
		`quote " backslash \ amp & lt <`,
		"]]> ${x} `tick`",
	}
	d := sample(200, hostile...)
	d.Title = hostile[0]
	d.Settings = append(d.Settings, report.Field{Name: hostile[2], Value: hostile[3]})
	d.Symbols[0].Markers[0].Label = hostile[1]
	d.Symbols[0].Trades[0].Reason = hostile[0]
	d.Symbols[1].Overlays[0].Name = hostile[4]
	html := write(t, d)

	if n := strings.Count(strings.ToLower(html), "<script"); n != 4 {
		t.Errorf("%d <script tags, want the page's 4", n)
	}
	if n := strings.Count(strings.ToLower(html), "</script"); n != 4 {
		t.Errorf("%d </script tags, want the page's 4", n)
	}
	if strings.Contains(html, "<!--") || strings.ContainsAny(html, "\u2028\u2029") {
		t.Error("a comment opener or a raw line separator reached the page")
	}
	if !strings.Contains(html, "<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>") {
		t.Error("the title is not HTML-escaped")
	}
	doc := dataOf(t, html)
	symbols := doc["symbols"].([]any)
	for i, want := range hostile {
		if got := symbols[i].(map[string]any)["name"]; got != want {
			t.Errorf("symbol %d reads back as %q, want %q", i, got, want)
		}
	}
	first := symbols[0].(map[string]any)
	if got := first["markers"].(map[string]any)["labels"].([]any)[0]; got != hostile[1] {
		t.Errorf("marker label reads back as %q", got)
	}
	if got := first["trades"].(map[string]any)["reason"].([]any)[0]; got != hostile[0] {
		t.Errorf("trade reason reads back as %q", got)
	}
	if got := doc["title"]; got != hostile[0] {
		t.Errorf("title reads back as %q", got)
	}
}

// FuzzNames writes a report whose every name is the fuzzed string: the page
// keeps its own 4 scripts and the data reads back the same text.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"BTC", "</script>", "<!--", "\u2028", "\xff\xfe", "\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		d := sample(3, name)
		d.Title = name
		d.Symbols[0].Overlays[0].Name = name
		html := write(t, d)
		lower := strings.ToLower(html)
		if strings.Count(lower, "<script") != 4 || strings.Count(lower, "</script") != 4 || strings.Contains(html, "<!--") {
			t.Fatalf("the name %q changed the page's structure", name)
		}
		doc := dataOf(t, html)
		want := string([]rune(name)) // each invalid byte becomes U+FFFD
		if got := doc["symbols"].([]any)[0].(map[string]any)["name"]; got != want {
			t.Fatalf("name reads back as %q, want %q", got, want)
		}
	})
}

func TestInvalidData(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		break_ func(d *report.Data)
		want   string
	}{
		{"unordered bars", func(d *report.Data) { d.Symbols[0].Bars[5].Time = t0 }, `symbol "BTC": bar 5 (2024-01-01T00:00:00Z): time not after bar 4's`},
		{"NaN close", func(d *report.Data) { d.Symbols[1].Bars[2].Close = math.NaN() }, `symbol "ETH": bar 2 (2024-01-01T00:02:00Z): close is NaN`},
		{"high under low", func(d *report.Data) { b := &d.Symbols[0].Bars[3]; b.High = b.Low - 1 }, `symbol "BTC": bar 3 (2024-01-01T00:03:00Z): high`},
		{"short overlay", func(d *report.Data) { o := &d.Symbols[0].Overlays[0]; o.Values = o.Values[1:] }, `symbol "BTC": overlay "EMA(20)": 99 values for 100 bars`},
		{"infinite oscillator", func(d *report.Data) { d.Symbols[0].Oscillators[0].Series[0].Values[7] = math.Inf(1) }, `symbol "BTC": oscillator "StochRSI": series "K": value 7 is +Inf`},
		{"level NaN", func(d *report.Data) { d.Symbols[0].Oscillators[0].Levels[1] = math.NaN() }, `oscillator "StochRSI": level is NaN`},
		{"long equity", func(d *report.Data) { d.Symbols[0].Equity = append(d.Symbols[0].Equity, 1) }, `symbol "BTC": equity: 101 values for 100 bars`},
		{"marker side", func(d *report.Data) { d.Symbols[0].Markers[0].Side = 0 }, `symbol "BTC": marker at 2024-01-01T00:50:00Z: side is none`},
		{"marker price", func(d *report.Data) { d.Symbols[0].Markers[0].Price = math.Inf(-1) }, `marker at 2024-01-01T00:50:00Z: price is -Inf`},
		{"trade side", func(d *report.Data) {
			d.Symbols[0].Trades = []report.Trade{{Side: market.Side(9)}}
		}, `symbol "BTC": trade 0: side is`},
		{"portfolio times", func(d *report.Data) { d.Portfolio.Times[3] = d.Portfolio.Times[2] }, `portfolio: time 3 (2024-01-01T00:02:00Z): not after time 2`},
		{"portfolio equity", func(d *report.Data) { d.Portfolio.Equity = d.Portfolio.Equity[:5] }, `portfolio: equity: 5 values for 100 times`},
		{"sweep rank", func(d *report.Data) { d.Sweep.Rank = "sharpe" }, `sweep: rank metric "sharpe" is not one of`},
		{"sweep axis", func(d *report.Data) { d.Sweep.Y = "period" }, `sweep: heatmap Y "period" is not one of`},
		{"sweep row", func(d *report.Data) { d.Sweep.Rows[4].Metrics = nil }, `sweep: row 4: 3 params and 0 metrics, want 3 and 2`},
		{"sweep param", func(d *report.Data) { d.Sweep.Rows[1].Params[2] = math.NaN() }, `sweep: row 1: param "k" is NaN`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sample(100, "BTC", "ETH")
			tc.break_(&d)
			var b bytes.Buffer
			err := report.Write(&b, d)
			if !errors.Is(err, report.ErrInvalid) {
				t.Fatalf("error %v, want one wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written for invalid data", b.Len())
			}
		})
	}
}

// failing is a Writer that fails.
type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestChartJS(t *testing.T) {
	js := report.ChartJS()
	html := write(t, sample(10, "BTC"))
	if !strings.Contains(html, "<script>"+js+"</script>") {
		t.Error("the report does not embed ChartJS() as it is")
	}
	for _, api := range []string{"root.TickflowChart", "decodeColumn", "TimeChart", "Heatmap", "stats"} {
		if !strings.Contains(js, api) {
			t.Errorf("ChartJS lacks %s", api)
		}
	}
}

func TestWriteError(t *testing.T) {
	err := report.Write(failing{}, sample(10, "BTC"))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v, want the writer's", err)
	}
}

func TestMonthlyAndSweepData(t *testing.T) {
	t0 := time.Date(2023, 11, 30, 0, 0, 0, 0, time.UTC)
	days := []time.Time{t0, t0.AddDate(0, 0, 1), t0.AddDate(0, 0, 2), t0.AddDate(0, 2, 0), t0.AddDate(0, 2, 1)}
	// Nov 30, Dec 1, Dec 2, Jan 30 2024, Jan 31 2024
	equity := []float64{100, 110, 121, 60.5, 90.75}
	s := report.Symbol{Name: "X", Equity: equity}
	for _, d := range days {
		s.Bars = append(s.Bars, report.Bar{Time: d, Open: 1, High: 1, Low: 1, Close: 1})
	}
	sw := &report.Sweep{Params: []string{"a", "b", "c"}, Metrics: []string{"dd"}, Rank: "dd", LowerIsBetter: true, X: "b", Y: "a",
		Rows: []report.SweepRow{
			{Params: []float64{1, 10, 0}, Metrics: []float64{0.3}},
			{Params: []float64{1, 10, 1}, Metrics: []float64{0.1}}, // best of its cell
			{Params: []float64{2, 20, 0}, Metrics: []float64{math.NaN()}},
			{Params: []float64{2, 10, 0}, Metrics: []float64{0.2}},
		}}
	doc := dataOf(t, write(t, report.Data{Symbols: []report.Symbol{s}, Sweep: sw}))

	monthly := doc["symbols"].([]any)[0].(map[string]any)["monthly"].(map[string]any)
	if got, _ := json.Marshal(monthly["years"]); string(got) != "[2023,2024]" {
		t.Errorf("years %s", got)
	}
	want := make([]any, 24)
	want[10], want[11], want[12] = 0.0, 0.21, -0.25 // Nov from its first value; Dec 100→121; Jan 121→90.75
	got := monthly["v"].([]any)
	for i := range want {
		g, _ := got[i].(float64)
		if (got[i] == nil) != (want[i] == nil) || (want[i] != nil && math.Abs(g-want[i].(float64)) > 1e-12) {
			t.Errorf("month %d: %v, want %v", i, got[i], want[i])
		}
	}

	sweep := doc["sweep"].(map[string]any)
	for key, want := range map[string]string{
		"xs":   "[10,20]",
		"ys":   "[1,2]",
		"grid": "[0.1,null,0.2,null]",
		"rows": "[[1,10,1,0.1],[2,10,0,0.2],[1,10,0,0.3],[2,20,0,null]]",
	} {
		if got, _ := json.Marshal(sweep[key]); string(got) != want {
			t.Errorf("sweep %s = %s, want %s", key, got, want)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	const bars = 1_000_000
	d := sample(bars, "BTCUSDT")
	var buf bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := report.Write(&buf, d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB")
	b.ReportMetric(float64(buf.Len())/bars, "bytes/bar")
}
