package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// Defaults of [AlpacaREST], from the ADR's AsyncConfig where it has a value.
const (
	DefaultAlpacaRequestsPerMinute = 200 // Alpaca's Basic plan
	DefaultAlpacaRequestTimeout    = 30 * time.Second
	DefaultAlpacaRetryAttempts     = 3
	DefaultAlpacaBackoffFactor     = 2.0
	DefaultAlpacaInitialBackoff    = time.Second
	DefaultAlpacaMaxBackoff        = 30 * time.Second
	DefaultAlpacaBreakerFailures   = 5
	DefaultAlpacaBreakerCooldown   = 30 * time.Second
	DefaultAlpacaConcurrency       = 4
	DefaultAlpacaDataURL           = "https://data.alpaca.markets"
)

// Errors of the Alpaca sources. Each is wrapped with the place and cause;
// test with errors.Is.
var (
	// ErrAlpacaAuth: the keys were refused (HTTP 401/403, stream 402).
	ErrAlpacaAuth = errors.New("authentication failed")
	// ErrAlpacaRecentSIP: the plan does not allow SIP data of the last 15
	// minutes; use the iex feed or end the range earlier.
	ErrAlpacaRecentSIP = errors.New("subscription does not permit querying recent SIP data")
	// ErrAlpacaRetries: a request still failed after every retry.
	ErrAlpacaRetries = errors.New("retries exhausted")
	// ErrAlpacaCircuitOpen: the circuit breaker is open after repeated
	// failures; requests fail fast until it lets a trial through.
	ErrAlpacaCircuitOpen = errors.New("circuit breaker open")
	// ErrAlpacaNoBars: a symbol had no bars in the range (an unknown
	// symbol, or no trading in it).
	ErrAlpacaNoBars = errors.New("no bars")
	// ErrAlpacaInvalid: Alpaca rejected the request for a symbol (HTTP
	// 400/404/422), e.g. an invalid symbol.
	ErrAlpacaInvalid = errors.New("rejected by Alpaca")
	// ErrAlpacaConfig: the configuration is incomplete or contradictory.
	ErrAlpacaConfig = errors.New("invalid configuration")
)

// AlpacaREST configures access to Alpaca's market-data REST API. It is
// shared by [AlpacaBars] and [AlpacaStream] (warm-up and back-fill). Its
// zero value means the defaults; credentials and the URL come from the SDK's
// environment variables when unset. Credentials never appear in errors or
// logs.
type AlpacaREST struct {
	// KeyID and SecretKey default to APCA_API_KEY_ID and
	// APCA_API_SECRET_KEY; a missing one is a one-line error naming the
	// variable.
	KeyID, SecretKey string
	// DataURL defaults to APCA_API_DATA_URL, else https://data.alpaca.markets.
	DataURL string
	// Feed is the stock feed: "iex" (default, free), "sip", "delayed_sip", ...
	Feed string
	// CryptoLoc is the crypto location, default "us".
	CryptoLoc string

	// RequestsPerMinute is the token bucket's rate (default 200, Alpaca's
	// Basic plan; 10000 on paid plans). Every HTTP attempt takes a token.
	RequestsPerMinute int
	// Limiter, if set, is used instead of a bucket of its own: share one
	// between every client of the same account.
	Limiter *rate.Limiter
	// RequestTimeout bounds one HTTP attempt, body included (default 30s).
	RequestTimeout time.Duration
	// RetryAttempts is how many times a request failing with 429, 5xx, a
	// timeout or a network error is retried (default 3; negative: none).
	RetryAttempts int
	// BackoffFactor multiplies the wait between retries (default 2.0),
	// starting at InitialBackoff (default 1s), capped at MaxBackoff (default
	// 30s); each wait is jittered between half and all of its value. A 429's
	// Retry-After, when present, is honoured up to MaxBackoff.
	BackoffFactor              float64
	InitialBackoff, MaxBackoff time.Duration
	// BreakerFailures consecutive failed attempts open the circuit breaker
	// (default 5); after BreakerCooldown (default 30s) one trial request
	// is let through.
	BreakerFailures int
	BreakerCooldown time.Duration
	// Concurrency is how many requests run at once (default 4): at 200
	// requests a minute more would only queue on the token bucket.
	Concurrency int
	// Transport performs HTTP requests (default: a private clone of
	// http.DefaultTransport, released by Close).
	Transport http.RoundTripper
	// Logger receives retries and breaker changes (default slog.Default()).
	Logger *slog.Logger
}

// restClient is the resolved configuration plus the shared machinery:
// token bucket, circuit breaker, transport and counters.
type restClient struct {
	name       string // "sources.AlpacaBars", for errors and logs
	cfg        AlpacaREST
	limiter    *rate.Limiter
	breaker    *gobreaker.CircuitBreaker[*http.Response]
	transport  http.RoundTripper
	ownedTrans *http.Transport
	log        *slog.Logger

	requests, retries, exhausted atomic.Int64
}

// missingVarError names the environment variable to set.
func missingVarError(name, what, env string) error {
	return fmt.Errorf("%s: %w: no %s: set %s", name, ErrAlpacaConfig, what, env)
}

func newRESTClient(name string, c AlpacaREST) (*restClient, error) {
	c, err := resolveREST(name, c)
	if err != nil {
		return nil, err
	}
	rc := &restClient{name: name, cfg: c, log: c.Logger, limiter: c.Limiter, transport: c.Transport}
	if rc.limiter == nil {
		burst := max(1, c.RequestsPerMinute/20)
		rc.limiter = rate.NewLimiter(rate.Limit(float64(c.RequestsPerMinute)/60), burst)
	}
	if rc.transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = c.Concurrency
		rc.transport, rc.ownedTrans = t, t
	}
	failures := uint32(c.BreakerFailures)
	rc.breaker = gobreaker.NewCircuitBreaker[*http.Response](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     c.BreakerCooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			rc.log.Warn("alpaca circuit breaker", "source", name, "from", from.String(), "to", to.String())
		},
	})
	return rc, nil
}

// refresh re-reads the configuration before a new run: retries, back-off,
// timeouts, URLs and credentials may change between runs; the token bucket,
// the breaker and the transport are kept.
func (rc *restClient) refresh(c AlpacaREST) error {
	c, err := resolveREST(rc.name, c)
	if err != nil {
		return err
	}
	c.Limiter, c.Transport = rc.cfg.Limiter, rc.cfg.Transport
	rc.cfg, rc.log = c, c.Logger
	return nil
}

// resolveREST fills defaults from the environment and constants.
func resolveREST(name string, c AlpacaREST) (AlpacaREST, error) {
	if c.KeyID == "" {
		c.KeyID = os.Getenv("APCA_API_KEY_ID")
	}
	if c.SecretKey == "" {
		c.SecretKey = os.Getenv("APCA_API_SECRET_KEY")
	}
	if c.KeyID == "" {
		return c, missingVarError(name, "API key ID", "APCA_API_KEY_ID")
	}
	if c.SecretKey == "" {
		return c, missingVarError(name, "API secret key", "APCA_API_SECRET_KEY")
	}
	if c.DataURL == "" {
		c.DataURL = os.Getenv("APCA_API_DATA_URL")
	}
	if c.DataURL == "" {
		c.DataURL = DefaultAlpacaDataURL
	}
	c.DataURL = strings.TrimRight(c.DataURL, "/")
	if u, err := url.Parse(c.DataURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("%s: %w: data URL %q is not an http(s) URL", name, ErrAlpacaConfig, c.DataURL)
	}
	if c.Feed == "" {
		c.Feed = marketdata.IEX
	}
	if c.CryptoLoc == "" {
		c.CryptoLoc = marketdata.US
	}
	if c.RequestsPerMinute <= 0 {
		c.RequestsPerMinute = DefaultAlpacaRequestsPerMinute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultAlpacaRequestTimeout
	}
	if c.RetryAttempts == 0 {
		c.RetryAttempts = DefaultAlpacaRetryAttempts
	} else if c.RetryAttempts < 0 {
		c.RetryAttempts = 0
	}
	if c.BackoffFactor < 1 {
		c.BackoffFactor = DefaultAlpacaBackoffFactor
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = DefaultAlpacaInitialBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultAlpacaMaxBackoff
	}
	if c.BreakerFailures <= 0 {
		c.BreakerFailures = DefaultAlpacaBreakerFailures
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = DefaultAlpacaBreakerCooldown
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultAlpacaConcurrency
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

func (rc *restClient) close() {
	if rc != nil && rc.ownedTrans != nil {
		rc.ownedTrans.CloseIdleConnections()
	}
}

// health is nil unless the breaker is open.
func (rc *restClient) health() error {
	if rc == nil {
		return nil
	}
	if rc.breaker.State() == gobreaker.StateOpen {
		return fmt.Errorf("%s: %w", rc.name, ErrAlpacaCircuitOpen)
	}
	return nil
}

func (rc *restClient) state() string {
	if rc == nil {
		return gobreaker.StateClosed.String()
	}
	return rc.breaker.State().String()
}

// marketData returns an SDK client whose every request runs through
// rc.roundTrip under ctx. The SDK's own retries (fixed delay, not
// cancellable, leaking the unread body) are off.
func (rc *restClient) marketData(ctx context.Context) *marketdata.Client {
	return marketdata.NewClient(marketdata.ClientOpts{
		APIKey:     rc.cfg.KeyID,
		APISecret:  rc.cfg.SecretKey,
		BaseURL:    rc.cfg.DataURL,
		RetryLimit: -1,
		Feed:       rc.cfg.Feed,
		CryptoFeed: rc.cfg.CryptoLoc,
		HTTPClient: &http.Client{Transport: ctxTransport{ctx: ctx, rc: rc}},
	})
}

// ctxTransport binds the SDK's context-free requests to one call's context.
type ctxTransport struct {
	ctx context.Context
	rc  *restClient
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.rc.roundTrip(t.ctx, r)
}

// statusError is a retryable HTTP answer (429 or 5xx).
type statusError struct {
	code       int
	msg        string
	retryAfter time.Duration
}

func (e *statusError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, e.msg)
}

var apiMessageRE = regexp.MustCompile(`"message"\s*:\s*"([^"]*)"`)

// retryable: 429, 5xx, timeouts and network errors; not cancellation.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	return true
}

// roundTrip runs one request with the token bucket, the circuit breaker,
// a per-attempt timeout and retries with jittered exponential back-off.
func (rc *restClient) roundTrip(ctx context.Context, r *http.Request) (*http.Response, error) {
	var last error
	for attempt := 0; ; attempt++ {
		if err := rc.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		resp, err := rc.breaker.Execute(func() (*http.Response, error) { return rc.attempt(ctx, r) })
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			err = ErrAlpacaCircuitOpen
		}
		last = err
		if !retryable(err) || attempt >= rc.cfg.RetryAttempts {
			break
		}
		wait := rc.backoff(attempt)
		var se *statusError
		if errors.As(err, &se) && se.retryAfter > wait {
			wait = min(se.retryAfter, rc.cfg.MaxBackoff)
		}
		rc.retries.Add(1)
		rc.log.Debug("alpaca request retry", "source", rc.name, "path", r.URL.Path,
			"attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	rc.exhausted.Add(1)
	if errors.Is(last, ErrAlpacaCircuitOpen) {
		return nil, last
	}
	return nil, fmt.Errorf("%w after %d attempts: %w", ErrAlpacaRetries, rc.cfg.RetryAttempts+1, last)
}

// backoff is the wait before retry number attempt+1: InitialBackoff ×
// BackoffFactor^attempt, capped, with "equal jitter" (half fixed, half random).
func (rc *restClient) backoff(attempt int) time.Duration {
	return jitterBackoff(attempt, rc.cfg.InitialBackoff, rc.cfg.MaxBackoff, rc.cfg.BackoffFactor)
}

func jitterBackoff(attempt int, initial, maxWait time.Duration, factor float64) time.Duration {
	d := float64(initial) * math.Pow(factor, float64(attempt))
	if d > float64(maxWait) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(maxWait)
	}
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// attempt performs one HTTP attempt. 429 and 5xx become a statusError
// (their body is read and closed here); other answers go to the SDK, which
// turns 4xx into *alpaca.APIError.
func (rc *restClient) attempt(ctx context.Context, r *http.Request) (*http.Response, error) {
	rc.requests.Add(1)
	actx, cancel := context.WithTimeout(ctx, rc.cfg.RequestTimeout)
	resp, err := rc.transport.RoundTrip(r.Clone(actx))
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cancel()
		se := &statusError{code: resp.StatusCode}
		if m := apiMessageRE.FindSubmatch(body); m != nil {
			se.msg = string(m[1])
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.retryAfter = time.Duration(s) * time.Second
		}
		return nil, se
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends the attempt's context once the body is read or closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	once   sync.Once
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.cancel)
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.cancel)
	return err
}

// classifyErr turns an SDK error into a fatal error (whole run) or a
// per-symbol one. The SDK wraps transport errors in *url.Error whose text
// holds the whole query; only its cause is kept.
func (rc *restClient) classifyErr(ctx context.Context, err error) (fatal, perSymbol error) {
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
			return fmt.Errorf("%s: %w (HTTP 403); use feed iex or end the range 15 minutes ago", rc.name, ErrAlpacaRecentSIP), nil
		case apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%s: %w (HTTP %d: %s); check APCA_API_KEY_ID and APCA_API_SECRET_KEY",
				rc.name, ErrAlpacaAuth, apiErr.StatusCode, apiErr.Message), nil
		case apiErr.StatusCode < 500:
			return nil, fmt.Errorf("%w (HTTP %d: %s)", ErrAlpacaInvalid, apiErr.StatusCode, apiErr.Message)
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
