//go:build full

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 12: import said a symbol was "not imported" while it had stored the
// bars before its bad row. Each failed symbol now says how many of its bars
// were stored, and that many are in the database; the others are whole.
func TestImportSaysWhatWasStored(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, csv string
		stored    map[string]int // bars in the database afterwards, by symbol
		want      []string       // stderr lines (or parts of them)
	}{
		{
			name: "bad close", csv: "testdata/bad_close.csv",
			stored: map[string]int{"AAA": 1, "BBB": 3},
			want: []string{
				"tickflow: imported 4 bars into ",
				"tickflow: 1 symbol failed:",
				`  AAA: 1 bar of it stored, the rest not: sources.CSV: testdata/bad_close.csv:4: close: "abc" is not a number`,
			},
		},
		{
			// The case: 500 good hours, then a row that fails.
			name: "500 then a conflict", csv: writeStoredFixture(t, dir),
			stored: map[string]int{"BTCUSDT": 500, "ETHUSDT": 520},
			want: []string{
				"tickflow: imported 1020 bars into ",
				"tickflow: 1 symbol failed:",
				"  BTCUSDT: 500 bars of it stored, the rest not: sources.CSV: ",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := "sqlite:" + filepath.Join(t.TempDir(), "bars.db")
			_, stderr, code := cmdline(t, "import", "--csv", tc.csv, "--db", db)
			assert.Equal(t, exitFailure, code, stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, stderr, "not imported")
			out, errOut, code := cmdline(t, "run", "--db", db, "--format", "jsonl", "--emit", "indicators")
			require.Equal(t, 0, code, errOut)
			got := map[string]int{}
			for sym, lines := range linesBySymbol(out) {
				got[sym] = len(lines)
			}
			assert.Equal(t, tc.stored, got, "what the database holds")
		})
	}
}

// writeStoredFixture writes 520 hourly bars of ETHUSDT and BTCUSDT, where
// BTCUSDT's 501st hour repeats its 500th with another close.
func writeStoredFixture(t *testing.T, dir string) string {
	var b strings.Builder
	b.WriteString("symbol,time,open,high,low,close,volume\n")
	t0 := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := range 520 {
		for _, sym := range []string{"BTCUSDT", "ETHUSDT"} {
			at, c := t0.Add(time.Duration(i)*time.Hour), 100+float64(i%7)
			if sym == "BTCUSDT" && i == 500 {
				at, c = at.Add(-time.Hour), c+1
			}
			fmt.Fprintf(&b, "%s,%s,%g,%g,%g,%g,10\n", sym, at.Format(time.RFC3339), c, c+1, c-1, c)
		}
	}
	path := filepath.Join(dir, "bars.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// Issue 12, as import meets it: exact duplicate rows are dropped and
// counted, not a failure; a bad file in a folder fails alone, the good
// files are stored and the bad one is named.
func TestImportDuplicatesAndABadFile(t *testing.T) {
	dir := t.TempDir()
	rows := "symbol,time,open,high,low,close,volume\n" +
		"AAA,2024-01-02T14:30:00Z,10,11,9,10.5,100\n" +
		"AAA,2024-01-02T14:31:00Z,10.5,11,10,10.7,100\n" +
		"AAA,2024-01-02T14:31:00Z,10.5,11,10,10.7,100\n" + // exported twice
		"AAA,2024-01-02T14:32:00Z,10.7,11,10,10.9,100\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "aaa.csv"), []byte(rows), 0o644))

	db := "sqlite:" + filepath.Join(t.TempDir(), "bars.db")
	_, stderr, code := cmdline(t, "import", "--csv", dir, "--db", db)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "tickflow: imported 3 bars into ")
	assert.Contains(t, stderr, "dropped 1 exact duplicate row")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty.csv"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bbb.csv"), []byte(strings.ReplaceAll(rows, "AAA", "BBB")), 0o644))
	db = "sqlite:" + filepath.Join(t.TempDir(), "bars.db")
	_, stderr, code = cmdline(t, "import", "--csv", dir, "--db", db)
	assert.Equal(t, exitFailure, code, stderr)
	assert.Contains(t, stderr, "tickflow: imported 6 bars into ")
	assert.Contains(t, stderr, "empty.csv: empty file")
	out, errOut, code := cmdline(t, "run", "--db", db, "--format", "jsonl", "--emit", "indicators")
	require.Equal(t, 0, code, errOut)
	bySym := linesBySymbol(out)
	assert.Len(t, bySym["AAA"], 3)
	assert.Len(t, bySym["BBB"], 3)
}
