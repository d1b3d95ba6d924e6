package sources

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

// FuzzCSV feeds arbitrary files to the reader: it never panics, every
// emitted bar keeps the rules (finite, low <= open, close <= high, volume >=
// 0, time increasing per symbol), reading in chunks on several goroutines
// gives what reading in one gives, and the emitted bars written back as CSV
// read back identical.
func FuzzCSV(f *testing.F) {
	for _, name := range []string{"testdata/good.csv", "testdata/bad.csv", "testdata/example.csv", "testdata/dir/aaa.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(csvHeader + `"A""B",2024-01-02T14:30:00.1+01:00,1,2,0.5,1.5,3` + "\n"))
	f.Add([]byte("close,time,open,high,low,volume\n1,99999999999,1,1,1,0\n1,-5,1,1,1,0\n"))
	f.Add([]byte(csvHeader + ",,,,,,\n\"\n"))
	f.Add([]byte("Date;Open;High;Low;Close;Adj Close;Volume\n2024-01-03;1;2;0;1;1;5\n2024-01-02;1;2;0;1;1;5\n2024-01-02;1;2;0;1;1;5\n"))
	f.Add([]byte("1704205800000,10,11,9,10.5,100,1704205859999,1050,12,50,525,0\n"))
	f.Add([]byte("Date;Open;High;Low;Close;Volume\n2024-01-02;1,5;2;1,0;1,25;3\n2024-01-03;1,5,0;2;1;1.5;3\n"))
	f.Add([]byte("timestamp\tsymbol\topen\thigh\tlow\tclose\tvolume\n2024-01-02 14:30:00\tA\x00\t1\t1\t1\t1\t1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, skip := range []bool{false, true} {
			c := &CSV{SkipBadRows: skip}
			rec := &emitRecorder{}
			// Only the context's and the emitter's errors end a read.
			if err := newCSVReader(c, rec).read(context.Background(), "fuzz.csv", strings.NewReader(string(data))); err != nil {
				t.Fatalf("read: %v", err)
			}
			for _, f := range rec.fails {
				if strings.Contains(f, "\n") {
					t.Fatalf("failure of several lines: %q", f)
				}
			}
			checkBars(t, rec.events)
			// Parsed in tiny chunks on several goroutines, the file gives
			// the same.
			par := &emitRecorder{}
			pr := newCSVReader(&CSV{SkipBadRows: skip, Workers: 3}, par)
			pr.chunks.size = 16
			if err := pr.read(context.Background(), "fuzz.csv", strings.NewReader(string(data))); err != nil {
				t.Fatalf("in chunks: %v", err)
			}
			if par.String() != rec.String() {
				t.Fatalf("in chunks:\n%s\nin one:\n%s", par, rec)
			}
			// With SkipBadRows only a failure of the file as a whole fails.
			for _, f := range rec.fails {
				if ferr := c.Stats()[0].Err; skip && (ferr == nil || !strings.HasSuffix(f, ": "+ferr.Error())) {
					t.Fatalf("SkipBadRows, yet failures: %q", rec.fails)
				}
			}
			csv, events := encodeCSV(rec.events)
			back := &emitRecorder{}
			if err := newCSVReader(&CSV{}, back).read(context.Background(), "back.csv", strings.NewReader(csv)); err != nil {
				t.Fatalf("reading back: %v\n%s", err, csv)
			}
			if len(back.fails) != 0 || len(back.events) != len(events) {
				t.Fatalf("read back %d events and fails %q, want %d events\n%s", len(back.events), back.fails, len(events), csv)
			}
			for i, e := range events {
				if !sameBar(e.Bar, back.events[i].Bar) {
					t.Fatalf("event %d: read back %s, want %s", i, fmtBar(back.events[i].Bar), fmtBar(e.Bar))
				}
			}
		}
	})
}

func checkBars(t *testing.T, events []market.Event) {
	t.Helper()
	last := map[string]time.Time{}
	for _, e := range events {
		b := e.Bar
		for _, v := range []float64{b.Open, b.High, b.Low, b.Close, b.Volume} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite value in %s", fmtBar(b))
			}
		}
		if b.Volume < 0 || b.High < b.Low || b.Open < b.Low || b.Open > b.High || b.Close < b.Low || b.Close > b.High {
			t.Fatalf("inconsistent bar %s", fmtBar(b))
		}
		if b.Symbol == "" || b.Time.Location() != time.UTC {
			t.Fatalf("no symbol or not UTC: %s", fmtBar(b))
		}
		if l, ok := last[b.Symbol]; ok && !b.Time.After(l) {
			t.Fatalf("time not increasing: %s after %s", fmtBar(b), l)
		}
		last[b.Symbol] = b.Time
	}
}

// encodeCSV writes events as a CSV file, leaving out the few whose time
// neither RFC 3339 (years 0 to 9999) nor Unix milliseconds or microseconds
// can carry.
func encodeCSV(events []market.Event) (string, []market.Event) {
	var b strings.Builder
	b.WriteString(csvHeader)
	var kept []market.Event
	for _, e := range events {
		var ts string
		switch t := e.Time; {
		case t.Year() >= 0 && t.Year() <= 9999:
			ts = t.Format(time.RFC3339Nano)
		case t.Nanosecond()%1e6 == 0 && (t.UnixMilli() >= unixMilliFrom || t.UnixMilli() <= -unixMilliFrom) &&
			t.UnixMilli() < unixMicroFrom && t.UnixMilli() > -unixMicroFrom:
			ts = strconv.FormatInt(t.UnixMilli(), 10)
		case t.Nanosecond()%1e3 == 0 && (t.UnixMicro() >= unixMicroFrom || t.UnixMicro() <= -unixMicroFrom):
			ts = strconv.FormatInt(t.UnixMicro(), 10)
		default:
			continue
		}
		kept = append(kept, e)
		b.WriteString(`"` + strings.ReplaceAll(e.Symbol, `"`, `""`) + `",` + ts)
		for _, v := range []float64{e.Open, e.High, e.Low, e.Close, e.Volume} {
			b.WriteString("," + fmtNum(v))
		}
		b.WriteString("\n")
	}
	return b.String(), kept
}

func sameBar(a, b market.Bar) bool {
	return a.Symbol == b.Symbol && a.Time == b.Time &&
		math.Float64bits(a.Open) == math.Float64bits(b.Open) &&
		math.Float64bits(a.High) == math.Float64bits(b.High) &&
		math.Float64bits(a.Low) == math.Float64bits(b.Low) &&
		math.Float64bits(a.Close) == math.Float64bits(b.Close) &&
		math.Float64bits(a.Volume) == math.Float64bits(b.Volume)
}

// FuzzParseNumber checks the fast path against strconv.ParseFloat.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "185.64", "16713.080000", "9007199254740993", "0.1", "1.", ".5", "-", ".", "1e5", "00000000000000000001.5", "123456789012345678901234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := strconv.ParseFloat(s, 64)
		got, ok := fastFloat([]byte(s))
		if ok && (err != nil || math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("fastFloat(%q) = %v; strconv gives %v, %v", s, got, want, err)
		}
		v, perr := parseNumber([]byte(s))
		if finite := err == nil && !math.IsNaN(want) && !math.IsInf(want, 0); finite != (perr == nil) || finite && math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q) = %v, %v; strconv gives %v, %v", s, v, perr, want, err)
		}
	})
}

// FuzzParseTime checks the fast path against time.Parse with the layouts it
// stands in for.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-01-02T14:30:00Z", "2024-02-29T23:59:59.999999999+23:59", "2023-02-29T00:00:00Z",
		"0000-01-01T00:00:00-00:00", "2024-01-02T14:30:00.Z", "2024-01-02T14:30:00.1234567891Z", "2024-01-02t14:30:00z",
		"2024-01-02T24:00:00Z", "2024-01-02T14:30:60Z", "2024-01-02T14:30:00+24:00",
		"2024-01-02 14:30:00", "2024-01-02 14:30:00.25+01:00", "2024-01-02T14:30:00", "2024-01-02", "2024-13-02", "2024-01-02 "} {
		f.Add(s)
	}
	var dc dateCache // shared, so that the cache is fuzzed too
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fastTime([]byte(s), &dc)
		if !ok {
			return
		}
		want, wok := parseTimeLayouts(s)
		if !wok || got != want {
			t.Fatalf("fastTime(%q) = %v; time.Parse gives %v, %v", s, got, want, wok)
		}
	})
}

// FuzzSplit checks the word-at-a-time field splitter against strings.Split
// on lines without quotes.
func FuzzSplit(f *testing.F) {
	f.Add("SPY,2024-01-02T14:30:00Z,1,2,0.5,1.5,3")
	f.Add(",,, a ,\t,,,,,,,,,,,,,,,,")
	f.Add("x")
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Contains(line, `"`) {
			return
		}
		for _, sep := range []string{",", ";", "\t"} {
			sp := newLineSplitter(sep[0])
			fields, _, qerr := sp.split([]byte(line), 7)
			want := strings.Split(line, sep)
			if qerr != nil || len(fields) != len(want) {
				t.Fatalf("split(%q, %q) = %q, %v; want %q", line, sep, fields, qerr, want)
			}
			for i, w := range want {
				if string(fields[i]) != strings.Trim(w, " \t") {
					t.Fatalf("split(%q, %q) = %q; want %q", line, sep, fields, want)
				}
			}
		}
	})
}

// Quoted fields split at every delimiter, a tab too.
func TestSplitQuoted(t *testing.T) {
	for _, tc := range []struct {
		sep  byte
		line string
		want []string
	}{
		{',', ` "a" , b ,"c""d",,"e,f"`, []string{"a", "b", `c"d`, "", "e,f"}},
		{'\t', "\"a\"\t\t b \t\"c\td\"\t", []string{"a", "", "b", "c\td", ""}},
		{';', `"a";"";b`, []string{"a", "", "b"}},
	} {
		sp := newLineSplitter(tc.sep)
		fields, quoted, qerr := sp.split([]byte(tc.line), 0)
		var got []string
		for _, f := range fields {
			got = append(got, string(f))
		}
		if qerr != nil || !quoted || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("split(%q, %q) = %q, %v, %v; want %q", tc.line, tc.sep, got, quoted, qerr, tc.want)
		}
	}
}

// TestQuotient compares the integer-division path with strconv on random
// long decimals and on exact ties between two float64 values.
func TestQuotient(t *testing.T) {
	cases := []string{"4503599627370496.5", "4503599627370497.5", "2251799813685248.25", "2251799813685248.75",
		"9007199254740993.0", "99.25010361306825", "0.9999999999999999999", "1.000000000000000001",
		"9999999999999999999", "999999999999999999.9", "0.0000000000000000001", "18446744073709551.615"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300_000 {
		n := 1 + r.IntN(19)
		digits := []byte(strconv.FormatUint(r.Uint64(), 10))
		if len(digits) > n {
			digits = digits[:n]
		}
		d := r.IntN(len(digits) + 1)
		s := string(digits[:len(digits)-d])
		if d > 0 {
			s += "." + string(digits[len(digits)-d:])
		}
		cases = append(cases, s)
	}
	missed := 0
	for _, s := range cases {
		want, err := strconv.ParseFloat(s, 64)
		got, ok := fastFloat([]byte(s))
		if !ok {
			missed++ // left to strconv: more than 19 digits, or 60-bit integers
			continue
		}
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("fastFloat(%q) = %v; strconv gives %v, %v", s, got, want, err)
		}
	}
	if missed > len(cases)/20 {
		t.Errorf("the fast paths took only %d of %d decimals", len(cases)-missed, len(cases))
	}
}
