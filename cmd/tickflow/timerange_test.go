//go:build full

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
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
