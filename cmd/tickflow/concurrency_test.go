//go:build full

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
)

// TestPerOperationConcurrencySameOutput is the ADR's fallback "disable
// async for specific operations": fetch, indicators and actions
// concurrency, each set to 1 alone or all together, give the output of
// the default concurrency, byte for byte: run fetching from the fake
// Alpaca, and stream replaying a CSV with every signal POSTed to a webhook.
func TestPerOperationConcurrencySameOutput(t *testing.T) {
	variants := [][]string{
		{"--fetch-concurrency", "1"},
		{"--indicators-concurrency", "1"},
		{"--actions-concurrency", "1"},
		{"--fetch-concurrency", "1", "--indicators-concurrency", "1", "--actions-concurrency", "1"},
	}

	syms := []string{"AAPL", "MSFT", "SPY", "QQQ", "IWM", "BTC/USD"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: alpacaWalks(syms, 800), PageSize: 300})
	defer srv.Close()
	fetchRun := func(extra ...string) string {
		args := append(append([]string{"run", "--source", "alpaca", "--emit", "indicators", "--format", "jsonl"},
			alpacaArgs(srv, strings.Join(syms, ","), 800)...), extra...)
		out, stderr, code := cmdline(t, args...)
		require.Equal(t, exitOK, code, stderr)
		return out
	}
	want := fetchRun()
	require.Equal(t, len(syms)*800, strings.Count(want, "\n"))
	for _, v := range variants {
		assert.True(t, fetchRun(v...) == want, "run --source alpaca %v differs from the default", v)
	}

	var mu sync.Mutex
	var posted []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	path := writeSynthetic(t, t.TempDir(), 4, 2000)
	streamRun := func(extra ...string) (string, []string) {
		mu.Lock()
		posted = nil
		mu.Unlock()
		args := append([]string{"stream", "--source", "csv", "--csv", path, "--replay-speed", "max", "--format", "jsonl",
			"--listen", "127.0.0.1:0", "--webhook", hook.URL, "--webhook-rate", "10000", "--webhook-burst", "1000"}, extra...)
		out, stderr, code := cmdline(t, args...)
		require.Equal(t, exitOK, code, stderr)
		require.Contains(t, stderr, "0 bars dropped")
		mu.Lock()
		defer mu.Unlock()
		return out, slices.Clone(posted)
	}
	wantOut, wantPosted := streamRun()
	require.Greater(t, signalLines(wantOut), 2)
	require.Len(t, wantPosted, signalLines(wantOut), "every signal POSTed")
	for _, v := range variants {
		out, got := streamRun(v...)
		assert.True(t, out == wantOut, "stream %v: stdout differs from the default", v)
		assert.Equal(t, wantPosted, got, "stream %v: the webhook got other signals", v)
	}
}
