package sources

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// rows renders bars of symbol sym at the given minutes after 14:00, close
// equal to the minute, as CSV rows.
func rows(sym string, minutes ...int) string {
	var b strings.Builder
	for _, m := range minutes {
		fmt.Fprintf(&b, "%s,2024-01-02T14:%02d:00Z,%d,%d,%d,%d,1\n", sym, m, m, m, m, m)
	}
	return b.String()
}

// bars renders what rows emits, as emitRecorder prints it.
func bars(sym string, minutes ...int) string {
	var b strings.Builder
	for _, m := range minutes {
		fmt.Fprintf(&b, "%s 2024-01-02T14:%02d:00Z o=%d h=%d l=%d c=%d v=1\n", sym, m, m, m, m, m)
	}
	return b.String()
}

// csvOpts are the settings of a CSV, which cannot be copied.
type csvOpts struct {
	SkipBadRows bool
	Sort        bool
	OnDuplicate DuplicatePolicy
}

func (o csvOpts) csv(workers int) *CSV {
	return &CSV{SkipBadRows: o.SkipBadRows, Sort: o.Sort, OnDuplicate: o.OnDuplicate, Workers: workers}
}

// TestCSVOrder reads files whose rows repeat, run newest first or are out of
// order, with each setting.
func TestCSVOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		csv     csvOpts
		want    string // emitted bars, then FAIL lines
		order   Order  // of the file's first symbol
		dups    int64
	}{
		{"exact duplicates dropped", rows("A", 1, 2, 2, 3, 3, 3, 4), csvOpts{}, bars("A", 1, 2, 3, 4), OrderAscending, 3},
		{"conflicting duplicate fails, naming both lines", rows("A", 1, 2) + "A,2024-01-02T14:02:00Z,2,2,2,2,7\n" + rows("A", 3), csvOpts{},
			bars("A", 1, 2) + "FAIL A: sources.CSV: f.csv:4: time: 2024-01-02T14:02:00Z repeats line 3 of A with other values (volume 7, not 1); set OnDuplicate to first or last to keep one\n",
			OrderAscending, 0},
		{"conflicting duplicate, keep first", rows("A", 1, 2) + "A,2024-01-02T14:02:00Z,2,2,2,2,7\n" + rows("A", 3), csvOpts{OnDuplicate: DuplicateKeepFirst},
			bars("A", 1, 2, 3), OrderAscending, 0},
		{"conflicting duplicate, keep last", rows("A", 1, 2) + "A,2024-01-02T14:02:00Z,2,2,2,2,7\n" + rows("A", 3), csvOpts{OnDuplicate: DuplicateKeepLast},
			bars("A", 1) + "A 2024-01-02T14:02:00Z o=2 h=2 l=2 c=2 v=7\n" + bars("A", 3), OrderAscending, 0},
		{"keep last keeps the file order of other symbols", rows("A", 1) + rows("B", 1) + rows("A", 2) + rows("B", 2) + "B,2024-01-02T14:02:00Z,2,2,2,2,9\n", csvOpts{OnDuplicate: DuplicateKeepLast},
			bars("A", 1) + bars("B", 1) + bars("A", 2) + "B 2024-01-02T14:02:00Z o=2 h=2 l=2 c=2 v=9\n", OrderAscending, 0},
		{"newest first", rows("A", 5, 4, 3, 2, 1), csvOpts{}, bars("A", 1, 2, 3, 4, 5), OrderDescending, 0},
		{"newest first with duplicates", rows("A", 5, 4, 4, 3, 2, 1, 1), csvOpts{}, bars("A", 1, 2, 3, 4, 5), OrderDescending, 2},
		{"newest first, keep the first in file order", rows("A", 3) + "A,2024-01-02T14:02:00Z,2,2,2,2,7\n" + rows("A", 2, 1), csvOpts{OnDuplicate: DuplicateKeepFirst},
			bars("A", 1) + "A 2024-01-02T14:02:00Z o=2 h=2 l=2 c=2 v=7\n" + bars("A", 3), OrderDescending, 0},
		{"two rows newest first", rows("A", 5, 4), csvOpts{}, bars("A", 4, 5), OrderDescending, 0},
		{"interleaved symbols newest first", rows("A", 3) + rows("B", 3) + rows("A", 2) + rows("B", 2) + rows("A", 1) + rows("B", 1), csvOpts{},
			bars("A", 1) + bars("B", 1) + bars("A", 2) + bars("B", 2) + bars("A", 3) + bars("B", 3), OrderDescending, 0},
		{"one symbol newest first, the other oldest first", rows("A", 3) + rows("B", 1) + rows("A", 2) + rows("B", 2) + rows("A", 1) + rows("B", 3), csvOpts{},
			bars("B", 1, 2, 3) + bars("A", 1, 2, 3), OrderDescending, 0},
		{"newest first, one row out of order", rows("A", 5, 4, 3, 9, 2, 1), csvOpts{},
			"FAIL A: sources.CSV: f.csv:5: time: 2024-01-02T14:09:00Z is after 2024-01-02T14:03:00Z of A on line 4, and the file's rows of A run newest first (set Sort to sort them)\n",
			OrderDescending, 0},
		{"newest first, one row out of order, skipped", rows("A", 5, 4, 3, 9, 2, 1), csvOpts{SkipBadRows: true}, bars("A", 1, 2, 3, 4, 5), OrderDescending, 0},
		{"oldest first, one row out of order", rows("A", 1, 2, 3, 0, 4), csvOpts{},
			bars("A", 1, 2, 3) + "FAIL A: sources.CSV: f.csv:5: time: 2024-01-02T14:00:00Z is before 2024-01-02T14:03:00Z of A on line 4 (times must increase within a symbol)\n",
			OrderAscending, 0},
		{"a step down, then up: oldest first, the step is the bad row", rows("A", 3, 2, 4, 5), csvOpts{SkipBadRows: true}, bars("A", 3, 4, 5), OrderAscending, 0},
		{"sorted", rows("A", 3, 1, 2, 2, 5, 4), csvOpts{Sort: true}, bars("A", 1, 2, 3, 4, 5), OrderSorted, 1},
		{"sorted, already in order", rows("A", 1, 2, 3), csvOpts{Sort: true}, bars("A", 1, 2, 3), OrderAscending, 0},
		{"sorted, newest first", rows("A", 3, 2, 1), csvOpts{Sort: true}, bars("A", 1, 2, 3), OrderDescending, 0},
		{"sorted, two symbols", rows("A", 3, 1) + rows("B", 2, 1), csvOpts{Sort: true}, bars("A", 1) + bars("B", 1, 2) + bars("A", 3), OrderDescending, 0},
		{"sorted, a bad row fails its symbol, whose rows are dropped", rows("A", 3, 1) + "A,x,1,1,1,1,1\n" + rows("B", 2, 1), csvOpts{Sort: true},
			bars("B", 1, 2) + "FAIL A: sources.CSV: f.csv:4: time: \"x\" is not a time (want RFC 3339, YYYY-MM-DD[ HH:MM:SS], or Unix seconds, milliseconds or microseconds)\n", OrderDescending, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, workers := range []int{1, 3} {
				c := tc.csv.csv(workers)
				rec := &emitRecorder{}
				r := newCSVReader(c, rec)
				r.chunks.size = 40 // a chunk a row or two
				if err := r.read(context.Background(), "f.csv", strings.NewReader(csvHeader+tc.content)); err != nil {
					t.Fatal(err)
				}
				if err := r.finish(); err != nil {
					t.Fatal(err)
				}
				if got := rec.String(); got != tc.want {
					t.Errorf("workers %d: got:\n%s\nwant:\n%s", workers, got, tc.want)
				}
				st := c.Stats()[0].Symbols[0]
				if st.Order != tc.order || st.Duplicates != tc.dups {
					t.Errorf("workers %d: stats %+v, want order %v and %d duplicates", workers, st, tc.order, tc.dups)
				}
				if st.Bars != int64(strings.Count(tc.want, st.Symbol+" 2024")) {
					t.Errorf("workers %d: stats count %d bars of %s, %d emitted", workers, st.Bars, st.Symbol, strings.Count(tc.want, st.Symbol+" 2024"))
				}
			}
		})
	}
}

// A newest-first file of 300 bars reads as 300 bars in time order, with
// SkipBadRows too (it gave 1 of 300).
func TestCSVNewestFirst(t *testing.T) {
	var b strings.Builder
	b.WriteString(csvHeader)
	start := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := 299; i >= 0; i-- {
		fmt.Fprintf(&b, "SPY,%s,%d,%d,%d,%d,1\n", start.Add(time.Duration(i)*time.Hour).Format(time.RFC3339), i, i, i, i)
	}
	p := writeTemp(t, t.TempDir(), "spy.csv", b.String())
	for _, skip := range []bool{false, true} {
		rec := &emitRecorder{}
		c := &CSV{Paths: []string{p}, SkipBadRows: skip}
		if err := c.Produce(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.events) != 300 || len(rec.fails) != 0 || c.Skipped() != 0 {
			t.Fatalf("skip %v: %d bars, fails %q, %d skipped", skip, len(rec.events), rec.fails, c.Skipped())
		}
		for i, e := range rec.events {
			if !e.Time.Equal(start.Add(time.Duration(i) * time.Hour)) {
				t.Fatalf("bar %d at %s", i, e.Time)
			}
		}
		if o := c.Stats()[0].Symbols[0].Order; o != OrderDescending {
			t.Errorf("order %v", o)
		}
	}
}

// The recorded BTCUSDT file, newest first (written reversed to a temporary
// file), reads as it does oldest first.
func TestCSVSharedDataNewestFirst(t *testing.T) {
	src := filepath.Join(sharedData(t), "btcusdt-1h.csv")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(lines[1:])
	p := writeTemp(t, t.TempDir(), "btcusdt-1h.csv", strings.Join(lines, "\n")+"\n")

	read := func(path string) (*emitRecorder, *CSV) {
		rec := &emitRecorder{}
		c := &CSV{Paths: []string{path}}
		if err := c.Produce(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		return rec, c
	}
	want, _ := read(src)
	got, c := read(p)
	if got.String() != want.String() || len(got.events) != 4314-5 {
		t.Errorf("newest first: %d bars, fails %q; oldest first: %d bars", len(got.events), got.fails, len(want.events))
	}
	if st := c.Stats()[0].Symbols[0]; st.Order != OrderDescending || st.Duplicates != 5 || st.Rows != 4314 || st.Bars != 4309 {
		t.Errorf("stats %+v", st)
	}
}

// Symbols are checked where they are read: a bad one fails alone, naming the
// file and line.
func TestCSVSymbolRules(t *testing.T) {
	long := strings.Repeat("S", MaxSymbolLen+1)
	content := csvHeader + rows("A", 1) + "A\x00B,2024-01-02T14:01:00Z,1,1,1,1,1\n" + rows("A", 2) +
		long + ",2024-01-02T14:01:00Z,1,1,1,1,1\n" + "\xff,2024-01-02T14:01:00Z,1,1,1,1,1\n" +
		"\"A\tB\",2024-01-02T14:01:00Z,1,1,1,1,1\n" + rows("A B", 1) + rows("BTC/USD", 1) + rows("^GSPC", 1) + rows("ES=F", 1) + rows("€URO", 1)
	rec, c, err := readString(t, content, false)
	if err != nil {
		t.Fatal(err)
	}
	want := bars("A", 1, 2) + bars("A B", 1) + bars("BTC/USD", 1) + bars("^GSPC", 1) + bars("ES=F", 1) + bars("€URO", 1) +
		"FAIL A\x00B: sources.CSV: data/spy.csv:3: symbol: \"A\\x00B\" holds U+0000, which is not printable\n" +
		"FAIL " + long + ": sources.CSV: data/spy.csv:5: symbol: \"SSSSSSSSSSSSSSSSSSSS\"... is 65 bytes long, more than 64\n" +
		"FAIL \xff: sources.CSV: data/spy.csv:6: symbol: \"\\xff\" is not UTF-8\n" +
		"FAIL A\tB: sources.CSV: data/spy.csv:7: symbol: \"A\\tB\" holds U+0009, which is not printable\n"
	if got := rec.String(); got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
	if c.Skipped() != 0 {
		t.Errorf("%d skipped", c.Skipped())
	}
	rec, c, err = readString(t, content, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.fails) != 0 || c.Skipped() != 4 || len(rec.events) != 7 {
		t.Errorf("SkipBadRows: %d bars, %d skipped, fails %q", len(rec.events), c.Skipped(), rec.fails)
	}
}

func TestParseDuplicatePolicy(t *testing.T) {
	for in, want := range map[string]DuplicatePolicy{"": DuplicateFail, "error": DuplicateFail, "First": DuplicateKeepFirst, " last ": DuplicateKeepLast} {
		if got, err := ParseDuplicatePolicy(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
		if got, _ := ParseDuplicatePolicy(want.String()); got != want {
			t.Errorf("%v does not read back", want)
		}
	}
	if _, err := ParseDuplicatePolicy("newest"); err == nil || err.Error() != `sources.CSV: on duplicate: "newest" is not error, first or last` {
		t.Errorf("newest: %v", err)
	}
}

// Totals sums the stats of every file and symbol.
func TestCSVTotals(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "a.csv", csvHeader+rows("A", 1, 2, 2)+rows("B", 3, 2, 1)+"B,x,1,1,1,1,1\n")
	writeTemp(t, dir, "b.csv", csvHeader+rows("A", 3)+"A,2024-01-02T14:03:00Z,3,3,3,3,9\n")
	writeTemp(t, dir, "c.csv", "no header\n")
	c := &CSV{Paths: []string{dir}, SkipBadRows: true, OnDuplicate: DuplicateKeepFirst}
	if err := c.Produce(context.Background(), &emitRecorder{}); err != nil {
		t.Fatal(err)
	}
	want := CSVTotals{Files: 3, FailedFiles: 1, Symbols: 2, Rows: 9, Bars: 6, Duplicates: 1, Conflicts: 1, Skipped: 1, Descending: 1}
	if got := c.Totals(); got != want {
		t.Errorf("Totals() = %+v\nwant %+v", got, want)
	}
}
