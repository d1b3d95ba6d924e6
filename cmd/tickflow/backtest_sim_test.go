//go:build full

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

// A live stream through --orders sim ends with the trades and equity that
// tickflow backtest reports on the same bars. The bars are the synthetic
// feed's: the stream prints every bar it processed (--emit indicators), and
// the test regenerates those bars from the seed (checking each close) into
// a CSV for the backtest.
func TestSimStreamEndsAsBacktest(t *testing.T) {
	if testing.Short() {
		t.Skip("streams for two seconds")
	}
	dir := t.TempDir()
	statement := filepath.Join(dir, "statement.json")
	const rate, symbols, seed = 1000, 2, 3
	settings := []string{"--ema", "20", "--stop-loss", "0.004", "--cash", "5000"}
	out, errOut, code := cmdline(t, append([]string{"stream", "--listen", "127.0.0.1:0", "--synthetic-symbols", strconv.Itoa(symbols),
		"--rate", strconv.Itoa(rate), "--seed", strconv.Itoa(seed), "--duration", "2s", "--format", "jsonl", "--emit", "indicators",
		"--orders", "sim", "--statement", statement}, settings...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "paper wallet: final equity")

	type record struct {
		Symbol string    `json:"symbol"`
		Time   time.Time `json:"time"`
		Close  float64   `json:"close"`
	}
	var seen []record
	start := time.Time{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		seen = append(seen, r)
		if start.IsZero() || r.Time.Before(start) {
			start = r.Time
		}
	}
	require.Greater(t, len(seen), 500, "too few bars streamed")

	// The feed's history: bar i of every symbol at start + i*interval, from
	// a whole second. A bar dropped under load (the live feed's edges drop
	// the oldest) leaves a gap, and where it was dropped decides what the
	// stream computed: the comparison needs every bar.
	interval := time.Duration(float64(time.Second) * symbols / rate)
	next := map[string]time.Time{}
	for _, r := range seen {
		want, ok := next[r.Symbol]
		if !ok {
			want = start
		}
		if !r.Time.Equal(want) || !start.Equal(start.Truncate(time.Second)) {
			t.Skipf("the machine is overloaded: the feed dropped bars (%s at %v, want %v)", r.Symbol, r.Time, want)
		}
		next[r.Symbol] = r.Time.Add(interval)
	}
	n := int(seen[len(seen)-1].Time.Sub(start)/interval) + 1
	data, err := backtest.Load(context.Background(), &sources.Synthetic{Names: syntheticNames(symbols), Seed: seed,
		Start: start, Interval: interval, Bars: n})
	require.NoError(t, err)
	bars := map[string]*backtest.Series{}
	for _, s := range data.Symbols {
		bars[s.Symbol] = s
	}
	csvPath := filepath.Join(dir, "streamed.csv")
	f, err := os.Create(csvPath)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "symbol,time,open,high,low,close,volume")
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range seen {
		s := bars[r.Symbol]
		require.NotNil(t, s, r.Symbol)
		i := int(r.Time.Sub(start) / interval)
		require.Equal(t, r.Time.UnixNano(), s.Time[i], "%s bar %d", r.Symbol, i)
		require.Equal(t, r.Close, s.Close[i], "%s bar %d: the regenerated bar is the streamed one", r.Symbol, i)
		fmt.Fprintf(w, "%s,%s,%s,%s,%s,%s,100\n", r.Symbol, r.Time.Format(time.RFC3339Nano), g(s.Open[i]), g(s.High[i]), g(s.Low[i]), g(s.Close[i]))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())

	b, err := os.ReadFile(statement)
	require.NoError(t, err)
	var live backtest.Result
	require.NoError(t, json.Unmarshal(b, &live))
	replay := backtestJSON(t, append([]string{"--csv", csvPath}, settings...)...)

	trades := 0
	require.Len(t, live.Symbols, len(replay.Symbols))
	for i := range live.Symbols {
		assert.Equal(t, replay.Symbols[i].Symbol, live.Symbols[i].Symbol)
		assert.Equal(t, replay.Symbols[i].Trades, live.Symbols[i].Trades, live.Symbols[i].Symbol)
		assert.Equal(t, replay.Symbols[i].Open, live.Symbols[i].Open, live.Symbols[i].Symbol)
		assert.Equal(t, replay.Symbols[i].Metrics, live.Symbols[i].Metrics, live.Symbols[i].Symbol)
		trades += len(live.Symbols[i].Trades)
	}
	assert.Equal(t, replay.Portfolio.Metrics, live.Portfolio.Metrics)
	assert.Greater(t, trades, 2, "too few trades to compare")
}

func TestSimStatementOnStderr(t *testing.T) {
	_, errOut, code := cmdline(t, "stream", "--listen", "127.0.0.1:0", "--synthetic-symbols", "2", "--rate", "500",
		"--duration", "300ms", "--format", "jsonl", "--orders", "sim")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "paper wallet statement:")
	assert.Regexp(t, `(?m)^\s+portfolio\s+\d+\.\d\d`, errOut)
	assert.Regexp(t, `(?m)^\s+SYM2\s`, errOut)
}

func TestSimUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cash", "0"}, "--cash: 0 is out of range"},
		{[]string{"--fee", "1"}, "fee 1 is out of range"},
		{[]string{"--trailing-stop", "-0.1"}, "trailing-stop -0.1 is out of range"},
		{[]string{"--orders", "off", "--statement", "s.json"}, "--statement is a setting of the paper wallet: add --orders sim"},
		{[]string{"--orders", "dry-run", "--cash", "500"}, "--cash is a setting of the paper wallet"},
	} {
		_, errOut, code := cmdline(t, append([]string{"stream", "--listen", "127.0.0.1:0", "--duration", "1s", "--orders", "sim"}, tc.args...)...)
		assert.Equal(t, exitUsage, code, errOut)
		assert.Contains(t, errOut, tc.want)
	}
}
