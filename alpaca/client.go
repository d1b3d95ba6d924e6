package alpaca

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	"golang.org/x/time/rate"

	"github.com/tickflow/tickflow/internal/breaker"
	"github.com/tickflow/tickflow/internal/httpx"
	"github.com/tickflow/tickflow/internal/limit"
	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/internal/retry"
	"github.com/tickflow/tickflow/pipeline"
)

// Alpaca's endpoints, and the defaults of [Config].
const (
	PaperURL               = "https://paper-api.alpaca.markets"
	LiveURL                = "https://api.alpaca.markets"
	DefaultDataURL         = "https://data.alpaca.markets"
	DefaultStreamURL       = "wss://stream.data.alpaca.markets/v2"
	DefaultCryptoStreamURL = "wss://stream.data.alpaca.markets/v1beta3/crypto"

	DefaultRequestsPerMinute     = 200 // Alpaca's Basic plan
	DefaultMaxConcurrentRequests = 4
)

// The operation types the client reports to its Observer.
const (
	OpREST          = "alpaca.rest"           // one REST attempt (a page of bars, a position, ...)
	OpStreamConnect = "alpaca.stream_connect" // one websocket connect
	OpOrder         = "alpaca.order"          // one order placement attempt
	OpTradeUpdates  = "alpaca.trade_updates"  // one connection of the trade-update stream
)

// Errors of the package, whichever component returns them. Each is wrapped
// with the place and cause; test with errors.Is.
var (
	// ErrAuth: the keys were refused (HTTP 401/403, stream 402).
	ErrAuth = errors.New("authentication failed")
	// ErrConfig: the configuration is incomplete or contradictory.
	ErrConfig = errors.New("invalid configuration")
	// ErrLiveNotAllowed: the trading URL is Alpaca's live endpoint but
	// Config.Live is not set.
	ErrLiveNotAllowed = errors.New("live trading endpoint without Live: true")
	// ErrRecentSIP: the plan does not allow SIP data of the last 15
	// minutes; use the iex feed or end the range earlier.
	ErrRecentSIP = errors.New("subscription does not permit querying recent SIP data")
	// ErrRetries: a request still failed after every retry.
	ErrRetries = retry.ErrExhausted
	// ErrCircuitOpen: the circuit breaker is open after repeated
	// failures; requests fail fast until it lets a trial through.
	ErrCircuitOpen = breaker.ErrOpen
	// ErrNoBars: a symbol had no bars in the range (an unknown symbol, or
	// no trading in it).
	ErrNoBars = errors.New("no bars")
	// ErrInvalid: Alpaca rejected the request for a symbol (HTTP
	// 400/404/422), e.g. an invalid symbol.
	ErrInvalid = errors.New("rejected by Alpaca")
	// ErrGap: bars missed by the stream (a reconnect, a full queue) could
	// not be back-filled from REST; the symbol fails rather than go on
	// with a hole.
	ErrGap = errors.New("gap not back-filled")
	// ErrOrderUnknown: an order request still failed after every retry;
	// whether it was placed is unknown, so the run stops rather than
	// guess. Its client_order_id makes a later retry safe.
	ErrOrderUnknown = errors.New("order outcome unknown after retries")
)

// RetryPolicy is the I/O layer's retry policy (retry_attempts,
// backoff_factor, request_timeout; see its fields). Its zero value means
// 3 retries, factor 2, waits from 1 s to 30 s, 30 s per attempt; Attempts
// below zero means none.
type RetryPolicy = retry.Policy

// Observer receives every outbound operation (type, start, end, error
// class); *metrics.Metrics and *health.Monitor implement it.
type Observer = observe.Observer

// Config configures a [Client]. Its zero value means the defaults;
// credentials and URLs come from Alpaca's environment variables when unset.
// Credentials never appear in errors or logs.
type Config struct {
	// KeyID and SecretKey default to APCA_API_KEY_ID and
	// APCA_API_SECRET_KEY; a missing one is a one-line error naming the
	// variable.
	KeyID, SecretKey string
	// DataURL defaults to APCA_API_DATA_URL, else https://data.alpaca.markets.
	DataURL string
	// TradingURL defaults to APCA_API_BASE_URL, else PaperURL (LiveURL
	// with Live).
	TradingURL string
	// Live allows orders on Alpaca's live endpoint (real money); without
	// it NewOrders refuses that endpoint.
	Live bool
	// StreamURL is the stocks stream base (default DATA_PROXY_WS, else
	// DefaultStreamURL); the SDK appends "/"+Feed. CryptoStreamURL is the
	// crypto one (default DATA_CRYPTO_PROXY_WS, else
	// DefaultCryptoStreamURL); the SDK appends "/"+CryptoLoc.
	StreamURL, CryptoStreamURL string
	// Feed is the stock feed: "iex" (default, free), "sip", "delayed_sip", ...
	Feed string
	// CryptoLoc is the crypto location, default "us".
	CryptoLoc string

	// RequestsPerMinute is the token bucket's rate (default 200, Alpaca's
	// Basic plan; 10000 on paid plans). Every market-data attempt takes a
	// token; trading requests do not wait for one.
	RequestsPerMinute int
	// Limiter, if set, is used instead of a bucket of its own: share one
	// between the clients of one account.
	Limiter *rate.Limiter
	// Retry is the retry policy of every request, orders and stream
	// connects included: 429, 5xx, timeouts and network errors, the
	// response body included, are retried. A 429's Retry-After is honoured
	// up to Retry.Max.
	Retry RetryPolicy
	// BreakerFailures consecutive failed market-data attempts open the
	// circuit breaker (default 5); after BreakerCooldown (default 30s) one
	// trial request is let through.
	BreakerFailures int
	BreakerCooldown time.Duration
	// MaxConcurrentRequests bounds the HTTP requests in flight of each
	// operation type (OpREST, OpOrder; the ADR's max_concurrent_requests;
	// default 4: at 200 requests a minute more would only queue on the
	// token bucket). Each bound is adaptive below it: a 429, a 503 or a
	// timeout shrinks it, a window of successes grows it back (AIMD), so
	// that a server with a concurrency cap is not hammered with requests
	// it can only refuse.
	MaxConcurrentRequests int

	// Transport performs HTTP requests (default: a private clone of
	// http.DefaultTransport, released by Close).
	Transport http.RoundTripper
	// Logger receives retries and breaker changes (default slog.Default()).
	Logger *slog.Logger
	// Observer, if set, is told of every outbound operation, and, if it
	// has a ConcurrencyLimit(op string, limit int) method, of each
	// operation type's adaptive limit (see MaxConcurrentRequests).
	Observer Observer
}

// Client is the one connection to Alpaca that every component of the
// package shares: resolved credentials and URLs, the token bucket, the
// circuit breaker, the transport, the bound on requests in flight and the
// retry policy. Make it with NewClient; it is safe for concurrent use.
type Client struct {
	cfg        Config
	limiter    *rate.Limiter
	breaker    *breaker.Breaker
	transport  http.RoundTripper
	ownedTrans *http.Transport
	limits     map[string]*limit.Limiter // per operation type
	log        *slog.Logger

	requests, retries, exhausted atomic.Int64
}

// missingVarError names the environment variable to set.
func missingVarError(name, what, env string) error {
	return fmt.Errorf("%s: %w: no %s: set %s", name, ErrConfig, what, env)
}

const clientName = "alpaca.Client"

// NewClient resolves cfg (environment, defaults) and checks it: keys
// present, URLs well formed.
func NewClient(cfg Config) (*Client, error) {
	c, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	cl := &Client{cfg: c, log: c.Logger, limiter: c.Limiter, transport: c.Transport, limits: map[string]*limit.Limiter{}}
	for _, op := range []string{OpREST, OpOrder} {
		// The Observer, when it takes limits (*metrics.Metrics does),
		// gets each one for its gauge.
		l, err := limit.New(limit.Config{Max: c.MaxConcurrentRequests, OnLimit: func(n int) { observe.ReportLimit(c.Observer, op, n) }})
		if err != nil {
			return nil, fmt.Errorf("%s: %w: MaxConcurrentRequests: %w", clientName, ErrConfig, err)
		}
		cl.limits[op] = l
	}
	if cl.limiter == nil {
		burst := max(1, c.RequestsPerMinute/20)
		cl.limiter = rate.NewLimiter(rate.Limit(float64(c.RequestsPerMinute)/60), burst)
	}
	if cl.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = c.MaxConcurrentRequests
		cl.transport, cl.ownedTrans = t, t
	}
	cl.breaker = breaker.New(breaker.Settings{Name: clientName, Failures: c.BreakerFailures, Cooldown: c.BreakerCooldown,
		OnStateChange: func(_, from, to string) { cl.log.Warn("alpaca circuit breaker", "from", from, "to", to) }})
	cl.cfg.Retry.OnRetry = func(attempt int, wait time.Duration, err error) {
		cl.retries.Add(1)
		cl.log.Debug("alpaca request retry", "attempt", attempt, "wait", wait, "err", err)
	}
	observe.Declare(c.Observer, OpREST, OpStreamConnect, OpOrder, OpTradeUpdates)
	return cl, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func checkURL(what, u string, schemes ...string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || !slices.Contains(schemes, p.Scheme) {
		return fmt.Errorf("%s: %w: %s %q is not a %s URL", clientName, ErrConfig, what, u, strings.Join(schemes, " or "))
	}
	return nil
}

// resolve fills defaults from the environment and constants.
func resolve(c Config) (Config, error) {
	c.KeyID = firstNonEmpty(c.KeyID, os.Getenv("APCA_API_KEY_ID"))
	c.SecretKey = firstNonEmpty(c.SecretKey, os.Getenv("APCA_API_SECRET_KEY"))
	if c.KeyID == "" {
		return c, missingVarError(clientName, "API key ID", "APCA_API_KEY_ID")
	}
	if c.SecretKey == "" {
		return c, missingVarError(clientName, "API secret key", "APCA_API_SECRET_KEY")
	}
	c.DataURL = strings.TrimRight(firstNonEmpty(c.DataURL, os.Getenv("APCA_API_DATA_URL"), DefaultDataURL), "/")
	if err := checkURL("data URL", c.DataURL, "http", "https"); err != nil {
		return c, err
	}
	def := PaperURL
	if c.Live {
		def = LiveURL
	}
	c.TradingURL = strings.TrimRight(firstNonEmpty(c.TradingURL, os.Getenv("APCA_API_BASE_URL"), def), "/")
	if err := checkURL("trading URL", c.TradingURL, "http", "https"); err != nil {
		return c, err
	}
	c.StreamURL = firstNonEmpty(c.StreamURL, os.Getenv("DATA_PROXY_WS"), DefaultStreamURL)
	if err := checkURL("stream URL", c.StreamURL, "ws", "wss", "http", "https"); err != nil {
		return c, err
	}
	c.CryptoStreamURL = firstNonEmpty(c.CryptoStreamURL, os.Getenv("DATA_CRYPTO_PROXY_WS"), DefaultCryptoStreamURL)
	if err := checkURL("crypto stream URL", c.CryptoStreamURL, "ws", "wss", "http", "https"); err != nil {
		return c, err
	}
	c.Feed = firstNonEmpty(c.Feed, marketdata.IEX)
	c.CryptoLoc = firstNonEmpty(c.CryptoLoc, marketdata.US)
	if c.RequestsPerMinute <= 0 {
		c.RequestsPerMinute = DefaultRequestsPerMinute
	}
	c.Retry = c.Retry.Resolved()
	if c.MaxConcurrentRequests <= 0 {
		c.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() error {
	if c != nil && c.ownedTrans != nil {
		c.ownedTrans.CloseIdleConnections()
	}
	return nil
}

// Health is nil unless the REST circuit breaker is open (an error
// wrapping ErrCircuitOpen).
func (c *Client) Health(context.Context) error {
	if c.breaker.State() == "open" {
		return fmt.Errorf("%s: %w", clientName, ErrCircuitOpen)
	}
	return nil
}

// BreakerState is the circuit breaker's state: "closed", "half-open" or
// "open".
func (c *Client) BreakerState() string { return c.breaker.State() }

// RequestStats counts the HTTP work of a client.
type RequestStats struct {
	Requests  int64 // HTTP attempts sent
	Retries   int64 // attempts that were retries
	Exhausted int64 // requests that failed after every retry
}

// ConcurrencyLimit is the current adaptive bound on op's requests in flight
// (OpREST or OpOrder; 0 for another op).
func (c *Client) ConcurrencyLimit(op string) int {
	if l := c.limits[op]; l != nil {
		return l.Limit()
	}
	return 0
}

// Stats returns the client's request counters.
func (c *Client) Stats() RequestStats {
	return RequestStats{Requests: c.requests.Load(), Retries: c.retries.Load(), Exhausted: c.exhausted.Load()}
}

// http is the I/O layer's client for operations of type op: op's adaptive
// bound on requests in flight, and for market data (guarded) the token
// bucket before each attempt and the circuit breaker around it. Trading
// requests (positions, orders) do not wait behind a back-fill's tokens, and
// a data outage does not open the breaker on them. The bound holds each
// attempt, inside the retry layer: a request backing off holds no slot.
func (c *Client) http(op string, guarded bool) *httpx.Client {
	h := &httpx.Client{Transport: countingTransport{c}, Policy: c.cfg.Retry, Observer: c.cfg.Observer, Op: op,
		Limit: c.limits[op]}
	if guarded {
		// An open breaker's refusal is retried like a failure: the
		// back-off may outlast the cooldown.
		h.Wait, h.Guard = c.limiter.Wait, c.breaker.Guard
	}
	return h
}

type countingTransport struct{ c *Client }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.c.requests.Add(1)
	return t.c.transport.RoundTrip(r)
}

// noting wraps a RoundTripper so that requests that failed after every
// retry are counted (Stats.Exhausted).
type noting struct {
	c  *Client
	rt http.RoundTripper
}

func (n noting) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := n.rt.RoundTrip(r)
	if errors.Is(err, retry.ErrExhausted) {
		n.c.exhausted.Add(1)
	}
	return resp, err
}

// marketData returns an SDK client whose every request runs through the
// I/O layer under ctx. The SDK's own retries (fixed delay, not
// cancellable, leaking the unread body) are off.
func (c *Client) marketData(ctx context.Context) *marketdata.Client {
	return marketdata.NewClient(marketdata.ClientOpts{
		APIKey:     c.cfg.KeyID,
		APISecret:  c.cfg.SecretKey,
		BaseURL:    c.cfg.DataURL,
		RetryLimit: -1,
		Feed:       c.cfg.Feed,
		CryptoFeed: c.cfg.CryptoLoc,
		HTTPClient: &http.Client{Transport: noting{c, c.http(OpREST, true).Bind(ctx)}},
	})
}

// trading returns an SDK trading client whose requests run through the
// I/O layer under ctx, as operations of type op. The SDK's own 429 retry
// is off: it resends an emptied body.
func (c *Client) trading(ctx context.Context, op string) *alpaca.Client {
	return alpaca.NewClient(alpaca.ClientOpts{
		APIKey: c.cfg.KeyID, APISecret: c.cfg.SecretKey, BaseURL: c.cfg.TradingURL, RetryLimit: -1,
		HTTPClient: &http.Client{Transport: noting{c, c.http(op, false).Bind(ctx)}},
	})
}

// classifyErr turns an SDK error into a fatal error (whole run) or a
// per-symbol one. The SDK wraps transport errors in *url.Error whose text
// holds the whole query; only its cause is kept.
func (c *Client) classifyErr(ctx context.Context, err error) (fatal, perSymbol error) {
	if ctx.Err() != nil {
		return ctx.Err(), nil
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var apiErr *alpaca.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.StatusCode == http.StatusForbidden && strings.Contains(apiErr.Message, "recent SIP"):
			return fmt.Errorf("%s: %w (HTTP 403); use feed iex or end the range 15 minutes ago", clientName, ErrRecentSIP), nil
		case apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%s: %w (HTTP %d: %s); check APCA_API_KEY_ID and APCA_API_SECRET_KEY",
				clientName, ErrAuth, apiErr.StatusCode, apiErr.Message), nil
		case apiErr.StatusCode < 500:
			return nil, fmt.Errorf("%w (HTTP %d: %s)", ErrInvalid, apiErr.StatusCode, apiErr.Message)
		}
	}
	return nil, err
}

// timeFrame parses "1Min", "5Min", "1Hour", "1Day", "1Week", "1Month" (and
// the short units T, H, D, W, M) into the SDK's TimeFrame and a duration
// (a month counts 31 days: an upper bound, used to size requests).
func parseTimeFrame(s string) (marketdata.TimeFrame, time.Duration, error) {
	if s == "" {
		s = "1Min"
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n <= 0 {
		return marketdata.TimeFrame{}, 0, fmt.Errorf("timeframe %q: want a count and a unit, like 1Min, 15Min, 1Hour, 1Day", s)
	}
	var unit marketdata.TimeFrameUnit
	var d time.Duration
	switch s[i:] {
	case "Min", "T":
		unit, d = marketdata.Min, time.Minute
	case "Hour", "H":
		unit, d = marketdata.Hour, time.Hour
	case "Day", "D":
		unit, d = marketdata.Day, 24*time.Hour
	case "Week", "W":
		unit, d = marketdata.Week, 7*24*time.Hour
	case "Month", "M":
		unit, d = marketdata.Month, 31*24*time.Hour
	default:
		return marketdata.TimeFrame{}, 0, fmt.Errorf("timeframe %q: unit must be Min, Hour, Day, Week or Month", s)
	}
	// Alpaca's ranges: 1-59Min, 1-23Hour, 1Day, 1Week, 1, 2, 3, 4, 6 or 12Month.
	ok := false
	switch unit {
	case marketdata.Min:
		ok = n <= 59
	case marketdata.Hour:
		ok = n <= 23
	case marketdata.Day, marketdata.Week:
		ok = n == 1
	case marketdata.Month:
		ok = n == 1 || n == 2 || n == 3 || n == 4 || n == 6 || n == 12
	}
	if !ok {
		return marketdata.TimeFrame{}, 0, fmt.Errorf("timeframe %q: Alpaca allows 1-59Min, 1-23Hour, 1Day, 1Week, 1/2/3/4/6/12Month", s)
	}
	return marketdata.NewTimeFrame(n, unit), time.Duration(n) * d, nil
}

// isCrypto tells crypto pairs ("BTC/USD") from stock symbols.
func isCrypto(sym string) bool { return strings.Contains(sym, "/") }

// emitErr is the error to return when Emit fails: ctx's once it is done.
func emitErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// Close releases the client's idle connections (the pipeline calls it
// after the source ends); the client stays usable.
func (a *Bars) Close() error { return a.Client.Close() }

// Close releases the client's idle connections; the client stays usable.
func (s *Stream) Close() error { return s.Client.Close() }

// Close releases the client's idle connections after the last Write; the
// client stays usable.
func (o *Orders) Close() error { return o.c.Close() }

var (
	_ pipeline.Closer = (*Bars)(nil)
	_ pipeline.Closer = (*Stream)(nil)
	_ pipeline.Closer = (*Orders)(nil)
)
