package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readDir returns every file of dir by name.
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(b)
	}
	return files
}

// The sample is one CSV per symbol, the same bytes every time, and the very
// bars of run's built-in data: run --csv over it prints what run prints,
// symbol by symbol.
func TestSampleIsRunsBuiltInData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	_, stderr, code := cmdline(t, "sample", "--out", dir, "--synthetic-symbols", "3", "--synthetic-bars", "700", "--seed", "9")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "wrote 3 CSV files of 700 bars")
	first := readDir(t, dir)
	require.Len(t, first, 3)
	for _, name := range []string{"SYM1.csv", "SYM2.csv", "SYM3.csv"} {
		lines := strings.Split(strings.TrimSuffix(first[name], "\n"), "\n")
		require.Len(t, lines, 701, name)
		assert.Equal(t, "symbol,time,open,high,low,close,volume", lines[0], name)
		assert.True(t, strings.HasPrefix(lines[1], strings.TrimSuffix(name, ".csv")+","), name)
	}

	// Again, over the files already there: replaced by the same bytes.
	_, stderr, code = cmdline(t, "sample", "--out", dir, "--synthetic-symbols", "3", "--synthetic-bars", "700", "--seed", "9")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, first, readDir(t, dir))

	for _, emit := range []string{"indicators", "signals"} {
		want, stderr, code := cmdline(t, "run", "--synthetic-symbols", "3", "--synthetic-bars", "700", "--seed", "9", "--emit", emit, "--format", "jsonl")
		require.Equal(t, 0, code, stderr)
		got, stderr, code := cmdline(t, "run", "--csv", dir, "--emit", emit, "--format", "jsonl")
		require.Equal(t, 0, code, stderr)
		require.NotEmpty(t, want)
		// The built-in source interleaves symbols by time, a folder is read
		// file by file: the same lines, each symbol's in the same order.
		assert.Equal(t, linesBySymbol(want), linesBySymbol(got), emit)
	}
}

// The defaults are run's: "tickflow sample" then "tickflow run --csv data/"
// is "tickflow run".
func TestSampleDefaultsAreRuns(t *testing.T) {
	t.Chdir(t.TempDir())
	_, stderr, code := cmdline(t, "sample")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, readDir(t, "data"), defaultSampleSymbols)
	want, stderr, code := cmdline(t, "run", "--format", "jsonl")
	require.Equal(t, 0, code, stderr)
	got, stderr, code := cmdline(t, "run", "--csv", "data/", "--format", "jsonl")
	require.Equal(t, 0, code, stderr)
	require.NotEmpty(t, want)
	assert.Equal(t, linesBySymbol(want), linesBySymbol(got))
}

func TestSampleErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, []byte("x"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no symbols", []string{"--synthetic-symbols", "0"}, exitUsage, "--synthetic-symbols: must be from 1 to 1000, got 0"},
		{"too many bars", []string{"--synthetic-bars", "1000001"}, exitUsage, "--synthetic-bars: must be from 1 to 1000000, got 1000001"},
		{"argument", []string{"data"}, exitUsage, `did you mean --out data?`},
		{"empty out", []string{"--out", ""}, exitUsage, "--out: empty folder name"},
		{"out is a file", []string{"--out", notDir}, exitFailure, notDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := cmdline(t, append([]string{"sample"}, tc.args...)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.msg)
		})
	}
}
