package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Async is ADR-002's AsyncConfig.
type Async struct {
	// MaxConcurrentSymbols bounds how many symbols per-symbol I/O (a
	// history fetch) handles at once.
	MaxConcurrentSymbols int
	// MaxConcurrentRequests bounds concurrent outbound requests.
	MaxConcurrentRequests int
	// CPUThreadPoolSize is the number of pipeline workers computing
	// indicators and signals (CPU-bound).
	CPUThreadPoolSize int
	// IOThreadPoolSize is the number of workers for I/O-bound stages.
	IOThreadPoolSize int
	// RequestTimeout bounds one outbound request.
	RequestTimeout time.Duration
	// RetryAttempts is how many times a failed request is retried.
	RetryAttempts int
	// BackoffFactor multiplies the wait between retries.
	BackoffFactor float64
}

// Indicators are the indicator periods.
type Indicators struct {
	EMA   int // EMA period of close
	RSI   int // RSI period inside StochRSI
	Stoch int // stochastic period over the RSI (%K)
	D     int // SMA period of %K giving %D
}

// Strategy holds the StochRSI/EMA strategy's thresholds (0-100).
type Strategy struct {
	Oversold   float64 // buy only when %D is below this
	Overbought float64 // sell on a cross down only when %D is above this
}

// Stream configures `tickflow stream` and its HTTP server.
type Stream struct {
	// Symbols is how many symbols the synthetic live source produces.
	Symbols int
	// Rate is the synthetic source's total bars per second, all symbols
	// together.
	Rate float64
	// Listen is the HTTP server's address; loopback by default.
	Listen string
	// StaleAfter is how long without a bar (or a processed batch) before
	// the health checks fail.
	StaleAfter time.Duration
	// RecentSignals is how many signals /api/signals keeps.
	RecentSignals int
}

// Webhook configures the optional webhook sink. Its URL may carry
// credentials: it is redacted wherever it is printed.
type Webhook struct {
	URL   string  // empty disables the webhook
	Rate  float64 // requests per second
	Burst int     // requests allowed at once above Rate
}

// Config is tickflow's whole configuration. [Default] returns the defaults;
// [Load] layers a file, the environment and flags on top.
type Config struct {
	Async      Async
	Indicators Indicators
	Strategy   Strategy
	Stream     Stream
	Webhook    Webhook

	origin map[string]string // key -> "default", "file", "env", "flag"
}

// Defaults of the settings, the ADR's where it gives one.
const (
	DefaultMaxConcurrentSymbols  = 10
	DefaultMaxConcurrentRequests = 50
	DefaultCPUThreadPoolSize     = 4
	DefaultIOThreadPoolSize      = 20
	DefaultRequestTimeout        = 30 * time.Second
	DefaultRetryAttempts         = 3
	DefaultBackoffFactor         = 2.0
	DefaultEMA                   = 20
	DefaultRSI                   = 14
	DefaultStoch                 = 14
	DefaultD                     = 3
	DefaultOversold              = 20.0
	DefaultOverbought            = 80.0
	DefaultSymbols               = 10
	DefaultRate                  = 20.0
	DefaultListen                = "127.0.0.1:9090"
	DefaultStaleAfter            = 10 * time.Second
	DefaultRecentSignals         = 100
	DefaultWebhookRate           = 5.0
	DefaultWebhookBurst          = 10
)

// Default returns the default configuration.
func Default() *Config {
	return &Config{
		Async: Async{
			MaxConcurrentSymbols:  DefaultMaxConcurrentSymbols,
			MaxConcurrentRequests: DefaultMaxConcurrentRequests,
			CPUThreadPoolSize:     DefaultCPUThreadPoolSize,
			IOThreadPoolSize:      DefaultIOThreadPoolSize,
			RequestTimeout:        DefaultRequestTimeout,
			RetryAttempts:         DefaultRetryAttempts,
			BackoffFactor:         DefaultBackoffFactor,
		},
		Indicators: Indicators{EMA: DefaultEMA, RSI: DefaultRSI, Stoch: DefaultStoch, D: DefaultD},
		Strategy:   Strategy{Oversold: DefaultOversold, Overbought: DefaultOverbought},
		Stream: Stream{
			Symbols:       DefaultSymbols,
			Rate:          DefaultRate,
			Listen:        DefaultListen,
			StaleAfter:    DefaultStaleAfter,
			RecentSignals: DefaultRecentSignals,
		},
		Webhook: Webhook{Rate: DefaultWebhookRate, Burst: DefaultWebhookBurst},
	}
}

// Origin tells where the effective value of key came from: "default",
// "file", "env" or "flag".
func (c *Config) Origin(key string) string {
	if o, ok := c.origin[key]; ok {
		return o
	}
	return "default"
}

// Sources are the layers [Load] reads, each optional.
type Sources struct {
	// File is a YAML file path; empty reads no file.
	File string
	// Env looks up an environment variable; nil means os.LookupEnv.
	Env func(name string) (string, bool)
	// Flags maps flag names (see [Field.Flag]) to the values given on the
	// command line; only flags the user set belong here.
	Flags map[string]string
}

// Load returns the defaults overridden by the file, then the environment,
// then the flags, validated.
func Load(src Sources) (*Config, error) {
	c := Default()
	if src.File != "" {
		data, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := c.applyYAML(src.File, data); err != nil {
			return nil, err
		}
	}
	env := src.Env
	if env == nil {
		env = os.LookupEnv
	}
	for _, f := range fields {
		if v, ok := env(f.Env); ok {
			if err := c.set(f, v, "env"); err != nil {
				return nil, fmt.Errorf("config: %s (from %s): %w", f.Key, f.Env, err)
			}
		}
	}
	for name, v := range src.Flags {
		f, ok := byFlag[name]
		if !ok {
			return nil, fmt.Errorf("config: unknown flag --%s", name)
		}
		if err := c.set(f, v, "flag"); err != nil {
			return nil, fmt.Errorf("config: %s (from --%s): %w", f.Key, f.Flag, err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Set sets the setting key (e.g. "async.retry_attempts") from its text
// form, as a flag or environment variable would. It does not validate.
func (c *Config) Set(key, value string) error {
	f, ok := byKey[key]
	if !ok {
		return fmt.Errorf("config: unknown key %q", key)
	}
	if err := c.set(f, value, "flag"); err != nil {
		return fmt.Errorf("config: %s: %w", key, err)
	}
	return nil
}

func (c *Config) set(f *Field, value, origin string) error {
	if err := f.parse(c, strings.TrimSpace(value)); err != nil {
		return err
	}
	if c.origin == nil {
		c.origin = map[string]string{}
	}
	c.origin[f.Key] = origin
	return nil
}

// Validate checks every setting; the error lists each problem on its own
// line, naming the key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{key}, args...)...))
	}
	positive := func(key string, v int) {
		if v < 1 {
			bad(key, "must be at least 1, got %d", v)
		}
	}
	a := c.Async
	positive("async.max_concurrent_symbols", a.MaxConcurrentSymbols)
	positive("async.max_concurrent_requests", a.MaxConcurrentRequests)
	positive("async.cpu_thread_pool_size", a.CPUThreadPoolSize)
	positive("async.io_thread_pool_size", a.IOThreadPoolSize)
	if a.RequestTimeout <= 0 {
		bad("async.request_timeout", "must be positive, got %v", a.RequestTimeout)
	}
	if a.RetryAttempts < 0 {
		bad("async.retry_attempts", "must not be negative, got %d", a.RetryAttempts)
	}
	if a.BackoffFactor < 1 {
		bad("async.backoff_factor", "must be at least 1, got %g", a.BackoffFactor)
	}
	in := c.Indicators
	if in.EMA < 2 {
		bad("indicators.ema", "period must be at least 2, got %d", in.EMA)
	}
	if in.RSI < 2 {
		bad("indicators.rsi", "period must be at least 2, got %d", in.RSI)
	}
	positive("indicators.stoch", in.Stoch)
	positive("indicators.d", in.D)
	s := c.Strategy
	for _, t := range []struct {
		key string
		v   float64
	}{{"strategy.oversold", s.Oversold}, {"strategy.overbought", s.Overbought}} {
		if t.v < 0 || t.v > 100 {
			bad(t.key, "must be within 0 and 100, got %g", t.v)
		}
	}
	if s.Oversold >= s.Overbought {
		bad("strategy.oversold", "(%g) must be below strategy.overbought (%g)", s.Oversold, s.Overbought)
	}
	st := c.Stream
	positive("stream.symbols", st.Symbols)
	if st.Rate <= 0 {
		bad("stream.rate", "must be positive, got %g", st.Rate)
	}
	if _, port, err := net.SplitHostPort(st.Listen); err != nil {
		bad("stream.listen", "%q is not host:port", st.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("stream.listen", "port %q is not a number from 0 to 65535", port)
	}
	if st.StaleAfter <= 0 {
		bad("stream.stale_after", "must be positive, got %v", st.StaleAfter)
	}
	positive("stream.recent_signals", st.RecentSignals)
	w := c.Webhook
	if w.URL != "" {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("webhook.url", "%q is not an http or https URL", Redact(w.URL))
		}
	}
	if w.Rate <= 0 {
		bad("webhook.rate", "must be positive, got %g", w.Rate)
	}
	positive("webhook.burst", w.Burst)
	return errors.Join(errs...)
}

// Redact hides what may be secret in a URL (user info, the path, which
// often holds a token as in chat webhooks, and the values of query
// parameters), keeping the scheme and host, so that it can be printed. Text
// that does not parse as a URL is replaced whole.
func Redact(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<redacted>"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{"xxxxx"}
		}
		u.RawQuery = q.Encode()
	}
	if u.Path != "" && u.Path != "/" {
		u.Path, u.RawPath = "/xxxxx", ""
	}
	u.Fragment = ""
	return u.String()
}
