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

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/internal/retry"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
)

// Async is ADR-002's AsyncConfig.
type Async struct {
	// MaxConcurrentSymbols bounds how many symbols per-symbol I/O (a
	// history fetch, a database read) handles at once.
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
	// RetryAttempts is how many times a failed request is retried after
	// its first attempt; 0 means none. Give it to a library client with
	// [Async.Retries], which says "none" as the library does.
	RetryAttempts int
	// BackoffFactor multiplies the wait between retries.
	BackoffFactor float64

	// Per-operation concurrency, the ADR's "ability to disable async for
	// specific operations": each bounds one kind of operation and may be
	// set to 1, which makes that operation sequential and gives the same
	// output. Zero means the general setting above it refines; read them
	// with [Async.Fetch], [Async.Indicators] and [Async.Actions].
	//
	// FetchConcurrency is how many symbols a history fetch (Alpaca) or a
	// database read handles at once (0: MaxConcurrentSymbols).
	FetchConcurrency int
	// IndicatorsConcurrency is how many pipeline workers compute
	// indicators and signals (0: CPUThreadPoolSize).
	IndicatorsConcurrency int
	// ActionsConcurrency bounds the requests in flight that act on
	// signals: orders and webhook deliveries (0: MaxConcurrentRequests).
	ActionsConcurrency int
}

// Fetch is the effective fetch concurrency: FetchConcurrency, or
// MaxConcurrentSymbols when it is 0.
func (a Async) Fetch() int { return orGeneral(a.FetchConcurrency, a.MaxConcurrentSymbols) }

// Indicators is the effective number of pipeline workers:
// IndicatorsConcurrency, or CPUThreadPoolSize when it is 0.
func (a Async) Indicators() int { return orGeneral(a.IndicatorsConcurrency, a.CPUThreadPoolSize) }

// Actions is the effective bound on action requests in flight:
// ActionsConcurrency, or MaxConcurrentRequests when it is 0.
func (a Async) Actions() int { return orGeneral(a.ActionsConcurrency, a.MaxConcurrentRequests) }

func orGeneral(specific, general int) int {
	if specific > 0 {
		return specific
	}
	return general
}

// Retries is RetryAttempts in the form of the library's retry fields
// (internal/retry's Policy.Attempts, the Alpaca clients' RetryAttempts, the
// webhook's Retries), whose zero means their default: none is -1 there.
func (a Async) Retries() int {
	if a.RetryAttempts == 0 {
		return -1
	}
	return a.RetryAttempts
}

// Indicators are the indicator periods.
type Indicators struct {
	EMA   int // EMA period of close
	RSI   int // RSI period inside StochRSI
	Stoch int // stochastic period over the RSI (%K)
	D     int // SMA period of %K giving %D
	// Extra are indicators computed after the default ones, as
	// "macd(12,26,9),slow=sma(200)" (indicators.ParseSpecs); empty: none.
	Extra string
}

// Strategy holds the StochRSI/EMA strategy's thresholds (0-100).
type Strategy struct {
	Oversold   float64 // buy only when %D is below this
	Overbought float64 // sell on a cross down only when %D is above this
	// Name picks a built-in strategy with its parameters, as
	// "ema-cross(12,26)" (signals.ParseStrategy); empty: stochrsi-ema with
	// Oversold and Overbought.
	Name string
}

// Pipeline sizes the pipeline's edges.
type Pipeline struct {
	BatchSize int // items that travel together through a channel
	Buffer    int // batches each edge holds
}

// Output is what the commands write and how.
type Output struct {
	// Format is table, jsonl, csv, or auto: table on a terminal, else jsonl.
	Format string
	// Emit is signals or indicators (every bar with its indicator values).
	Emit string
}

// Store configures writing bars to a database.
type Store struct {
	BatchSize int // bars per transaction
}

// Stream configures `tickflow stream` and its HTTP server.
type Stream struct {
	// SyntheticSymbols is how many symbols the synthetic live source
	// produces (Alpaca's symbols are a list: the --symbols flag).
	SyntheticSymbols int
	// Rate is the synthetic source's total bars per second, all symbols
	// together.
	Rate float64
	// Listen is the HTTP server's address; loopback by default.
	Listen string
	// Token is the bearer token every route of the server requires; it
	// must be set to listen beyond loopback. Redacted wherever printed.
	Token string
	// Hosts are names the server answers to besides its listen address and
	// loopback's (the Host header is checked against them, against DNS
	// rebinding), comma-separated.
	Hosts string
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
	// Format is the body posted: json (the signal), or a chat service's
	// message: slack, discord or telegram.
	Format string
	// TelegramChatID is the chat of format telegram (required with it).
	TelegramChatID string
	// QueueSize is how many signals wait for delivery before the newest
	// are dropped (counted and logged).
	QueueSize int
}

// Config is tickflow's whole configuration. [Default] returns the defaults;
// [Load] layers a file, the environment and flags on top.
type Config struct {
	Async      Async
	Indicators Indicators
	Strategy   Strategy
	Pipeline   Pipeline
	Output     Output
	Store      Store
	Stream     Stream
	Webhook    Webhook

	origin map[string]string // key -> "default", "file", "env", "flag"
	place  map[string]string // key -> where its value was set, for errors
}

// Defaults that no other package owns: the ADR's, and the synthetic live
// feed's. Every other default is the owning package's constant (see
// [Default]).
const (
	DefaultMaxConcurrentRequests = 50
	DefaultCPUThreadPoolSize     = 4
	DefaultIOThreadPoolSize      = 20
	DefaultSyntheticSymbols      = 10
	DefaultRate                  = 20.0
)

// The integrations' defaults, repeated here so that the settings (which the
// CLI's offline core reads) link no database driver or HTTP stack; a test
// checks each against its package.
const (
	defaultStoreBatchSize   = 5000             // store.DefaultBatchSize
	defaultListen           = "127.0.0.1:7321" // server.DefaultListen
	defaultRecentSignals    = 100              // server.DefaultRecentSignals
	defaultWebhookRate      = 5.0              // webhook.DefaultRate
	defaultWebhookBurst     = 10               // webhook.DefaultBurst
	defaultWebhookQueueSize = 1024             // webhook.DefaultQueueSize
)

// Default returns the default configuration.
func Default() *Config {
	return &Config{
		Async: Async{
			MaxConcurrentSymbols:  pipeline.DefaultFetchLimit,
			MaxConcurrentRequests: DefaultMaxConcurrentRequests,
			CPUThreadPoolSize:     DefaultCPUThreadPoolSize,
			IOThreadPoolSize:      DefaultIOThreadPoolSize,
			RequestTimeout:        retry.DefaultTimeout,
			RetryAttempts:         retry.DefaultAttempts,
			BackoffFactor:         retry.DefaultFactor,
		},
		Indicators: Indicators{EMA: indicators.DefaultEMA, RSI: indicators.DefaultRSI, Stoch: indicators.DefaultStoch, D: indicators.DefaultD},
		Strategy:   Strategy{Oversold: signals.DefaultOversold, Overbought: signals.DefaultOverbought},
		Pipeline:   Pipeline{BatchSize: pipeline.DefaultBatchSize, Buffer: pipeline.DefaultBuffer},
		Output:     Output{Format: "auto", Emit: "signals"},
		Store:      Store{BatchSize: defaultStoreBatchSize},
		Stream: Stream{
			SyntheticSymbols: DefaultSyntheticSymbols,
			Rate:             DefaultRate,
			Listen:           defaultListen,
			StaleAfter:       health.DefaultStaleAfter,
			RecentSignals:    defaultRecentSignals,
		},
		Webhook: Webhook{Rate: defaultWebhookRate, Burst: defaultWebhookBurst, Format: "json",
			QueueSize: defaultWebhookQueueSize},
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
			if err := c.set(f, v, "env", fmt.Sprintf("%s (from %s)", f.Key, f.Env)); err != nil {
				return nil, fmt.Errorf("config: %s (from %s): %w", f.Key, f.Env, err)
			}
		}
	}
	for old, f := range renamedEnv {
		if _, ok := env(old); ok {
			return nil, fmt.Errorf("config: %s is now %s (%s)", old, f.Env, f.Usage)
		}
	}
	for name, v := range src.Flags {
		f, ok := byFlag[name]
		if !ok {
			return nil, fmt.Errorf("config: unknown flag --%s", name)
		}
		if err := c.set(f, v, "flag", fmt.Sprintf("%s (from --%s)", f.Key, name)); err != nil {
			return nil, fmt.Errorf("config: %s (from --%s): %w", f.Key, name, err)
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
	if err := c.set(f, value, "flag", key); err != nil {
		return fmt.Errorf("config: %s: %w", key, err)
	}
	return nil
}

// set parses value into f; origin is its layer, place names it for errors
// ("file.yaml:3: key", "key (from --flag)").
func (c *Config) set(f *Field, value, origin, place string) error {
	if err := f.parse(c, strings.TrimSpace(value)); err != nil {
		return err
	}
	if c.origin == nil {
		c.origin, c.place = map[string]string{}, map[string]string{}
	}
	c.origin[f.Key], c.place[f.Key] = origin, place
	return nil
}

// Validate checks every setting against its bounds (see [Field.Range]) and
// the rules between settings; the error lists each problem on its own line,
// naming the key and where its value was set (file and line, variable or
// flag).
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		place := key
		if p, ok := c.place[key]; ok {
			place = p
		}
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{place}, args...)...))
	}
	for _, f := range fields {
		if msg := f.check(c); msg != "" {
			bad(f.Key, "%s", msg)
		}
	}
	if s := c.Strategy; s.Oversold >= s.Overbought {
		bad("strategy.oversold", "(%g) must be below strategy.overbought (%g)", s.Oversold, s.Overbought)
	}
	if _, err := indicators.ParseSpecs(c.Indicators.Extra); err != nil {
		bad("indicators.extra", "%v", err)
	}
	if c.Strategy.Name != "" {
		if _, err := signals.ParseStrategy(c.Strategy.Name); err != nil {
			bad("strategy.name", "%v", err)
		}
	}
	if l := c.Stream.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil {
			bad("stream.listen", "%q is not host:port", l)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("stream.listen", "port %q is not a number from 0 to 65535", port)
		}
	} else {
		bad("stream.listen", `"" is not host:port`)
	}
	if w := c.Webhook; w.URL != "" {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("webhook.url", "%q is not an http or https URL", Redact(w.URL))
		}
		if w.Format == "telegram" && strings.TrimSpace(w.TelegramChatID) == "" {
			bad("webhook.telegram_chat_id", "format telegram needs the chat id")
		}
	}
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
