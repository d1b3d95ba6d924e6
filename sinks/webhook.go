package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// WebhookHook receives a [Webhook]'s observations; *metrics.Metrics
// implements it, so the webhook's work shows in the ADR's metrics
// (async_operation_duration_seconds, active_async_tasks, async_errors_total)
// without this package importing metrics.
type WebhookHook interface {
	TaskStarted()                                                   // a request starts
	TaskDone()                                                      // it ends
	OperationDone(op string, elapsed time.Duration, errType string) // one attempt; errType "" on success
	Retried(op string)                                              // an attempt failed and will be retried
	Discarded(op, reason string)                                    // a signal given up
	RateLimited(op string, wait time.Duration)                      // a request waited for the rate limit
	BreakerState(name, state string)                                // the circuit breaker changed state
}

// Reasons a [Webhook] gives up a signal, as passed to WebhookHook.Discarded.
const (
	DiscardQueueFull        = "queue_full"        // the queue was full: the endpoint cannot keep up
	DiscardBreakerOpen      = "breaker_open"      // the circuit breaker is open
	DiscardRetriesExhausted = "retries_exhausted" // every attempt failed
	DiscardRejected         = "rejected"          // the endpoint answered 4xx: retrying would not help
	DiscardShutdown         = "shutdown"          // the webhook was closed first
)

// Defaults of [Webhook] fields left zero.
const (
	DefaultWebhookTimeout         = 30 * time.Second
	DefaultWebhookRetries         = 3
	DefaultWebhookBackoff         = 500 * time.Millisecond
	DefaultWebhookBackoffFactor   = 2.0
	DefaultWebhookMaxBackoff      = 30 * time.Second
	DefaultWebhookRate            = 5.0
	DefaultWebhookBurst           = 10
	DefaultWebhookQueue           = 1024
	DefaultWebhookBreakerFailures = 5
	DefaultWebhookBreakerTimeout  = 30 * time.Second
)

// Webhook is a sink that POSTs each signal as JSON to URL:
//
//	{"symbol":"AAPL","time":"2024-01-02T15:10:00Z","side":"buy","price":185.1,"reason":"...",
//	 "ema":184.9,"stochrsi_k":23.5,"stochrsi_d":18.2}
//
// Write never waits for the endpoint: it queues the batch's signals (a full
// queue discards, counted) and one goroutine, started by the first Write
// and ended by Close, delivers them in order, each attempt bounded by
// Timeout, retried with exponential back-off, paced by a token-bucket rate
// limit and guarded by a circuit breaker that fails fast while the
// endpoint is down. A signal that cannot be delivered is discarded and
// counted, not returned as an error: a webhook outage must not stop the
// stream. Flush waits for the queue to empty.
//
//	Write ──queue (QueueSize)──▶ sender: rate limit ─▶ breaker ─▶ POST (Timeout) ─▶ retry with back-off
//
// The URL and Header may hold secrets: they never appear in logs or
// errors, which name only the URL's scheme and host.
//
// Set the fields before the first Write; the zero value of each means its
// default.
type Webhook struct {
	URL    string      // http or https endpoint; required
	Header http.Header // extra request headers, e.g. Authorization
	Client *http.Client

	Timeout       time.Duration // per attempt (default 30 s, the ADR's request_timeout)
	Retries       int           // retries after the first attempt (default 3; negative: none)
	Backoff       time.Duration // wait before the first retry (default 500 ms)
	BackoffFactor float64       // growth of the wait per retry (default 2, the ADR's backoff_factor)
	MaxBackoff    time.Duration // cap of the wait (default 30 s)

	Rate  float64 // requests per second (default 5)
	Burst int     // requests allowed at once above Rate (default 10)

	QueueSize int // signals waiting for delivery (default 1024)

	BreakerFailures int           // consecutive failures that open the breaker (default 5)
	BreakerTimeout  time.Duration // how long it stays open before a trial request (default 30 s)

	Name   string       // operation_type and breaker name (default "webhook")
	Hook   WebhookHook  // nil observes nothing
	Logger *slog.Logger // nil logs nothing

	once    sync.Once
	initErr error
	target  string // scheme://host, safe to print
	queue   chan []byte
	stop    chan struct{}
	cancel  context.CancelFunc // cancels the request in flight and back-off waits
	stopped chan struct{}
	closed  atomic.Bool
	limiter *rate.Limiter
	breaker *gobreaker.CircuitBreaker[struct{}]

	mu      sync.Mutex
	pending int           // queued or being delivered
	idle    chan struct{} // closed while pending == 0

	delivered, discarded atomic.Int64
}

var (
	_ pipeline.Sink[market.Event] = (*Webhook)(nil)
	_ pipeline.Flusher            = (*Webhook)(nil)
	_ pipeline.Closer             = (*Webhook)(nil)
)

type noHook struct{}

func (noHook) TaskStarted()                                {}
func (noHook) TaskDone()                                   {}
func (noHook) OperationDone(string, time.Duration, string) {}
func (noHook) Retried(string)                              {}
func (noHook) Discarded(string, string)                    {}
func (noHook) RateLimited(string, time.Duration)           {}
func (noHook) BreakerState(string, string)                 {}

// errPermanent marks a failure that retrying will not fix (a 4xx answer).
var errPermanent = errors.New("rejected")

func (w *Webhook) init() error {
	w.once.Do(func() {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			w.initErr = errors.New("sinks.Webhook: URL is not an http or https URL")
			return
		}
		w.target = u.Scheme + "://" + u.Host
		if w.Client == nil {
			w.Client = &http.Client{}
		}
		if w.Timeout <= 0 {
			w.Timeout = DefaultWebhookTimeout
		}
		if w.Retries == 0 {
			w.Retries = DefaultWebhookRetries
		} else if w.Retries < 0 {
			w.Retries = 0
		}
		if w.Backoff <= 0 {
			w.Backoff = DefaultWebhookBackoff
		}
		if w.BackoffFactor < 1 {
			w.BackoffFactor = DefaultWebhookBackoffFactor
		}
		if w.MaxBackoff <= 0 {
			w.MaxBackoff = DefaultWebhookMaxBackoff
		}
		if w.Rate <= 0 {
			w.Rate = DefaultWebhookRate
		}
		if w.Burst <= 0 {
			w.Burst = DefaultWebhookBurst
		}
		if w.QueueSize <= 0 {
			w.QueueSize = DefaultWebhookQueue
		}
		if w.BreakerFailures <= 0 {
			w.BreakerFailures = DefaultWebhookBreakerFailures
		}
		if w.BreakerTimeout <= 0 {
			w.BreakerTimeout = DefaultWebhookBreakerTimeout
		}
		if w.Name == "" {
			w.Name = "webhook"
		}
		if w.Hook == nil {
			w.Hook = noHook{}
		}
		if w.Logger == nil {
			w.Logger = slog.New(slog.DiscardHandler)
		}
		w.limiter = rate.NewLimiter(rate.Limit(w.Rate), w.Burst)
		failures := uint32(w.BreakerFailures)
		w.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        w.Name,
			Timeout:     w.BreakerTimeout,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			// A 4xx answer shows the endpoint is up.
			IsSuccessful: func(err error) bool { return err == nil || errors.Is(err, errPermanent) },
			IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
			OnStateChange: func(name string, _, to gobreaker.State) {
				w.Hook.BreakerState(name, to.String())
				w.Logger.Warn("webhook circuit breaker", "name", name, "state", to.String(), "target", w.target)
			},
		})
		w.Hook.BreakerState(w.Name, gobreaker.StateClosed.String())
		w.queue = make(chan []byte, w.QueueSize)
		w.stop = make(chan struct{})
		w.stopped = make(chan struct{})
		w.idle = make(chan struct{})
		close(w.idle)
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		go w.send(ctx)
	})
	return w.initErr
}

// BreakerState returns the circuit breaker's state: "closed", "half-open"
// or "open" (for a health check).
func (w *Webhook) BreakerState() string {
	if w.init() != nil {
		return "closed"
	}
	return w.breaker.State().String()
}

// Delivered returns how many signals the endpoint accepted.
func (w *Webhook) Delivered() int64 { return w.delivered.Load() }

// DiscardedSignals returns how many signals were given up.
func (w *Webhook) DiscardedSignals() int64 { return w.discarded.Load() }

// Write queues the batch's signals for delivery; it never waits for the
// endpoint.
func (w *Webhook) Write(_ context.Context, items []market.Event) error {
	for i := range items {
		sig := items[i].Signal
		if sig == nil {
			continue
		}
		if err := w.init(); err != nil {
			return err
		}
		if w.closed.Load() {
			return errors.New("sinks.Webhook: Write after Close")
		}
		body, err := json.Marshal(sig) // market.Signal's JSON form
		if err != nil {
			return fmt.Errorf("sinks.Webhook: encoding a signal of %s: %w", sig.Symbol, err)
		}
		w.addPending(1)
		select {
		case w.queue <- body:
		default:
			w.addPending(-1)
			w.discard(DiscardQueueFull)
		}
	}
	return nil
}

// Flush waits until every queued signal has been delivered or discarded,
// or ctx is done.
func (w *Webhook) Flush(ctx context.Context) error {
	if w.queue == nil {
		return nil
	}
	w.mu.Lock()
	idle := w.idle
	w.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sinks.Webhook: flush: %d signals undelivered: %w", w.pendingCount(), ctx.Err())
	}
}

// Close stops the sender: a request in flight is cancelled, and signals
// still queued are discarded (counted). Call Flush first to deliver them.
func (w *Webhook) Close() error {
	if !w.closed.CompareAndSwap(false, true) || w.queue == nil {
		return nil
	}
	w.cancel()
	close(w.stop)
	<-w.stopped
	return nil
}

func (w *Webhook) addPending(d int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	was := w.pending
	w.pending += d
	switch {
	case was == 0 && w.pending > 0:
		w.idle = make(chan struct{})
	case was > 0 && w.pending == 0:
		close(w.idle)
	}
}

func (w *Webhook) pendingCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending
}

func (w *Webhook) discard(reason string) {
	w.discarded.Add(1)
	w.Hook.Discarded(w.Name, reason)
}

// send is the one goroutine that delivers, in queue order.
func (w *Webhook) send(ctx context.Context) {
	defer close(w.stopped)
	for {
		select {
		case body := <-w.queue:
			if reason := w.deliver(ctx, body); reason != "" {
				w.discard(reason)
			} else {
				w.delivered.Add(1)
			}
			w.addPending(-1)
		case <-w.stop:
			for {
				select {
				case <-w.queue:
					w.discard(DiscardShutdown)
					w.addPending(-1)
				default:
					return
				}
			}
		}
	}
}

// deliver posts body until it is accepted ("") or given up (the reason).
func (w *Webhook) deliver(ctx context.Context, body []byte) string {
	wait := w.Backoff
	for attempt := 0; ; attempt++ {
		if d := w.limiter.Reserve().Delay(); d > 0 {
			w.Hook.RateLimited(w.Name, d)
			if !sleep(ctx, d) {
				return DiscardShutdown
			}
		}
		var retryAfter time.Duration
		_, err := w.breaker.Execute(func() (struct{}, error) {
			var err error
			retryAfter, err = w.post(ctx, body)
			return struct{}{}, err
		})
		switch {
		case err == nil:
			return ""
		case errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests):
			return DiscardBreakerOpen
		case errors.Is(err, errPermanent):
			w.Logger.Warn("webhook rejected a signal", "target", w.target, "error", err.Error())
			return DiscardRejected
		case ctx.Err() != nil:
			return DiscardShutdown
		case attempt >= w.Retries:
			w.Logger.Warn("webhook gave up a signal", "target", w.target, "attempts", attempt+1, "error", err.Error())
			return DiscardRetriesExhausted
		}
		w.Hook.Retried(w.Name)
		d := max(wait, retryAfter)
		if !sleep(ctx, min(d, w.MaxBackoff)) {
			return DiscardShutdown
		}
		wait = time.Duration(math.Min(float64(wait)*w.BackoffFactor, float64(w.MaxBackoff)))
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// httpStatusError is a non-2xx answer.
type httpStatusError struct{ code int }

func (e *httpStatusError) Error() string { return "HTTP status " + strconv.Itoa(e.code) }

// ErrorType classifies the answer for async_errors_total.
func (e *httpStatusError) ErrorType() string {
	if e.code == http.StatusTooManyRequests {
		return "status_429"
	}
	return "status_" + strconv.Itoa(e.code/100) + "xx"
}

// post makes one attempt. Its errors never carry the URL.
func (w *Webhook) post(ctx context.Context, body []byte) (retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: building the request", errPermanent)
	}
	for k, v := range w.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tickflow-webhook")

	w.Hook.TaskStarted()
	start := time.Now()
	resp, err := w.Client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	elapsed := time.Since(start)
	w.Hook.TaskDone()

	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the URL, path tokens included
		}
		errType := "network"
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			errType = "timeout"
			err = fmt.Errorf("no answer within %v", w.Timeout)
		}
		if errors.Is(err, context.Canceled) {
			errType = "canceled"
		}
		w.Hook.OperationDone(w.Name, elapsed, errType)
		return 0, fmt.Errorf("POST to %s: %w", w.target, err)
	}
	if resp.StatusCode/100 == 2 {
		w.Hook.OperationDone(w.Name, elapsed, "")
		return 0, nil
	}
	se := &httpStatusError{resp.StatusCode}
	w.Hook.OperationDone(w.Name, elapsed, se.ErrorType())
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return 0, fmt.Errorf("POST to %s: %w: %w", w.target, errPermanent, se)
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			retryAfter = time.Duration(n) * time.Second
		}
	}
	return retryAfter, fmt.Errorf("POST to %s: %w", w.target, se)
}
