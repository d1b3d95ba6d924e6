package sources

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// messyCSV writes a file of interleaved symbols with every kind of row the
// reader treats specially: exact and conflicting duplicates, rows out of
// order, symbols newest first, bad values, bad symbols, blank lines and
// quoted fields.
// One row in about every `every` is special.
func messyCSV(seed uint64, rows, every int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	syms := []string{"AAA", "BBB", "CCC", "DDD", "EEE", `"Q,Q"`}
	down := map[string]bool{"DDD": true, "EEE": true} // newest first
	var b strings.Builder
	b.WriteString("\xef\xbb\xbf" + csvHeader)
	start := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	n := map[string]int{}
	for range rows {
		s := syms[r.IntN(len(syms))]
		i := n[s]
		n[s]++
		if down[s] {
			i = rows - i
		}
		t := start.Add(time.Duration(i) * time.Minute)
		v := float64(r.IntN(1000)) / 4
		row := fmt.Sprintf("%s,%s,%g,%g,%g,%g,%d", s, t.Format(time.RFC3339), v, v+1, v-1, v+0.5, r.IntN(100))
		switch r.IntN(every) {
		case 0: // an exact duplicate
			row += "\n" + row
		case 1: // a conflicting duplicate
			row += "\n" + strings.Replace(row, ",", ",", 1) + "1"
		case 2: // out of order
			row = strings.Replace(row, t.Format(time.RFC3339), t.Add(-time.Hour).Format(time.RFC3339), 1)
		case 3:
			row = strings.Replace(row, fmt.Sprintf(",%g,", v+1), ",x,", 1)
		case 4:
			row = "\n" + row + "\r"
		case 5:
			row = "BAD\x01," + row[strings.IndexByte(row, ',')+1:]
		case 6:
			row = "," + row[strings.IndexByte(row, ',')+1:] // no symbol: fails the file's symbols
		case 7:
			row += ",extra"
		}
		b.WriteString(row + "\n")
	}
	return b.String()
}

// A file parsed in chunks on several goroutines gives exactly what it gives
// parsed on one, in one chunk: the same bars in the same order, the same
// failures and skipped rows with the same line numbers, the same stats.
func TestCSVParallelEqualsSequential(t *testing.T) {
	settings := []csvOpts{{}, {SkipBadRows: true}, {Sort: true}, {OnDuplicate: DuplicateKeepLast, SkipBadRows: true}, {OnDuplicate: DuplicateKeepFirst}}
	for seed := range uint64(4) {
		// Often special rows fail every symbol early; rare ones leave
		// most of the file to read.
		content := messyCSV(seed, 1500, 60)
		if seed%2 == 1 {
			content = messyCSV(seed, 1500, 1500)
		}
		for _, set := range settings {
			read := func(workers, size int) string {
				c := set.csv(workers)
				rec := &emitRecorder{}
				r := newCSVReader(c, rec)
				r.chunks.size = size
				err := r.read(context.Background(), "f.csv", strings.NewReader(content))
				if err == nil {
					err = r.finish()
				}
				var b strings.Builder
				fmt.Fprintf(&b, "%v\n%s", err, rec)
				for _, e := range c.SkipReasons() {
					fmt.Fprintf(&b, "SKIP %v\n", e)
				}
				fmt.Fprintf(&b, "skipped %d\n", c.Skipped())
				for _, f := range c.Stats() {
					for _, s := range f.Symbols {
						fmt.Fprintf(&b, "%+v\n", s)
					}
				}
				return b.String()
			}
			want := read(1, 1<<20)
			if !strings.Contains(want, "FAIL") && !set.SkipBadRows {
				t.Fatalf("seed %d: the file has no bad rows:\n%s", seed, want)
			}
			for _, run := range []struct{ workers, size int }{{1, 100}, {2, 100}, {4, 333}, {3, 4096}} {
				if got := read(run.workers, run.size); got != want {
					t.Fatalf("seed %d %+v, %d workers, %d-byte chunks:\n%s\nwant (one chunk):\n%s", seed, set, run.workers, run.size, got, want)
				}
			}
		}
	}
}

// cleanCSV writes a file of n rows of 4 interleaved symbols, all good.
func cleanCSV(n int) string {
	var b strings.Builder
	b.WriteString(csvHeader)
	start := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, "S%d,%s,1,2,0.5,1.5,%d\n", i%4, start.Add(time.Duration(i/4)*time.Minute).Format(time.RFC3339), i)
	}
	return b.String()
}

// Cancelling while chunks are parsed stops every goroutine (TestMain checks
// that none is left) and returns ctx.Err().
func TestCSVParallelCancel(t *testing.T) {
	content := cleanCSV(20000)
	for _, at := range []int{0, 1, 500, 5000} {
		ctx, cancel := context.WithCancel(context.Background())
		rec := cancelAfter(at, cancel)
		c := &CSV{Workers: 3}
		r := newCSVReader(c, rec)
		r.chunks.size = 1000
		err := r.read(ctx, "f.csv", strings.NewReader(content))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled after %d: %v", at, err)
		}
		if len(rec.events) > at {
			t.Errorf("cancelled after %d: %d events", at, len(rec.events))
		}
		cancel()
	}
}

// The emitter's error ends the read, whichever goroutine parses.
func TestCSVParallelEmitError(t *testing.T) {
	content := cleanCSV(20000)
	boom := errors.New("boom")
	rec := &emitRecorder{onEmit: func(n int) error {
		if n == 100 {
			return boom
		}
		return nil
	}}
	r := newCSVReader(&CSV{Workers: 2}, rec)
	r.chunks.size = 1000
	if err := r.read(context.Background(), "f.csv", strings.NewReader(content)); !errors.Is(err, boom) {
		t.Errorf("read = %v, want boom", err)
	}
	if len(rec.events) != 100 {
		t.Errorf("%d events", len(rec.events))
	}
}
