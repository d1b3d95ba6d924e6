//go:build full

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestStreamShowsThePaperWallet: with --orders sim the server shows the
// paper wallet at /api/positions, one position per symbol, and tells the
// dashboard so in /api/stats; without it there is no wallet to show.
func TestStreamShowsThePaperWallet(t *testing.T) {
	for _, sim := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		addr := make(chan string, 1)
		stderr := &syncBuffer{addr: addr}
		done := make(chan int, 1)
		args := []string{"tickflow", "stream", "--listen", "127.0.0.1:0", "--synthetic-symbols", "3", "--rate", "2000",
			"--stale-after", "30s", "--format", "jsonl"}
		if sim {
			args = append(args, "--orders", "sim", "--cash", "9000")
		}
		go func() { done <- run(ctx, args, &syncBuffer{}, stderr) }()
		var base string
		select {
		case base = <-addr:
		case code := <-done:
			t.Fatalf("stream exited with %d before serving: %s", code, stderr.String())
		case <-time.After(20 * time.Second):
			t.Fatalf("no dashboard address printed: %s", stderr.String())
		}
		code, body := getBody(t, base+"api/stats")
		var st struct{ Wallet bool }
		if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusOK || st.Wallet != sim {
			t.Errorf("sim %v: /api/stats = %d %v: wallet %v", sim, code, err, st.Wallet)
		}
		code, body = getBody(t, base+"api/positions")
		if !sim {
			if code != http.StatusNotFound {
				t.Errorf("without --orders sim: /api/positions = %d %s, want 404", code, body)
			}
		} else {
			var w struct {
				Cash, Equity float64
				Positions    []struct {
					Symbol string
					Equity float64
				}
			}
			if err := json.Unmarshal([]byte(body), &w); err != nil || code != http.StatusOK {
				t.Fatalf("/api/positions = %d %v: %s", code, err, body)
			}
			sum := 0.0
			for _, p := range w.Positions {
				sum += p.Equity
			}
			if len(w.Positions) != 3 || w.Equity <= 0 || sum != w.Equity {
				t.Errorf("/api/positions: %d positions summing to %v, equity %v: %s", len(w.Positions), sum, w.Equity, body)
			}
		}
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("stream did not stop after cancellation")
		}
	}
}
