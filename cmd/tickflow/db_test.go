//go:build full

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/store/storetest"
)

// dbCmd runs the command line in-process: stdout, stderr, exit status.
func dbCmd(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"tickflow"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, code := dbCmd(t, args...)
	if code != 0 {
		t.Fatalf("tickflow %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// symbolOf returns the "symbol" of a JSON line.
func symbolOf(t testing.TB, line string) string {
	t.Helper()
	var r struct{ Symbol string }
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return r.Symbol
}

// bySymbol returns the symbols of JSON lines in order of first appearance,
// and the lines grouped by symbol, each group in its original order.
func bySymbol(t testing.TB, out string) ([]string, map[string][]string) {
	t.Helper()
	var order []string
	groups := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		s := symbolOf(t, line)
		if _, ok := groups[s]; !ok {
			order = append(order, s)
		}
		groups[s] = append(groups[s], line)
	}
	return order, groups
}

// TestRunFromDBEqualsCSV imports ../shared/data into each backend and checks
// that tickflow run --db writes what tickflow run --csv writes on the same
// files, byte for byte: the store gives back symbols in the order they were
// imported; --symbols picks another order.
func TestRunFromDBEqualsCSV(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("recorded data not available (%v): needs ../shared/data beside the repository", err)
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		mustRun(t, "import", "--csv", dir, "--db", dbURL, "--skip-bad-rows")
		for _, emit := range []string{"indicators", "signals"} {
			t.Run(emit, func(t *testing.T) {
				want := mustRun(t, "run", "--csv", dir, "--skip-bad-rows", "--format", "jsonl", "--emit", emit)
				order, wantGroups := bySymbol(t, want)
				if len(order) != 3 {
					t.Fatalf("the CSV run has symbols %v, want 3", order)
				}
				if got := mustRun(t, "run", "--db", dbURL, "--format", "jsonl", "--emit", emit); got != want {
					t.Fatalf("run --db differs from run --csv (%d and %d bytes)", len(got), len(want))
				}
				reversed := slices.Clone(order)
				slices.Reverse(reversed)
				gotOrder, gotGroups := bySymbol(t, mustRun(t, "run", "--db", dbURL, "--symbols", strings.Join(reversed, ","),
					"--format", "jsonl", "--emit", emit))
				if !slices.Equal(gotOrder, reversed) {
					t.Fatalf("run --db --symbols %s emitted symbols %v", strings.Join(reversed, ","), gotOrder)
				}
				for _, s := range order {
					if !slices.Equal(gotGroups[s], wantGroups[s]) {
						t.Fatalf("%s: run --db wrote %d lines unlike run --csv's %d", s, len(gotGroups[s]), len(wantGroups[s]))
					}
				}
			})
		}
		// A range selects bars, --end inclusive.
		out := mustRun(t, "run", "--db", dbURL, "--symbols", "SPY", "--start", "2010-01-04", "--end", "2010-01-08",
			"--format", "jsonl", "--emit", "indicators")
		if n := strings.Count(out, "\n"); n != 5 {
			t.Fatalf("SPY 2010-01-04..08 gave %d bars, want 5 trading days", n)
		}
	})
}

// writeWalks writes a CSV of seeded random walks and returns its path.
func writeWalks(t testing.TB, symbols, bars int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "walks.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "symbol,time,open,high,low,close,volume")
	p := pipeline.New(pipeline.Config[market.Event]{}).From("synthetic", &sources.Synthetic{Symbols: symbols, Bars: bars, Seed: 7}).
		To("csv", pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
			for _, e := range es {
				fmt.Fprintf(w, "%s,%s,%.2f,%.2f,%.2f,%.2f,%.0f\n", e.Symbol, e.Time.Format(time.RFC3339), e.Open, e.High, e.Low, e.Close, e.Volume)
			}
			return nil
		}))
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestJournalFlagRecordsEverySignalOnce journals a run twice and lists the
// journal: it holds each signal the run printed, once.
func TestJournalFlagRecordsEverySignalOnce(t *testing.T) {
	path := writeWalks(t, 6, 3000)
	storetest.Each(t, func(t *testing.T, dbURL string) {
		printed := mustRun(t, "run", "--csv", path, "--journal", dbURL, "--format", "jsonl")
		mustRun(t, "run", "--csv", path, "--journal", dbURL, "--format", "jsonl", "--concurrency", "1")
		type sig struct {
			Symbol, Time, Side, Reason string
			Price                      float64
		}
		parse := func(out string) []sig {
			var all []sig
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				var s sig
				if err := json.Unmarshal([]byte(line), &s); err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				all = append(all, s)
			}
			slices.SortFunc(all, func(a, b sig) int { return strings.Compare(a.Symbol+a.Time+a.Side, b.Symbol+b.Time+b.Side) })
			return all
		}
		listed, errOut, code := dbCmd(t, "signals", "--db", dbURL, "--format", "jsonl")
		if code != 0 {
			t.Fatal(errOut)
		}
		want, got := parse(printed), parse(listed)
		if len(want) < 10 || !slices.Equal(got, want) {
			t.Fatalf("journal lists %d signals, the run printed %d", len(got), len(want))
		}
		var first map[string]any
		if err := json.Unmarshal([]byte(listed[:strings.Index(listed, "\n")]), &first); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"strategy", "ema", "stochrsi_k", "stochrsi_d", "recorded_at"} {
			if _, ok := first[k]; !ok {
				t.Fatalf("journal line %v has no %q", first, k)
			}
		}
		for _, format := range []string{"table", "csv"} {
			out := mustRun(t, "signals", "--db", dbURL, "--format", format, "--symbols", want[0].Symbol)
			if !strings.Contains(out, want[0].Symbol) || !strings.Contains(out, "stochrsi_k") {
				t.Fatalf("signals --format %s:\n%s", format, out)
			}
		}
	})
}

func TestStoreCommandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "--db", "sqlite:" + filepath.Join(dir, "a.db")}, exitUsage, "needs --csv"},
		{[]string{"import", "--csv", "testdata/bad_close.csv", "--db", "sqlite:" + filepath.Join(dir, "b.db")}, exitFailure, `AAA: 1 bar of it stored, the rest not: sources.CSV: testdata/bad_close.csv:4: close: "abc" is not a number`},
		{[]string{"import", "--csv", "testdata/bad_close.csv", "--db", "postgres://ann:s3cret@127.0.0.1:1/x?connect_timeout=2"}, exitFailure, "database unavailable"},
		{[]string{"run", "--db", "mysql://x"}, exitUsage, "bad database URL"},
		{[]string{"import", "--csv", "testdata/bad_close.csv", "--db", "postgres://%zz"}, exitUsage, "--db: store: bad database URL"},
		{[]string{"run", "--db", "sqlite:" + filepath.Join(dir, "c.db"), "--csv", "x.csv"}, exitUsage, "--db is an input of its own"},
		{[]string{"run", "--db", "sqlite:" + filepath.Join(dir, "b.db"), "--symbols", "NOPE"}, exitFailure, "NOPE"}, // b.db: made by the import above
		{[]string{"signals", "--db", "sqlite:" + filepath.Join(dir, "e.db"), "--format", "xml"}, exitUsage, "--format"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errOut, code := dbCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "s3cret") {
				t.Fatalf("exit %d, want %d; stderr:\n%s\nwant it to contain %q", code, tc.code, errOut, tc.want)
			}
			// Errors are one line each (a failure list indents its lines).
			for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
				if !strings.HasPrefix(line, "tickflow:") && !strings.HasPrefix(line, "  ") {
					t.Fatalf("stray stderr line %q in:\n%s", line, errOut)
				}
			}
		})
	}
	// The bad row failed only its symbol: BBB and AAA's first bar were imported.
	out := mustRun(t, "run", "--db", "sqlite:"+filepath.Join(dir, "b.db"), "--format", "jsonl", "--emit", "indicators")
	if n := strings.Count(out, "\n"); n != 4 {
		t.Fatalf("the store holds %d bars, want 4", n)
	}
}
