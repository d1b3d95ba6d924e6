//go:build full && linux

package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
)

// TestStreamStuckStdoutSIGTERM runs the real process (this test binary
// acting as main) of tickflow stream against the fake Alpaca, its stdout a
// pipe nobody reads. Once the pipe is full, so that the output sink is
// blocked in a write, SIGTERM must end the process within the drain
// timeout, with exit 1 and a message naming the sink that did not return.
func TestStreamStuckStdoutSIGTERM(t *testing.T) {
	syms := []string{"AAPL", "MSFT"}
	const hist = 3000 // warm-up bars per symbol: about 300 KB of indicator lines, many pipes' worth
	bars := alpacaWalks(syms, hist)
	shift := time.Now().UTC().Truncate(time.Minute).Add(-hist * time.Minute).Sub(alpT0)
	for i := range bars {
		bars[i].Time = bars[i].Time.Add(shift)
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars, Now: func() time.Time { return time.Now().Add(24 * time.Hour) }})
	defer srv.Close()

	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close() // held open and never read: the writer blocks once the pipe is full
	// The smallest pipe (a page), whatever the system's default, so that
	// the warm-up's output is sure to fill it.
	size, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, 4096)
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "stream", "--source", "alpaca", "--symbols", strings.Join(syms, ","),
		"--key", alpacatest.Key, "--secret", alpacatest.Secret, "--data-url", srv.DataURL,
		"--stream-url", srv.StreamURL, "--crypto-stream-url", srv.CryptoStreamURL, "--warmup", "5000",
		"--listen", "127.0.0.1:0", "--emit", "indicators", "--format", "jsonl")
	cmd.Env = append(os.Environ(), "TICKFLOW_TEST_AS_MAIN=1")
	cmd.Stdout = w
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	w.Close() // the child holds the write end
	exited := make(chan error, 1)
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var log []string
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	}()

	// Wait until the pipe is full: the output sink is then blocked in a
	// write, and only the drain timeout can end the run.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for full := false; !full; {
		select {
		case <-ctx.Done():
			t.Fatalf("the pipe did not fill; stderr: %s", strings.Join(log, "\n"))
		case l, ok := <-lines:
			if ok {
				log = append(log, l)
			}
		case err := <-exited:
			t.Fatalf("stream exited (%v) before its stdout filled; stderr: %s", err, strings.Join(log, "\n"))
		case <-tick.C:
			n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ) // FIONREAD: bytes waiting in the pipe
			require.NoError(t, err)
			full = n >= size
		}
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-time.After(streamDrainTimeout + 20*time.Second):
		t.Fatalf("no exit %v after SIGTERM; stderr: %s", time.Since(signalled), strings.Join(log, "\n"))
	}
	took := time.Since(signalled)
	for l := range lines {
		log = append(log, l)
	}
	all := strings.Join(log, "\n")
	t.Logf("exit after %v: %v\n%s", took.Round(time.Millisecond), waitErr, lastLines(all, 3))
	var ee *exec.ExitError
	require.True(t, errors.As(waitErr, &ee), "exit 0 with stdout stuck; stderr: %s", all)
	assert.Equal(t, exitFailure, ee.ExitCode(), "a drain given up on is a failure")
	// Within the drain timeout, plus what a loaded machine takes to stop a
	// process: far below the forever of a write that never returns.
	assert.Less(t, took, streamDrainTimeout+5*time.Second)
	assert.Contains(t, all, "did not stop within "+streamDrainTimeout.String())
	assert.Contains(t, all, "the sink that did not return: stdout (*sinks.JSONL)")
}
