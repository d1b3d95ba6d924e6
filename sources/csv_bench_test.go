package sources

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

// countingEmitter is an Emitter that only counts, so benchmarks measure the source.
type countingEmitter struct{ n int }

func (c *countingEmitter) Emit(market.Event) error { c.n++; return nil }
func (c *countingEmitter) Flush() error            { return nil }
func (c *countingEmitter) Fail(string, error)      {}

// benchRows is the size of the benchmark file; TICKFLOW_BENCH_ROWS=2000000
// gives the file of the CLI's goal.
func benchRows(b *testing.B) int {
	if s := os.Getenv("TICKFLOW_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 200_000
}

// writeBenchFile writes rows of 4 interleaved symbols (or TICKFLOW_BENCH_SYMBOLS), prices with 2 to 6
// decimals as recorded data has them, to a temporary file, or to the file
// TICKFLOW_BENCH_CSV names (kept: bench/run times the CLI and the ADR's
// Python pipeline on it).
func writeBenchFile(b *testing.B, rows int) string {
	b.Helper()
	p := os.Getenv("TICKFLOW_BENCH_CSV")
	if p == "" {
		p = filepath.Join(b.TempDir(), "bench.csv")
	}
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	syms := 4
	if s := os.Getenv("TICKFLOW_BENCH_SYMBOLS"); s != "" {
		var err error
		if syms, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	g, err := (&Synthetic{Symbols: syms, Tick: 0.01}).prepare()
	if err != nil {
		b.Fatal(err)
	}
	buf := []byte(csvHeader)
	for i := range rows {
		bar := g.bar(i%syms, g.at(i/syms))
		buf = append(buf, bar.Symbol...)
		buf = append(buf, ',')
		buf = bar.Time.AppendFormat(buf, time.RFC3339)
		for _, v := range []float64{bar.Open, bar.High, bar.Low, bar.Close} {
			buf = append(buf, ',')
			buf = strconv.AppendFloat(buf, v, 'f', 2, 64)
		}
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, bar.Volume, 'f', -1, 64)
		buf = append(buf, '\n')
		if len(buf) > 1<<20 {
			if _, err := f.Write(buf); err != nil {
				b.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if _, err := f.Write(buf); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkCSV reads a file of recorded-looking bars (from the page cache),
// with the default Workers (all cores) and with one.
func BenchmarkCSV(b *testing.B) {
	rows := benchRows(b)
	p := writeBenchFile(b, rows)
	fi, _ := os.Stat(p)
	for _, bc := range []struct {
		name    string
		workers int
	}{{"workers=all", 0}, {"workers=1", 1}} {
		run := func(b *testing.B) {
			src := &CSV{Paths: []string{p}, Workers: bc.workers}
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for b.Loop() {
				c := &countingEmitter{}
				if err := src.Produce(context.Background(), c); err != nil {
					b.Fatal(err)
				}
				if c.n != rows {
					b.Fatalf("%d rows, want %d", c.n, rows)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		}
		b.Run(bc.name, run)
	}
}

func BenchmarkParseNumber(b *testing.B) {
	in := []byte("16713.080000")
	for b.Loop() {
		if _, err := parseNumber(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStrconvParseFloat(b *testing.B) {
	for b.Loop() {
		if _, err := strconv.ParseFloat("16713.080000", 64); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	in := []byte("2020-11-17T00:00:00Z")
	var dc dateCache
	for b.Loop() {
		if _, err := parseTime(in, &dc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTimeParse(b *testing.B) {
	for b.Loop() {
		if _, err := time.Parse(time.RFC3339, "2020-11-17T00:00:00Z"); err != nil {
			b.Fatal(err)
		}
	}
}
