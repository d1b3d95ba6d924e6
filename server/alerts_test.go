package server_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/server"
)

// TestAlertRulesNameExportedMetrics checks that every metric the example
// alert rules use is one tickflow exports.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../examples/alerts/tickflow.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.New(server.Options{Registerer: reg, Health: health.New(health.Options{})}); err != nil {
		t.Fatal(err)
	}
	// Touch every labelled family so that it is exported.
	m.Processed("indicators", 1, 1, time.Millisecond)
	m.Failed("indicators", "X", context.Canceled)
	m.Dropped("indicators", 1)
	m.Discarded("webhook", "breaker_open")
	m.BreakerState("webhook", "open")
	m.Retried("webhook")
	m.RateLimited("webhook", time.Millisecond)
	m.DeclareOperations("webhook") // outbound operations' series
	m.WatchPipeline(fakePipeline{})
	_ = m.Sink().Write(context.Background(), []market.Event{{Signal: &market.Signal{Side: market.Buy}}})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
	}

	name := regexp.MustCompile(`\b(?:tickflow_|async_|active_async)[a-z_]*`)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("rule %+v lacks a name or an expression", r)
			}
			for _, metric := range name.FindAllString(r.Expr, -1) {
				base := metric
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					base = strings.TrimSuffix(base, suffix)
				}
				if !exported[base] {
					t.Errorf("%s uses %s, which tickflow does not export", r.Alert, metric)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("%d rules, want at least stalled, error rate, latency and drops", n)
	}
}

type fakePipeline struct{}

func (fakePipeline) Stats() []pipeline.StageStats {
	return []pipeline.StageStats{{Name: "indicators", Queued: 3}}
}
func (fakePipeline) Workers() int { return 2 }
