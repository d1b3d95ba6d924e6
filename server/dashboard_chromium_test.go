package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/server"
)

// TestDashboardInChromium serves the dashboard fed with synthetic events,
// with a token, opens it in headless Chromium driven over the DevTools
// protocol at /?token=, and checks that the page logs no errors and shows
// live-updating data, and that the token left the address bar.
//
// It runs when TICKFLOW_TEST_CHROMIUM names a Chromium binary (Debian's
// chromium package: /usr/bin/chromium); TICKFLOW_TEST_SCREENSHOT, if set,
// is where a PNG of the page is written.
func TestDashboardInChromium(t *testing.T) {
	bin := os.Getenv("TICKFLOW_TEST_CHROMIUM")
	if bin == "" {
		t.Skip("set TICKFLOW_TEST_CHROMIUM=/usr/bin/chromium to open the dashboard in headless Chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	url, stop := serveDashboard(t, ctx)
	defer stop()

	b := launchChromium(t, ctx, bin)
	defer b.close()
	page := b.openPage(t, ctx, url)

	// Wait for the first live data, then for it to change.
	type view struct {
		Updates   int    `json:"updates"`
		Connected bool   `json:"connected"`
		Drawn     int    `json:"drawn"`
		Rows      int    `json:"rows"`
		First     string `json:"first"`
		Title     string `json:"title"`
		Health    string `json:"health"`
		Checks    int    `json:"checks"`
		Signals   int    `json:"signals"`
		Bars      string `json:"bars"`
	}
	const probe = `JSON.stringify({
		updates: window.tickflow.updates, connected: window.tickflow.connected, drawn: window.tickflow.drawn,
		rows: document.querySelectorAll("#symbols tbody tr").length,
		first: (document.querySelector("#symbols tbody tr") || {innerText: ""}).innerText,
		title: document.getElementById("chart-title").textContent,
		health: document.getElementById("health").textContent,
		checks: document.querySelectorAll("#checks li").length,
		signals: document.querySelectorAll("#signals li").length,
		bars: document.getElementById("f-bars").textContent })`
	look := func() view {
		var v view
		if err := json.Unmarshal([]byte(page.eval(t, ctx, probe)), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	var first view
	waitFor(t, ctx, "live data on the page", func() bool {
		first = look()
		return first.Connected && first.Updates >= 3 && first.Rows >= 1 && first.Drawn >= 1 && first.Checks == 4
	})
	var later view
	waitFor(t, ctx, "the page to update", func() bool {
		later = look()
		return later.Updates >= first.Updates+10 && later.First != first.First && later.Title != first.Title && later.Signals > 0
	})
	t.Logf("first: %+v", first)
	t.Logf("later: %+v", later)
	if !strings.HasPrefix(later.First, "SYM1") || !strings.HasPrefix(later.Title, "SYM1") {
		t.Errorf("first row %q, chart title %q: want SYM1's data", later.First, later.Title)
	}
	if later.Health != "healthy" {
		t.Errorf("health badge %q", later.Health)
	}
	if href := page.eval(t, ctx, "location.href"); strings.Contains(href, dashboardToken) || !strings.HasSuffix(href, "/") {
		t.Errorf("the page is at %s: want the token gone from the address", href)
	}
	if c := page.eval(t, ctx, "document.cookie"); strings.Contains(c, "tickflow_session") {
		t.Errorf("the session cookie is readable by scripts: %q", c)
	}

	if path := os.Getenv("TICKFLOW_TEST_SCREENSHOT"); path != "" {
		var shot struct{ Data string }
		page.call(t, ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
		png, err := base64.StdEncoding.DecodeString(shot.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// serveDashboard serves a healthy server on 127.0.0.1 with a goroutine
// writing synthetic events for 3 symbols to its Feed every 50 ms.
func serveDashboard(t *testing.T, ctx context.Context) (url string, stop func()) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	mon := health.New(health.Options{Activity: fresh{}})
	mon.Start()
	// With a token, as beyond loopback: the page is opened once with
	// ?token=, and its fetches and event stream carry the session cookie.
	s, err := server.New(server.Options{Gatherer: reg, Registerer: reg, Health: mon, Token: dashboardToken})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		price := map[string]float64{"SYM1": 100, "SYM2": 50, "SYM3": 20}
		for i := 0; ; i++ {
			var batch []market.Event
			for _, sym := range []string{"SYM1", "SYM2", "SYM3"} {
				p := price[sym] * (1 + 0.01*float64((i*7+len(sym))%11-5)/5)
				price[sym] = p
				e := market.Event{
					Bar:        market.Bar{Symbol: sym, Time: t0.Add(time.Duration(i) * time.Minute), Open: p, High: p * 1.01, Low: p * 0.99, Close: p, Volume: 1000},
					Indicators: market.DefaultRecord(p*0.995, i > 3, float64(i*13%100), float64(i*13%100+50)/2, i > 5),
				}
				if i%8 == 7 {
					side := market.Buy
					if i%16 == 15 {
						side = market.Sell
					}
					e.Signal = &market.Signal{Symbol: sym, Time: e.Time, Side: side, Price: p, Reason: "synthetic", Indicators: e.Indicators}
				}
				batch = append(batch, e)
			}
			_ = s.Feed().Write(ctx, batch)
			m.Processed("indicators", len(batch), len(batch), time.Millisecond)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return "http://" + ln.Addr().String() + "/?token=" + dashboardToken, func() { cancel(); wg.Wait() }
}

const dashboardToken = "dashboard-test-token"

// fresh is an Activity that has always just seen a bar and a batch.
type fresh struct{}

func (fresh) LastBar() time.Time       { return time.Now() }
func (fresh) LastProcessed() time.Time { return time.Now() }

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// browser is a headless Chromium driven over the DevTools protocol.
type browser struct {
	cmd  *exec.Cmd
	ws   *websocket.Conn
	wg   sync.WaitGroup
	next atomic.Int64

	mu      sync.Mutex
	pending map[int64]chan cdpMessage
	errors  []string
}

type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func launchChromium(t *testing.T, ctx context.Context, bin string) *browser {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--window-size=1280,900",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &browser{cmd: cmd, pending: map[int64]chan cdpMessage{}}
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
	var url string
	select {
	case url = <-found:
	case <-ctx.Done():
		b.close()
		t.Fatal("Chromium did not print its DevTools address")
	}
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		b.close()
		t.Fatal(err)
	}
	ws.SetReadLimit(64 << 20)
	b.ws = ws
	b.wg.Go(b.read)
	return b
}

// read dispatches replies to their callers and keeps the page's errors.
func (b *browser) read() {
	for {
		_, data, err := b.ws.Read(context.Background())
		if err != nil {
			return
		}
		var msg cdpMessage
		if json.Unmarshal(data, &msg) != nil {
			continue
		}
		if msg.ID != 0 {
			b.mu.Lock()
			ch := b.pending[msg.ID]
			delete(b.pending, msg.ID)
			b.mu.Unlock()
			if ch != nil {
				ch <- msg
			}
			continue
		}
		if e := pageError(msg); e != "" {
			b.mu.Lock()
			b.errors = append(b.errors, e)
			b.mu.Unlock()
		}
	}
}

// pageError describes an event that reports an error on the page.
func pageError(msg cdpMessage) string {
	switch msg.Method {
	case "Runtime.exceptionThrown":
		return "exception: " + string(msg.Params)
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(msg.Params, &p) == nil && (p.Type == "error" || p.Type == "assert") {
			return "console." + p.Type + ": " + string(msg.Params)
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level string `json:"level"`
				Text  string `json:"text"`
				URL   string `json:"url"`
			} `json:"entry"`
		}
		if json.Unmarshal(msg.Params, &p) == nil && p.Entry.Level == "error" {
			return "log: " + p.Entry.Text + " " + p.Entry.URL
		}
	}
	return ""
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// call sends a command (to the page's session if session is set) and
// decodes its result into out.
func (b *browser) call(t *testing.T, ctx context.Context, session, method string, params, out any) {
	t.Helper()
	id := b.next.Add(1)
	raw, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(cdpMessage{ID: id, SessionID: session, Method: method, Params: raw})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan cdpMessage, 1)
	b.mu.Lock()
	b.pending[id] = ch
	b.mu.Unlock()
	if err := b.ws.Write(ctx, websocket.MessageText, data); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	select {
	case msg := <-ch:
		if msg.Error != nil {
			t.Fatalf("%s: %s", method, msg.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(msg.Result, out); err != nil {
				t.Fatalf("%s: %v", method, err)
			}
		}
	case <-ctx.Done():
		t.Fatalf("%s: no reply", method)
	}
}

// page is one tab.
type page struct {
	b       *browser
	session string
}

func (b *browser) openPage(t *testing.T, ctx context.Context, url string) *page {
	t.Helper()
	var target struct{ TargetID string }
	b.call(t, ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct{ SessionID string }
	b.call(t, ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p := &page{b: b, session: attached.SessionID}
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		p.call(t, ctx, m, map[string]any{}, nil)
	}
	p.call(t, ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil)
	var nav struct{ ErrorText string }
	p.call(t, ctx, "Page.navigate", map[string]any{"url": url}, &nav)
	if nav.ErrorText != "" {
		t.Fatalf("navigating to %s: %s", url, nav.ErrorText)
	}
	return p
}

func (p *page) call(t *testing.T, ctx context.Context, method string, params, out any) {
	t.Helper()
	p.b.call(t, ctx, p.session, method, params, out)
}

// eval evaluates a JavaScript expression that returns a string.
func (p *page) eval(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	var r struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	p.call(t, ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if len(r.ExceptionDetails) > 0 {
		return fmt.Sprintf(`{"error": %q}`, string(r.ExceptionDetails))
	}
	var s string
	if err := json.Unmarshal(r.Result.Value, &s); err != nil {
		return "{}" // the page is not ready yet
	}
	return s
}

func (b *browser) close() {
	if b.ws != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		data, _ := json.Marshal(cdpMessage{ID: b.next.Add(1), Method: "Browser.close"})
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
