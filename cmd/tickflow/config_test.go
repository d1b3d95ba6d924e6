package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	for _, want := range []string{"retry_attempts: 5 # file", "synthetic_symbols: 7 # env", "ema: 30 # flag", "max_concurrent_symbols: 10 # default", `listen: "127.0.0.1:9090" # default`, "hooks.example.com"} {
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
