package sources

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestCSVGolden reads the files of testdata and compares what is emitted and
// failed with the .golden files beside them.
func TestCSVGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		skip  bool
	}{
		{"good", []string{"testdata/good.csv"}, false},
		{"bad", []string{"testdata/bad.csv"}, false},
		{"bad-skip", []string{"testdata/bad.csv"}, true},
		{"dir", []string{"testdata/dir", "testdata/good.csv"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &CSV{Paths: tc.paths, SkipBadRows: tc.skip}
			rec := &emitRecorder{}
			if err := src.Produce(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			got := rec.String()
			for _, err := range src.SkipReasons() {
				got += "SKIP " + err.Error() + "\n"
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

const csvHeader = "symbol,time,open,high,low,close,volume\n"

// readString runs the reader over content as if it were the file
// data/spy.csv.
func readString(t *testing.T, content string, skip bool) (*emitRecorder, *CSV, error) {
	t.Helper()
	c := &CSV{SkipBadRows: skip}
	rec := &emitRecorder{}
	err := newCSVReader(c, rec).read(context.Background(), "data/spy.csv", strings.NewReader(content))
	return rec, c, err
}

func TestCSVBadRows(t *testing.T) {
	const ok1 = "SPY,2024-01-02T14:30:00Z,10,11,9,10.5,100\n"
	const other = "QQQ,2024-01-02T14:30:00Z,20,21,19,20.5,200\nQQQ,2024-01-02T14:31:00Z,20,21,19,20.5,200\n"
	for _, tc := range []struct {
		name, row string
		want      string // the failure of SPY, the error of the bad row
		fileFails bool   // the row's symbol is unknown: QQQ fails too
	}{
		{"not a number", "SPY,2024-01-02T14:31:00Z,10,11,9,abc,100",
			`sources.CSV: data/spy.csv:3: close: "abc" is not a number`, false},
		{"empty number", "SPY,2024-01-02T14:31:00Z,,11,9,10,100",
			`sources.CSV: data/spy.csv:3: open: "" is not a number`, false},
		{"NaN", "SPY,2024-01-02T14:31:00Z,10,11,9,NaN,100",
			`sources.CSV: data/spy.csv:3: close: "NaN" is not finite`, false},
		{"Inf", "SPY,2024-01-02T14:31:00Z,10,+Inf,9,10,100",
			`sources.CSV: data/spy.csv:3: high: "+Inf" is not finite`, false},
		{"out of range", "SPY,2024-01-02T14:31:00Z,10,11,9,10,1e999",
			`sources.CSV: data/spy.csv:3: volume: "1e999" is out of range`, false},
		{"negative volume", "SPY,2024-01-02T14:31:00Z,10,11,9,10,-5",
			`sources.CSV: data/spy.csv:3: volume: -5 is negative`, false},
		{"high below low", "SPY,2024-01-02T14:31:00Z,10,9,11,10,5",
			`sources.CSV: data/spy.csv:3: high: 9 is below low 11`, false},
		{"open outside", "SPY,2024-01-02T14:31:00Z,12,11,9,10,5",
			`sources.CSV: data/spy.csv:3: open: 12 is outside [low 9, high 11]`, false},
		{"close outside", "SPY,2024-01-02T14:31:00Z,10,11,9,8.5,5",
			`sources.CSV: data/spy.csv:3: close: 8.5 is outside [low 9, high 11]`, false},
		{"bad time", "SPY,yesterday,10,11,9,10,5",
			`sources.CSV: data/spy.csv:3: time: "yesterday" is not a time (want RFC 3339, YYYY-MM-DD[ HH:MM:SS], or Unix seconds, milliseconds or microseconds)`, false},
		{"bad date", "SPY,2024-02-30T14:31:00Z,10,11,9,10,5",
			`sources.CSV: data/spy.csv:3: time: "2024-02-30T14:31:00Z" is not a time (want RFC 3339, YYYY-MM-DD[ HH:MM:SS], or Unix seconds, milliseconds or microseconds)`, false},
		{"time backwards", "SPY,2024-01-02T14:29:00Z,10,11,9,10,5",
			`sources.CSV: data/spy.csv:3: time: 2024-01-02T14:29:00Z is before 2024-01-02T14:30:00Z of SPY on line 2 (times must increase within a symbol)`, false},
		{"time repeated, other values", "SPY,2024-01-02T09:30:00-05:00,10,11,9,10,5",
			`sources.CSV: data/spy.csv:3: time: 2024-01-02T14:30:00Z repeats line 2 of SPY with other values (close 10, not 10.5); set OnDuplicate to first or last to keep one`, false},
		{"too few fields", "SPY,2024-01-02T14:31:00Z,10,11,9,10",
			`sources.CSV: data/spy.csv:3: 6 fields, header has 7`, false},
		{"too many fields", "SPY,2024-01-02T14:31:00Z,10,11,9,10,5,6",
			`sources.CSV: data/spy.csv:3: 8 fields, header has 7`, false},
		{"bad quoting", `SPY,"2024-01-02T14:31:00Z,10,11,9,10,5`,
			`sources.CSV: data/spy.csv:3: time: bad quoting`, false},
		{"quote in field", `SPY,2024-01-02T14:31:00Z,1"0,11,9,10,5`,
			`sources.CSV: data/spy.csv:3: open: bad quoting`, false},
		{"text after quote", `SPY,"2024-01-02T14:31:00Z"x,10,11,9,10,5`,
			`sources.CSV: data/spy.csv:3: time: bad quoting`, false},
		{"empty symbol", ",2024-01-02T14:31:00Z,10,11,9,10,5",
			`sources.CSV: data/spy.csv:3: symbol: empty`, true},
		{"quoting broken in symbol", `"SPY,2024-01-02T14:31:00Z,10,11,9,10,5`,
			`sources.CSV: data/spy.csv:3: symbol: bad quoting`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := csvHeader + ok1 + tc.row + "\nSPY,2024-01-02T14:33:00Z,10,11,9,10,5\n" + other
			rec, _, err := readString(t, content, false)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"SPY: " + tc.want}
			wantEvents := 3 // SPY's first row, and QQQ's two
			if tc.fileFails {
				// QQQ comes after the bad row and fails on sight.
				want = append(want, "QQQ: "+tc.want)
				wantEvents = 1
			}
			if strings.Join(rec.fails, "\n") != strings.Join(want, "\n") {
				t.Errorf("fails:\n%s\nwant:\n%s", strings.Join(rec.fails, "\n"), strings.Join(want, "\n"))
			}
			if len(rec.events) != wantEvents {
				t.Errorf("emitted %d events, want %d:\n%s", len(rec.events), wantEvents, rec)
			}
			var rowErr *RowError
			if err := firstErr(t, content); !errors.As(err, &rowErr) || rowErr.Line != 3 {
				t.Errorf("skip reason %v is not a *RowError of line 3", err)
			}

			// With SkipBadRows the row is skipped, counted, and nothing fails.
			rec, c, err := readString(t, content, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.fails) != 0 || len(rec.events) != 4 || c.Skipped() != 1 {
				t.Errorf("SkipBadRows: %d fails, %d events, %d skipped; want 0, 4, 1", len(rec.fails), len(rec.events), c.Skipped())
			}
			if r := c.SkipReasons(); len(r) != 1 || r[0].Error() != tc.want {
				t.Errorf("SkipReasons() = %v, want [%s]", r, tc.want)
			}
		})
	}
}

// firstErr returns the first skip reason of content.
func firstErr(t *testing.T, content string) error {
	_, c, err := readString(t, content, true)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.SkipReasons(); len(r) > 0 {
		return r[0]
	}
	return nil
}

// A bad row whose symbol is unknown, in a file where no row has a symbol,
// is reported under the file's path rather than lost.
func TestCSVFileFailsWithoutSymbols(t *testing.T) {
	rec, _, err := readString(t, csvHeader+",2024-01-02T14:31:00Z,10,11,9,10,5\n", false)
	if err != nil {
		t.Fatal(err)
	}
	want := "data/spy.csv: sources.CSV: data/spy.csv:2: symbol: empty"
	if len(rec.fails) != 1 || rec.fails[0] != want {
		t.Errorf("fails = %q, want [%q]", rec.fails, want)
	}
}

// A failed symbol stays failed in later files, and its rows there are not
// emitted.
func TestCSVFailedSymbolAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "a.csv", csvHeader+"SPY,2024-01-02T14:30:00Z,10,11,9,x,100\nQQQ,2024-01-02T14:30:00Z,10,11,9,10,100\n")
	writeTemp(t, dir, "b.csv", csvHeader+"SPY,2024-01-02T14:31:00Z,10,11,9,10,100\nQQQ,2024-01-02T14:29:00Z,10,11,9,10,100\n")
	rec := &emitRecorder{}
	if err := (&CSV{Paths: []string{dir}}).Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(rec.String(), dir, "DIR")
	want := `QQQ 2024-01-02T14:30:00Z o=10 h=11 l=9 c=10 v=100
FAIL SPY: sources.CSV: DIR/a.csv:2: close: "x" is not a number
FAIL QQQ: sources.CSV: DIR/b.csv:3: time: 2024-01-02T14:29:00Z is before 2024-01-02T14:30:00Z of QQQ on DIR/a.csv:3 (times must increase within a symbol)
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Produce fails only when there is nothing to read; its errors are one
// line.
func TestCSVFatal(t *testing.T) {
	dir := t.TempDir()
	emptyDir := filepath.Join(dir, "none")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTemp(t, emptyDir, "notes.txt", "not a CSV file\n")
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{nil, "sources.CSV: no paths"},
		{[]string{filepath.Join(dir, "missing.csv")}, "sources.CSV: stat DIR/missing.csv: no such file or directory"},
		{[]string{emptyDir}, "sources.CSV: DIR/none: folder has no .csv or .csv.gz files"},
		// The typo in the second path fails before the first file is read.
		{[]string{"testdata/good.csv", filepath.Join(dir, "typo")}, "sources.CSV: stat DIR/typo: no such file or directory"},
	} {
		rec := &emitRecorder{}
		err := (&CSV{Paths: tc.paths}).Produce(context.Background(), rec)
		if err == nil {
			t.Errorf("%v: no error", tc.paths)
			continue
		}
		if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.paths, got, tc.want)
		}
		if len(rec.events) != 0 {
			t.Errorf("%v: %d events emitted before the fatal error", tc.paths, len(rec.events))
		}
	}
}

// A file that cannot be read as a whole fails its symbols (or its path) with
// a one-line error, and the files after it are read.
func TestCSVFileFailures(t *testing.T) {
	good := csvHeader + "QQQ,2024-01-02T14:30:00Z,1,1,1,1,1\n"
	for _, tc := range []struct {
		name, content string
		want          string // the failure, KEY: error
		bars          int    // emitted from the bad file before it failed
	}{
		{"empty.csv", "", "DIR/empty.csv: sources.CSV: DIR/empty.csv: empty file", 0},
		{"blank.csv", "\n \r\n", "DIR/blank.csv: sources.CSV: DIR/blank.csv: empty file", 0},
		{"novol.csv", "symbol,time,open,high,low,close\nSPY,2024-01-02T14:30:00Z,1,1,1,1\n",
			`DIR/novol.csv: sources.CSV: DIR/novol.csv:1: header: no volume column; saw ["symbol" "time" "open" "high" "low" "close"]; ` +
				`need time, open, high, low, close and volume, and symbol or the file name (also found as: time: date, datetime, timestamp, open_time; symbol: ticker; volume: vol); ` +
				`map others with Columns, e.g. volume=NAME`, 0},
		{"twice.csv", "symbol,time,open,high,low,close,volume,Close\n", `DIR/twice.csv: sources.CSV: DIR/twice.csv:1: header: column "close" appears twice`, 0},
		{"badhdr.csv", "symbol,\"time,open\n", `DIR/badhdr.csv: sources.CSV: DIR/badhdr.csv:1: header: bad quoting`, 0},
		{"long.csv", csvHeader + "SPY,2024-01-02T14:30:00Z,1,1,1,1,1\n" + strings.Repeat("x", maxLine+1) + "\nSPY,2024-01-02T14:32:00Z,1,1,1,1,1\n",
			"SPY: sources.CSV: DIR/long.csv:3: line longer than 1048576 bytes", 1},
		{"longhdr.csv", strings.Repeat("x", maxLine+1), "DIR/longhdr.csv: sources.CSV: DIR/longhdr.csv:1: line longer than 1048576 bytes", 0},
		{"AAPL.csv.gz", "not gzip, yet named so: read as text\n", `DIR/AAPL.csv.gz: sources.CSV: DIR/AAPL.csv.gz:1: header: no time, open, high, low, close, volume columns; saw ["not gzip" "yet named so: read as text"]; ` +
			`need time, open, high, low, close and volume, and symbol or the file name (also found as: time: date, datetime, timestamp, open_time; symbol: ticker; volume: vol); ` +
			`map others with Columns, e.g. time=NAME`, 0},
		{"corrupt.csv.gz", "\x1f\x8b\x08\x00garbage", "DIR/corrupt.csv.gz: sources.CSV: DIR/corrupt.csv.gz: unexpected EOF", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := t.TempDir()
			bad := writeTemp(t, sub, tc.name, tc.content)
			after := writeTemp(t, sub, "zzz.csv", good)
			rec := &emitRecorder{}
			c := &CSV{Paths: []string{bad, after}}
			if err := c.Produce(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(strings.Join(rec.fails, "\n"), sub, "DIR")
			if got != tc.want {
				t.Errorf("fails:\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("more than one failure or line: %q", got)
			}
			if len(rec.events) != tc.bars+1 || rec.events[len(rec.events)-1].Symbol != "QQQ" {
				t.Errorf("events:\n%s\nwant %d from the bad file, then QQQ's", rec, tc.bars)
			}
			st := c.Stats()
			if len(st) != 2 || st[0].Err == nil || st[1].Err != nil {
				t.Errorf("Stats: %+v", st)
			}
		})
	}
}

// A file with a header and no rows is empty of bars, not an error.
func TestCSVHeaderOnly(t *testing.T) {
	rec, _, err := readString(t, csvHeader, false)
	if err != nil || len(rec.events) != 0 || len(rec.fails) != 0 {
		t.Errorf("got %v, %d events, %v fails", err, len(rec.events), rec.fails)
	}
}

func TestCSVCancel(t *testing.T) {
	var b strings.Builder
	b.WriteString(csvHeader)
	start := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := range 10 * checkEvery {
		b.WriteString("SPY," + start.Add(time.Duration(i)*time.Second).Format(time.RFC3339) + ",1,1,1,1,1\n")
	}
	p := writeTemp(t, t.TempDir(), "spy.csv", b.String())

	// Cancelled while emitting: Produce returns ctx.Err(), not the emitter's error.
	ctx, cancel := context.WithCancelCause(context.Background())
	rec := &emitRecorder{onEmit: func(n int) error {
		if n == 100 {
			cancel(errors.New("stop"))
			return errors.New("emitter: context done")
		}
		return nil
	}}
	if err := (&CSV{Paths: []string{p}}).Produce(ctx, rec); !errors.Is(err, context.Canceled) {
		t.Errorf("Produce = %v, want context.Canceled", err)
	}

	// Cancelled while the emitter does not block (a dropping edge): the
	// reader notices within checkEvery rows.
	ctx, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	rec = &emitRecorder{onEmit: func(n int) error {
		if n == 10 {
			cancel2()
		}
		return nil
	}}
	if err := (&CSV{Paths: []string{p}}).Produce(ctx, rec); !errors.Is(err, context.Canceled) {
		t.Errorf("Produce = %v, want context.Canceled", err)
	}
	if len(rec.events) > checkEvery {
		t.Errorf("%d events emitted after cancellation", len(rec.events)-10)
	}

	// Cancelled before the start.
	if err := (&CSV{Paths: []string{p}}).Produce(ctx, &emitRecorder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Produce = %v, want context.Canceled", err)
	}
}

// Only the first MaxSkipReasons reasons are kept; all are counted and passed
// to OnSkip.
func TestCSVSkipCount(t *testing.T) {
	var b strings.Builder
	b.WriteString(csvHeader)
	for range 25 {
		b.WriteString("SPY,2024-01-02T14:30:00Z,x,1,1,1,1\n")
	}
	p := writeTemp(t, t.TempDir(), "spy.csv", b.String())
	calls := 0
	c := &CSV{Paths: []string{p}, SkipBadRows: true, OnSkip: func(error) { calls++ }}
	for range 2 { // a second run starts counting afresh
		calls = 0
		if err := c.Produce(context.Background(), &emitRecorder{}); err != nil {
			t.Fatal(err)
		}
		if c.Skipped() != 25 || len(c.SkipReasons()) != MaxSkipReasons || calls != 25 {
			t.Errorf("Skipped() = %d, %d reasons, %d OnSkip calls; want 25, %d, 25", c.Skipped(), len(c.SkipReasons()), calls, MaxSkipReasons)
		}
	}
}

// Symbols are interned: every bar of a symbol shares one string.
func TestCSVInterns(t *testing.T) {
	rec, _, err := readString(t, csvHeader+"SPY,1,1,1,1,1,1\nQQQ,1,1,1,1,1,1\nSPY,2,1,1,1,1,1\n", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 3 {
		t.Fatalf("%d events", len(rec.events))
	}
	a, b := rec.events[0].Symbol, rec.events[2].Symbol
	if a != "SPY" || b != "SPY" || unsafeData(a) != unsafeData(b) {
		t.Errorf("the two SPY bars do not share one string")
	}
}

// TestCSVSharedData reads the recorded market data, if present. The
// BTCUSDT hourly file repeats five rows exactly (the first on line 502):
// they are dropped and counted, and nothing fails.
func TestCSVSharedData(t *testing.T) {
	dir := sharedData(t)
	for _, skip := range []bool{false, true} {
		rec := &emitRecorder{}
		c := &CSV{Paths: []string{dir}, SkipBadRows: skip}
		if err := c.Produce(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.fails) != 0 || c.Skipped() != 0 {
			t.Errorf("fails %q, %d skipped, want none", rec.fails, c.Skipped())
		}
		counts := map[string]int{}
		for _, e := range rec.events {
			counts[e.Symbol]++
		}
		want := map[string]int{"BTCUSDT": 4314 - 5, "SPY": 5241, "BTCUSDT-PERP": 45031}
		for s, n := range want {
			if counts[s] != n {
				t.Errorf("%s: %d bars, want %d", s, counts[s], n)
			}
		}
		var dups int64
		for _, f := range c.Stats() {
			for _, s := range f.Symbols {
				dups += s.Duplicates
				if s.Bars != int64(want[s.Symbol]) || s.Order != OrderAscending || f.Err != nil {
					t.Errorf("%s %s: %+v", f.Path, s.Symbol, s)
				}
			}
		}
		if dups != 5 {
			t.Errorf("%d duplicates counted, want 5", dups)
		}
	}
}

// sharedData returns the folder of recorded market data, or skips.
func sharedData(t testing.TB) string {
	dir := filepath.Join("..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no shared market data in %s (a fresh clone has none): %v", dir, err)
	}
	return dir
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

// Reading allocates per file and per distinct symbol, never per row.
func TestCSVAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("under the race detector sync.Pool drops items at random: allocation counts vary")
	}
	syms := []string{"SPY", "QQQ", "IWM", "DIA", "TLT", "GLD", "USO", "UUP", "XLF", "XLE"}
	file := func(rows int) string {
		var b strings.Builder
		b.WriteString(csvHeader)
		start := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
		for i := range rows {
			t := start.Add(time.Duration(i/len(syms)) * time.Minute)
			b.WriteString(syms[i%len(syms)] + "," + t.Format(time.RFC3339) + ",100.25,101.5,99.75,100.5,1200\n")
		}
		return b.String()
	}
	allocs := func(rows int) float64 {
		content := file(rows)
		return testing.AllocsPerRun(5, func() {
			r := newCSVReader(&CSV{}, &countingEmitter{})
			if err := r.read(context.Background(), "a.csv", strings.NewReader(content)); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A row's allocation would show 4000 times; allow for one or two from
	// the runtime.
	if small, large := allocs(1000), allocs(5000); large > small+2 {
		t.Errorf("%v allocations for 1000 rows, %v for 5000: rows allocate", small, large)
	}
}
