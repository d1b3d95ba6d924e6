package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gzipped returns content compressed.
func gzipped(t *testing.T, content string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The layouts of common exports read as they are, each giving the same two
// bars.
func TestCSVLayouts(t *testing.T) {
	const intraday = "X 2024-01-02T14:30:00Z o=10 h=11 l=9 c=10.5 v=100\nX 2024-01-02T14:31:00Z o=10.5 h=12 l=10 c=11 v=200\n"
	const daily = "X 2024-01-02T00:00:00Z o=10 h=11 l=9 c=10.5 v=100\nX 2024-01-03T00:00:00Z o=10.5 h=12 l=10 c=11 v=200\n"
	yahoo := "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,10,11,9,10.5,10.25,100\n2024-01-03,10.5,12,10,11,10.75,200\n"
	for _, tc := range []struct {
		name, file, content string
		columns             CSVColumns
		want                string
		layout              string
		sep                 byte
	}{
		{"canonical", "x.csv", csvHeader + "X,2024-01-02T14:30:00Z,10,11,9,10.5,100\nX,2024-01-02T14:31:00Z,10.5,12,10,11,200\n", CSVColumns{}, intraday, LayoutHeader, ','},
		{"yahoo: Close by default", "X.csv", yahoo, CSVColumns{}, daily, LayoutHeader, ','},
		{"yahoo: Adj Close with Columns", "X.csv", yahoo, CSVColumns{Close: "adj close"},
			// open, high and low scaled by adj close / close, as x / close * adj close
			"X 2024-01-02T00:00:00Z o=9.761904761904761 h=10.738095238095239 l=8.785714285714285 c=10.25 v=100\n" +
				"X 2024-01-03T00:00:00Z o=10.261363636363637 h=11.727272727272727 l=9.772727272727272 c=10.75 v=200\n", LayoutHeader, ','},
		{"adjusted close at the high stays the high", "X.csv", "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,0.3,0.7,0.1,0.7,0.6,1\n",
			CSVColumns{Close: "Adj Close"}, "X 2024-01-02T00:00:00Z o=0.2571428571428572 h=0.6 l=0.08571428571428573 c=0.6 v=1\n", LayoutHeader, ','},
		{"pandas date index, space-separated times", "X.csv", "date,open,high,low,close,volume\n2024-01-02 14:30:00,10,11,9,10.5,100\n2024-01-02 14:31:00,10.5,12,10,11,200\n", CSVColumns{}, intraday, LayoutHeader, ','},
		{"pandas datetime index with offsets", "X.csv", "datetime,open,high,low,close,volume\n2024-01-02 15:30:00+01:00,10,11,9,10.5,100\n2024-01-02 09:31:00-05:00,10.5,12,10,11,200\n", CSVColumns{}, intraday, LayoutHeader, ','},
		{"pandas timestamp index, ticker column, no offset", "any.csv", "timestamp,Ticker,Open,High,Low,Close,Vol\n2024-01-02T14:30:00,X,10,11,9,10.5,100\n2024-01-02T14:31:00.000,X,10.5,12,10,11,200\n", CSVColumns{}, intraday, LayoutHeader, ','},
		{"unix seconds", "X.csv", "time,open,high,low,close,volume\n1704205800,10,11,9,10.5,100\n1704205860,10.5,12,10,11,200\n", CSVColumns{}, intraday, LayoutHeader, ','},
		{"unix milliseconds", "X.csv", "time,open,high,low,close,volume\n1704205800000,10,11,9,10.5,100\n1704205860000,10.5,12,10,11,200\n", CSVColumns{}, intraday, LayoutHeader, ','},
		{"semicolons", "X.csv", "symbol;time;open;high;low;close;volume\nX;2024-01-02T14:30:00Z;10;11;9;10.5;100\nX;2024-01-02T14:31:00Z;10.5;12;10;11;200\n", CSVColumns{}, intraday, LayoutHeader, ';'},
		{"semicolons and decimal commas", "X.csv", "Date;Open;High;Low;Close;Volume\n2024-01-02 14:30:00;10;11;9;10,5;100\n2024-01-02 14:31:00;10,5;12;10;11,0;200\n", CSVColumns{}, intraday, LayoutHeader, ';'},
		{"tabs", "X.csv", "symbol\ttime\topen\thigh\tlow\tclose\tvolume\nX\t2024-01-02T14:30:00Z\t10\t11\t9\t10.5\t100\nX\t2024-01-02T14:31:00Z\t10.5\t12\t10\t11\t200\n", CSVColumns{}, intraday, LayoutHeader, '\t'},
		{"binance klines, no header", "X-1m-2024-01-02.csv",
			"1704205800000,10,11,9,10.5,100,1704205859999,1050,12,50,525,0\n1704205860000,10.5,12,10,11,200,1704205919999,2150,20,100,1075,0\n", CSVColumns{}, intraday, LayoutBinance, ','},
		{"binance klines after a byte order mark and blank lines", "X-1m-2024-01-02.csv",
			"\xef\xbb\xbf\r\n\n1704205800000,10,11,9,10.5,100,1704205859999,1050,12,50,525,0\n1704205860000,10.5,12,10,11,200,1704205919999,2150,20,100,1075,0\n", CSVColumns{}, intraday, LayoutBinance, ','},
		{"binance klines, microseconds", "X-1m-2025-01-02.csv",
			"1704205800000000,10,11,9,10.5,100,1704205859999999,1050,12,50,525,0\n1704205860000000,10.5,12,10,11,200,1704205919999999,2150,20,100,1075,0\n", CSVColumns{}, intraday, LayoutBinance, ','},
		{"gzip", "X.csv.gz", gzipped(t, yahoo), CSVColumns{}, daily, LayoutHeader, ','},
		{"Columns for other names", "prices.csv", "When;Ticker;First;Max;Min;Last;Qty\n2024-01-02T14:30:00Z;X;10;11;9;10.5;100\n2024-01-02T14:31:00Z;X;10.5;12;10;11;200\n",
			CSVColumns{Time: "When", Open: "first", High: "MAX", Low: "min", Close: "last", Volume: "qty"}, intraday, LayoutHeader, ';'},
		{"Columns wins over a column's own name", "X.csv", "time,open,high,low,close,price,volume\n2024-01-02T14:30:00Z,10,11,9,0,10.5,100\n2024-01-02T14:31:00Z,10.5,12,10,0,11,200\n",
			CSVColumns{Close: "Price"}, intraday, LayoutHeader, ','},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, t.TempDir(), tc.file, tc.content)
			rec := &emitRecorder{}
			c := &CSV{Paths: []string{p}, Columns: tc.columns}
			if err := c.Produce(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			if got := rec.String(); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			st := c.Stats()
			if len(st) != 1 || st[0].Layout != tc.layout || st[0].Delimiter != tc.sep || st[0].Gzip != strings.HasSuffix(tc.file, ".gz") {
				t.Errorf("stats %+v, want layout %s, delimiter %q", st, tc.layout, tc.sep)
			}
		})
	}
}

// A header that the names, aliases and Columns do not map gets an error
// naming what was seen and what is needed.
func TestCSVHeaderErrors(t *testing.T) {
	for _, tc := range []struct {
		header  string
		columns CSVColumns
		want    string
	}{
		{"Datum,Eröffnung,Hoch,Tief,Schluss,Umsatz", CSVColumns{},
			`header: no time, open, high, low, close, volume columns; saw ["datum" "eröffnung" "hoch" "tief" "schluss" "umsatz"]; ` +
				`need time, open, high, low, close and volume, and symbol or the file name (also found as: time: date, datetime, timestamp, open_time; symbol: ticker; volume: vol); ` +
				`map others with Columns, e.g. time=NAME`},
		{"date,timestamp,open,high,low,close,volume", CSVColumns{}, `header: columns "date" and "timestamp" could both be time; name one with Columns.Time`},
		{"time,open,high,low,close,volume", CSVColumns{Close: "Adj Close"}, `header: no column "adj close" (Columns.Close); saw ["time" "open" "high" "low" "close" "volume"]`},
		{"time,open,high,low,close,volume,x,X", CSVColumns{Volume: "x"}, `header: column "x" (Columns.Volume) appears 2 times`},
	} {
		_, err := detectLayout([]byte(tc.header), &tc.columns)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.header, err, tc.want)
		}
	}
}

func TestParseCSVColumns(t *testing.T) {
	got, err := ParseCSVColumns("time=Date, Close = Adj Close,volume=Vol.")
	if want := (CSVColumns{Time: "Date", Close: "Adj Close", Volume: "Vol."}); err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v", got, err, want)
	}
	if got, err := ParseCSVColumns(""); err != nil || got != (CSVColumns{}) {
		t.Errorf("empty: %+v, %v", got, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"time", `sources.CSV: columns: "time" is not field=column`},
		{"time=", `sources.CSV: columns: "time=" is not field=column`},
		{"price=Close", `sources.CSV: columns: "price" is not a field (want symbol, time, open, high, low, close, volume)`},
		{"time=a,TIME=b", `sources.CSV: columns: time is mapped twice`},
	} {
		if _, err := ParseCSVColumns(tc.in); err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %s", tc.in, err, tc.want)
		}
	}
}

func TestSniffSep(t *testing.T) {
	for in, want := range map[string]byte{
		"a,b,c": ',', "a;b;c": ';', "a\tb\tc": '\t', "a": ',', "a;b,c": ',', `"a;b;c",d`: ',', "a\tb;c;d": ';', "a\tb\tc;d;e": ';',
	} {
		if got := sniffSep([]byte(in)); got != want {
			t.Errorf("sniffSep(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSymbolFromPath(t *testing.T) {
	for _, tc := range []struct{ path, layout, want string }{
		{"data/SPY.csv", LayoutHeader, "SPY"},
		{"data/SPY.CSV.GZ", LayoutHeader, "SPY"},
		{"data/BRK.B.csv", LayoutHeader, "BRK.B"},
		{"data/btcusdt-1h.csv", LayoutHeader, "btcusdt-1h"},
		{"data/BTCUSDT-1m-2024-01.csv", LayoutBinance, "BTCUSDT"},
		{"data/BTCUSDT-1m-2024-01.csv.gz", LayoutBinance, "BTCUSDT"},
	} {
		if got := symbolFromPath(tc.path, tc.layout); got != tc.want {
			t.Errorf("symbolFromPath(%q, %s) = %q, want %q", tc.path, tc.layout, got, tc.want)
		}
	}
}

// A folder stands for its CSV files at any depth, in WalkDir's order, without
// hidden files and folders.
func TestCSVRecursiveFolders(t *testing.T) {
	dir := t.TempDir()
	row := func(sym string) string { return csvHeader + sym + ",2024-01-02T14:30:00Z,1,1,1,1,1\n" }
	for _, f := range []struct{ path, content string }{
		{"b/2.csv", row("B2")},
		{"b/1.csv.gz", gzipped(t, row("B1"))},
		{"a.csv", row("A")},
		{"c.CSV", row("C")},
		{"b/d/x.csv", row("BDX")},
		{"b/e.csv", row("BE")},
		{".hidden/h.csv", row("HIDDEN")},
		{"b/.h.csv", row("HIDDEN2")},
		{"notes.txt", "not read"},
		{"b/x.csv.bak", "not read"},
	} {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeTemp(t, filepath.Dir(p), filepath.Base(p), f.content)
	}
	rec := &emitRecorder{}
	c := &CSV{Paths: []string{dir}}
	if err := c.Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rec.events {
		got = append(got, e.Symbol)
	}
	if want := "A B1 B2 BDX BE C"; strings.Join(got, " ") != want || len(rec.fails) != 0 {
		t.Errorf("symbols %q, fails %q; want %s", got, rec.fails, want)
	}
	var paths []string
	for _, f := range c.Stats() {
		paths = append(paths, strings.TrimPrefix(filepath.ToSlash(f.Path), filepath.ToSlash(dir)+"/"))
	}
	if want := "a.csv b/1.csv.gz b/2.csv b/d/x.csv b/e.csv c.CSV"; strings.Join(paths, " ") != want {
		t.Errorf("files %q, want %s", paths, want)
	}
}

// One bad file in a folder fails only its symbols: the others are read.
func TestCSVBadFileInFolder(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "a.csv", csvHeader+"A,2024-01-02T14:30:00Z,1,1,1,1,1\n")
	writeTemp(t, dir, "b.csv", "Date,Price\n2024-01-02,1\n")
	writeTemp(t, dir, "c.csv", csvHeader+"C,2024-01-02T14:30:00Z,1,1,1,1,1\n")
	rec := &emitRecorder{}
	c := &CSV{Paths: []string{dir}}
	if err := c.Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 2 || rec.events[0].Symbol != "A" || rec.events[1].Symbol != "C" {
		t.Errorf("events:\n%s", rec)
	}
	if len(rec.fails) != 1 || !strings.HasPrefix(rec.fails[0], filepath.Join(dir, "b.csv")+": sources.CSV: "+filepath.Join(dir, "b.csv")+":1: header: no open, high, low, close, volume columns;") {
		t.Errorf("fails: %q", rec.fails)
	}
	if st := c.Stats(); len(st) != 3 || st[1].Err == nil || st[0].Err != nil || st[2].Err != nil {
		t.Errorf("stats: %+v", st)
	}
}
