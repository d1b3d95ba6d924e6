package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/tickflow/tickflow/internal/breaker"
	"github.com/tickflow/tickflow/internal/httpx"
	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/internal/retry"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// WebhookHook receives a [Webhook]'s own observations, beside the I/O
// layer's (Observer); *metrics.Metrics implements it, so the webhook's work
// shows in the metrics without this package importing metrics.
type WebhookHook interface {
	Retried(op string)                         // an attempt failed and will be retried
	Discarded(op, reason string)               // a signal given up
	RateLimited(op string, wait time.Duration) // a request waited for the rate limit
	BreakerState(name, state string)           // the circuit breaker changed state
}

// RetryPolicy is the I/O layer's retry policy (the ADR's retry_attempts,
// backoff_factor, request_timeout); its zero value means 3 retries waiting
// 1, 2 and 4 s (jittered) and 30 s per attempt; Attempts below zero means
// none.
type RetryPolicy = retry.Policy

// Observer receives every outbound operation (type, start, end, error
// class); *metrics.Metrics and *health.Monitor implement it.
type Observer = observe.Observer

// Reasons a [Webhook] gives up a signal, as passed to WebhookHook.Discarded.
const (
	DiscardQueueFull        = "queue_full"        // the queue was full: the endpoint cannot keep up
	DiscardBreakerOpen      = "breaker_open"      // the circuit breaker is open
	DiscardRetriesExhausted = "retries_exhausted" // every attempt failed
	DiscardRejected         = "rejected"          // the endpoint answered 4xx: retrying would not help
	DiscardShutdown         = "shutdown"          // the webhook was closed first
)

// Defaults of [WebhookConfig] fields left zero.
const (
	DefaultWebhookRate  = 5.0
	DefaultWebhookBurst = 10
	DefaultWebhookQueue = 1024
)

// WebhookConfig configures a [Webhook]; the zero value of each field but
// URL means its default.
type WebhookConfig struct {
	URL    string      // http or https endpoint; required
	Header http.Header // extra request headers, e.g. Authorization
	// Transport sends the requests (default http.DefaultTransport).
	Transport http.RoundTripper
	// Retry retries network errors, timeouts (reading the answer
	// included), 408, 429 (honouring Retry-After) and 5xx.
	Retry RetryPolicy

	Rate  float64 // requests per second (default 5)
	Burst int     // requests allowed at once above Rate (default 10)

	QueueSize int // signals waiting for delivery (default 1024)

	BreakerFailures int           // consecutive failures that open the breaker (default 5)
	BreakerCooldown time.Duration // how long it stays open before a trial request (default 30 s)

	Name     string       // operation_type and breaker name (default "webhook")
	Hook     WebhookHook  // nil observes nothing
	Observer Observer     // told of every attempt; nil observes nothing
	Logger   *slog.Logger // nil logs nothing
}

// Webhook is a sink that POSTs each signal as JSON to its URL:
//
//	{"symbol":"AAPL","time":"2024-01-02T15:10:00Z","side":"buy","price":185.1,"reason":"...",
//	 "ema":184.9,"stochrsi_k":23.5,"stochrsi_d":18.2}
//
// Write never waits for the endpoint: it queues the batch's signals (a full
// queue discards, counted) and one goroutine, started by the first Write
// and ended by Close, delivers them in order through the I/O layer: each
// attempt bounded by Retry.Timeout, retried with exponential back-off,
// paced by a token-bucket rate limit and guarded by a circuit breaker that
// fails fast while the endpoint is down. A signal that cannot be delivered
// is discarded and counted, not returned as an error: a webhook outage must
// not stop the stream. Flush waits for the queue to empty.
//
//	Write ──queue (QueueSize)──▶ sender: rate limit ─▶ breaker ─▶ POST (timeout) ─▶ retry with back-off
//
// The URL and Header may hold secrets: they never appear in logs or
// errors, which name only the URL's scheme and host.
//
// Make it with NewWebhook, which checks the settings.
type Webhook struct {
	cfg     WebhookConfig
	target  string // scheme://host, safe to print
	http    *httpx.Client
	limiter *rate.Limiter
	breaker *breaker.Breaker

	start   sync.Once
	queue   chan []byte
	stop    chan struct{}
	cancel  context.CancelFunc // cancels the request in flight and back-off waits
	stopped chan struct{}
	closed  atomic.Bool

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

func (noHook) Retried(string)                    {}
func (noHook) Discarded(string, string)          {}
func (noHook) RateLimited(string, time.Duration) {}
func (noHook) BreakerState(string, string)       {}

// NewWebhook checks cfg (a URL that is http or https, with a host) and
// returns the sink; nothing is sent before the first Write.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("sinks.Webhook: URL is not an http or https URL")
	}
	w := &Webhook{cfg: cfg, target: u.Scheme + "://" + u.Host}
	c := &w.cfg
	if c.Rate <= 0 {
		c.Rate = DefaultWebhookRate
	}
	if c.Burst <= 0 {
		c.Burst = DefaultWebhookBurst
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultWebhookQueue
	}
	if c.Name == "" {
		c.Name = "webhook"
	}
	if c.Hook == nil {
		c.Hook = noHook{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	w.limiter = rate.NewLimiter(rate.Limit(c.Rate), c.Burst)
	w.breaker = breaker.New(breaker.Settings{Name: c.Name, Failures: c.BreakerFailures, Cooldown: c.BreakerCooldown,
		// A 4xx answer shows the endpoint is up.
		IsSuccessful: func(err error) bool { return err == nil || retry.IsPermanent(err) },
		OnStateChange: func(name, _, to string) {
			c.Hook.BreakerState(name, to)
			c.Logger.Warn("webhook circuit breaker", "name", name, "state", to, "target", w.target)
		}})
	c.Hook.BreakerState(c.Name, w.breaker.State())
	policy := c.Retry
	policy.OnRetry = func(int, time.Duration, error) { c.Hook.Retried(c.Name) }
	w.http = &httpx.Client{
		Transport: c.Transport, Policy: policy, Observer: c.Observer, Op: c.Name, MaxBody: 64 << 10, FailOn4xx: true,
		Wait: func(ctx context.Context) error {
			if d := w.limiter.Reserve().Delay(); d > 0 {
				c.Hook.RateLimited(c.Name, d)
				return retry.Sleep(ctx, d)
			}
			return nil
		},
		Guard: func(attempt func() error) error {
			err := w.breaker.Guard(attempt)
			if errors.Is(err, breaker.ErrOpen) {
				return retry.Permanent(err) // fail fast: the signal is discarded, counted
			}
			return err
		},
	}
	observe.Declare(c.Observer, c.Name)
	w.queue = make(chan []byte, c.QueueSize)
	w.stop = make(chan struct{})
	w.stopped = make(chan struct{})
	w.idle = make(chan struct{})
	close(w.idle)
	return w, nil
}

// run starts the sender, once.
func (w *Webhook) run() {
	w.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		go w.send(ctx)
	})
}

// BreakerState returns the circuit breaker's state: "closed", "half-open"
// or "open" (for a health check).
func (w *Webhook) BreakerState() string { return w.breaker.State() }

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
		if w.closed.Load() {
			return errors.New("sinks.Webhook: Write after Close")
		}
		body, err := json.Marshal(sig) // market.Signal's JSON form
		if err != nil {
			return fmt.Errorf("sinks.Webhook: encoding a signal of %s: %w", sig.Symbol, err)
		}
		w.run()
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
	if !w.closed.CompareAndSwap(false, true) {
		return nil
	}
	started := true
	w.start.Do(func() { started = false }) // never started: nothing to stop
	if started {
		w.cancel()
		close(w.stop)
		<-w.stopped
	}
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
	w.cfg.Hook.Discarded(w.cfg.Name, reason)
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return DiscardRejected
	}
	for k, v := range w.cfg.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tickflow-webhook")
	_, err = w.http.Do(ctx, req)
	var se *httpx.StatusError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, breaker.ErrOpen):
		return DiscardBreakerOpen
	case ctx.Err() != nil:
		return DiscardShutdown
	case errors.As(err, &se) && !httpx.Retryable(se.Code):
		w.cfg.Logger.Warn("webhook rejected a signal", "target", w.target, "error", se.Error())
		return DiscardRejected
	}
	// The I/O layer drops *url.Error, which quotes the URL: err names
	// neither the URL's path nor its credentials.
	w.cfg.Logger.Warn("webhook gave up a signal", "target", w.target, "error", err.Error())
	return DiscardRetriesExhausted
}
