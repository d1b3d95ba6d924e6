package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/indicators"
)

// Field describes one setting.
type Field struct {
	Key  string // YAML path, e.g. "async.retry_attempts"
	Env  string // environment variable, e.g. "TICKFLOW_ASYNC_RETRY_ATTEMPTS"
	Flag string // flag name without dashes, e.g. "retry-attempts"
	// Aliases are other names of the flag, kept from earlier releases.
	Aliases []string
	Usage   string // one line for --help
	// Secret marks a value that is redacted when printed.
	Secret bool

	get func(*Config) any
	// Bounds of a number, inclusive unless above (durations in
	// nanoseconds); or the words a string may be.
	lo, hi  float64
	above   bool
	choices []string
}

// Value returns the field's current value in c, in its text form (redacted
// when the field is secret).
func (f Field) Value(c *Config) string {
	s := format(f.get(c))
	if f.Secret {
		return Redact(s)
	}
	return s
}

// Range describes the values the field accepts, e.g. "1 to 10000", or is
// empty when any value of its type is accepted.
func (f Field) Range() string {
	if f.choices != nil {
		return "one of " + strings.Join(f.choices, ", ")
	}
	if f.hi == 0 {
		return ""
	}
	_, isDur := f.get(Default()).(*time.Duration)
	num := func(x float64) string {
		if isDur {
			return time.Duration(x).String()
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	if f.above {
		return "positive, at most " + num(f.hi)
	}
	return fmt.Sprintf("%s to %s", num(f.lo), num(f.hi))
}

// check returns what is wrong with the field's value in c, or "".
func (f Field) check(c *Config) string {
	var x float64
	var text string
	switch v := f.get(c).(type) {
	case *int:
		x, text = float64(*v), strconv.Itoa(*v)
	case *float64:
		x, text = *v, strconv.FormatFloat(*v, 'g', -1, 64)
	case *time.Duration:
		x, text = float64(*v), v.String()
	case *string:
		if f.choices != nil && !slices.Contains(f.choices, *v) {
			return fmt.Sprintf("%q is not one of %s", *v, strings.Join(f.choices, ", "))
		}
		return ""
	}
	if f.hi == 0 {
		return ""
	}
	num := func(x float64) string {
		if _, isDur := f.get(c).(*time.Duration); isDur {
			return time.Duration(x).String()
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	switch {
	case f.above && x <= f.lo:
		return "must be positive, got " + text
	case x < f.lo:
		return fmt.Sprintf("must be at least %s, got %s", num(f.lo), text)
	case x > f.hi:
		return fmt.Sprintf("must be at most %s, got %s", num(f.hi), text)
	}
	return ""
}

func format(v any) string {
	switch v := v.(type) {
	case *int:
		return strconv.Itoa(*v)
	case *float64:
		return strconv.FormatFloat(*v, 'g', -1, 64)
	case *time.Duration:
		return v.String()
	case *string:
		return *v
	}
	panic(fmt.Sprintf("config: unhandled type %T", v))
}

func (f *Field) parse(c *Config, s string) error {
	switch p := f.get(c).(type) {
	case *int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		*p = n
	case *float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			// NaN would pass every bound: each comparison with it is false.
			return fmt.Errorf("%q is not a finite number", s)
		}
		*p = x
	case *time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			// A bare number is seconds, as the ADR's request_timeout = 30.0.
			x, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || math.IsNaN(x) || math.Abs(x) > float64(1<<62)/float64(time.Second) {
				return fmt.Errorf("%q is not a duration (like 30s or 1m30s)", s)
			}
			d = time.Duration(x * float64(time.Second))
		}
		*p = d
	case *string:
		*p = s
	}
	return nil
}

// field declares a setting; its flag is the key's last part with dashes.
func field(key, usage string, get func(*Config) any) *Field {
	name := key[strings.IndexByte(key, '.')+1:]
	return &Field{
		Key:   key,
		Env:   "TICKFLOW_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
		Flag:  strings.ReplaceAll(name, "_", "-"),
		Usage: usage,
		get:   get,
	}
}

// between bounds a number or duration to [lo, hi].
func (f *Field) between(lo, hi float64) *Field { f.lo, f.hi = lo, hi; return f }

// positive bounds a number or duration to (0, hi].
func (f *Field) positive(hi float64) *Field { f.hi, f.above = hi, true; return f }

// oneOf limits a string to words.
func (f *Field) oneOf(words ...string) *Field { f.choices = words; return f }

// flag renames the field's flag; aliases keep older names working.
func (f *Field) flag(name string, aliases ...string) *Field {
	f.Flag, f.Aliases = name, aliases
	return f
}

func (f *Field) secret() *Field { f.Secret = true; return f }

// Upper bounds of sizes and counts: far above any real use, low enough that
// a typo (an extra three zeros) is an error rather than an allocation that
// takes the machine down.
const (
	maxWorkers = 1024
	maxConns   = 10_000
	maxSymbols = 100_000
	maxPeriod  = indicators.MaxPeriod
)

var fields = []*Field{
	field("async.max_concurrent_symbols", "symbols fetched or read at once by per-symbol I/O", func(c *Config) any { return &c.Async.MaxConcurrentSymbols }).between(1, maxConns),
	field("async.max_concurrent_requests", "outbound requests at once", func(c *Config) any { return &c.Async.MaxConcurrentRequests }).between(1, maxConns),
	field("async.cpu_thread_pool_size", "pipeline workers computing indicators and signals (1 = sequential; same output)", func(c *Config) any { return &c.Async.CPUThreadPoolSize }).
		flag("cpu-thread-pool-size", "concurrency").between(1, maxWorkers),
	field("async.io_thread_pool_size", "workers for I/O-bound stages", func(c *Config) any { return &c.Async.IOThreadPoolSize }).between(1, maxWorkers),
	field("async.request_timeout", "timeout of one outbound request", func(c *Config) any { return &c.Async.RequestTimeout }).positive(float64(time.Hour)),
	field("async.retry_attempts", "retries of a failed request after its first attempt (0: none)", func(c *Config) any { return &c.Async.RetryAttempts }).between(0, 100),
	field("async.backoff_factor", "multiplier of the wait between retries", func(c *Config) any { return &c.Async.BackoffFactor }).between(1, 10),
	field("async.fetch_concurrency", "symbols a history fetch or database read handles at once (1 = sequential; same output; 0: max_concurrent_symbols)",
		func(c *Config) any { return &c.Async.FetchConcurrency }).between(0, maxConns),
	field("async.indicators_concurrency", "pipeline workers computing indicators and signals (1 = sequential; same output; 0: cpu_thread_pool_size)",
		func(c *Config) any { return &c.Async.IndicatorsConcurrency }).between(0, maxWorkers),
	field("async.actions_concurrency", "order and webhook requests in flight (1 = one at a time; 0: max_concurrent_requests)",
		func(c *Config) any { return &c.Async.ActionsConcurrency }).between(0, maxConns),
	field("indicators.ema", "EMA period", func(c *Config) any { return &c.Indicators.EMA }).between(2, maxPeriod),
	field("indicators.rsi", "RSI period of StochRSI", func(c *Config) any { return &c.Indicators.RSI }).between(2, maxPeriod),
	field("indicators.stoch", "stochastic period of StochRSI (%K)", func(c *Config) any { return &c.Indicators.Stoch }).between(1, maxPeriod),
	field("indicators.d", "SMA period of %K giving %D", func(c *Config) any { return &c.Indicators.D }).between(1, maxPeriod),
	field("indicators.extra", "indicators computed after the default ones, e.g. macd(12,26,9),bbands(20,2,2),slow=sma(200) (tickflow indicators lists them)", func(c *Config) any { return &c.Indicators.Extra }).flag("indicators"),
	field("strategy.oversold", "buy only when %D is below this", func(c *Config) any { return &c.Strategy.Oversold }).between(0, 100),
	field("strategy.overbought", "sell on a cross down only when %D is above this", func(c *Config) any { return &c.Strategy.Overbought }).between(0, 100),
	field("strategy.name", "a built-in strategy with its parameters: stochrsi-ema(oversold,overbought), ema-cross(fast,slow), sma-cross(fast,slow), macd-cross(fast,slow,signal), rsi-threshold(n,low,high), bbands-revert(n,up,dn); empty: stochrsi-ema with strategy.oversold and strategy.overbought", func(c *Config) any { return &c.Strategy.Name }).flag("strategy"),
	field("pipeline.batch_size", "items that travel together through a pipeline edge", func(c *Config) any { return &c.Pipeline.BatchSize }).between(1, 1<<16),
	field("pipeline.buffer", "batches each pipeline edge holds", func(c *Config) any { return &c.Pipeline.Buffer }).between(1, 1<<12),
	field("output.format", "output format (auto: table on a terminal, else jsonl)", func(c *Config) any { return &c.Output.Format }).oneOf("auto", "table", "jsonl", "csv"),
	field("output.emit", "what to write: signals, or every bar with its indicators", func(c *Config) any { return &c.Output.Emit }).oneOf("signals", "indicators"),
	field("store.batch_size", "bars per database transaction", func(c *Config) any { return &c.Store.BatchSize }).flag("batch").between(1, 1_000_000),
	field("stream.synthetic_symbols", "symbols of the synthetic live feed", func(c *Config) any { return &c.Stream.SyntheticSymbols }).flag("synthetic-symbols").between(1, maxSymbols),
	field("stream.rate", "bars per second of the synthetic live feed, all symbols together", func(c *Config) any { return &c.Stream.Rate }).positive(10_000_000),
	field("stream.listen", "HTTP address (loopback by default)", func(c *Config) any { return &c.Stream.Listen }),
	field("stream.token", "bearer token the HTTP server requires on every route (needed beyond loopback)", func(c *Config) any { return &c.Stream.Token }).secret(),
	field("stream.hosts", "extra host names the HTTP server answers to, comma-separated (e.g. a reverse proxy's)", func(c *Config) any { return &c.Stream.Hosts }),
	field("stream.stale_after", "time without data before health checks fail", func(c *Config) any { return &c.Stream.StaleAfter }).positive(float64(24 * time.Hour)),
	field("stream.recent_signals", "signals kept for /api/signals", func(c *Config) any { return &c.Stream.RecentSignals }).between(1, 1_000_000),
	field("webhook.url", "POST each signal to this URL (empty: off; see webhook.format)", func(c *Config) any { return &c.Webhook.URL }).flag("webhook").secret(),
	field("webhook.rate", "webhook requests per second", func(c *Config) any { return &c.Webhook.Rate }).flag("webhook-rate").positive(10_000),
	field("webhook.burst", "webhook requests allowed at once above the rate", func(c *Config) any { return &c.Webhook.Burst }).flag("webhook-burst").between(1, 10_000),
	field("webhook.format", "webhook body: json (the signal), or a slack, discord or telegram message", func(c *Config) any { return &c.Webhook.Format }).flag("webhook-format").oneOf("json", "slack", "discord", "telegram"),
	field("webhook.telegram_chat_id", "chat id of format telegram (url: https://api.telegram.org/bot<token>/sendMessage)", func(c *Config) any { return &c.Webhook.TelegramChatID }).flag("telegram-chat-id"),
	field("webhook.queue_size", "signals waiting for the webhook before the newest are dropped (counted, logged)", func(c *Config) any { return &c.Webhook.QueueSize }).flag("webhook-queue").between(1, 1_000_000),
}

var byKey, byFlag = func() (map[string]*Field, map[string]*Field) {
	k, f := map[string]*Field{}, map[string]*Field{}
	for _, x := range fields {
		k[x.Key], f[x.Flag] = x, x
		for _, a := range x.Aliases {
			f[a] = x
		}
	}
	return k, f
}()

// renamedKey and renamedEnv map the names of settings of earlier releases
// to the settings that replace them, so that an old file or environment is
// an error naming the new name rather than a setting silently ignored.
var (
	renamedKey = map[string]*Field{"stream.symbols": byKey["stream.synthetic_symbols"]}
	renamedEnv = map[string]*Field{"TICKFLOW_STREAM_SYMBOLS": byKey["stream.synthetic_symbols"]}
)

// Renamed tells whether name, a key or an environment variable, is the name
// of a setting in an earlier release, and returns the setting that
// replaces it.
func Renamed(name string) (Field, bool) {
	if f, ok := renamedKey[name]; ok {
		return *f, true
	}
	if f, ok := renamedEnv[name]; ok {
		return *f, true
	}
	return Field{}, false
}

// Fields returns every setting in a stable order (the order of the YAML
// rendering).
func Fields() []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		out[i] = *f
	}
	return out
}

// Lookup returns the setting of key, e.g. "indicators.ema".
func Lookup(key string) (Field, bool) {
	f, ok := byKey[key]
	if !ok {
		return Field{}, false
	}
	return *f, true
}
