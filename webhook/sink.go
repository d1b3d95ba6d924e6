package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/tickflow/tickflow/internal/breaker"
	"github.com/tickflow/tickflow/internal/httpx"
	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/internal/retry"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
)

// Hook receives a [Sink]'s own observations, beside the I/O layer's
// (Observer); *metrics.Metrics implements it, so the webhook's work shows
// in the metrics without this package importing metrics.
type Hook interface {
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

// Reasons a [Sink] gives up a signal, as passed to Hook.Discarded. Those
// its [sinks.Async] queue drops have the queue's reasons
// ([sinks.DiscardQueueFull], [sinks.DiscardShutdown]).
const (
	DiscardBreakerOpen      = "breaker_open"      // the circuit breaker is open
	DiscardRetriesExhausted = "retries_exhausted" // every attempt failed
	DiscardRejected         = "rejected"          // the endpoint answered 4xx: retrying would not help
)

// Defaults of [Config] fields left zero.
const (
	DefaultRate      = 5.0
	DefaultBurst     = 10
	DefaultQueueSize = 1024
	DefaultSlowAfter = 5 * time.Second
)

// Config configures a [Sink]; the zero value of each field but
// URL means its default.
type Config struct {
	URL    string      // http or https endpoint; required
	Header http.Header // extra request headers, e.g. Authorization
	// Format is the request body: FormatJSON (default), FormatSlack,
	// FormatDiscord or FormatTelegram (see [Format]).
	Format Format
	// TelegramChatID is the chat a FormatTelegram message goes to
	// (required with it; URL is then https://api.telegram.org/bot<token>/sendMessage).
	TelegramChatID string
	// Transport sends the requests (default http.DefaultTransport).
	Transport http.RoundTripper
	// Retry retries network errors, timeouts (reading the answer
	// included), 408, 429 (honouring Retry-After) and 5xx.
	Retry RetryPolicy

	Rate  float64 // requests per second (default 5)
	Burst int     // requests allowed at once above Rate (default 10)

	// QueueSize is the capacity of the [sinks.Async] queue meant to run
	// the webhook (default 1024); the Sink itself does not queue.
	QueueSize int

	BreakerFailures int           // consecutive failures that open the breaker (default 5)
	BreakerCooldown time.Duration // how long it stays open before a trial request (default 30 s)

	// SlowAfter is how long one signal's delivery (its retries included)
	// may take before Health reports the endpoint as failing (default 5 s):
	// a hanging endpoint is unhealthy long before its request times out.
	SlowAfter time.Duration

	Name     string       // operation_type and breaker name (default "webhook")
	Hook     Hook         // nil observes nothing
	Observer Observer     // told of every attempt; nil observes nothing
	Logger   *slog.Logger // nil logs nothing
}

// Sink is a sink that POSTs each signal to its URL, by default as JSON:
//
//	{"symbol":"AAPL","time":"2024-01-02T15:10:00Z","side":"buy","price":185.1,"reason":"...",
//	 "ema":184.9,"stochrsi_k":23.5,"stochrsi_d":18.2}
//
// or as a Slack, Discord or Telegram message (Format).
//
// Write delivers the batch's signals in order, synchronously, through the
// I/O layer: each attempt bounded by Retry.Timeout, retried with
// exponential back-off, paced by a token-bucket rate limit and guarded by a
// circuit breaker that fails fast while the endpoint is down. A signal that
// cannot be delivered is logged with the signal, counted and passed to
// Hook.Discarded, not returned as an error: a webhook outage must not stop
// the stream. Only a done ctx ends Write early, with its error.
//
// Since Write waits for the endpoint, a live pipeline runs the webhook
// behind [sinks.Async], whose queue and overflow policy keep a slow endpoint off
// the pipeline's path:
//
//	sinks.Async(Sink) ──queue──▶ Write: rate limit ─▶ breaker ─▶ POST (timeout) ─▶ retry with back-off
//
// The URL and Header may hold secrets: they never appear in logs or
// errors, which name only the URL's scheme and host.
//
// Make it with [New], which checks the settings.
type Sink struct {
	cfg     Config
	target  string // scheme://host, safe to print
	http    *httpx.Client
	limiter *rate.Limiter
	breaker *breaker.Breaker
	closed  atomic.Bool

	delivered, discarded atomic.Int64
	busySince            atomic.Int64 // unix ns when the delivery in flight began; 0 when idle
	lastGivenUp          atomic.Value // string: the reason the last signal was given up, "" when delivered
}

var (
	_ pipeline.Sink[market.Event] = (*Sink)(nil)
	_ pipeline.Closer             = (*Sink)(nil)
)

type noHook struct{}

func (noHook) Retried(string)                    {}
func (noHook) Discarded(string, string)          {}
func (noHook) RateLimited(string, time.Duration) {}
func (noHook) BreakerState(string, string)       {}

// New checks cfg (a URL that is http or https, with a host; a known
// Format; a chat id for Telegram) and returns the sink; nothing is sent
// before the first Write.
func New(cfg Config) (*Sink, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook.Sink: URL is not an http or https URL")
	}
	if err := cfg.Format.check(cfg.TelegramChatID); err != nil {
		return nil, fmt.Errorf("webhook.Sink: %w", err)
	}
	w := &Sink{cfg: cfg, target: u.Scheme + "://" + u.Host}
	w.lastGivenUp.Store("")
	c := &w.cfg
	if c.Rate <= 0 {
		c.Rate = DefaultRate
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.SlowAfter <= 0 {
		c.SlowAfter = DefaultSlowAfter
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
	return w, nil
}

// QueueSize is the queue capacity configured for the webhook's [sinks.Async]
// (Config.QueueSize, defaulted).
func (w *Sink) QueueSize() int { return w.cfg.QueueSize }

// Name is the webhook's operation_type, as passed to its hooks.
func (w *Sink) Name() string { return w.cfg.Name }

// BreakerState returns the circuit breaker's state: "closed", "half-open"
// or "open".
func (w *Sink) BreakerState() string { return w.breaker.State() }

// Health is nil while the endpoint looks healthy. It is an error when the
// breaker is not closed, when the last signal was given up (its reason),
// or when the delivery in flight has taken longer than SlowAfter: a
// hanging endpoint, whose attempt has not yet timed out, is not healthy.
func (w *Sink) Health(context.Context) error {
	if st := w.breaker.State(); st != "closed" {
		return fmt.Errorf("webhook.Sink %s: circuit breaker %s", w.target, st)
	}
	if since := w.busySince.Load(); since != 0 {
		if d := time.Since(time.Unix(0, since)); d > w.cfg.SlowAfter {
			return fmt.Errorf("webhook.Sink %s: a signal has waited %v for delivery", w.target, d.Round(time.Second))
		}
	}
	if reason := w.lastGivenUp.Load().(string); reason != "" {
		return fmt.Errorf("webhook.Sink %s: the last signal was given up (%s)", w.target, reason)
	}
	return nil
}

// Delivered returns how many signals the endpoint accepted.
func (w *Sink) Delivered() int64 { return w.delivered.Load() }

// DiscardedSignals returns how many signals the webhook gave up (retries
// exhausted, rejected, breaker open); those its [sinks.Async] queue dropped are
// in the queue's Stats.
func (w *Sink) DiscardedSignals() int64 { return w.discarded.Load() }

// Write delivers the batch's signals, in order; events without a signal
// are ignored. A signal given up is counted, not an error; a done ctx
// stops Write with its error before the next signal.
func (w *Sink) Write(ctx context.Context, items []market.Event) error {
	if w.closed.Load() {
		return errors.New("webhook.Sink: Write after Close")
	}
	for i := range items {
		sig := items[i].Signal
		if sig == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("webhook.Sink: signal of %s at %s not sent: %w", sig.Symbol, sig.Time.UTC().Format(time.RFC3339), err)
		}
		body, err := w.cfg.Format.body(sig, w.cfg.TelegramChatID)
		if err != nil {
			return fmt.Errorf("webhook.Sink: encoding a signal of %s: %w", sig.Symbol, err)
		}
		w.busySince.Store(time.Now().UnixNano())
		reason := w.deliver(ctx, sig, body)
		w.busySince.Store(0)
		switch {
		case reason == "":
			w.delivered.Add(1)
		case ctx.Err() != nil:
			// Cancelled, not given up: the caller (sinks.Async's Close)
			// counts what it cut short.
			return fmt.Errorf("webhook.Sink: signal of %s at %s not sent: %w", sig.Symbol, sig.Time.UTC().Format(time.RFC3339), ctx.Err())
		default:
			w.discarded.Add(1)
			w.cfg.Hook.Discarded(w.cfg.Name, reason)
		}
		w.lastGivenUp.Store(reason)
	}
	return nil
}

// Close makes later Writes fail; the webhook holds nothing to release.
func (w *Sink) Close() error {
	w.closed.Store(true)
	return nil
}

// deliver posts body until it is accepted ("") or given up (the reason,
// logged with the signal).
func (w *Sink) deliver(ctx context.Context, sig *market.Signal, body []byte) string {
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
	if err == nil {
		return ""
	}
	if ctx.Err() != nil {
		return sinks.DiscardShutdown
	}
	// The I/O layer drops *url.Error, which quotes the URL: err names
	// neither the URL's path nor its credentials.
	log := func(msg, reason string) string {
		w.cfg.Logger.Warn(msg, "target", w.target, "reason", reason, "symbol", sig.Symbol, "side", sig.Side.String(),
			"signal_time", sig.Time.UTC(), "price", sig.Price, "error", err.Error())
		return reason
	}
	var se *httpx.StatusError
	switch {
	case errors.Is(err, breaker.ErrOpen):
		return log("webhook gave up a signal: circuit breaker open", DiscardBreakerOpen)
	case errors.As(err, &se) && !httpx.Retryable(se.Code):
		return log("webhook rejected a signal", DiscardRejected)
	}
	return log("webhook gave up a signal", DiscardRetriesExhausted)
}
