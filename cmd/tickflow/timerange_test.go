//go:build full

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store/storetest"
)

func TestParseBound(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		in   string
		loc  *time.Location
		end  bool
		want time.Time // zero: unbounded
		err  string
	}{
		{"empty start is unbounded", "", time.UTC, false, time.Time{}, ""},
		{"empty end is unbounded", "", time.UTC, true, time.Time{}, ""},
		{"start date is its midnight", "2024-01-05", time.UTC, false, utc("2024-01-05T00:00:00Z"), ""},
		{"end date includes the whole day", "2024-01-05", time.UTC, true, utc("2024-01-06T00:00:00Z"), ""},
		{"start date in a zone", "2024-01-05", ny, false, utc("2024-01-05T05:00:00Z"), ""},
		{"end date in a zone", "2024-01-05", ny, true, utc("2024-01-06T05:00:00Z"), ""},
		{"end date on a 23-hour day", "2024-03-10", ny, true, utc("2024-03-11T04:00:00Z"), ""},
		{"timestamp start is exact", "2024-01-05T14:30:00Z", ny, false, utc("2024-01-05T14:30:00Z"), ""},
		{"timestamp end includes itself only", "2024-01-05T14:30:00Z", ny, true, utc("2024-01-05T14:30:00.000000001Z"), ""},
		{"offset beats the zone", "2024-01-05T09:30:00-05:00", time.UTC, false, utc("2024-01-05T14:30:00Z"), ""},
		{"timestamp without offset is in the zone", "2024-01-05T09:30", ny, false, utc("2024-01-05T14:30:00Z"), ""},
		{"seconds without offset", "2024-01-05T09:30:15", time.UTC, false, utc("2024-01-05T09:30:15Z"), ""},
		{"no such month", "2024-13-01", time.UTC, false, time.Time{}, `--start: "2024-13-01" is neither a date`},
		{"words", "yesterday", time.UTC, true, time.Time{}, `--end: "yesterday" is neither a date`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flag := "start"
			if tc.end {
				flag = "end"
			}
			got, err := parseBound(flag, tc.in, tc.loc, tc.end)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("parseBound(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseRangeErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tz", "Mars/Olympus"}, `--tz: "Mars/Olympus" is not a time zone`},
		{[]string{"--start", "2024-01-05", "--end", "2024-01-04"}, "the range is empty"},
		{[]string{"--start", "2024-01-05T10:00:00Z", "--end", "2024-01-05T09:00:00Z"}, "the range is empty"},
	} {
		db := "sqlite:" + t.TempDir() + "/j.db"
		mustRun(t, "run", "--synthetic-symbols", "1", "--synthetic-bars", "50", "--journal", db)
		_, stderr, code := cmdline(t, append([]string{"signals", "--db", db}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d: %s", tc.args, code, stderr)
		}
	}
	// One day is a range: its start and its end are the same date.
	db := "sqlite:" + t.TempDir() + "/j.db"
	mustRun(t, "run", "--synthetic-symbols", "1", "--synthetic-bars", "50", "--journal", db)
	mustRun(t, "signals", "--db", db, "--start", "2024-01-05", "--end", "2024-01-05")
}

// FuzzParseBound: whatever the text, no panic; text that parses gives an
// end after its start (a date is a day, a timestamp an instant).
func FuzzParseBound(f *testing.F) {
	for _, s := range []string{"2024-01-05", "2024-01-05T14:30:00Z", "2024-01-05T09:30", "2024-03-10", "0000-01-01", "9999-12-31T23:59:59.999999999+14:00"} {
		f.Add(s)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range []*time.Location{time.UTC, ny} {
			start, err1 := parseBound("start", s, loc, false)
			end, err2 := parseBound("end", s, loc, true)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%q: start error %v, end error %v", s, err1, err2)
			}
			if err1 == nil && s != "" && !end.After(start) {
				t.Fatalf("%q in %v: end %v is not after start %v", s, loc, end, start)
			}
		}
	})
}

// TestFetchDateEndIsInclusive: daily bars of four sessions, stamped as
// Alpaca stamps them (midnight New York, 05:00 UTC); --end 2024-01-05
// includes the 5th (it used to stop at its midnight UTC: three sessions).
func TestFetchDateEndIsInclusive(t *testing.T) {
	var bars []market.Bar
	for d := 2; d <= 8; d++ {
		if d == 6 || d == 7 {
			continue // the weekend
		}
		bars = append(bars, market.Bar{Symbol: "AAPL", Time: time.Date(2024, 1, d, 5, 0, 0, 0, time.UTC),
			Open: 100, High: 101, Low: 99, Close: 100, Volume: 1000})
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	defer srv.Close()
	out, stderr, code := cmdline(t, "fetch", "--key", alpacatest.Key, "--secret", alpacatest.Secret, "--data-url", srv.DataURL,
		"--symbols", "AAPL", "--timeframe", "1Day", "--start", "2024-01-02", "--end", "2024-01-05")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := strings.Split(strings.TrimSpace(out), "\n")[1:]
	if len(rows) != 4 || !strings.HasPrefix(rows[3], "AAPL,2024-01-05T05:00:00Z,") {
		t.Errorf("%d sessions, want 4 (2 to 5 January):\n%s", len(rows), out)
	}
}

// TestFailedFetchKeepsTheFile: a fetch refused by the server (wrong keys)
// used to truncate -o's file to its header; now the file is untouched, and
// a fetch that succeeds replaces it whole.
func TestFailedFetchKeepsTheFile(t *testing.T) {
	bars := []market.Bar{{Symbol: "AAPL", Time: time.Date(2024, 1, 2, 5, 0, 0, 0, time.UTC), Open: 100, High: 101, Low: 99, Close: 100, Volume: 1000}}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "bars.csv")
	const good = "symbol,time,open,high,low,close,volume\nSPY,2020-01-02T00:00:00Z,1,1,1,1,1\n"
	require.NoError(t, os.WriteFile(path, []byte(good), 0o600))
	args := []string{"fetch", "--key", alpacatest.Key, "--data-url", srv.DataURL, "--symbols", "AAPL", "--timeframe", "1Day",
		"--start", "2024-01-02", "--end", "2024-01-02", "-o", path}
	_, stderr, code := cmdline(t, append(args, "--secret", "wrong")...)
	require.NotEqual(t, exitOK, code, stderr)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, good, string(got), "a failed fetch changed the file")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "a temporary file was left behind")

	_, stderr, code = cmdline(t, append(args, "--secret", alpacatest.Secret)...)
	require.Equal(t, exitOK, code, stderr)
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(got), "AAPL,2024-01-02T05:00:00Z,")
	require.NotContains(t, string(got), "SPY")
}

// TestMaxConcurrentSymbolsFromTheEnvironment: the ADR's
// async.max_concurrent_symbols, set only in the environment, bounds how many
// batches of symbols Alpaca is asked for at once. 1,000 symbols make 5
// requests of 200; the fake holds requests until 4 are in flight (the
// client's own bound) or half a second has passed, and records the peak:
// 3 with the setting, 4 without it.
func TestMaxConcurrentSymbolsFromTheEnvironment(t *testing.T) {
	for _, tt := range []struct {
		env  string
		peak int
	}{{"3", 3}, {"", 4}} {
		t.Run("max_concurrent_symbols="+tt.env, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("TICKFLOW_ASYNC_MAX_CONCURRENT_SYMBOLS", tt.env)
			}
			testMaxConcurrentSymbols(t, tt.peak)
		})
	}
}

func testMaxConcurrentSymbols(t *testing.T, peak int) {
	t0 := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	var bars []market.Bar
	syms := make([]string, 1000)
	for i := range syms {
		syms[i] = fmt.Sprintf("S%04d", i)
		for k := range 2 {
			bars = append(bars, market.Bar{Symbol: syms[i], Time: t0.Add(time.Duration(k) * time.Minute), Open: 10, High: 11, Low: 9, Close: 10, Volume: 1})
		}
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars, GateBarRequests: 4, GateTimeout: 500 * time.Millisecond})
	defer srv.Close()
	_, stderr, code := cmdline(t, "run", "--source", "alpaca", "--key", alpacatest.Key, "--secret", alpacatest.Secret,
		"--data-url", srv.DataURL, "--symbols", strings.Join(syms, ","), "--start", "2024-01-02", "--end", "2024-01-02", "--format", "jsonl")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, peak, srv.Stats().BarRequestsPeak, "bar requests in flight at once")
}

// spyCSV is the recorded daily SPY history of ../shared/data.
const spyCSV = "../../../shared/data/spy-1d.csv"

// needSPY skips t without the recorded data.
func needSPY(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(spyCSV); err != nil {
		t.Skip("no recorded data:", err)
	}
}

// jsonRow is a line of --emit indicators or --emit signals, as JSON lines.
type jsonRow struct {
	line                string
	Symbol              string
	Time                time.Time
	EMA, StochK, StochD *float64
	Side                string
}

func jsonRows(t *testing.T, out string) []jsonRow {
	t.Helper()
	var rows []jsonRow
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r struct {
			Symbol string    `json:"symbol"`
			Time   time.Time `json:"time"`
			EMA    *float64  `json:"ema"`
			K      *float64  `json:"stochrsi_k"`
			D      *float64  `json:"stochrsi_d"`
			Side   string    `json:"side"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		rows = append(rows, jsonRow{line, r.Symbol, r.Time, r.EMA, r.K, r.D, r.Side})
	}
	return rows
}

// within keeps the lines of rows in [start, end).
func within(rows []jsonRow, start, end time.Time) []string {
	var out []string
	for _, r := range rows {
		if !r.Time.Before(start) && (end.IsZero() || r.Time.Before(end)) {
			out = append(out, r.line)
		}
	}
	return out
}

func lines(rows []jsonRow) []string { return within(rows, time.Time{}, time.Time{}) }

// summaryBars reads "N bars (M in the window)" from run's summary.
func summaryBars(t *testing.T, stderr string) (read, window int) {
	t.Helper()
	m := regexp.MustCompile(`(\d+) bars \((\d+) in the window\)`).FindStringSubmatch(stderr)
	require.NotNil(t, m, "no window in the summary: %s", stderr)
	read, _ = strconv.Atoi(m[1])
	window, _ = strconv.Atoi(m[2])
	return read, window
}

// windowInputs are the inputs of the window tests, each with the window to
// ask for: the recorded SPY file and a store holding it (SQLite, and
// PostgreSQL when TICKFLOW_TEST_POSTGRES is set), and the synthetic data.
func windowInputs(t *testing.T) map[string]func(t *testing.T) (args []string, start, end string) {
	spy := func(t *testing.T) []string { needSPY(t); return []string{"--csv", spyCSV} }
	db := func(backend string) func(t *testing.T) ([]string, string, string) {
		return func(t *testing.T) ([]string, string, string) {
			needSPY(t)
			url := storetest.URL(t, backend)
			mustRun(t, "import", "--db", url, "--csv", spyCSV)
			return []string{"--db", url}, "2020-01-01", "2020-01-31"
		}
	}
	return map[string]func(t *testing.T) ([]string, string, string){
		"csv":         func(t *testing.T) ([]string, string, string) { return spy(t), "2020-01-01", "2020-01-31" },
		"db sqlite":   db("sqlite"),
		"db postgres": db("postgres"),
		"synthetic": func(*testing.T) ([]string, string, string) {
			return []string{"--synthetic-symbols", "3", "--synthetic-bars", "2000"}, "2024-01-03T00:00:00Z", "2024-01-03T06:00:00Z"
		},
	}
}

// TestWindowEqualsFullHistory: --start and --end on every source write the
// window's bars only, each with the values of the run over all history,
// byte for byte, and the full run's signals in the window. (Before, --db
// read the window's bars alone: StochRSI null on all 21 bars, 0 signals;
// --csv and the synthetic data ignored --start.)
func TestWindowEqualsFullHistory(t *testing.T) {
	for name, in := range windowInputs(t) {
		t.Run(name, func(t *testing.T) {
			args, from, to := in(t)
			start, err := parseBound("start", from, time.UTC, false)
			require.NoError(t, err)
			end, err := parseBound("end", to, time.UTC, true)
			require.NoError(t, err)
			for _, emit := range []string{"indicators", "signals"} {
				full := jsonRows(t, mustRun(t, append([]string{"run", "--emit", emit, "--format", "jsonl"}, args...)...))
				want := within(full, start, end)
				require.NotEmpty(t, want)
				out, stderr, code := cmdline(t, append([]string{"run", "--emit", emit, "--format", "jsonl", "--start", from, "--end", to}, args...)...)
				require.Equal(t, exitOK, code, stderr)
				require.Equal(t, want, lines(jsonRows(t, out)), "--emit %s", emit)
				if emit == "indicators" {
					_, n := summaryBars(t, stderr)
					require.Equal(t, len(want), n)
					for _, r := range jsonRows(t, out) {
						require.NotNil(t, r.StochK, "StochRSI null at %s", r.Time)
					}
				}
			}
		})
	}
}

// TestStartFiltersCSV: --start alone with --csv writes from --start on (it
// was ignored: every bar was written).
func TestStartFiltersCSV(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 2, 300)
	full := jsonRows(t, mustRun(t, "run", "--csv", path, "--emit", "indicators", "--format", "jsonl"))
	start := full[len(full)/2].Time
	out := mustRun(t, "run", "--csv", path, "--emit", "indicators", "--format", "jsonl", "--start", start.Format(time.RFC3339))
	got := jsonRows(t, out)
	require.Equal(t, within(full, start, time.Time{}), lines(got))
	require.Less(t, len(got), len(full))
	require.False(t, got[0].Time.Before(start))
}

// TestWindowUsageErrors: with --csv as with every input, an --end before
// --start is a usage error naming both; a window without bars is one line
// saying so; --warmup needs --start and a count in range.
func TestWindowUsageErrors(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 2, 300)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"end before start, csv", []string{"--csv", path, "--start", "2024-01-05", "--end", "2024-01-04"}, "--end 2024-01-04 is before --start 2024-01-05"},
		{"end before start, synthetic", []string{"--start", "2024-01-05", "--end", "2024-01-04"}, "--end 2024-01-04 is before --start 2024-01-05"},
		{"no bars in the window, csv", []string{"--csv", path, "--start", "2030-01-01"}, "no bars in the window [2030-01-01T00:00:00Z, …): the input's 600 bars are all outside it"},
		{"no bars in the window, signals", []string{"--csv", path, "--end", "1990-01-01", "--emit", "signals"}, "no bars in the window […, 1990-01-02T00:00:00Z)"},
		{"no bars in the window, warm-up", []string{"--synthetic-bars", "100", "--start", "2030-01-01", "--warmup", "10"}, "no bars in the window"},
		{"warmup without start", []string{"--csv", path, "--warmup", "100"}, "--warmup 100 counts bars before --start: set --start too"},
		{"warmup zero", []string{"--csv", path, "--start", "2024-01-05", "--warmup", "0"}, "--warmup: must be from 1 to"},
		{"warmup too large", []string{"--csv", path, "--start", "2024-01-05", "--warmup", "10001"}, "--warmup: must be from 1 to 10000 bars"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := cmdline(t, append([]string{"run", "--format", "jsonl"}, tc.args...)...)
			require.Equal(t, exitUsage, code, stderr)
			require.Contains(t, stderr, tc.want)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			require.Empty(t, out)
		})
	}
}

// TestWarmupIsClose: --warmup N reads N bars per symbol before --start (the
// store by its look-back query, a CSV trimmed as it is read), and the
// window's values stay within the distance signals.Window documents from
// the full run's: EMA(20) within R·(19/21)^(N-19) (R the closes' range so
// far); StochRSI, as measured there, within 1e-12 with 500 bars and 1e-5
// with 250. (Before, --warmup did not exist and --csv ignored --start.)
func TestWarmupIsClose(t *testing.T) {
	for name, in := range windowInputs(t) {
		if name == "synthetic" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			args, _, _ := in(t)
			from, to := "2010-01-01", "2020-12-31"
			start, _ := parseBound("start", from, time.UTC, false)
			end, _ := parseBound("end", to, time.UTC, true)
			full := jsonRows(t, mustRun(t, append([]string{"run", "--emit", "indicators", "--format", "jsonl"}, args...)...))
			byTime := map[time.Time]jsonRow{}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range full {
				byTime[r.Time] = r
			}
			for _, n := range []int{100, 250, 500} {
				out, stderr, code := cmdline(t, append([]string{"run", "--emit", "indicators", "--format", "jsonl",
					"--start", from, "--end", to, "--warmup", strconv.Itoa(n)}, args...)...)
				require.Equal(t, exitOK, code, stderr)
				got := jsonRows(t, out)
				read, window := summaryBars(t, stderr)
				require.Equal(t, len(within(full, start, end)), window)
				require.Equal(t, window, len(got))
				require.Equal(t, window+n, read, "bars read: the window and %d before it", n)
				var worstEMA, worstKD float64
				for _, r := range full {
					if r.Time.Before(start) {
						lo, hi = math.Min(lo, closeOf(t, r)), math.Max(hi, closeOf(t, r))
					}
				}
				for _, g := range got {
					w := byTime[g.Time]
					lo, hi = math.Min(lo, closeOf(t, w)), math.Max(hi, closeOf(t, w))
					require.True(t, g.EMA != nil && g.StochK != nil && g.StochD != nil, "null at %s", g.Time)
					dEMA := math.Abs(*g.EMA - *w.EMA)
					bound := (hi - lo) * math.Pow(19.0/21.0, float64(n-19))
					require.LessOrEqual(t, dEMA, bound+1e-12*math.Abs(*w.EMA), "EMA at %s with --warmup %d", g.Time, n)
					worstEMA = max(worstEMA, dEMA)
					worstKD = max(worstKD, math.Abs(*g.StochK-*w.StochK), math.Abs(*g.StochD-*w.StochD))
				}
				t.Logf("--warmup %d: EMA off by %.3g at most, StochRSI %.3g", n, worstEMA, worstKD)
				switch n {
				case 500:
					require.LessOrEqual(t, worstKD, 1e-12)
				case 250:
					require.LessOrEqual(t, worstKD, 1e-5)
				}
			}
		})
	}
}

// closeOf is the close of an indicators line.
func closeOf(t *testing.T, r jsonRow) float64 {
	t.Helper()
	var v struct{ Close float64 }
	require.NoError(t, json.Unmarshal([]byte(r.line), &v))
	return v.Close
}

// TestAlpacaWindowWarmsUp: with --source alpaca, --start fetches history
// before it (alpaca.DefaultWarmupBars bars, or --warmup's) and writes only
// the window, whose values are the full history's up to the warm-up's
// distance (within 1e-9 with 500 bars). (Before, the window's bars were
// fetched alone: StochRSI null on its first 30.)
func TestAlpacaWindowWarmsUp(t *testing.T) {
	var bars []market.Bar
	day := time.Date(2019, 1, 2, 5, 0, 0, 0, time.UTC)
	p := 100.0
	for i := 0; len(bars) < 1200; i++ {
		d := day.AddDate(0, 0, i)
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		p *= 1 + 0.01*math.Sin(float64(i)*0.7)*math.Cos(float64(i)*0.13)
		bars = append(bars, market.Bar{Symbol: "AAPL", Time: d, Open: p, High: p * 1.01, Low: p * 0.99, Close: p, Volume: 1000})
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	defer srv.Close()
	base := []string{"run", "--source", "alpaca", "--key", alpacatest.Key, "--secret", alpacatest.Secret, "--data-url", srv.DataURL,
		"--symbols", "AAPL", "--timeframe", "1Day", "--emit", "indicators", "--format", "jsonl"}
	full := jsonRows(t, mustRun(t, append(base, "--start", "2019-01-01", "--end", "2023-12-31")...))
	require.Equal(t, len(bars), len(full), "the full history")
	start, end := bars[1000].Time, bars[1100].Time
	for _, n := range []int{0, 50} {
		args := append(base, "--start", start.Format(time.RFC3339), "--end", end.Add(-time.Second).Format(time.RFC3339))
		if n > 0 {
			args = append(args, "--warmup", strconv.Itoa(n))
		}
		out, stderr, code := cmdline(t, args...)
		require.Equal(t, exitOK, code, stderr)
		read, window := summaryBars(t, stderr)
		require.Equal(t, 100, window)
		got := jsonRows(t, out)
		require.Len(t, got, 100)
		if n == 0 {
			require.Equal(t, alpaca.DefaultWarmupBars+100, read)
			want := within(full, start, end)
			worst := 0.0
			for i, g := range got {
				w := jsonRows(t, want[i])[0]
				require.Equal(t, w.Time, g.Time)
				worst = max(worst, math.Abs(*g.EMA-*w.EMA), math.Abs(*g.StochK-*w.StochK), math.Abs(*g.StochD-*w.StochD))
			}
			t.Logf("500 bars of warm-up: largest difference %.3g", worst)
			require.LessOrEqual(t, worst, 1e-9)
		} else {
			require.Equal(t, n+100, read)
		}
	}
}

// TestAlpacaSpanHoldsTheBars: the span fetched before --start holds at
// least N bars of a stock trading 6.5 hours on weekdays, for every
// timeframe, whatever the weekday of --start.
func TestAlpacaSpanHoldsTheBars(t *testing.T) {
	for _, tc := range []struct {
		tf   string
		step time.Duration // bar size within a session; 0: a bar a day
	}{
		{"1Min", time.Minute}, {"5Min", 5 * time.Minute}, {"15Min", 15 * time.Minute}, {"1Hour", time.Hour}, {"4Hour", 4 * time.Hour}, {"1Day", 0},
	} {
		for _, n := range []int{1, 50, 500, 10_000} {
			for wd := range 7 {
				start := time.Date(2024, 1, 1+wd, 0, 0, 0, 0, time.UTC)
				from := start.Add(-alpacaSpan(n, tc.tf))
				count := 0
				for d := from.Truncate(24 * time.Hour); d.Before(start); d = d.AddDate(0, 0, 1) {
					if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
						continue
					}
					if tc.step == 0 {
						count++
						continue
					}
					open := d.Add(14*time.Hour + 30*time.Minute)
					for b := open; b.Before(open.Add(390 * time.Minute)); b = b.Add(tc.step) {
						if !b.Before(from) {
							count++
						}
					}
				}
				require.GreaterOrEqual(t, count, n, "%s, %d bars before %s", tc.tf, n, start.Weekday())
			}
		}
	}
}

// TestBacktestWindowFromTheStore: backtest shares run's inputs, so a window
// read from the store is warmed up on its history like the CSV it was
// imported from, and trades the same (before, the store's window was read
// alone: 2 trades instead of 5 in 2020 on SPY, another final equity).
func TestBacktestWindowFromTheStore(t *testing.T) {
	needSPY(t)
	db := storetest.SQLiteURL(t)
	mustRun(t, "import", "--db", db, "--csv", spyCSV)
	window := []string{"--start", "2020-01-01", "--end", "2020-12-31", "--format", "json"}
	want := backtestJSON(t, append([]string{"--csv", spyCSV}, window...)...)
	got := backtestJSON(t, append([]string{"--db", db}, window...)...)
	require.Equal(t, want.Portfolio.Metrics, got.Portfolio.Metrics)
}

func TestAlpacaWarmupDefaultAgrees(t *testing.T) {
	if alpacaWarmupBars != alpaca.DefaultWarmupBars {
		t.Errorf("--warmup's help says %d bars, alpaca.DefaultWarmupBars is %d", alpacaWarmupBars, alpaca.DefaultWarmupBars)
	}
}
