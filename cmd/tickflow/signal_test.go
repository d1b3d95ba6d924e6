//go:build full

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
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
// acting as main) of a command that runs until stopped and of one that runs
// to the end of its input, interrupts each once it is producing, and checks
// the one rule of every command: it drains, writes every line whole, and
// exits 128 + the signal (130 for Ctrl-C's SIGINT, 143 for SIGTERM).
func TestInterruptDrainsAndFlushes(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		code int
		args []string
		last string // what stderr says at the end
	}{
		{"stream SIGINT", syscall.SIGINT, 130, []string{"stream", "--synthetic-symbols", "20", "--rate", "2000", "--emit", "indicators",
			"--format", "jsonl", "--listen", "127.0.0.1:0"}, "stopped after"},
		{"run SIGINT", syscall.SIGINT, 130, []string{"run", "--synthetic-symbols", "2", "--synthetic-bars", "50000000", "--emit", "indicators",
			"--format", "jsonl"}, "interrupted; what was read before was processed and written"},
		{"run SIGTERM", syscall.SIGTERM, 143, []string{"run", "--synthetic-symbols", "2", "--synthetic-bars", "50000000", "--emit", "indicators",
			"--format", "jsonl"}, "interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), "TICKFLOW_TEST_AS_MAIN=1")
			var stderr lockedBuffer // written by exec's copying goroutine
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)

			// Read until 200 records have come out, then interrupt; keep
			// reading to the end of the output.
			r := bufio.NewReader(stdout)
			var lines []string
			for len(lines) < 200 {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("reading stdout: %v; stderr: %s", err, stderr.String())
				}
				lines = append(lines, line)
			}
			require.NoError(t, cmd.Process.Signal(tc.sig))
			rest, err := readAll(r)
			require.NoError(t, err)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, "exit 0 after %v, want %d; stderr: %s", tc.sig, tc.code, stderr.String())
				require.Equal(t, tc.code, ee.ExitCode(), "stderr: %s", stderr.String())
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("no exit 30 s after %v; stderr: %s", tc.sig, stderr.String())
			}
			assert.Contains(t, stderr.String(), "draining")
			assert.Contains(t, stderr.String(), tc.last)
			// Flushed: the output ends with a newline and every line is a
			// whole record.
			all := strings.Join(lines, "") + rest
			require.True(t, strings.HasSuffix(all, "\n"))
			for _, line := range strings.Split(strings.TrimSuffix(all, "\n"), "\n") {
				var rec map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &rec), "a torn record: %q", line)
			}
		})
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
