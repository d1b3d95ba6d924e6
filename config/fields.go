package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Field describes one setting.
type Field struct {
	Key   string // YAML path, e.g. "async.retry_attempts"
	Env   string // environment variable, e.g. "TICKFLOW_RETRY_ATTEMPTS"
	Flag  string // flag name without dashes, e.g. "retry-attempts"
	Usage string // one line for --help
	// Secret marks a value that is redacted when printed.
	Secret bool

	get func(*Config) any
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
		*p = x
	case *time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			// A bare number is seconds, as the ADR's request_timeout = 30.0.
			x, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil {
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

var fields = []*Field{
	field("async.max_concurrent_symbols", "symbols fetched at once by per-symbol I/O", func(c *Config) any { return &c.Async.MaxConcurrentSymbols }),
	field("async.max_concurrent_requests", "outbound requests at once", func(c *Config) any { return &c.Async.MaxConcurrentRequests }),
	field("async.cpu_thread_pool_size", "pipeline workers computing indicators and signals", func(c *Config) any { return &c.Async.CPUThreadPoolSize }),
	field("async.io_thread_pool_size", "workers for I/O-bound stages", func(c *Config) any { return &c.Async.IOThreadPoolSize }),
	field("async.request_timeout", "timeout of one outbound request", func(c *Config) any { return &c.Async.RequestTimeout }),
	field("async.retry_attempts", "retries of a failed request", func(c *Config) any { return &c.Async.RetryAttempts }),
	field("async.backoff_factor", "multiplier of the wait between retries", func(c *Config) any { return &c.Async.BackoffFactor }),
	field("indicators.ema", "EMA period", func(c *Config) any { return &c.Indicators.EMA }),
	field("indicators.rsi", "RSI period of StochRSI", func(c *Config) any { return &c.Indicators.RSI }),
	field("indicators.stoch", "stochastic period of StochRSI (%K)", func(c *Config) any { return &c.Indicators.Stoch }),
	field("indicators.d", "SMA period of %K giving %D", func(c *Config) any { return &c.Indicators.D }),
	field("strategy.oversold", "buy only when %D is below this", func(c *Config) any { return &c.Strategy.Oversold }),
	field("strategy.overbought", "sell on a cross down only when %D is above this", func(c *Config) any { return &c.Strategy.Overbought }),
	field("stream.symbols", "symbols of the synthetic live source", func(c *Config) any { return &c.Stream.Symbols }),
	field("stream.rate", "bars per second of the synthetic live source, all symbols together", func(c *Config) any { return &c.Stream.Rate }),
	field("stream.listen", "HTTP address (loopback by default)", func(c *Config) any { return &c.Stream.Listen }),
	field("stream.stale_after", "time without data before health checks fail", func(c *Config) any { return &c.Stream.StaleAfter }),
	field("stream.recent_signals", "signals kept for /api/signals", func(c *Config) any { return &c.Stream.RecentSignals }),
	field("webhook.url", "POST each signal as JSON to this URL (empty: off)", func(c *Config) any { return &c.Webhook.URL }),
	field("webhook.rate", "webhook requests per second", func(c *Config) any { return &c.Webhook.Rate }),
	field("webhook.burst", "webhook requests allowed at once above the rate", func(c *Config) any { return &c.Webhook.Burst }),
}

var byKey, byFlag = func() (map[string]*Field, map[string]*Field) {
	k, f := map[string]*Field{}, map[string]*Field{}
	for _, x := range fields {
		if x.Key == "webhook.url" {
			x.Secret, x.Flag = true, "webhook"
		}
		if x.Key == "webhook.rate" || x.Key == "webhook.burst" {
			x.Flag = "webhook-" + x.Flag
		}
		k[x.Key], f[x.Flag] = x, x
	}
	return k, f
}()

// Fields returns every setting in a stable order (the order of the YAML
// rendering).
func Fields() []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		out[i] = *f
	}
	return out
}
