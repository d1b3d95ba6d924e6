package metrics_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newMetrics(t testing.TB) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// families gathers reg into a map of metric family name to its text.
func families(t *testing.T, reg *prometheus.Registry) map[string]string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.String()
	}
	return out
}

// bars emits n bars of each symbol, then stops.
func bars(symbols []string, n int) pipeline.Source[market.Event] {
	return pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
		t0 := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
		for i := range n {
			for _, s := range symbols {
				if err := out.Emit(market.Event{Bar: market.Bar{Symbol: s, Time: t0.Add(time.Duration(i) * time.Minute), Close: 100 + float64(i)}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// everyTenth signals on every tenth bar and fails symbol "BAD" on its first.
func everyTenth(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
	if e.Symbol == "BAD" {
		out.Fail(e.Symbol, context.DeadlineExceeded)
		return nil
	}
	if e.Time.Minute()%10 == 9 {
		e.Signal = &market.Signal{Symbol: e.Symbol, Time: e.Time, Side: market.Buy, Price: e.Close}
	}
	return out.Emit(e)
}

func TestADRMetricsMoveWithARealPipeline(t *testing.T) {
	m, reg := newMetrics(t)
	p := pipeline.New(pipeline.Config[market.Event]{
		Workers:  2,
		Key:      market.Event.Key,
		Observer: m,
	}).
		From("source", m.Source(bars([]string{"AAA", "BBB", "BAD"}, 100))).
		Then("strategy", func() pipeline.Stage[market.Event] { return pipeline.StageFunc[market.Event](everyTenth) }).
		To("sink", m.Sink())
	m.WatchPipeline(p)
	err := p.Run(context.Background())
	var f pipeline.Failures
	if !errors.As(err, &f) || len(f) != 1 {
		t.Fatalf("Run = %v, want BAD's failure", err)
	}

	got := families(t, reg)
	for _, name := range []string{
		"tickflow_stage_batch_duration_seconds", "active_async_tasks", "async_errors_total",
		"tickflow_stage_items_in_total", "tickflow_stage_items_out_total", "tickflow_stage_queued_items",
		"tickflow_bars_processed_total", "tickflow_signals_total", "tickflow_signal_latency_seconds",
	} {
		if _, ok := got[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
	if !strings.Contains(got["tickflow_stage_batch_duration_seconds"], `value:"strategy"`) {
		t.Errorf("no strategy stage: %s", got["tickflow_stage_batch_duration_seconds"])
	}
	if n := histogramCount(t, reg, "async_operation_duration_seconds"); n != 0 {
		t.Errorf("%d operations observed: a pipeline's batches are not outbound operations", n)
	}
	if !strings.Contains(got["async_errors_total"], `value:"timeout"`) {
		t.Errorf("BAD's deadline not counted as a timeout: %s", got["async_errors_total"])
	}
	checks := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"bars", mustCollector(t, reg, "tickflow_bars_processed_total"), 200},
	}
	for _, c := range checks {
		if v := testutil.ToFloat64(c.c); v != c.want {
			t.Errorf("%s = %v, want %v", c.name, v, c.want)
		}
	}
	want := `
# HELP tickflow_signals_total Signals made, by side.
# TYPE tickflow_signals_total counter
tickflow_signals_total{side="buy"} 20
tickflow_signals_total{side="sell"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tickflow_signals_total"); err != nil {
		t.Error(err)
	}
	if n := histogramCount(t, reg, "tickflow_signal_latency_seconds"); n != 20 {
		t.Errorf("latency observations = %d, want one per signal (20)", n)
	}
	// No outbound operation in flight: the pipeline's goroutines are not
	// async tasks.
	want = `
# HELP active_async_tasks Number of active async tasks: outbound operations in flight.
# TYPE active_async_tasks gauge
active_async_tasks 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "active_async_tasks"); err != nil {
		t.Error(err)
	}
	m.WatchPipeline(nil)
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func mustCollector(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return gatheredCollector{reg, name}
}

// gatheredCollector re-exposes one family of a registry as a Collector, so
// testutil.ToFloat64 can read it.
type gatheredCollector struct {
	reg  *prometheus.Registry
	name string
}

func (g gatheredCollector) Describe(ch chan<- *prometheus.Desc) {
	prometheus.DescribeByCollect(g, ch)
}

func (g gatheredCollector) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := g.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != g.name {
			continue
		}
		for _, mm := range mf.GetMetric() {
			v := mm.GetCounter().GetValue() + mm.GetGauge().GetValue()
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.name, "x", nil, nil), prometheus.UntypedValue, v)
		}
	}
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, mm := range mf.GetMetric() {
				n += mm.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

func TestOutboundHooks(t *testing.T) {
	m, reg := newMetrics(t)
	t0 := time.Now()
	m.OperationStarted("webhook")
	m.OperationStarted("webhook")
	m.OperationEnded("webhook", t0, t0.Add(20*time.Millisecond), "")
	m.OperationStarted("webhook")
	m.OperationEnded("webhook", t0, t0.Add(time.Second), "status_5xx")
	m.Retried("webhook")
	m.Discarded("webhook", "breaker_open")
	m.RateLimited("webhook", 100*time.Millisecond)
	m.BreakerState("webhook", "open")
	m.Dropped("indicators", 64)
	want := `
# HELP active_async_tasks Number of active async tasks: outbound operations in flight.
# TYPE active_async_tasks gauge
active_async_tasks 1
# HELP async_errors_total Total async operation errors: failed outbound operations, keys failed by a stage.
# TYPE async_errors_total counter
async_errors_total{error_type="status_5xx",operation_type="webhook"} 1
# HELP tickflow_circuit_breaker_state Circuit breaker state: 0 closed, 1 half-open, 2 open.
# TYPE tickflow_circuit_breaker_state gauge
tickflow_circuit_breaker_state{name="webhook"} 2
# HELP tickflow_discarded_total Items an outbound component gave up on, by reason (breaker_open, retries_exhausted, queue_full, rejected, shutdown).
# TYPE tickflow_discarded_total counter
tickflow_discarded_total{operation_type="webhook",reason="breaker_open"} 1
# HELP tickflow_dropped_items_total Items dropped by an edge's overflow policy, by the stage the edge feeds.
# TYPE tickflow_dropped_items_total counter
tickflow_dropped_items_total{edge="indicators"} 64
# HELP tickflow_retries_total Outbound requests retried.
# TYPE tickflow_retries_total counter
tickflow_retries_total{operation_type="webhook"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"active_async_tasks", "async_errors_total", "tickflow_circuit_breaker_state",
		"tickflow_discarded_total", "tickflow_dropped_items_total", "tickflow_retries_total"); err != nil {
		t.Error(err)
	}
	if n := histogramCount(t, reg, "async_operation_duration_seconds"); n != 2 {
		t.Errorf("webhook durations observed = %d, want 2", n)
	}
}

// The adaptive limits and the slow sinks' queues are gauges.
func TestLimitAndQueueGauges(t *testing.T) {
	m, reg := newMetrics(t)
	m.ConcurrencyLimit("alpaca.order", 50)
	m.ConcurrencyLimit("alpaca.order", 37)
	m.ConcurrencyLimit("webhook", 4)
	depth := 3
	m.WatchQueue("webhook", func() int { return depth })
	m.WatchQueue("alpaca.order", func() int { return 0 })
	m.WatchQueue("alpaca.order", nil)
	want := `
# HELP tickflow_concurrency_limit Current adaptive limit of outbound requests in flight (never above async.max_concurrent_requests).
# TYPE tickflow_concurrency_limit gauge
tickflow_concurrency_limit{operation_type="alpaca.order"} 37
tickflow_concurrency_limit{operation_type="webhook"} 4
# HELP tickflow_sink_queued_items Events waiting in a slow sink's asynchronous queue (or being written).
# TYPE tickflow_sink_queued_items gauge
tickflow_sink_queued_items{sink="webhook"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tickflow_concurrency_limit", "tickflow_sink_queued_items"); err != nil {
		t.Error(err)
	}
	depth = 0
	if err := testutil.GatherAndCompare(reg, strings.NewReader(strings.ReplaceAll(want, `{sink="webhook"} 3`, `{sink="webhook"} 0`)),
		"tickflow_concurrency_limit", "tickflow_sink_queued_items"); err != nil {
		t.Error(err)
	}
}

// Declared operation types have their series from the start, at zero:
// an alert on the error rate works before the first error.
func TestDeclaredSeriesExistBeforeAnyError(t *testing.T) {
	m, reg := newMetrics(t)
	m.DeclareOperations("alpaca.rest", "store.read")
	got := families(t, reg)
	for _, s := range []string{`value:"alpaca.rest"`, `value:"store.read"`, `value:"timeout"`, `value:"status_5xx"`} {
		if !strings.Contains(got["async_errors_total"], s) {
			t.Errorf("async_errors_total lacks %s: %s", s, got["async_errors_total"])
		}
	}
	if !strings.Contains(got["async_operation_duration_seconds"], `value:"alpaca.rest"`) {
		t.Errorf("no alpaca.rest duration series: %s", got["async_operation_duration_seconds"])
	}
	if strings.Contains(got["async_errors_total"], "value:1") {
		t.Errorf("a declared series is not at zero: %s", got["async_errors_total"])
	}
}

// The duration histogram reflects the work: a fake Alpaca that answers in
// 50 ms reads 50 ms per page (fake time), whatever the gaps between
// requests.
func TestOperationDurationIsWorkTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, reg := newMetrics(t)
		for range 3 {
			end := observeStart(m, "alpaca.rest")
			time.Sleep(50 * time.Millisecond) // the fake's answer time
			end()
			time.Sleep(10 * time.Second) // a quiet gap between requests
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "async_operation_duration_seconds" {
				continue
			}
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != 3 || math.Abs(h.GetSampleSum()-0.150) > 1e-9 {
				t.Fatalf("%d operations, %vs in all; want 3 taking 50 ms each", h.GetSampleCount(), h.GetSampleSum())
			}
			return
		}
		t.Fatal("no async_operation_duration_seconds")
	})
}

func observeStart(m *metrics.Metrics, op string) func() {
	start := time.Now()
	m.OperationStarted(op)
	return func() { m.OperationEnded(op, start, time.Now(), "") }
}

func TestErrorType(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, "none"},
		{context.DeadlineExceeded, "timeout"},
		{context.Canceled, "canceled"},
		{&pipeline.PanicError{Component: "x", Value: "boom"}, "panic"},
		{errors.New("x"), "error"},
		{typed{}, "custom"},
	}
	for _, tt := range tests {
		if got := metrics.ErrorType(tt.err); got != tt.want {
			t.Errorf("ErrorType(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

type typed struct{}

func (typed) Error() string     { return "typed" }
func (typed) ErrorType() string { return "custom" }

func TestRegisteringTwiceFails(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg); err == nil {
		t.Error("second New on the same registry succeeded")
	}
}

func TestObserverDoesNotAllocate(t *testing.T) {
	m, _ := newMetrics(t)
	m.Processed("indicators", 64, 64, time.Millisecond) // first sight of a stage allocates
	if a := testing.AllocsPerRun(1000, func() { m.Processed("indicators", 64, 64, time.Millisecond) }); a != 0 {
		t.Errorf("Processed allocates %v times", a)
	}
	sink := m.Sink()
	ev := []market.Event{{Bar: market.Bar{Symbol: "AAA", Time: time.Unix(60, 0)}, Signal: &market.Signal{Side: market.Sell}}}
	if a := testing.AllocsPerRun(1000, func() { _ = sink.Write(context.Background(), ev) }); a != 0 {
		t.Errorf("Sink.Write allocates %v times", a)
	}
}

func BenchmarkObserverProcessed(b *testing.B) {
	m, _ := newMetrics(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Processed("indicators", 64, 64, time.Microsecond)
		}
	})
}

func BenchmarkOperationEnded(b *testing.B) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		b.Fatal(err)
	}
	m.DeclareOperations("alpaca.rest")
	t0 := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		m.OperationStarted("alpaca.rest")
		m.OperationEnded("alpaca.rest", t0, t0.Add(50*time.Millisecond), "")
	}
}
