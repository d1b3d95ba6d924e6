package health

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tickflow/tickflow/pipeline"
)

// The names of ADR-002's checks.
const (
	DataStreaming       = "data_streaming"
	IndicatorProcessing = "indicator_processing"
	APIConnectivity     = "api_connectivity"
	ThreadPools         = "thread_pools"
)

// DefaultStaleAfter is Options.StaleAfter's default.
const DefaultStaleAfter = 10 * time.Second

// Status is the outcome of one check.
type Status struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
}

// OK returns a passing Status.
func OK(format string, args ...any) Status { return Status{true, fmt.Sprintf(format, args...)} }

// Fail returns a failing Status.
func Fail(format string, args ...any) Status { return Status{false, fmt.Sprintf(format, args...)} }

// Checker checks one external dependency. Check must return promptly; ctx
// carries the deadline of the health request.
type Checker interface {
	Check(ctx context.Context) Status
}

// CheckerFunc adapts a function to a Checker.
type CheckerFunc func(ctx context.Context) Status

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context) Status { return f(ctx) }

// Activity tells when the pipeline last did something; the zero Time means
// never. *metrics.Metrics implements it.
type Activity interface {
	LastBar() time.Time       // the source emitted a bar
	LastProcessed() time.Time // a stage or the sink finished a batch
}

// Options configure a Monitor. The zero value means the defaults.
type Options struct {
	// StaleAfter is how long without a bar, or without a processed batch,
	// before a check fails (default 10 s). It is also the grace period
	// after Start before the first bar is due.
	StaleAfter time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Activity reports the pipeline's last bar and batch; nil fails the
	// data and processing checks.
	Activity Activity
	// Stats returns the pipeline's per-stage counters (Pipeline.Stats);
	// nil skips the stuck-stage test of thread_pools.
	Stats func() []pipeline.StageStats
	// MaxQueued, if positive, fails thread_pools when a stage's queue holds
	// more items than this.
	MaxQueued int64
}

// Monitor runs the checks. Its methods are safe for concurrent use.
type Monitor struct {
	o Options

	mu      sync.Mutex
	apis    map[string]Checker
	seenOps map[string]outcome // per dependency: the last outbound operation's outcome
	started time.Time
	stopped bool
	stopErr error
	seen    map[string]progress // per stage: items taken, and since when
}

// outcome is how an outbound operation ended.
type outcome struct {
	op    string
	class string // "" on success
	at    time.Time
}

type progress struct {
	in    int64
	since time.Time
}

// New returns a Monitor; call Start when the pipeline starts.
func New(o Options) *Monitor {
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Monitor{o: o, apis: map[string]Checker{}, seen: map[string]progress{}, seenOps: map[string]outcome{}}
}

// AddAPI adds an external API's check to api_connectivity.
func (m *Monitor) AddAPI(name string, c Checker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.apis[name] = c
}

// OperationStarted implements the I/O layer's observer; only ends count.
func (m *Monitor) OperationStarted(string) {}

// OperationEnded implements the I/O layer's observer: the outcome of the
// last outbound operation of each external dependency (the part of op
// before its first dot: "alpaca" for alpaca.rest and alpaca.stream_connect)
// is what api_connectivity reports for it. A cancelled operation (the run
// stopping) says nothing of the dependency and is ignored.
func (m *Monitor) OperationEnded(op string, _, end time.Time, errClass string) {
	if errClass == "canceled" {
		return
	}
	dep, _, _ := strings.Cut(op, ".")
	m.mu.Lock()
	defer m.mu.Unlock()
	if last, ok := m.seenOps[dep]; ok && last.at.After(end) {
		return // an older operation ending late
	}
	m.seenOps[dep] = outcome{op: op, class: errClass, at: end}
}

// Start records that the pipeline started (again, after a Stop).
func (m *Monitor) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started, m.stopped, m.stopErr = m.o.Now(), false, nil
	clear(m.seen)
}

// Stop records that the pipeline stopped, with the error it ended with
// (nil for a clean end or a graceful shutdown).
func (m *Monitor) Stop(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped, m.stopErr = true, err
}

// Ready tells whether the service should get traffic: the pipeline has
// started and is not stopping.
func (m *Monitor) Ready() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.started.IsZero():
		return Fail("pipeline not started")
	case m.stopped:
		return Fail("pipeline stopped")
	}
	return OK("pipeline running")
}

// Report is the outcome of every check.
type Report struct {
	Healthy bool              `json:"healthy"`
	Time    time.Time         `json:"time"`
	Checks  map[string]Status `json:"checks"`
}

// Check runs the four checks.
func (m *Monitor) Check(ctx context.Context) Report {
	now := m.o.Now()
	r := Report{Healthy: true, Time: now, Checks: map[string]Status{
		DataStreaming:       m.dataStreaming(now),
		IndicatorProcessing: m.indicatorProcessing(now),
		APIConnectivity:     m.apiConnectivity(ctx),
		ThreadPools:         m.threadPools(now),
	}}
	for _, s := range r.Checks {
		r.Healthy = r.Healthy && s.OK
	}
	return r
}

// lifecycle fails a check when the pipeline is not running.
func (m *Monitor) lifecycle() (Status, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.started.IsZero():
		return Fail("pipeline not started"), false
	case m.stopped && m.stopErr != nil:
		return Fail("pipeline stopped: %v", firstLine(m.stopErr.Error())), false
	case m.stopped:
		return Fail("pipeline stopped"), false
	}
	return Status{}, true
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func (m *Monitor) staleness(now, last time.Time, what string) Status {
	if s, ok := m.lifecycle(); !ok {
		return s
	}
	if m.o.Activity == nil {
		return Fail("no activity source configured")
	}
	limit := m.o.StaleAfter
	if last.IsZero() {
		m.mu.Lock()
		up := now.Sub(m.started)
		m.mu.Unlock()
		if up <= limit {
			return OK("starting: no %s yet, %v after start (limit %v)", what, round(up), limit)
		}
		return Fail("no %s in the %v since start (limit %v)", what, round(up), limit)
	}
	age := now.Sub(last)
	if age > limit {
		return Fail("last %s %v ago (limit %v)", what, round(age), limit)
	}
	return OK("last %s %v ago", what, round(age))
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func (m *Monitor) dataStreaming(now time.Time) Status {
	var last time.Time
	if m.o.Activity != nil {
		last = m.o.Activity.LastBar()
	}
	return m.staleness(now, last, "bar")
}

func (m *Monitor) indicatorProcessing(now time.Time) Status {
	var last time.Time
	if m.o.Activity != nil {
		last = m.o.Activity.LastProcessed()
	}
	return m.staleness(now, last, "batch processed")
}

func (m *Monitor) apiConnectivity(ctx context.Context) Status {
	now := m.o.Now()
	m.mu.Lock()
	names := make([]string, 0, len(m.apis)+len(m.seenOps))
	for n := range m.apis {
		names = append(names, n)
	}
	for n := range m.seenOps {
		if _, ok := m.apis[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	apis := make([]Checker, len(names))
	seen := make([]outcome, len(names))
	for i, n := range names {
		apis[i], seen[i] = m.apis[n], m.seenOps[n]
	}
	m.mu.Unlock()
	if len(names) == 0 {
		return OK("no external APIs configured")
	}
	var bad, good []string
	for i, c := range apis {
		// The last real outcome first: a breaker that is still closed
		// says nothing while every request fails.
		if o := seen[i]; !o.at.IsZero() && o.class != "" {
			bad = append(bad, fmt.Sprintf("%s: last %s failed (%s) %v ago", names[i], o.op, o.class, round(now.Sub(o.at))))
			continue
		}
		if c == nil {
			good = append(good, names[i])
			continue
		}
		s := c.Check(ctx)
		if s.OK {
			good = append(good, names[i])
		} else {
			bad = append(bad, names[i]+": "+s.Reason)
		}
	}
	if len(bad) > 0 {
		return Fail("%s", strings.Join(bad, "; "))
	}
	return OK("%s reachable", strings.Join(good, ", "))
}

func (m *Monitor) threadPools(now time.Time) Status {
	if s, ok := m.lifecycle(); !ok {
		return s
	}
	if m.o.Stats == nil {
		return OK("pipeline running (no stage stats)")
	}
	stats := m.o.Stats()
	m.mu.Lock()
	defer m.mu.Unlock()
	queued := int64(0)
	var bad []string
	for _, s := range stats {
		queued += s.Queued
		p, ok := m.seen[s.Name]
		if !ok || p.in != s.In {
			p = progress{in: s.In, since: now}
			m.seen[s.Name] = p
		}
		switch {
		case s.Queued > 0 && now.Sub(p.since) > m.o.StaleAfter:
			bad = append(bad, fmt.Sprintf("stage %s stuck: %d items queued, none taken for %v", s.Name, s.Queued, round(now.Sub(p.since))))
		case m.o.MaxQueued > 0 && s.Queued > m.o.MaxQueued:
			bad = append(bad, fmt.Sprintf("stage %s: %d items queued (limit %d)", s.Name, s.Queued, m.o.MaxQueued))
		}
	}
	if len(bad) > 0 {
		return Fail("%s", strings.Join(bad, "; "))
	}
	return OK("%d stages, %d items queued", len(stats), queued)
}
