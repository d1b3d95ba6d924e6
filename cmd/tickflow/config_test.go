//go:build full

package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestConfigPrintsEffectiveSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tickflow.yaml")
	if err := os.WriteFile(file, []byte("async:\n  retry_attempts: 5\nstream:\n  synthetic_symbols: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TICKFLOW_STREAM_SYNTHETIC_SYMBOLS", "7")
	t.Setenv("TICKFLOW_WEBHOOK_URL", "https://bot:pw@hooks.example.com/T0/s3cret")
	out, stderr, code := cmdline(t, "config", "--config", file, "--ema", "30")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"retry_attempts: 5 # file", "synthetic_symbols: 7 # env", "ema: 30 # flag", "max_concurrent_symbols: 10 # default", `listen: "127.0.0.1:7321" # default`, "hooks.example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, ":pw@") {
		t.Errorf("output reveals the webhook's secret:\n%s", out)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tickflow.yaml")
	if err := os.WriteFile(file, []byte("indicators:\n  ema: 20\n  emma: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cmdline(t, "config", "--config", file)
	if code != exitUsage || !strings.Contains(stderr, `tickflow.yaml:3: unknown key "indicators.emma"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	_, stderr, code = cmdline(t, "config", "--oversold", "90")
	if code != exitUsage || !strings.Contains(stderr, "strategy.oversold") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// writeConfig writes a config file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tickflow.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestRunReadsEveryLayer pins the three defects of run that ignored the
// config package: --ema 1 was accepted (the config rejects EMA 1),
// TICKFLOW_INDICATORS_EMA was ignored, and --config was an unknown flag.
func TestRunReadsEveryLayer(t *testing.T) {
	base := []string{"run", "--synthetic-symbols", "1", "--synthetic-bars", "60"}
	_, stderr, code := cmdline(t, append(base, "--ema", "1")...)
	if code != exitUsage || !strings.Contains(stderr, "indicators.ema (from --ema): must be at least 2, got 1") {
		t.Errorf("run --ema 1: exit %d: %s", code, stderr)
	}
	t.Setenv("TICKFLOW_INDICATORS_EMA", "1")
	_, stderr, code = cmdline(t, base...)
	if code != exitUsage || !strings.Contains(stderr, "indicators.ema (from TICKFLOW_INDICATORS_EMA)") {
		t.Errorf("TICKFLOW_INDICATORS_EMA=1 run: exit %d: %s", code, stderr)
	}
	t.Setenv("TICKFLOW_INDICATORS_EMA", "30")
	_, stderr, code = cmdline(t, append(base, "--config", writeConfig(t, "indicators:\n  ema: 40\n"))...)
	if code != exitOK {
		t.Errorf("run --config FILE: exit %d: %s", code, stderr)
	}
}

// emaWarmup is how many bars of a JSON-lines indicators output have no EMA
// yet: the EMA period minus one.
func emaWarmup(t *testing.T, out string) int {
	t.Helper()
	n := strings.Count(out, `"ema":null`)
	if n == 0 || !strings.Contains(out, `"ema":`) {
		t.Fatalf("no indicator output: %q", out)
	}
	return n
}

// TestPrecedenceOfEveryCommand: for every command, a setting it uses comes
// from the default, then the file, then the environment, then the flag. A
// lower layer holds an invalid value that the next one must override; the
// error of an invalid value names its layer.
func TestPrecedenceOfEveryCommand(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "journal.db")
	mustRun(t, "run", "--synthetic-symbols", "2", "--synthetic-bars", "400", "--journal", db, "--format", "jsonl")
	for _, tc := range []struct {
		cmd  []string // reaches its work quickly once the settings load
		key  string   // a setting the command uses
		flag string
		bad  string // an invalid value of it
		good string
	}{
		{[]string{"run", "--synthetic-symbols", "1", "--synthetic-bars", "50"}, "indicators.ema", "--ema", "1", "25"},
		{[]string{"stream", "--listen", "127.0.0.1:0", "--synthetic-symbols", "1", "--duration", "1ms"}, "indicators.ema", "--ema", "1", "25"},
		{[]string{"fetch", "--symbols", "AAPL", "--start", "2024-01-02"}, "async.request_timeout", "--request-timeout", "0s", "5s"},
		{[]string{"import", "--csv", "testdata/bad_close.csv", "--skip-bad-rows", "--db", "sqlite:" + filepath.Join(dir, "bars.db")}, "store.batch_size", "--batch", "0", "7"},
		{[]string{"signals", "--db", db}, "output.format", "--format", "xml", "csv"},
	} {
		section, name, _ := strings.Cut(tc.key, ".")
		env := "TICKFLOW_" + strings.ToUpper(strings.ReplaceAll(tc.key, ".", "_"))
		badFile := writeConfig(t, section+":\n  "+name+": "+tc.bad+"\n")
		goodFile := writeConfig(t, section+":\n  "+name+": "+tc.good+"\n")
		for _, step := range []struct {
			name    string
			env     string // value of the variable, "" for unset
			file    string
			flag    string
			wantErr string // "" for no configuration error
		}{
			{"default", "", "", "", ""},
			{"file over default", "", badFile, "", badFile + ":2: " + tc.key},
			{"env over file", tc.good, badFile, "", ""},
			{"env over default", tc.bad, "", "", tc.key + " (from " + env + ")"},
			{"env over a good file", tc.bad, goodFile, "", tc.key + " (from " + env + ")"},
			{"flag over env", tc.bad, badFile, tc.good, ""},
			{"flag over all", tc.good, goodFile, tc.bad, tc.key + " (from " + tc.flag + ")"},
		} {
			t.Run(tc.cmd[0]+"/"+step.name, func(t *testing.T) {
				t.Setenv("APCA_API_KEY_ID", "") // fetch stops at the missing key, past its settings
				if step.env != "" {
					t.Setenv(env, step.env)
				}
				args := append([]string{}, tc.cmd...)
				if step.file != "" {
					args = append(args, "--config", step.file)
				}
				if step.flag != "" {
					args = append(args, tc.flag, step.flag)
				}
				_, stderr, code := cmdline(t, args...)
				if step.wantErr != "" {
					if code != exitUsage || !strings.Contains(stderr, "config: "+step.wantErr) {
						t.Errorf("%v: exit %d, want %d naming %q: %s", args, code, exitUsage, step.wantErr, stderr)
					}
					return
				}
				if strings.Contains(stderr, "config:") {
					t.Errorf("%v: a configuration error: %s", args, stderr)
				}
			})
		}
	}
}

// TestPrecedenceChangesTheOutput follows values, not only errors, through
// the layers: run's EMA period and signals' output format.
func TestPrecedenceChangesTheOutput(t *testing.T) {
	run := []string{"run", "--synthetic-symbols", "1", "--synthetic-bars", "80", "--emit", "indicators", "--format", "jsonl"}
	file := writeConfig(t, "indicators:\n  ema: 30\noutput:\n  format: csv\n")
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want int // bars without an EMA
	}{
		{"default", "", nil, 19},
		{"file", "", []string{"--config", file}, 29},
		{"env", "40", []string{"--config", file}, 39},
		{"flag", "40", []string{"--config", file, "--ema", "50"}, 49},
	} {
		t.Run("run/"+tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("TICKFLOW_INDICATORS_EMA", tc.env)
			}
			out, stderr, code := cmdline(t, append(append([]string{}, run...), tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := emaWarmup(t, out); got != tc.want {
				t.Errorf("%d bars without an EMA, want %d", got, tc.want)
			}
		})
	}

	db := "sqlite:" + filepath.Join(t.TempDir(), "journal.db")
	mustRun(t, "run", "--synthetic-symbols", "2", "--synthetic-bars", "400", "--journal", db, "--format", "jsonl")
	for _, tc := range []struct {
		name   string
		env    string
		args   []string
		prefix string
	}{
		{"default (not a terminal)", "", nil, `{"strategy":`},
		{"file", "", []string{"--config", file}, "strategy,symbol,time"},
		{"env", "table", []string{"--config", file}, "strategy  "},
		{"flag", "table", []string{"--config", file, "--format", "jsonl"}, `{"strategy":`},
	} {
		t.Run("signals/"+tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("TICKFLOW_OUTPUT_FORMAT", tc.env)
			}
			out, stderr, code := cmdline(t, append([]string{"signals", "--db", db}, tc.args...)...)
			if code != exitOK || !strings.HasPrefix(out, tc.prefix) {
				t.Errorf("exit %d, output %.60q, want it to start %q: %s", code, out, tc.prefix, stderr)
			}
		})
	}
}

func TestConfigInit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tickflow.yaml")
	_, stderr, code := cmdline(t, "config", "--init", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tpl, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The template loads back into the defaults: what config prints with it
	// equals what it prints with no file, but for the origin comments.
	withFile, _, code := cmdline(t, "config", "--config", path)
	if code != exitOK {
		t.Fatalf("config --config template: exit %d", code)
	}
	without, _, _ := cmdline(t, "config")
	if got, want := strings.ReplaceAll(withFile, " # file", ""), strings.ReplaceAll(without, " # default", ""); got != want {
		t.Errorf("the template does not load into the defaults:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(string(tpl), "# EMA period\n") || !strings.Contains(string(tpl), "$TICKFLOW_INDICATORS_EMA, --ema") {
		t.Errorf("template without comments:\n%s", tpl)
	}
	_, stderr, code = cmdline(t, "config", "--init", path)
	if code != exitUsage || !strings.Contains(stderr, "exists; not overwriting it") {
		t.Errorf("second --init: exit %d: %s", code, stderr)
	}
	if again, _ := os.ReadFile(path); string(again) != string(tpl) {
		t.Error("the existing file was changed")
	}
}

// TestHelpStatesEachDefaultOnce scans every command's help: a flag line
// that says "(default" twice (as --qty's "(default 1) (default: 0)" did)
// contradicts itself.
func TestHelpStatesEachDefaultOnce(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	for _, cmd := range append([]string{""}, commandNames(app)...) {
		args := []string{"--help"}
		if cmd != "" {
			args = []string{cmd, "--help"}
		}
		out, stderr, code := cmdline(t, args...)
		if code != exitOK || out == "" {
			t.Fatalf("%s --help: exit %d: %s", cmd, code, stderr)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("%s --help: %q", cmd, strings.TrimSpace(line))
			}
		}
		if !strings.Contains(out, "Exit status: 0 success; 1 runtime failure") {
			t.Errorf("%s --help does not state the exit statuses", cmd)
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.TrimSpace(line); strings.HasPrefix(f, "--start") || strings.HasPrefix(f, "--end") {
				if !strings.Contains(f, "a date (2024-01-05) means the whole day (UTC unless --tz); a timestamp") {
					t.Errorf("%s --help: a date flag without the date rule: %q", cmd, f)
				}
			}
		}
	}
}

func commandNames(app *cli.App) []string {
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Name)
	}
	return names
}

func TestStreamSymbolsIsAList(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"stream", "--symbols", "4"}, nil, "the synthetic feed's count is now --synthetic-symbols 4"},
		{[]string{"stream", "--symbols", "AAPL"}, nil, "--symbols AAPL needs --source alpaca"},
		{[]string{"stream"}, map[string]string{"TICKFLOW_STREAM_SYMBOLS": "4"}, "TICKFLOW_STREAM_SYMBOLS is now TICKFLOW_STREAM_SYNTHETIC_SYMBOLS"},
		{[]string{"run"}, map[string]string{"TICKFLOW_INDICATORS_EMMA": "50"}, "environment variable TICKFLOW_INDICATORS_EMMA is not a setting"},
		{[]string{"stream", "--synthetic-symbols", "1000000000"}, nil, "stream.synthetic_symbols (from --synthetic-symbols): must be at most 100000, got 1000000000"},
		{[]string{"run", "--synthetic-symbols", "1000000000"}, nil, "--synthetic-symbols: must be from 1 to 100000, got 1000000000"},
		{[]string{"stream", "--source", "alpaca", "--symbols", "AAPL", "--warmup", "1000000", "--key", "k", "--secret", "s"}, nil, "--warmup: must be from 0 to 10000"},
		{[]string{"stream", "--source", "alpaca", "--synthetic-symbols", "3"}, nil, "with --source alpaca, list them with --symbols"},
		{[]string{"stream", "--duration", "-1s"}, nil, "--duration: must not be negative"},
		{[]string{"stream", "--orders", "dry-run", "--qty", "NaN"}, nil, "--qty: must be from 0 to 1000000, got NaN"},
		{[]string{"stream", "--orders", "dry-run", "--notional", "50000000"}, nil, "--notional: must be from 0 to 10000000, got 50000000"},
		{[]string{"fetch", "--symbols", "AAPL", "--start", "2024-01-02", "--rate-limit", "0", "--key", "k", "--secret", "s"}, nil, "--rate-limit: must be from 1 to 100000, got 0"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, stderr, code := cmdline(t, tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, want %d and one line containing %q: %s", code, exitUsage, tc.want, stderr)
			}
		})
	}
}

// TestUsageErrorsExit2 pins the usage half of the exit rule.
func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "such", "bars.db")
	for _, args := range [][]string{
		{"nosuch"},
		{"help", "nosuch"},
		{"run", "--no-such-flag"},
		{"run", "--db", "postgres://%zz"},
		{"run", "--db", "mysql://x"},
		{"run", "--journal", "postgres://%zz"},
		{"signals", "--db", "mysql://x"},
		{"run", "--db", "sqlite:" + missing},
		{"signals", "--db", "sqlite:" + missing},
		{"config", "--config", writeConfig(t, "indicators:\n  emma: 3\n")},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stderr, code := cmdline(t, args...)
			if code != exitUsage || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, want %d with one line: %s", code, exitUsage, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !os.IsNotExist(err) {
		t.Errorf("reading a missing database made its folders: %v", err)
	}
	// The commands that write create what is missing.
	mustRun(t, "import", "--csv", "testdata/bad_close.csv", "--skip-bad-rows", "--db", "sqlite:"+missing)
	if _, err := os.Stat(missing); err != nil {
		t.Errorf("import did not create the database: %v", err)
	}
	journal := filepath.Join(dir, "new", "journal.db")
	mustRun(t, "run", "--synthetic-symbols", "1", "--synthetic-bars", "50", "--journal", "sqlite:"+journal)
	mustRun(t, "signals", "--db", "sqlite:"+journal)
}
