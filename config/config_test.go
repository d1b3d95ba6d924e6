package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/internal/retry"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/server"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/webhook"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tickflow.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaultsAreTheADRs(t *testing.T) {
	c, err := Load(Sources{Env: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	want := Async{10, 50, 4, 20, 30 * time.Second, 3, 2.0, 0, 0, 0} // per-operation: 0, the general settings
	if c.Async != want {
		t.Errorf("Async = %+v, want %+v", c.Async, want)
	}
	if c.Indicators != (Indicators{20, 14, 14, 3, ""}) || c.Strategy != (Strategy{20, 80, ""}) {
		t.Errorf("indicators %+v strategy %+v", c.Indicators, c.Strategy)
	}
	if c.Stream.Listen != "127.0.0.1:7321" {
		t.Errorf("listen = %q, want loopback", c.Stream.Listen)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "async:\n  retry_attempts: 5\n  request_timeout: 10s\nindicators:\n  ema: 30\nstream:\n  listen: 127.0.0.1:8000\n")
	tests := []struct {
		name   string
		env    map[string]string
		flags  map[string]string
		key    string
		want   string
		origin string
	}{
		{"default", nil, nil, "async.max_concurrent_symbols", "10", "default"},
		{"file over default", nil, nil, "async.retry_attempts", "5", "file"},
		{"env over file", map[string]string{"TICKFLOW_ASYNC_RETRY_ATTEMPTS": "7"}, nil, "async.retry_attempts", "7", "env"},
		{"flag over env", map[string]string{"TICKFLOW_ASYNC_RETRY_ATTEMPTS": "7"}, map[string]string{"retry-attempts": "9"}, "async.retry_attempts", "9", "flag"},
		{"flag over file", nil, map[string]string{"ema": "50"}, "indicators.ema", "50", "flag"},
		{"env over default", map[string]string{"TICKFLOW_STRATEGY_OVERSOLD": "15"}, nil, "strategy.oversold", "15", "env"},
		{"duration as seconds", map[string]string{"TICKFLOW_ASYNC_REQUEST_TIMEOUT": "2.5"}, nil, "async.request_timeout", "2.5s", "env"},
		{"file duration", nil, nil, "async.request_timeout", "10s", "file"},
		{"listen flag", nil, map[string]string{"listen": "127.0.0.1:0"}, "stream.listen", "127.0.0.1:0", "flag"},
		{"file listen", nil, nil, "stream.listen", "127.0.0.1:8000", "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(Sources{File: file, Env: envOf(tt.env), Flags: tt.flags})
			if err != nil {
				t.Fatal(err)
			}
			f := byKey[tt.key]
			if got := f.Value(c); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.key, got, tt.want)
			}
			if got := c.Origin(tt.key); got != tt.origin {
				t.Errorf("origin of %s = %s, want %s", tt.key, got, tt.origin)
			}
		})
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags map[string]string
		want  []string // substrings of the error
	}{
		{"unknown key with line", "async:\n  retry_attempts: 3\n  retry_atempts: 4\n", nil, nil,
			[]string{`:3: unknown key "async.retry_atempts"`}},
		{"unknown section", "indicator:\n  ema: 3\n", nil, nil, []string{`:1: unknown key "indicator"`}},
		{"repeated key", "strategy:\n  oversold: 10\n  oversold: 12\n", nil, nil, []string{`:3: key "strategy.oversold" repeated`}},
		{"wrong type in file", "indicators:\n  rsi: fourteen\n", nil, nil, []string{`:2: indicators.rsi: "fourteen" is not a whole number`}},
		{"list where a value goes", "stream:\n  synthetic_symbols: [1, 2]\n", nil, nil, []string{`:2: stream.synthetic_symbols must be a single value`}},
		{"not yaml", "async: [\n", nil, nil, []string{"config:", "tickflow.yaml"}},
		{"bad env", "", map[string]string{"TICKFLOW_ASYNC_BACKOFF_FACTOR": "fast"}, nil,
			[]string{"async.backoff_factor (from TICKFLOW_ASYNC_BACKOFF_FACTOR)", `"fast" is not a number`}},
		{"bad flag", "", nil, map[string]string{"request-timeout": "soon"}, []string{"async.request_timeout (from --request-timeout)"}},
		{"NaN passes no bound", "", nil, map[string]string{"oversold": "NaN"}, []string{`strategy.oversold (from --oversold): "NaN" is not a finite number`}},
		{"infinite rate", "stream:\n  rate: inf\n", nil, nil, []string{`:2: stream.rate: "inf" is not a finite number`}},
		{"NaN seconds", "", map[string]string{"TICKFLOW_ASYNC_REQUEST_TIMEOUT": "nan"}, nil, []string{`"nan" is not a duration`}},
		{"unknown flag", "", nil, map[string]string{"nope": "1"}, []string{"unknown flag --nope"}},
		{"zero symbols", "async:\n  max_concurrent_symbols: 0\n", nil, nil, []string{"tickflow.yaml:2: async.max_concurrent_symbols: must be at least 1, got 0"}},
		{"negative retries", "", map[string]string{"TICKFLOW_ASYNC_RETRY_ATTEMPTS": "-1"}, nil, []string{"async.retry_attempts (from TICKFLOW_ASYNC_RETRY_ATTEMPTS): must be at least 0, got -1"}},
		{"backoff below 1", "", nil, map[string]string{"backoff-factor": "0.5"}, []string{"async.backoff_factor (from --backoff-factor): must be at least 1"}},
		{"timeout zero", "", nil, map[string]string{"request-timeout": "0s"}, []string{"async.request_timeout (from --request-timeout): must be positive"}},
		{"ema too short", "", nil, map[string]string{"ema": "1"}, []string{"indicators.ema (from --ema): must be at least 2, got 1"}},
		{"thresholds crossed", "strategy:\n  oversold: 90\n", nil, nil, []string{"tickflow.yaml:2: strategy.oversold: (90) must be below strategy.overbought (80)"}},
		{"threshold out of range", "", nil, map[string]string{"overbought": "120"}, []string{"strategy.overbought (from --overbought): must be at most 100, got 120"}},
		{"listen not host:port", "", nil, map[string]string{"listen": "9090"}, []string{`stream.listen (from --listen): "9090" is not host:port`}},
		{"two problems at once", "", nil, map[string]string{"ema": "0", "rsi": "0"}, []string{"indicators.ema", "indicators.rsi"}},
		{"webhook url hides its secret", "", nil, map[string]string{"webhook": "ftp://user:hunter2@example.com/T0/secret-token"},
			[]string{"webhook.url", "example.com"}},
		{"webhook format unknown", "webhook:\n  format: teams\n", nil, nil, []string{"tickflow.yaml:2: webhook.format", "teams"}},
		{"telegram without a chat", "", nil, map[string]string{"webhook": "https://api.telegram.org/bot1:A/sendMessage", "webhook-format": "telegram"},
			[]string{"webhook.telegram_chat_id", "chat id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Sources{Env: envOf(tt.env), Flags: tt.flags}
			if tt.file != "" {
				src.File = writeFile(t, tt.file)
			}
			_, err := Load(src)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, secret := range []string{"hunter2", "secret-token"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals a secret", err)
				}
			}
		})
	}
}

func TestEmptyFileMeansDefaults(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "async:\n"} {
		c, err := Load(Sources{File: writeFile(t, text), Env: envOf(nil)})
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if c.Async.MaxConcurrentSymbols != store.DefaultMaxConcurrentSymbols {
			t.Errorf("%q: not the defaults", text)
		}
	}
}

func TestYAMLRoundTrips(t *testing.T) {
	c, err := Load(Sources{
		File:  writeFile(t, "async:\n  backoff_factor: 1.5\n"),
		Env:   envOf(map[string]string{"TICKFLOW_STREAM_SYNTHETIC_SYMBOLS": "42"}),
		Flags: map[string]string{"stale-after": "1m30s", "listen": "[::1]:9191"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := c.YAML()
	for _, w := range []string{"backoff_factor: 1.5 # file", "synthetic_symbols: 42 # env", "stale_after: 1m30s # flag", "max_concurrent_symbols: 10 # default", `listen: "[::1]:9191" # flag`} {
		if !strings.Contains(string(out), w) {
			t.Errorf("rendering lacks %q:\n%s", w, out)
		}
	}
	back, err := Load(Sources{File: writeFile(t, string(out)), Env: envOf(nil)})
	if err != nil {
		t.Fatalf("reading the rendering back: %v\n%s", err, out)
	}
	for _, f := range Fields() {
		if f.Value(back) != f.Value(c) {
			t.Errorf("%s: %s after the round trip, want %s", f.Key, f.Value(back), f.Value(c))
		}
	}
}

func TestRenderingRedactsTheWebhook(t *testing.T) {
	c, err := Load(Sources{Env: envOf(map[string]string{
		"TICKFLOW_WEBHOOK_URL":  "https://bot:pw9x@hooks.example.com/services/T0/B0/tok9x?key=abc9x",
		"TICKFLOW_STREAM_TOKEN": "bearer9x",
	})})
	if err != nil {
		t.Fatal(err)
	}
	out := string(c.YAML())
	for _, secret := range []string{"pw9x", "tok9x", "abc9x", "services", "bearer9x"} {
		if strings.Contains(out, secret) {
			t.Errorf("rendering reveals %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "hooks.example.com") {
		t.Errorf("rendering lost the host:\n%s", out)
	}
}

func TestFieldsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		for _, n := range []string{"key " + f.Key, "env " + f.Env, "flag " + f.Flag} {
			if seen[n] {
				t.Errorf("duplicate %s", n)
			}
			seen[n] = true
		}
	}
}

func FuzzLoadYAML(f *testing.F) {
	f.Add("async:\n  retry_attempts: 3\n")
	f.Add("stream: {listen: '127.0.0.1:1', rate: 5}\n")
	f.Add("a: &x {b: 1}\nc: *x\n")
	f.Fuzz(func(t *testing.T, text string) {
		c := Default()
		if err := c.applyYAML("fuzz.yaml", []byte(text)); err != nil && !strings.HasPrefix(err.Error(), "config: fuzz.yaml") {
			t.Errorf("error without the file name: %v", err)
		}
	})
}

func ExampleLoad() {
	c, err := Load(Sources{
		Env:   func(string) (string, bool) { return "", false },
		Flags: map[string]string{"retry-attempts": "5"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Async.RetryAttempts, c.Origin("async.retry_attempts"), c.Async.RequestTimeout)
	// Output: 5 flag 30s
}

// TestDefaultsAreTheOwners pins that each default is the constant of the
// package that uses the setting, so the two cannot disagree.
func TestDefaultsAreTheOwners(t *testing.T) {
	c := Default()
	for _, tt := range []struct {
		key  string
		got  any
		want any
	}{
		{"async.max_concurrent_symbols", c.Async.MaxConcurrentSymbols, store.DefaultMaxConcurrentSymbols},
		{"async.request_timeout", c.Async.RequestTimeout, retry.DefaultTimeout},
		{"async.retry_attempts", c.Async.RetryAttempts, retry.DefaultAttempts},
		{"async.backoff_factor", c.Async.BackoffFactor, retry.DefaultFactor},
		{"indicators.ema", c.Indicators.EMA, indicators.DefaultEMA},
		{"indicators.rsi", c.Indicators.RSI, indicators.DefaultRSI},
		{"indicators.stoch", c.Indicators.Stoch, indicators.DefaultStoch},
		{"indicators.d", c.Indicators.D, indicators.DefaultD},
		{"strategy.oversold", c.Strategy.Oversold, signals.DefaultOversold},
		{"strategy.overbought", c.Strategy.Overbought, signals.DefaultOverbought},
		{"pipeline.batch_size", c.Pipeline.BatchSize, pipeline.DefaultBatchSize},
		{"pipeline.buffer", c.Pipeline.Buffer, pipeline.DefaultBuffer},
		{"store.batch_size", c.Store.BatchSize, store.DefaultBatchSize},
		{"stream.listen", c.Stream.Listen, server.DefaultListen},
		{"stream.stale_after", c.Stream.StaleAfter, health.DefaultStaleAfter},
		{"stream.recent_signals", c.Stream.RecentSignals, server.DefaultRecentSignals},
		{"webhook.rate", c.Webhook.Rate, webhook.DefaultRate},
		{"webhook.burst", c.Webhook.Burst, webhook.DefaultBurst},
		{"webhook.format", c.Webhook.Format, string(webhook.FormatJSON)},
		{"webhook.queue_size", c.Webhook.QueueSize, webhook.DefaultQueueSize},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want the owner's %v", tt.key, tt.got, tt.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

// TestEveryNumberIsBounded sets each numeric setting just past each of its
// bounds and expects an error naming the key (issue 13.7: a huge synthetic
// symbol count passed validation and ran out of memory).
func TestEveryNumberIsBounded(t *testing.T) {
	for _, f := range Fields() {
		switch f.get(Default()).(type) {
		case *string:
			continue
		}
		if f.hi == 0 {
			t.Errorf("%s has no upper bound", f.Key)
			continue
		}
		low := f.lo
		if !f.above {
			low = f.lo - 1
		}
		for _, v := range []float64{low, f.hi + 1} {
			text := strconv.FormatFloat(v, 'f', -1, 64)
			if _, isDur := f.get(Default()).(*time.Duration); isDur {
				text = time.Duration(v).String()
			}
			t.Run(f.Key+"="+text, func(t *testing.T) {
				_, err := Load(Sources{Env: envOf(map[string]string{f.Env: text})})
				if err == nil || !strings.Contains(err.Error(), "config: "+f.Key+" (from "+f.Env+"): must be") {
					t.Errorf("error %v, want one naming %s", err, f.Key)
				}
			})
		}
	}
	_, err := Load(Sources{Env: envOf(nil), Flags: map[string]string{"synthetic-symbols": "1000000000"}})
	if err == nil || !strings.Contains(err.Error(), "stream.synthetic_symbols (from --synthetic-symbols): must be at most 100000, got 1000000000") {
		t.Errorf("error %v", err)
	}
}

// TestRetriesSayNoneAsTheLibrary: the config's 0 is none, which the
// library's retry fields (zero: their default) spell -1.
func TestRetriesSayNoneAsTheLibrary(t *testing.T) {
	for _, tt := range []struct{ attempts, want int }{{0, -1}, {1, 1}, {3, 3}} {
		if got := (Async{RetryAttempts: tt.attempts}).Retries(); got != tt.want {
			t.Errorf("Retries() of retry_attempts %d = %d, want %d", tt.attempts, got, tt.want)
		}
	}
}

func TestChoicesAndAliases(t *testing.T) {
	_, err := Load(Sources{Env: envOf(map[string]string{"TICKFLOW_OUTPUT_FORMAT": "xml"})})
	if err == nil || !strings.Contains(err.Error(), `output.format (from TICKFLOW_OUTPUT_FORMAT): "xml" is not one of auto, table, jsonl, csv`) {
		t.Errorf("error %v", err)
	}
	c, err := Load(Sources{Env: envOf(nil), Flags: map[string]string{"concurrency": "2"}})
	if err != nil || c.Async.CPUThreadPoolSize != 2 || c.Origin("async.cpu_thread_pool_size") != "flag" {
		t.Errorf("--concurrency: %+v, %v", c, err)
	}
}

func TestRenamedSettingsAreErrors(t *testing.T) {
	_, err := Load(Sources{File: writeFile(t, "stream:\n  symbols: 4\n"), Env: envOf(nil)})
	if err == nil || !strings.Contains(err.Error(), `:2: key "stream.symbols" is now "stream.synthetic_symbols"`) {
		t.Errorf("old key: %v", err)
	}
	_, err = Load(Sources{Env: envOf(map[string]string{"TICKFLOW_STREAM_SYMBOLS": "4"})})
	if err == nil || !strings.Contains(err.Error(), "TICKFLOW_STREAM_SYMBOLS is now TICKFLOW_STREAM_SYNTHETIC_SYMBOLS") {
		t.Errorf("old variable: %v", err)
	}
}

// TestTemplateLoadsIntoTheDefaults: the template of --init is a valid file
// that changes nothing, and documents every setting.
func TestTemplateLoadsIntoTheDefaults(t *testing.T) {
	tpl := Template()
	c, err := Load(Sources{File: writeFile(t, string(tpl)), Env: envOf(nil)})
	if err != nil {
		t.Fatalf("%v\n%s", err, tpl)
	}
	def := Default()
	for _, f := range Fields() {
		if f.Value(c) != f.Value(def) {
			t.Errorf("%s = %s from the template, want the default %s", f.Key, f.Value(c), f.Value(def))
		}
		if c.Origin(f.Key) != "file" {
			t.Errorf("%s is not in the template", f.Key)
		}
		for _, w := range []string{"# " + f.Usage + "\n", "$" + f.Env, f.Flag} {
			if !strings.Contains(string(tpl), w) {
				t.Errorf("template does not document %s with %q", f.Key, w)
			}
		}
	}
}

func ExampleTemplate() {
	tpl := string(Template())
	start := strings.Index(tpl, "indicators:")
	end := strings.Index(tpl, "ema: 20\n") + len("ema: 20\n")
	fmt.Print(tpl[start:end])
	// Output:
	// indicators:
	//   # EMA period
	//   # 2 to 100000
	//   # $TICKFLOW_INDICATORS_EMA, --ema
	//   ema: 20
}

func ExampleAsync_Retries() {
	c := Default()
	fmt.Println(c.Async.RetryAttempts, c.Async.Retries())
	c.Async.RetryAttempts = 0 // no retry
	fmt.Println(c.Async.RetryAttempts, c.Async.Retries())
	// Output:
	// 3 3
	// 0 -1
}

// FuzzSet: any text given to any setting is accepted or refused without a
// panic, and a value that validates reads back to itself from its rendering.
func FuzzSet(f *testing.F) {
	for i, fl := range Fields() {
		f.Add(i, fl.Value(Default()))
	}
	f.Add(0, "1e300")
	f.Add(4, "9223372036s")
	f.Add(14, "NaN") // strategy.oversold
	f.Fuzz(func(t *testing.T, i int, text string) {
		all := Fields()
		if i < 0 || i >= len(all) {
			return
		}
		fl := all[i]
		c := Default()
		if err := c.Set(fl.Key, text); err != nil {
			if !strings.HasPrefix(err.Error(), "config: "+fl.Key+": ") {
				t.Errorf("error without the key: %v", err)
			}
			return
		}
		if c.Validate() != nil || fl.Secret {
			return
		}
		back := Default()
		if err := back.Set(fl.Key, fl.Value(c)); err != nil || fl.Value(back) != fl.Value(c) {
			t.Errorf("%s: %q renders as %q, which reads back as %q (%v)", fl.Key, text, fl.Value(c), fl.Value(back), err)
		}
	})
}

var update = flag.Bool("update", false, "rewrite testdata/template.yaml from Template")

// TestTemplateGolden keeps the template of config --init in
// testdata/template.yaml, so that a change to it is seen in review
// (go test ./config -run Golden -update rewrites it).
func TestTemplateGolden(t *testing.T) {
	golden := filepath.Join("testdata", "template.yaml")
	if *update {
		if err := os.WriteFile(golden, Template(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := Template(); string(got) != string(want) {
		t.Errorf("Template() differs from %s (rerun with -update if the change is meant):\n%s", golden, got)
	}
}

// BenchmarkLoad is the cost every command pays at start: the template
// file (every setting), an environment variable and a flag.
func BenchmarkLoad(b *testing.B) {
	file := filepath.Join(b.TempDir(), "tickflow.yaml")
	if err := os.WriteFile(file, Template(), 0o600); err != nil {
		b.Fatal(err)
	}
	env := envOf(map[string]string{"TICKFLOW_INDICATORS_EMA": "30"})
	flags := map[string]string{"rsi": "10"}
	for b.Loop() {
		if _, err := Load(Sources{File: file, Env: env, Flags: flags}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRenamed(t *testing.T) {
	for _, name := range []string{"stream.symbols", "TICKFLOW_STREAM_SYMBOLS"} {
		if f, ok := Renamed(name); !ok || f.Key != "stream.synthetic_symbols" {
			t.Errorf("Renamed(%q) = %v, %v", name, f.Key, ok)
		}
	}
	if _, ok := Renamed("indicators.ema"); ok {
		t.Error("a current key reported as renamed")
	}
}
