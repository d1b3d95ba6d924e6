package metrics

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/pipeline"
)

// LatencyBuckets are the histogram buckets, in seconds, of the operation
// durations and of the arrival-to-signal latency: 5 µs to 10 s.
var LatencyBuckets = []float64{
	5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
	1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
}

// Metrics holds tickflow's metrics. It implements [pipeline.Observer] (the
// stages' batches) and the I/O layer's observer of outbound operations
// (OperationStarted, OperationEnded, DeclareOperations: Alpaca requests,
// stream connects, orders, store reads and writes, webhook posts); it is
// safe for concurrent use.
type Metrics struct {
	opDuration *prometheus.HistogramVec
	batchDur   *prometheus.HistogramVec
	errs       *prometheus.CounterVec
	itemsIn    *prometheus.CounterVec
	itemsOut   *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	bars       prometheus.Counter
	signals    *prometheus.CounterVec
	latency    prometheus.Histogram
	unmatched  prometheus.Counter
	retries    *prometheus.CounterVec
	discarded  *prometheus.CounterVec
	waits      *prometheus.CounterVec
	waited     *prometheus.CounterVec
	breaker    *prometheus.GaugeVec
	limits     *prometheus.GaugeVec

	buy, sell prometheus.Counter

	inflight atomic.Int64
	pipe     atomic.Pointer[Pipeline]

	base          time.Time // monotonic origin of the int64 times below
	lastBar       atomic.Int64
	lastProcessed atomic.Int64

	mu     sync.RWMutex
	stages map[string]*stageMetrics
	syms   map[string]*pending
	queues map[string]func() int // sink name -> its queue depth, read at scrape
}

type stageMetrics struct {
	dur     prometheus.Observer
	in, out prometheus.Counter
}

// New makes the metrics and registers them with reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "async_operation_duration_seconds",
			Help:    "Duration of async operations: the time one outbound operation took (an Alpaca request, a stream connect, an order, a store read or write, a webhook post).",
			Buckets: LatencyBuckets,
		}, []string{"operation_type"}),
		batchDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tickflow_stage_batch_duration_seconds",
			Help:    "Time between a pipeline stage's reports of a batch, as the pipeline measures it (it includes waiting for input).",
			Buckets: LatencyBuckets,
		}, []string{"stage"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "async_errors_total",
			Help: "Total async operation errors: failed outbound operations, keys failed by a stage.",
		}, []string{"operation_type", "error_type"}),
		itemsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_stage_items_in_total",
			Help: "Items taken by a pipeline stage (or the sink).",
		}, []string{"stage"}),
		itemsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_stage_items_out_total",
			Help: "Items emitted by a pipeline stage (or written by the sink).",
		}, []string{"stage"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_dropped_items_total",
			Help: "Items dropped by an edge's overflow policy, by the stage the edge feeds.",
		}, []string{"edge"}),
		bars: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tickflow_bars_processed_total",
			Help: "Bars that went through the whole pipeline.",
		}),
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_signals_total",
			Help: "Signals made, by side.",
		}, []string{"side"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tickflow_signal_latency_seconds",
			Help:    "Time from a bar's arrival in the pipeline to its signal reaching the sink.",
			Buckets: LatencyBuckets,
		}),
		unmatched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tickflow_signal_latency_unknown_total",
			Help: "Signals whose bar's arrival time was not recorded (source not wrapped, or evicted).",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_retries_total",
			Help: "Outbound requests retried.",
		}, []string{"operation_type"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_discarded_total",
			Help: "Items an outbound component gave up on, by reason (breaker_open, retries_exhausted, queue_full, rejected, shutdown).",
		}, []string{"operation_type", "reason"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_rate_limited_total",
			Help: "Outbound requests delayed by a rate limit.",
		}, []string{"operation_type"}),
		waited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_rate_limited_seconds_total",
			Help: "Time outbound requests waited for a rate limit.",
		}, []string{"operation_type"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tickflow_circuit_breaker_state",
			Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
		}, []string{"name"}),
		limits: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tickflow_concurrency_limit",
			Help: "Current adaptive limit of outbound requests in flight (never above async.max_concurrent_requests).",
		}, []string{"operation_type"}),
		base:   time.Now(),
		stages: map[string]*stageMetrics{},
		syms:   map[string]*pending{},
		queues: map[string]func() int{},
	}
	m.buy = m.signals.WithLabelValues("buy")
	m.sell = m.signals.WithLabelValues("sell")
	for _, c := range []prometheus.Collector{
		m.opDuration, m.batchDur, m.errs, m.itemsIn, m.itemsOut, m.dropped, m.bars, m.signals,
		m.latency, m.unmatched, m.retries, m.discarded, m.waits, m.waited, m.breaker, m.limits,
		stageCollector{m},
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// now is the monotonic time since m was made, in nanoseconds; 0 is never
// returned, so 0 can mean "never".
func (m *Metrics) now() int64 { return int64(time.Since(m.base)) | 1 }

func (m *Metrics) at(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return m.base.Add(time.Duration(ns))
}

// LastBar is when the wrapped source (see [Metrics.Source]) last emitted a
// bar; the zero Time if never.
func (m *Metrics) LastBar() time.Time { return m.at(m.lastBar.Load()) }

// LastProcessed is when a stage or the sink last finished a batch; the zero
// Time if never.
func (m *Metrics) LastProcessed() time.Time { return m.at(m.lastProcessed.Load()) }

func (m *Metrics) stage(name string) *stageMetrics {
	m.mu.RLock()
	s := m.stages[name]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.stages[name]; s == nil {
		s = &stageMetrics{
			dur: m.batchDur.WithLabelValues(name),
			in:  m.itemsIn.WithLabelValues(name),
			out: m.itemsOut.WithLabelValues(name),
		}
		m.stages[name] = s
	}
	return s
}

// Processed implements [pipeline.Observer]: a batch's elapsed time goes to
// tickflow_stage_batch_duration_seconds{stage}, not to the ADR's operation
// histogram: the pipeline's clock runs while a stage waits for input, so on
// a live feed it reads the gap between bars.
func (m *Metrics) Processed(stage string, in, out int, elapsed time.Duration) {
	s := m.stage(stage)
	s.dur.Observe(elapsed.Seconds())
	s.in.Add(float64(in))
	s.out.Add(float64(out))
	m.lastProcessed.Store(m.now())
}

// Dropped implements [pipeline.Observer].
func (m *Metrics) Dropped(edge string, n int) {
	m.dropped.WithLabelValues(edge).Add(float64(n))
}

// Failed implements [pipeline.Observer]: counted in
// async_errors_total{operation_type=stage, error_type=ErrorType(err)}.
func (m *Metrics) Failed(stage, key string, err error) {
	m.errs.WithLabelValues(stage, ErrorType(err)).Inc()
}

var _ pipeline.Observer = (*Metrics)(nil)

// ErrorType classifies err for the error_type label: "none" for nil,
// "panic" for a stage's panic, else the I/O layer's class (an error's own
// ErrorType() string method if it has one, else "timeout", "canceled",
// "network" or "error").
func ErrorType(err error) string {
	var pe *pipeline.PanicError
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &pe):
		return "panic"
	}
	return observe.Class(err)
}

// Pipeline is what the metrics read from a running pipeline at scrape
// time; *pipeline.Pipeline[T] implements it.
type Pipeline interface {
	Stats() []pipeline.StageStats
	Workers() int
}

// WatchPipeline makes every scrape read p's Stats, for the per-stage queue
// depth, busy time and failed keys, and its workers, for
// active_async_tasks. Nil stops watching, as when the run has ended.
func (m *Metrics) WatchPipeline(p Pipeline) {
	if p == nil {
		m.pipe.Store(nil)
		return
	}
	m.pipe.Store(&p)
}

func (m *Metrics) watched() Pipeline {
	if p := m.pipe.Load(); p != nil {
		return *p
	}
	return nil
}

// OperationStarted implements the I/O layer's observer: one more
// operation in flight (active_async_tasks).
func (m *Metrics) OperationStarted(string) { m.inflight.Add(1) }

// OperationEnded implements the I/O layer's observer: the operation's
// duration (end - start) goes to async_operation_duration_seconds, and a
// failure (errClass not "" nor canceled) to async_errors_total.
func (m *Metrics) OperationEnded(op string, start, end time.Time, errClass string) {
	m.inflight.Add(-1)
	m.opDuration.WithLabelValues(op).Observe(end.Sub(start).Seconds())
	if errClass != "" && errClass != observe.ClassCanceled {
		m.errs.WithLabelValues(op, errClass).Inc()
	}
}

// DeclareOperations makes the series of operation types ops exist at zero
// from the start: their duration histogram and their error counter for
// every error class.
func (m *Metrics) DeclareOperations(ops ...string) {
	for _, op := range ops {
		m.opDuration.WithLabelValues(op)
		for _, class := range observe.Classes {
			m.errs.WithLabelValues(op, class)
		}
	}
}

// Retried counts one retry of op.
func (m *Metrics) Retried(op string) { m.retries.WithLabelValues(op).Inc() }

// Discarded counts one item op gave up on, with why.
func (m *Metrics) Discarded(op, reason string) { m.discarded.WithLabelValues(op, reason).Inc() }

// RateLimited counts one wait of op for a rate limit.
func (m *Metrics) RateLimited(op string, wait time.Duration) {
	m.waits.WithLabelValues(op).Inc()
	m.waited.WithLabelValues(op).Add(wait.Seconds())
}

// BreakerState sets a circuit breaker's state: "closed", "half-open" or
// "open".
func (m *Metrics) BreakerState(name, state string) {
	v := 0.0
	switch state {
	case "half-open":
		v = 1
	case "open":
		v = 2
	}
	m.breaker.WithLabelValues(name).Set(v)
}

var _ observe.LimitReporter = (*Metrics)(nil)

// ConcurrencyLimit sets the adaptive concurrency limit of op's requests
// (tickflow_concurrency_limit): an Observer that takes limits, for the I/O
// layer's limiters.
func (m *Metrics) ConcurrencyLimit(op string, limit int) {
	m.limits.WithLabelValues(op).Set(float64(limit))
}

// WatchQueue makes every scrape read the depth of sink's asynchronous
// queue (tickflow_sink_queued_items{sink}); what the queue drops is counted
// through Discarded. Nil depth stops watching.
func (m *Metrics) WatchQueue(sink string, depth func() int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if depth == nil {
		delete(m.queues, sink)
		return
	}
	m.queues[sink] = depth
}
