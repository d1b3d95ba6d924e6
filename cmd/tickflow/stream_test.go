//go:build full

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the server's and the command's
// goroutines, which tells the dashboard address when it is printed.
type syncBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, url, ok := strings.Cut(string(p), "dashboard on "); ok && b.addr != nil {
		b.addr <- strings.TrimSpace(url)
		b.addr = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestStreamServesUntilStoppedThenDrains(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &syncBuffer{}
	stderr := &syncBuffer{addr: make(chan string, 1)}
	addr := stderr.addr
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"tickflow", "stream", "--listen", "127.0.0.1:0", "--synthetic-symbols", "4", "--rate", "2000",
			"--stale-after", "30s", "--format", "jsonl"}, stdout, stderr)
	}()
	var base string
	select {
	case base = <-addr:
	case code := <-done:
		t.Fatalf("stream exited with %d before serving: %s", code, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("no dashboard address printed: %s", stderr.String())
	}

	// Wait for the feed to show all four symbols and the checks to pass.
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		code, body := getBody(t, base+"api/symbols")
		var syms []map[string]any
		_ = json.Unmarshal([]byte(body), &syms)
		hc, hbody := getBody(t, base+"healthz")
		if code == http.StatusOK && len(syms) == 4 && hc == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no healthy data: %d symbols, /healthz %d %s", len(syms), hc, hbody)
		}
		<-tick.C
	}
	code, body := getBody(t, base+"metrics")
	// A synthetic run makes no outbound operation: the pipeline's batches
	// are in tickflow_stage_batch_duration_seconds, not in the ADR's
	// async_operation_duration_seconds.
	for _, name := range []string{"tickflow_stage_batch_duration_seconds_count", "active_async_tasks", "tickflow_bars_processed_total", "process_resident_memory_bytes"} {
		if code != http.StatusOK || !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if code, _ := getBody(t, base+"readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d while streaming", code)
	}
	resp, err := http.Get(base + "events")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && sc.Text() != "event: bars" {
	}
	if sc.Err() != nil || sc.Text() != "event: bars" {
		t.Errorf("no bars event on /events: %v", sc.Err())
	}
	resp.Body.Close()

	cancel() // as the first SIGINT does
	select {
	case code := <-done:
		if code != exitInterrupted {
			t.Errorf("exit %d after a graceful stop, want %d: %s", code, exitInterrupted, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("stream did not stop after cancellation")
	}
	if !strings.Contains(stderr.String(), "tickflow: stopped after") {
		t.Errorf("no summary: %s", stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var sig map[string]any
		if err := json.Unmarshal([]byte(line), &sig); err != nil || (sig["side"] != "buy" && sig["side"] != "sell") {
			t.Errorf("stdout line %q is not a signal", line)
		}
	}
}

func TestStreamStopsAfterDuration(t *testing.T) {
	_, stderr, code := cmdline(t, "stream", "--listen", "127.0.0.1:0", "--rate", "500", "--duration", "300ms", "--format", "jsonl")
	if code != exitOK || !strings.Contains(stderr, "stopped after") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestStreamRejectsBadSettings(t *testing.T) {
	_, stderr, code := cmdline(t, "stream", "--rate", "-1")
	if code != exitUsage || !strings.Contains(stderr, "stream.rate") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	_, stderr, code = cmdline(t, "stream", "--listen", "256.0.0.1:1", "--duration", "1s")
	if code != exitFailure || !strings.Contains(stderr, "stream.listen") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestStreamBeyondLoopbackNeedsAToken(t *testing.T) {
	_, stderr, code := cmdline(t, "stream", "--listen", "0.0.0.0:0", "--duration", "1m")
	if code != exitUsage {
		t.Fatalf("stream --listen 0.0.0.0:0 without a token exited %d, want %d (usage); stderr:\n%s", code, exitUsage, stderr)
	}
	if !strings.Contains(stderr, "stream.token") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("want one line naming stream.token, got:\n%s", stderr)
	}
}

// TestStreamReplaysCSV: stream --source csv used to stream synthetic data
// silently; now it replays the files as a live feed, and at max speed its
// signals are run's on the same file.
func TestStreamReplaysCSV(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 3, 2000)
	want, stderr, code := cmdline(t, "run", "--csv", path, "--format", "jsonl")
	require.Equal(t, exitOK, code, stderr)
	got, stderr, code := cmdline(t, "stream", "--source", "csv", "--csv", path, "--replay-speed", "max", "--format", "jsonl", "--listen", "127.0.0.1:0")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, want, got)
	require.Contains(t, stderr, "0 bars dropped")

	_, stderr, code = cmdline(t, "stream", "--source", "csv", "--listen", "127.0.0.1:0")
	require.Equal(t, exitUsage, code, stderr)
	require.Contains(t, stderr, "--csv")
	_, stderr, code = cmdline(t, "stream", "--csv", path, "--replay-speed", "fast", "--listen", "127.0.0.1:0")
	require.Equal(t, exitUsage, code, stderr)
}
