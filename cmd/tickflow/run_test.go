package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

func TestMain(m *testing.M) {
	// Re-executed by TestInterruptDrainsAndFlushes: be the command itself.
	if os.Getenv("TICKFLOW_TEST_AS_MAIN") == "1" {
		main()
	}
	goleak.VerifyTestMain(m)
}

// cmdline runs the command line in-process and returns stdout, stderr and
// the exit status.
func cmdline(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"tickflow"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// writeSynthetic writes a multi-symbol CSV of seeded random walks, rows
// interleaved by time, and returns its path.
func writeSynthetic(t testing.TB, dir string, symbols, bars int) string {
	t.Helper()
	path := filepath.Join(dir, "walks.csv")
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "symbol,time,open,high,low,close,volume")
	src := &sources.Synthetic{Symbols: symbols, Bars: bars, Seed: 42}
	p := pipeline.New(pipeline.Config[market.Event]{}).From("synthetic", src).
		To("csv", pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
			for _, e := range es {
				fmt.Fprintf(w, "%s,%s,%.2f,%.2f,%.2f,%.2f,%.0f\n", e.Symbol, e.Time.Format(time.RFC3339), e.Open, e.High, e.Low, e.Close, e.Volume)
			}
			return nil
		}))
	require.NoError(t, p.Run(context.Background()))
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return path
}

func TestConcurrencyOneEqualsDefault(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 25, 1200)
	for _, emit := range []string{"signals", "indicators"} {
		seq, _, code := cmdline(t, "run", "--csv", path, "--format", "jsonl", "--emit", emit, "--concurrency", "1")
		require.Equal(t, 0, code)
		par, _, code := cmdline(t, "run", "--csv", path, "--format", "jsonl", "--emit", emit, "--concurrency", "4")
		require.Equal(t, 0, code)
		require.NotEmpty(t, seq)
		require.Equal(t, seq, par, "--emit %s", emit)
	}
}

func TestIndicatorOutputContract(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 3, 100)
	out, _, code := cmdline(t, "run", "--csv", path, "--format", "jsonl", "--emit", "indicators")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 300, "one object per input bar")
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		require.Len(t, rec, 6)
		for _, k := range []string{"symbol", "time", "close", "ema", "stochrsi_k", "stochrsi_d"} {
			require.Contains(t, rec, k)
		}
		assert.True(t, strings.HasPrefix(line, `{"symbol":`), "key order")
		assert.Equal(t, rec["stochrsi_k"] == nil, rec["stochrsi_d"] == nil, "K and D appear together")
	}
	// Per symbol: EMA(20) from the 20th bar, StochRSI(14,14,3) from the 30th.
	bySym := map[string][]map[string]any{}
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		bySym[rec["symbol"].(string)] = append(bySym[rec["symbol"].(string)], rec)
	}
	for sym, recs := range bySym {
		assert.Nil(t, recs[18]["ema"], sym)
		assert.NotNil(t, recs[19]["ema"], sym)
		assert.Nil(t, recs[28]["stochrsi_k"], sym)
		assert.NotNil(t, recs[29]["stochrsi_k"], sym)
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, recs[0]["time"])
	}
}

func TestBadRowFailsOnlyItsSymbol(t *testing.T) {
	out, errOut, code := cmdline(t, "run", "--csv", "testdata/bad_close.csv", "--format", "jsonl", "--emit", "indicators")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, `testdata/bad_close.csv:4: close: "abc"`)
	assert.Contains(t, errOut, "1 symbol failed")
	// AAA keeps its one good bar; BBB completes.
	assert.Equal(t, 1, strings.Count(out, `"symbol":"AAA"`))
	assert.Equal(t, 3, strings.Count(out, `"symbol":"BBB"`))

	out, errOut, code = cmdline(t, "run", "--csv", "testdata/bad_close.csv", "--format", "jsonl", "--emit", "indicators", "--skip-bad-rows")
	assert.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 2, strings.Count(out, `"symbol":"AAA"`))
	assert.Contains(t, errOut, "skipped 1 bad row")
}

func TestExitStatuses(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.csv")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--format", "xml"}, exitUsage, `output.format (from --format): "xml" is not one of`},
		{[]string{"run", "--emit", "trades"}, exitUsage, `--emit`},
		{[]string{"run", "--concurrency", "0"}, exitUsage, "async.cpu_thread_pool_size (from --cpu-thread-pool-size): must be at least 1, got 0"},
		{[]string{"run", "--oversold", "90"}, exitUsage, "--oversold"},
		{[]string{"run", "--no-such-flag"}, exitUsage, "no-such-flag"},
		{[]string{"run", "stray"}, exitUsage, "takes no arguments"},
		{[]string{"run", "--csv", "/does/not/exist.csv"}, exitFailure, "/does/not/exist.csv"},
		{[]string{"run", "--csv", empty}, exitFailure, "empty.csv"},
		{[]string{"run", "--synthetic-symbols", "3", "--synthetic-bars", "500"}, exitOK, "3 symbols, 1500 bars"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errOut, code := cmdline(t, tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.msg)
			assert.NotContains(t, errOut, "goroutine ", "no stack traces")
		})
	}
}

func TestDefaultRunIsDeterministic(t *testing.T) {
	a, errA, code := cmdline(t, "run", "--format", "jsonl")
	require.Equal(t, 0, code, errA)
	b, _, _ := cmdline(t, "run", "--format", "jsonl", "--concurrency", "1")
	require.Equal(t, a, b)
	assert.Greater(t, strings.Count(a, "\n"), 10, "the built-in data gives signals")
	assert.Regexp(t, `tickflow: 5 symbols, 25000 bars, \d+ signals, 0 failed, .* bars/s`, errA)
}

func TestSharedDataParallelEqualsSequential(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("recorded data not available (%v): needs ../shared/data beside the repository", err)
	}
	seq, _, code1 := cmdline(t, "run", "--csv", dir, "--format", "jsonl", "--emit", "indicators", "--concurrency", "1", "--skip-bad-rows")
	par, _, code2 := cmdline(t, "run", "--csv", dir, "--format", "jsonl", "--emit", "indicators", "--skip-bad-rows")
	require.Equal(t, 0, code1)
	require.Equal(t, 0, code2)
	require.Equal(t, seq, par)
}

// BenchmarkRunCSV measures `tickflow run --csv` on a 2,000,000-row file
// (1,000 symbols x 2,000 bars), signals written as JSON lines; or on the
// file TICKFLOW_BENCH_CSV names (sources' BenchmarkCSV writes one), to
// profile the file of the side-by-side comparison (bench/run).
func BenchmarkRunCSV(b *testing.B) {
	path := os.Getenv("TICKFLOW_BENCH_CSV")
	if path == "" {
		path = writeSynthetic(b, b.TempDir(), 1000, 2000)
	}
	b.ResetTimer()
	for b.Loop() {
		_, errOut, code := cmdline(b, "run", "--csv", path, "--format", "jsonl")
		if code != 0 {
			b.Fatal(errOut)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/run")
}

// TestRunSharedDataFolder is the first README example on the recorded data:
// the folder holds btcusdt-1h.csv with 5 exact duplicate hours, which once
// failed the symbol; now every symbol runs and the duplicates are reported.
func TestRunSharedDataFolder(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("recorded data not available (%v): needs ../shared/data beside the repository", err)
	}
	_, stderr, code := cmdline(t, "run", "--csv", dir, "--format", "jsonl")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `tickflow: 3 symbols, \d+ bars, \d+ signals, 0 failed`, stderr)
	assert.Contains(t, stderr, "dropped 5 exact duplicate rows")
}

// TestRunCSVReaderFlags checks that run hands its CSV flags to the reader:
// --columns maps a layout it does not know, --on-duplicate settles a
// conflicting repeat, --sort orders rows, and --timeframe resamples.
func TestRunCSVReaderFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	odd := write("odd.csv", "sym,when,o,h,l,c,v\nX,2024-01-02T00:00:00Z,1,2,0.5,1.5,10\nX,2024-01-02T00:01:00Z,1.5,2,1,1.8,10\n")
	dup := write("dup.csv", "symbol,time,open,high,low,close,volume\nX,2024-01-02T00:00:00Z,1,2,0.5,1.5,10\nX,2024-01-02T00:00:00Z,1,2,0.5,1.6,10\n")
	shuffled := write("shuffled.csv", "symbol,time,open,high,low,close,volume\nX,2024-01-02T00:01:00Z,1,2,0.5,1.5,10\nX,2024-01-02T00:00:00Z,1,2,0.5,1.6,10\nX,2024-01-02T00:02:00Z,1,2,0.5,1.7,10\n")
	minutes := write("minutes.csv", "symbol,time,open,high,low,close,volume\nX,2024-01-02T00:00:00Z,1,2,0.5,1.5,10\nX,2024-01-02T00:01:00Z,1.5,3,1,1.8,10\nX,2024-01-02T00:05:00Z,1.8,2,1.7,1.9,5\n")
	cols := "symbol=sym,time=when,open=o,high=h,low=l,close=c,volume=v"
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string // a line of the output (bars, as JSON lines)
		not  string // text the output must not have
	}{
		{"unknown layout fails", []string{"--csv", odd}, exitFailure, "", ""},
		{"--columns maps it", []string{"--csv", odd, "--columns", cols}, 0, `"close":1.8`, ""},
		{"conflicting repeat fails", []string{"--csv", dup}, exitFailure, "", ""},
		{"--on-duplicate last", []string{"--csv", dup, "--on-duplicate", "last"}, 0, `"close":1.6`, ""},
		{"--on-duplicate bad", []string{"--csv", dup, "--on-duplicate", "middle"}, exitUsage, "", ""},
		{"rows out of order fail", []string{"--csv", shuffled}, exitFailure, "", ""},
		{"--sort orders them", []string{"--csv", shuffled, "--sort"}, 0, `"time":"2024-01-02T00:02:00Z"`, ""},
		{"--timeframe 5m resamples", []string{"--csv", minutes, "--timeframe", "5m"}, 0, `"time":"2024-01-02T00:00:00Z","close":1.8`, "00:01:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := cmdline(t, append([]string{"run", "--format", "jsonl", "--emit", "indicators"}, tt.args...)...)
			require.Equal(t, tt.code, code, stderr)
			if tt.want != "" {
				assert.Contains(t, out, tt.want, stderr)
			}
			if tt.not != "" {
				assert.NotContains(t, out, tt.not, stderr)
			}
		})
	}
}

// linesBySymbol groups JSON lines by their "symbol" field, in order.
func linesBySymbol(out string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var rec struct{ Symbol string }
		if json.Unmarshal([]byte(line), &rec) == nil {
			m[rec.Symbol] = append(m[rec.Symbol], line)
		}
	}
	return m
}
