//go:build full

package main

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

var alpT0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

// alpacaWalks returns n minute bars per symbol, seeded random walks.
func alpacaWalks(syms []string, n int) []market.Bar {
	var out []market.Bar
	for k, s := range syms {
		r := rand.New(rand.NewPCG(uint64(k+1), 3))
		p := 100.0
		for i := range n {
			o := p
			p = max(1, p+r.NormFloat64()*0.3)
			out = append(out, market.Bar{Symbol: s, Time: alpT0.Add(time.Duration(i) * time.Minute),
				Open: o, High: max(o, p) + 0.2, Low: min(o, p) - 0.2, Close: p, Volume: float64(100 + r.IntN(900))})
		}
	}
	return out
}

// writeBarsCSV writes bars as the CSV "run --csv" reads, independently of
// the fetch command.
func writeBarsCSV(t *testing.T, path string, bars []market.Bar) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	w.WriteString("symbol,time,open,high,low,close,volume\n")
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, b := range bars {
		w.WriteString(strings.Join([]string{b.Symbol, b.Time.Format(time.RFC3339), g(b.Open), g(b.High), g(b.Low), g(b.Close), g(b.Volume)}, ",") + "\n")
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

func alpacaArgs(srv *alpacatest.Server, syms string, minutes int) []string {
	return []string{"--key", alpacatest.Key, "--secret", alpacatest.Secret, "--data-url", srv.DataURL,
		"--symbols", syms, "--timeframe", "1Min", "--start", alpT0.Format(time.RFC3339),
		"--end", alpT0.Add(time.Duration(minutes-1) * time.Minute).Format(time.RFC3339)}
}

// run --source alpaca against the fake equals run --csv on the same bars,
// for indicators and signals alike; fetch writes those bars exactly.
func TestRunAlpacaEqualsCSV(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "BTC/USD"}
	bars := alpacaWalks(syms, 1500)
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars, PageSize: 1000})
	defer srv.Close()
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "bars.csv")
	writeBarsCSV(t, csvPath, bars)

	for _, emit := range []string{"indicators", "signals"} {
		want, stderr, code := cmdline(t, "run", "--csv", csvPath, "--emit", emit, "--format", "jsonl")
		require.Equal(t, 0, code, stderr)
		args := append([]string{"run", "--source", "alpaca", "--emit", emit, "--format", "jsonl"}, alpacaArgs(srv, "AAPL,MSFT,BTC/USD", 1500)...)
		got, stderr, code := cmdline(t, args...)
		require.Equal(t, 0, code, stderr)
		require.NotEmpty(t, want)
		if emit == "indicators" {
			assert.Equal(t, 4500, strings.Count(want, "\n"))
		}
		assert.True(t, want == got, "%s: run --source alpaca differs from run --csv", emit)
	}

	fetched := filepath.Join(dir, "fetched.csv")
	_, stderr, code := cmdline(t, append([]string{"fetch", "--out", fetched}, alpacaArgs(srv, "AAPL,MSFT,BTC/USD", 1500)...)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "fetched 4500 bars of 3 symbols")
	want, _, _ := cmdline(t, "run", "--csv", csvPath, "--emit", "indicators", "--format", "jsonl")
	got, stderr, code := cmdline(t, "run", "--csv", fetched, "--emit", "indicators", "--format", "jsonl")
	require.Equal(t, 0, code, stderr)
	assert.True(t, want == got, "run on the fetched CSV differs")
}

// fetch --db stores the bars; run --db reads them back to the same
// output as run --csv.
func TestFetchToDBThenRun(t *testing.T) {
	syms := []string{"AAPL", "MSFT"}
	bars := alpacaWalks(syms, 400)
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	defer srv.Close()
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "bars.csv")
	writeBarsCSV(t, csvPath, bars)
	db := "sqlite:" + filepath.Join(dir, "bars.db")
	for range 2 { // a second fetch updates the same rows
		_, stderr, code := cmdline(t, append([]string{"fetch", "--db", db}, alpacaArgs(srv, "AAPL,MSFT", 400)...)...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, "stored 800 bars")
	}
	want, stderr, code := cmdline(t, "run", "--csv", csvPath, "--emit", "indicators", "--format", "jsonl")
	require.Equal(t, 0, code, stderr)
	got, stderr, code := cmdline(t, "run", "--db", db, "--symbols", "AAPL,MSFT", "--timeframe", "1Min", "--emit", "indicators", "--format", "jsonl")
	require.Equal(t, 0, code, stderr)
	assert.True(t, want == got, "run --db after fetch --db differs from run --csv")
}

func TestFetchUnknownSymbolFailsAlone(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: alpacaWalks([]string{"AAPL"}, 10)})
	defer srv.Close()
	out, stderr, code := cmdline(t, append([]string{"fetch"}, alpacaArgs(srv, "AAPL,NOPE", 10)...)...)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "NOPE: no bars")
	assert.Equal(t, 11, strings.Count(out, "\n"), out) // header and AAPL's 10 bars
}

func TestAlpacaMissingKeyIsOneLine(t *testing.T) {
	t.Setenv("APCA_API_KEY_ID", "")
	t.Setenv("APCA_API_SECRET_KEY", "")
	for _, args := range [][]string{
		{"run", "--source", "alpaca", "--symbols", "AAPL", "--start", "2024-01-02"},
		{"fetch", "--symbols", "AAPL", "--start", "2024-01-02"},
	} {
		_, stderr, code := cmdline(t, args...)
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "set APCA_API_KEY_ID")
		assert.Equal(t, 1, strings.Count(stderr, "\n"), stderr)
	}
	t.Setenv("APCA_API_KEY_ID", "k")
	_, stderr, code := cmdline(t, "fetch", "--symbols", "AAPL", "--start", "2024-01-02")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "set APCA_API_SECRET_KEY")
	assert.NotContains(t, stderr, "k ")
}

func TestAlpacaAuthFailureIsOneLine(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: alpacaWalks([]string{"AAPL"}, 10)})
	defer srv.Close()
	args := alpacaArgs(srv, "AAPL", 10)
	args[3] = "wrong-secret"
	_, stderr, code := cmdline(t, append([]string{"fetch"}, args...)...)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "authentication failed (HTTP 401")
	assert.NotContains(t, stderr, "wrong-secret")
}

// lineWriter counts the lines written to it and signals each write.
type lineWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	close(w.changed)
	w.changed = make(chan struct{})
	return n, err
}

func (w *lineWriter) waitLines(ctx context.Context, n int) error {
	for {
		w.mu.Lock()
		ok, ch := bytes.Count(w.buf.Bytes(), []byte("\n")) >= n, w.changed
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// stream --source alpaca: warm-up from REST, then live bars from the
// websocket, gives each symbol the same indicators and signals as run --csv
// on those bars. (Symbols on different sockets interleave as they arrive,
// so lines are compared symbol by symbol.)
func TestStreamAlpacaEqualsCSV(t *testing.T) {
	syms := []string{"AAPL", "BTC/USD"}
	const hist, live = 600, 20
	all := alpacaWalks(syms, hist+live+200) // the last 200 pad the end
	// Recent times, so the warm-up's look-back finds them.
	shift := time.Now().UTC().Truncate(time.Minute).Add(-hist * time.Minute).Sub(alpT0)
	per := map[string][]market.Bar{}
	for i := range all {
		all[i].Time = all[i].Time.Add(shift)
		per[all[i].Symbol] = append(per[all[i].Symbol], all[i])
	}
	var history, compared []market.Bar
	for _, s := range syms {
		history = append(history, per[s][:hist]...)
		compared = append(compared, per[s][:hist+live]...)
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: history, Now: func() time.Time { return time.Now().Add(24 * time.Hour) }})
	defer srv.Close()
	csvPath := filepath.Join(t.TempDir(), "bars.csv")
	writeBarsCSV(t, csvPath, compared)

	for _, emit := range []string{"indicators", "signals"} {
		wantOut, stderr, code := cmdline(t, "run", "--csv", csvPath, "--emit", emit, "--format", "jsonl")
		require.Equal(t, 0, code, stderr)
		want := linesBySymbol(wantOut)

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out := &lineWriter{changed: make(chan struct{})}
		errOut := &lineWriter{changed: make(chan struct{})}
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"tickflow", "stream", "--source", "alpaca", "--symbols", "AAPL,BTC/USD",
				"--key", alpacatest.Key, "--secret", alpacatest.Secret, "--data-url", srv.DataURL,
				"--stream-url", srv.StreamURL, "--crypto-stream-url", srv.CryptoStreamURL,
				"--warmup", "5000", "--listen", "127.0.0.1:0", "--emit", emit, "--format", "jsonl",
				"--orders", map[string]string{"signals": "paper", "indicators": "off"}[emit], "--base-url", srv.TradingURL}, out, errOut)
		}()
		before := srv.Stats().StreamAuthorized
		require.NoError(t, srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.StreamAuthorized >= before+2 && s.Subscribed == 2 }))
		for i := hist; i < hist+live; i++ {
			srv.Publish(per["AAPL"][i], per["BTC/USD"][i])
		}
		// The output is written out in batches: pad with later bars until
		// every symbol's expected lines are out (bounded: 200 rounds).
		complete := func() bool {
			got := linesBySymbol(out.String())
			for _, s := range syms {
				if len(got[s]) < len(want[s]) {
					return false
				}
			}
			return true
		}
		for i := hist + live; !complete(); i++ {
			require.Less(t, i, hist+live+200, "output incomplete: %s", errOut.String())
			srv.Publish(per["AAPL"][i], per["BTC/USD"][i])
			wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
			out.waitLines(wctx, strings.Count(out.String(), "\n")+1) // a write, or a little time
			wcancel()
		}
		cancel()
		assert.Equal(t, exitInterrupted, <-done, "stopped as by Ctrl-C, after draining")
		got := linesBySymbol(out.String())
		for _, s := range syms {
			require.GreaterOrEqual(t, len(got[s]), len(want[s]))
			assert.Equal(t, want[s], got[s][:len(want[s])], "%s %s: stream --source alpaca differs from run --csv", emit, s)
		}
		if st := srv.Stats(); emit == "signals" {
			// Every compared signal became an order, once.
			n := len(want["AAPL"]) + len(want["BTC/USD"])
			assert.GreaterOrEqual(t, st.OrdersPlaced, n)
			assert.Equal(t, st.OrderPosts, st.OrdersPlaced)
			assert.GreaterOrEqual(t, st.TradeStreams, 1, "trade updates followed")
		} else {
			assert.Zero(t, st.OrderPosts, "orders are off unless asked")
		}
		srv.CutStreams() // the next run starts afresh
		require.NoError(t, srv.Wait(context.Background(), func(s alpacatest.Stats) bool { return s.StreamOpen == 0 }))
	}
}
