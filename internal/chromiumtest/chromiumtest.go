// Package chromiumtest drives a headless Chromium over the DevTools
// protocol for the tests of the dashboard (server) and of the report
// (report): launch the browser, open a tab, evaluate JavaScript, collect
// what the pages log as errors and warnings, capture a screenshot.
//
// Tests using it run when TICKFLOW_TEST_CHROMIUM names a Chromium binary
// (Debian's chromium package: /usr/bin/chromium); [Bin] skips them
// otherwise. Every call takes the test's context and fails the test on an
// error, so a test reads as a script.
//
//	test ──Call──▶ websocket ──▶ Chromium (one process, tabs as sessions)
//	      ◀─reply── reader goroutine ◀── events: exceptions, console, log
package chromiumtest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Env is the environment variable that names the Chromium binary.
const Env = "TICKFLOW_TEST_CHROMIUM"

// Bin returns the Chromium binary that Env names, or skips the test,
// saying what it would have opened.
func Bin(tb testing.TB, what string) string {
	tb.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		tb.Skipf("set %s=/usr/bin/chromium to open %s in headless Chromium", Env, what)
	}
	return bin
}

// WaitFor polls ok every 50 ms until it holds, or fails the test when ctx
// ends. A browser process is on the other side: there is nothing to
// synchronise with but its answers.
func WaitFor(tb testing.TB, ctx context.Context, what string, ok func() bool) {
	tb.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			tb.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// Browser is a headless Chromium. Make it with [Launch]; Close it.
type Browser struct {
	cmd  *exec.Cmd
	ws   *websocket.Conn
	wg   sync.WaitGroup // the stderr scanner and the reader
	next atomic.Int64

	mu       sync.Mutex
	pending  map[int64]chan message
	errs     []string
	warnings []string
}

type message struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Launch starts Chromium headless, 1280x900, with a fresh profile in a
// temporary directory, and connects to its DevTools endpoint.
func Launch(tb testing.TB, ctx context.Context, bin string) *Browser {
	tb.Helper()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--window-size=1280,900",
		"--user-data-dir="+tb.TempDir(), "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	b := &Browser{cmd: cmd, pending: map[int64]chan message{}}
	found := make(chan string, 1)
	b.wg.Go(func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, url, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
				select {
				case found <- url:
				default:
				}
			}
		}
	})
	select {
	case url := <-found:
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			b.Close()
			tb.Fatal(err)
		}
		ws.SetReadLimit(256 << 20)
		b.ws = ws
	case <-ctx.Done():
		b.Close()
		tb.Fatal("Chromium did not print its DevTools address")
	}
	b.wg.Go(b.read)
	return b
}

// read hands replies to their callers and keeps what the pages report as
// errors and warnings. It returns when the connection closes.
func (b *Browser) read() {
	for {
		_, data, err := b.ws.Read(context.Background())
		if err != nil {
			return
		}
		var msg message
		if json.Unmarshal(data, &msg) != nil {
			continue
		}
		b.mu.Lock()
		if ch := b.pending[msg.ID]; msg.ID != 0 && ch != nil {
			delete(b.pending, msg.ID)
			ch <- msg // buffered: never blocks
		} else if e, warn := pageProblem(msg); e != "" {
			if warn {
				b.warnings = append(b.warnings, e)
			} else {
				b.errs = append(b.errs, e)
			}
		}
		b.mu.Unlock()
	}
}

// pageProblem describes an event that reports an error (or, warn, a
// warning) on a page.
func pageProblem(msg message) (text string, warn bool) {
	switch msg.Method {
	case "Runtime.exceptionThrown":
		return "exception: " + string(msg.Params), false
	case "Runtime.consoleAPICalled":
		var p struct{ Type string }
		if json.Unmarshal(msg.Params, &p) == nil && (p.Type == "error" || p.Type == "assert" || p.Type == "warning") {
			return "console." + p.Type + ": " + string(msg.Params), p.Type == "warning"
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Text, URL string }
		}
		if json.Unmarshal(msg.Params, &p) == nil && (p.Entry.Level == "error" || p.Entry.Level == "warning") {
			return "log: " + p.Entry.Text + " " + p.Entry.URL, p.Entry.Level == "warning"
		}
	}
	return "", false
}

// Errors returns what the pages reported as errors so far: exceptions,
// console.error and console.assert, error log entries (a failed load).
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// Warnings returns the console warnings and warning log entries so far.
func (b *Browser) Warnings() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.warnings...)
}

// errCall is a command's failure as Chromium reported it.
var errCall = errors.New("chromiumtest: command failed")

// call sends a command (to a tab's session if session is set) and decodes
// its result into out.
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	id := b.next.Add(1)
	data, err := json.Marshal(message{ID: id, SessionID: session, Method: method, Params: raw})
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	ch := make(chan message, 1)
	b.mu.Lock()
	b.pending[id] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
	}()
	if err := b.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case msg := <-ch:
		if msg.Error != nil {
			return fmt.Errorf("%s: %w: %s", method, errCall, msg.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(msg.Result, out); err != nil {
				return fmt.Errorf("%s: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: no reply: %w", method, ctx.Err())
	}
}

// Call sends a browser-level command (no tab) and decodes its result into
// out (nil: ignored).
func (b *Browser) Call(tb testing.TB, ctx context.Context, method string, params, out any) {
	tb.Helper()
	if err := b.call(ctx, "", method, params, out); err != nil {
		tb.Fatal(err)
	}
}

// Close asks Chromium to quit, kills it if it has not within 10 s, and
// returns once its process and the goroutines reading it have ended.
func (b *Browser) Close() {
	if b.ws != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		data, _ := json.Marshal(message{ID: b.next.Add(1), Method: "Browser.close"})
		_ = b.ws.Write(ctx, websocket.MessageText, data)
		cancel()
	}
	done := make(chan struct{})
	go func() {
		_ = b.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
	}
	if b.ws != nil {
		_ = b.ws.CloseNow()
	}
	b.wg.Wait()
}

// Tab is one page of the browser.
type Tab struct {
	b               *Browser
	target, session string
}

// Open opens a tab at 1280x900 (device scale 1), with the runtime, log,
// page and performance domains enabled, and navigates it to url.
func (b *Browser) Open(tb testing.TB, ctx context.Context, url string) *Tab {
	tb.Helper()
	var target struct{ TargetID string }
	b.Call(tb, ctx, "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct{ SessionID string }
	b.Call(tb, ctx, "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p := &Tab{b: b, target: target.TargetID, session: attached.SessionID}
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		p.Call(tb, ctx, m, map[string]any{}, nil)
	}
	p.Call(tb, ctx, "Performance.enable", map[string]any{"timeDomain": "threadTicks"}, nil)
	p.Call(tb, ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
	var nav struct{ ErrorText string }
	p.Call(tb, ctx, "Page.navigate", map[string]any{"url": url}, &nav)
	if nav.ErrorText != "" {
		tb.Fatalf("navigating to %s: %s", url, nav.ErrorText)
	}
	return p
}

// Call sends a command to the tab and decodes its result into out (nil:
// ignored).
func (p *Tab) Call(tb testing.TB, ctx context.Context, method string, params, out any) {
	tb.Helper()
	if err := p.b.call(ctx, p.session, method, params, out); err != nil {
		tb.Fatal(err)
	}
}

// ErrScript reports an expression that threw.
var ErrScript = errors.New("chromiumtest: the expression threw")

// TryEval evaluates a JavaScript expression and decodes its value into
// out; an expression that throws (a page not ready yet) returns an error
// wrapping [ErrScript] instead of failing the test.
func (p *Tab) TryEval(tb testing.TB, ctx context.Context, expr string, out any) error {
	tb.Helper()
	var r struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	p.Call(tb, ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		return fmt.Errorf("evaluating %.60q: %w: %s %s", expr, ErrScript, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if err := json.Unmarshal(r.Result.Value, out); err != nil {
		return fmt.Errorf("evaluating %.60q: %w (value %s)", expr, err, string(r.Result.Value))
	}
	return nil
}

// Eval is [Tab.TryEval] that fails the test when the expression throws.
func (p *Tab) Eval(tb testing.TB, ctx context.Context, expr string, out any) {
	tb.Helper()
	if err := p.TryEval(tb, ctx, expr, out); err != nil {
		tb.Fatal(err)
	}
}

// CPU is the CPU time the tab's main thread has used since it opened,
// which unlike wall time does not grow with the machine's load.
func (p *Tab) CPU(tb testing.TB, ctx context.Context) time.Duration {
	tb.Helper()
	var r struct {
		Metrics []struct {
			Name  string
			Value float64
		}
	}
	p.Call(tb, ctx, "Performance.getMetrics", map[string]any{}, &r)
	for _, m := range r.Metrics {
		if m.Name == "ThreadTime" {
			return time.Duration(m.Value * float64(time.Second))
		}
	}
	tb.Fatal("Performance.getMetrics has no ThreadTime")
	return 0
}

// Screenshot writes a PNG of the tab to path.
func (p *Tab) Screenshot(tb testing.TB, ctx context.Context, path string) {
	tb.Helper()
	var shot struct{ Data string }
	p.Call(tb, ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Close closes the tab.
func (p *Tab) Close(tb testing.TB, ctx context.Context) {
	tb.Helper()
	p.b.Call(tb, ctx, "Target.closeTarget", map[string]any{"targetId": p.target}, nil)
}
