package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInterruptDrainsAndFlushes runs the real process (this test binary
// acting as main), interrupts a live stream once it is producing, and
// checks that it exits 0 after draining, with every line it wrote complete.
func TestInterruptDrainsAndFlushes(t *testing.T) {
	cmd := exec.Command(os.Args[0], "stream", "--symbols", "20", "--rate", "2000", "--emit", "indicators",
		"--format", "jsonl", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TICKFLOW_TEST_AS_MAIN=1")
	var stderr lockedBuffer // written by exec's copying goroutine
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)

	// Read until 200 records have come out, then interrupt; keep reading
	// to the end of the output.
	r := bufio.NewReader(stdout)
	var lines []string
	for len(lines) < 200 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading stdout: %v; stderr: %s", err, stderr.String())
		}
		lines = append(lines, line)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	rest, err := readAll(r)
	require.NoError(t, err)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("exit status %d after SIGINT, want 0; stderr: %s", ee.ExitCode(), stderr.String())
		}
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no exit 30 s after SIGINT; stderr: %s", stderr.String())
	}
	assert.Contains(t, stderr.String(), "draining")
	assert.Contains(t, stderr.String(), "stopped after")
	// Flushed: the output ends with a newline and every line is a whole record.
	all := strings.Join(lines, "") + rest
	require.True(t, strings.HasSuffix(all, "\n"))
	for _, line := range strings.Split(strings.TrimSuffix(all, "\n"), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "a torn record: %q", line)
	}
}

func readAll(r *bufio.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
