package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

// event makes bar i of sym, with indicators, and a signal when side is set.
func event(sym string, i int, side market.Side) market.Event {
	e := market.Event{
		Bar:        market.Bar{Symbol: sym, Time: t0.Add(time.Duration(i) * time.Minute), Open: 100, High: 101, Low: 99, Close: 100 + float64(i%7), Volume: 1000},
		Indicators: market.DefaultRecord(100.5, true, 15, 12, true),
	}
	if side != 0 {
		e.Signal = &market.Signal{Symbol: sym, Time: e.Time, Side: side, Price: e.Close, Reason: "cross up below 20", Indicators: e.Indicators}
	}
	return e
}

// emitter is the pipeline's side of a wrapped source, for tests.
type emitter struct{}

func (emitter) Emit(market.Event) error { return nil }
func (emitter) Flush() error            { return nil }
func (emitter) Fail(string, error)      {}

// oneBar is a source that emits one bar per call of Produce.
type oneBar struct{ i int }

func (s *oneBar) Produce(_ context.Context, out pipeline.Emitter[market.Event]) error {
	s.i++
	return out.Emit(event("SYM1", s.i, 0))
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil))
	return rec
}

func TestHealthzTurns503WhenTheSourceStallsAndBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m, err := metrics.New(reg)
		if err != nil {
			t.Fatal(err)
		}
		mon := health.New(health.Options{StaleAfter: 5 * time.Second, Activity: m})
		s, err := server.New(server.Options{Gatherer: reg, Registerer: reg, Health: mon})
		if err != nil {
			t.Fatal(err)
		}
		h := s.Handler()
		src := m.Source(&oneBar{})
		bar := func() {
			if err := src.Produce(context.Background(), emitter{}); err != nil {
				t.Fatal(err)
			}
			m.Processed("indicators", 1, 1, time.Microsecond)
		}

		if rec := get(t, h, "/readyz"); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("/readyz before start = %d", rec.Code)
		}
		mon.Start()
		bar()
		if rec := get(t, h, "/healthz"); rec.Code != http.StatusOK {
			t.Fatalf("/healthz while streaming = %d %s", rec.Code, rec.Body)
		}
		if rec := get(t, h, "/readyz"); rec.Code != http.StatusOK {
			t.Errorf("/readyz while running = %d", rec.Code)
		}

		time.Sleep(6 * time.Second) // the source stalls (fake clock)
		rec := get(t, h, "/healthz")
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("/healthz after a 6s stall = %d %s", rec.Code, rec.Body)
		}
		var rep health.Report
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{health.DataStreaming, health.IndicatorProcessing, health.APIConnectivity, health.ThreadPools} {
			if _, ok := rep.Checks[name]; !ok {
				t.Errorf("/healthz lacks %s: %s", name, rec.Body)
			}
		}
		if c := rep.Checks[health.DataStreaming]; c.OK || !strings.Contains(c.Reason, "last bar 6s ago") {
			t.Errorf("data_streaming = %+v", c)
		}

		bar() // it recovers
		if rec := get(t, h, "/healthz"); rec.Code != http.StatusOK {
			t.Errorf("/healthz after recovery = %d %s", rec.Code, rec.Body)
		}
		if rec := get(t, h, "/metrics"); !strings.Contains(rec.Body.String(), `tickflow_health_check{check="data_streaming"} 1`) {
			t.Errorf("/metrics lacks the passing data_streaming check:\n%s", rec.Body)
		}
	})
}

// sseClient reads server-sent events.
type sseClient struct {
	r    *bufio.Reader
	body io.Closer
}

func dial(t *testing.T, url string) *sseClient {
	t.Helper()
	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	c := &sseClient{r: bufio.NewReader(resp.Body), body: resp.Body}
	t.Cleanup(func() { c.body.Close() })
	if ev, _ := c.next(t); ev != "" { // the greeting: subscribed once it arrives
		t.Fatalf("first event %q, want the greeting", ev)
	}
	return c
}

// next returns the next event's name and data (comments and retry skipped).
func (c *sseClient) next(t *testing.T) (event, data string) {
	t.Helper()
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading events: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			return event, data
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data += line[len("data: "):]
		}
	}
}

func TestSSEClientSeesSignalsAndUpdates(t *testing.T) {
	s, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close) // after the client's body is closed (cleanups run last first)
	c := dial(t, ts.URL)

	batch := []market.Event{event("SYM1", 1, 0), event("SYM2", 1, market.Buy)}
	batch[0].Indicators = market.Indicators{} // warming up: nulls
	if err := s.Feed().Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	ev, data := c.next(t)
	if ev != "bars" {
		t.Fatalf("event %q, want bars", ev)
	}
	var updates []map[string]any
	if err := json.Unmarshal([]byte(data), &updates); err != nil {
		t.Fatalf("bars data %q: %v", data, err)
	}
	if len(updates) != 2 || updates[0]["symbol"] != "SYM1" || updates[0]["ema"] != nil || updates[1]["stochrsi_k"] != 15.0 || updates[1]["signal"] != "buy" {
		t.Errorf("bars = %s", data)
	}
	if updates[0]["time"] != "2024-01-02T14:31:00Z" {
		t.Errorf("time = %v, want RFC 3339 UTC", updates[0]["time"])
	}
	ev, data = c.next(t)
	var sig market.Signal
	if err := json.Unmarshal([]byte(data), &sig); ev != "signal" || err != nil {
		t.Fatalf("event %q data %q: %v", ev, data, err)
	}
	if sig.Symbol != "SYM2" || sig.Side != market.Buy || sig.Price != 101 || sig.Reason != "cross up below 20" || sig.Indicators.Value(market.DefaultStochD) != 12 {
		t.Errorf("signal = %+v", sig)
	}
}

// stuckWriter is a ResponseWriter whose client never reads: Write blocks
// until the write deadline (if one is set) or until released.
type stuckWriter struct {
	header   http.Header
	deadline time.Time
	release  chan struct{}
}

func (w *stuckWriter) Header() http.Header { return w.header }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Flush()              {}
func (w *stuckWriter) SetWriteDeadline(d time.Time) error {
	w.deadline = d
	return nil
}
func (w *stuckWriter) Write(p []byte) (int, error) {
	var timeout <-chan time.Time
	if !w.deadline.IsZero() {
		timeout = time.After(time.Until(w.deadline))
	}
	select {
	case <-w.release:
		return len(p), nil
	case <-timeout:
		return 0, errors.New("i/o timeout")
	}
}

// recordingWriter is a ResponseWriter whose client reads everything.
type recordingWriter struct {
	header http.Header
	mu     sync.Mutex
	buf    strings.Builder
}

func (w *recordingWriter) Header() http.Header { return w.header }
func (w *recordingWriter) WriteHeader(int)     {}
func (w *recordingWriter) Flush()              {}
func (w *recordingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}
func (w *recordingWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestStuckClientIsDroppedWithoutSlowingOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		s, err := server.New(server.Options{ClientBuffer: 4, WriteTimeout: 5 * time.Second, FlushInterval: -1, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		h := s.Handler()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		serve := func(w http.ResponseWriter) chan struct{} {
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/events", nil).WithContext(ctx))
			}()
			return done
		}
		stuck := &stuckWriter{header: http.Header{}, release: make(chan struct{})}
		good := &recordingWriter{header: http.Header{}}
		stuckDone := serve(stuck)
		goodDone := serve(good)
		synctest.Wait() // both subscribed; the stuck one blocked on its first write

		start := time.Now()
		const batches = 20
		for i := range batches {
			if err := s.Feed().Write(ctx, []market.Event{event("SYM1", i, market.Buy)}); err != nil {
				t.Fatal(err)
			}
			synctest.Wait() // let the good client's handler keep up
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the pipeline's writes waited %v for clients", waited)
		}
		st := s.Feed().Stats()
		if st.Dropped != 1 || st.Clients != 1 {
			t.Errorf("stats = %+v, want the stuck client dropped and the good one kept", st)
		}
		if n := strings.Count(good.String(), "event: signal\n"); n != batches {
			t.Errorf("good client got %d signals, want %d", n, batches)
		}
		if got := counter(t, reg, "tickflow_sse_clients_dropped_total"); got != 1 {
			t.Errorf("tickflow_sse_clients_dropped_total = %v", got)
		}

		time.Sleep(6 * time.Second) // the stuck write times out: its handler ends
		synctest.Wait()
		select {
		case <-stuckDone:
		default:
			t.Error("the stuck client's handler is still running after its write deadline")
		}
		cancel()
		<-goodDone
		close(stuck.release)
	})
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestAPI(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{Gatherer: reg, Registerer: reg, RecentSignals: 3,
		Stats: func() []pipeline.StageStats {
			return []pipeline.StageStats{{Name: "indicators", In: 10, Out: 10, Queued: 3, Busy: time.Second}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	var batch []market.Event
	for i := range 5 {
		batch = append(batch, event("SYM2", i, market.Buy), event("SYM1", i, market.Sell))
	}
	if err := s.Feed().Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	_ = m.Sink().Write(context.Background(), batch)
	m.Processed("indicators", 10, 10, time.Millisecond)
	m.DeclareOperations("webhook") // a run with an outbound component
	m.Failed("indicators", "SYM3", context.DeadlineExceeded)

	var sigs []market.Signal
	decode(t, get(t, h, "/api/signals"), &sigs)
	if len(sigs) != 3 || sigs[2].Symbol != "SYM1" || !sigs[2].Time.Equal(t0.Add(4*time.Minute)) || sigs[0].Symbol != "SYM1" || !sigs[0].Time.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("/api/signals = %+v, want the last 3, oldest first", sigs)
	}
	decode(t, get(t, h, "/api/signals?limit=1"), &sigs)
	if len(sigs) != 1 || sigs[0].Side != market.Sell {
		t.Errorf("/api/signals?limit=1 = %+v", sigs)
	}
	if rec := get(t, h, "/api/signals?limit=x"); rec.Code != http.StatusBadRequest {
		t.Errorf("bad limit: %d", rec.Code)
	}
	var syms []server.Symbol
	decode(t, get(t, h, "/api/symbols"), &syms)
	if len(syms) != 2 || syms[0].Symbol != "SYM1" || syms[0].Bars != 5 || syms[0].Close != 104 || *syms[0].EMA != 100.5 || syms[0].LastSignal.Side != market.Sell {
		t.Errorf("/api/symbols = %+v", syms)
	}
	var st server.Stats
	decode(t, get(t, h, "/api/stats"), &st)
	if st.Bars != 10 || st.Signals != 10 || st.Symbols != 2 || len(st.Stages) != 1 || st.Stages[0].Queued != 3 {
		t.Errorf("/api/stats = %+v", st)
	}

	rec := get(t, h, "/metrics")
	for _, name := range []string{"async_operation_duration_seconds", "active_async_tasks", "async_errors_total", "tickflow_bars_processed_total 10", "tickflow_sse_clients 0"} {
		if !strings.Contains(rec.Body.String(), name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
	rec = get(t, h, "/")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<script src="/static/app.js">`) {
		t.Errorf("/ = %d", rec.Code)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	for path, ct := range map[string]string{"/static/app.js": "javascript", "/static/style.css": "text/css", "/favicon.ico": "image/svg+xml"} {
		if rec := get(t, h, path); rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), ct) {
			t.Errorf("%s = %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	if rec := get(t, h, "/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("/nope = %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/api/signals", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/signals = %d", rec.Code)
	}
	if rec := get(t, h, "/healthz"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/healthz without a monitor = %d", rec.Code)
	}
}

func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	s, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	c := dial(t, "http://"+ln.Addr().String())
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after cancel, want nil", err)
	}
	if _, err := c.r.ReadString('\n'); err == nil {
		t.Error("the event stream is still open after shutdown")
	}
}

func TestListenDefaultsToLoopback(t *testing.T) {
	if !strings.HasPrefix(server.DefaultListen, "127.0.0.1:") {
		t.Errorf("DefaultListen = %q", server.DefaultListen)
	}
}

// TestSSEUsesTheSharedEncoder: the event stream writes numbers and strings
// as JSON lines and the API do (issue 8: it wrote 1e+06 and passed U+2028
// raw, which ends a line in JavaScript).
func TestSSEUsesTheSharedEncoder(t *testing.T) {
	s, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	c := dial(t, ts.URL)

	e := event("LINE\u2028SEP", 1, market.Buy)
	e.Close, e.Signal.Price, e.Signal.Reason = 1e6, 1e6, "para\u2029graph"
	if err := s.Feed().Write(context.Background(), []market.Event{e}); err != nil {
		t.Fatal(err)
	}
	_, bars := c.next(t)
	want := string(market.AppendEventJSON(nil, &e))
	want = "[" + strings.TrimSuffix(want, "}") + `,"open":100,"high":101,"low":99,"volume":1000,"signal":"buy"}]`
	if bars != want {
		t.Errorf("bars data\n got %s\nwant %s", bars, want)
	}
	_, sig := c.next(t)
	if want, _ := e.Signal.MarshalJSON(); sig != string(want) {
		t.Errorf("signal data\n got %s\nwant %s", sig, want)
	}
	for _, data := range []string{bars, sig} {
		if !strings.Contains(data, ":1000000,") || strings.ContainsAny(data, "\u2028\u2029") {
			t.Errorf("data %q: want 1e6 as 1000000 and U+2028/U+2029 escaped", data)
		}
	}
}
