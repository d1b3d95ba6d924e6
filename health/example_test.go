package health_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/health"
)

type lastSeen struct{ bar, batch time.Time }

func (l lastSeen) LastBar() time.Time       { return l.bar }
func (l lastSeen) LastProcessed() time.Time { return l.batch }

func ExampleMonitor() {
	now := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	m := health.New(health.Options{
		StaleAfter: 10 * time.Second,
		Now:        func() time.Time { return now },
		Activity:   lastSeen{bar: now.Add(-30 * time.Second), batch: now.Add(-time.Second)},
	})
	m.AddAPI("webhook", health.CheckerFunc(func(context.Context) health.Status {
		return health.OK("circuit breaker closed")
	}))
	m.Start()
	r := m.Check(context.Background())
	fmt.Println("healthy:", r.Healthy)
	for _, name := range []string{health.DataStreaming, health.IndicatorProcessing, health.APIConnectivity, health.ThreadPools} {
		fmt.Printf("%s: %v, %s\n", name, r.Checks[name].OK, r.Checks[name].Reason)
	}
	// Output:
	// healthy: false
	// data_streaming: false, last bar 30s ago (limit 10s)
	// indicator_processing: true, last batch processed 1s ago
	// api_connectivity: true, webhook reachable
	// thread_pools: true, pipeline running (no stage stats)
}
