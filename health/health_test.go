package health_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/pipeline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// activity is an Activity the test moves by hand, on the bubble's clock.
type activity struct{ bar, batch atomic.Int64 }

func (a *activity) LastBar() time.Time       { return unix(a.bar.Load()) }
func (a *activity) LastProcessed() time.Time { return unix(a.batch.Load()) }
func (a *activity) tick() {
	now := time.Now().UnixNano()
	a.bar.Store(now)
	a.batch.Store(now)
}

func unix(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func expect(t *testing.T, r health.Report, check string, ok bool, reason string) {
	t.Helper()
	s, found := r.Checks[check]
	if !found {
		t.Fatalf("no %s check in %+v", check, r)
	}
	if s.OK != ok || !strings.Contains(s.Reason, reason) {
		t.Errorf("%s = %+v, want ok=%v with reason containing %q", check, s, ok, reason)
	}
}

func TestChecksFollowTheStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &activity{}
		m := health.New(health.Options{StaleAfter: 10 * time.Second, Activity: a})
		ctx := context.Background()

		r := m.Check(ctx)
		if r.Healthy {
			t.Error("healthy before Start")
		}
		expect(t, r, health.DataStreaming, false, "not started")
		expect(t, r, health.APIConnectivity, true, "no external APIs")
		if len(r.Checks) != 4 {
			t.Errorf("%d checks, want the ADR's 4", len(r.Checks))
		}

		m.Start()
		time.Sleep(2 * time.Second)
		r = m.Check(ctx)
		expect(t, r, health.DataStreaming, true, "starting: no bar yet")
		if !r.Healthy {
			t.Errorf("unhealthy during the start grace period: %+v", r)
		}
		time.Sleep(9 * time.Second)
		expect(t, m.Check(ctx), health.DataStreaming, false, "no bar in the 11s since start")

		a.tick()
		time.Sleep(3 * time.Second)
		r = m.Check(ctx)
		if !r.Healthy {
			t.Errorf("unhealthy with a bar 3s ago: %+v", r)
		}
		expect(t, r, health.DataStreaming, true, "last bar 3s ago")

		time.Sleep(8 * time.Second) // the source stalls
		r = m.Check(ctx)
		if r.Healthy {
			t.Error("healthy 11s after the last bar")
		}
		expect(t, r, health.DataStreaming, false, "last bar 11s ago (limit 10s)")
		expect(t, r, health.IndicatorProcessing, false, "last batch processed 11s ago")

		a.tick() // and recovers
		if r = m.Check(ctx); !r.Healthy {
			t.Errorf("unhealthy after recovery: %+v", r)
		}

		m.Stop(errors.New("sink: disk full\nstack..."))
		r = m.Check(ctx)
		expect(t, r, health.DataStreaming, false, "pipeline stopped: sink: disk full")
		if s := r.Checks[health.DataStreaming].Reason; strings.Contains(s, "stack") {
			t.Errorf("reason carries more than the first line: %q", s)
		}
		if m.Ready().OK {
			t.Error("ready after Stop")
		}
	})
}

func TestAPIConnectivity(t *testing.T) {
	var open atomic.Bool
	m := health.New(health.Options{})
	m.Start()
	m.AddAPI("webhook", health.CheckerFunc(func(context.Context) health.Status {
		if open.Load() {
			return health.Fail("circuit breaker open")
		}
		return health.OK("circuit breaker closed")
	}))
	m.AddAPI("alpaca", health.CheckerFunc(func(context.Context) health.Status { return health.OK("connected") }))
	expect(t, m.Check(context.Background()), health.APIConnectivity, true, "alpaca, webhook reachable")
	open.Store(true)
	expect(t, m.Check(context.Background()), health.APIConnectivity, false, "webhook: circuit breaker open")
}

func TestThreadPoolsSpotsAStuckStage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var in, queued atomic.Int64
		stats := func() []pipeline.StageStats {
			return []pipeline.StageStats{
				{Name: "source"},
				{Name: "indicators", In: in.Load(), Queued: queued.Load()},
				{Name: "sink"},
			}
		}
		m := health.New(health.Options{StaleAfter: 5 * time.Second, Stats: stats, MaxQueued: 1000})
		m.Start()
		ctx := context.Background()
		expect(t, m.Check(ctx), health.ThreadPools, true, "3 stages, 0 items queued")

		queued.Store(64)
		in.Store(10)
		expect(t, m.Check(ctx), health.ThreadPools, true, "64 items queued")
		time.Sleep(6 * time.Second)
		expect(t, m.Check(ctx), health.ThreadPools, false, "stage indicators stuck: 64 items queued, none taken for 6s")

		in.Store(20) // it moves again
		expect(t, m.Check(ctx), health.ThreadPools, true, "64 items queued")

		queued.Store(5000)
		expect(t, m.Check(ctx), health.ThreadPools, false, "5000 items queued (limit 1000)")
	})
}

func TestReady(t *testing.T) {
	m := health.New(health.Options{})
	if m.Ready().OK {
		t.Error("ready before Start")
	}
	m.Start()
	if s := m.Ready(); !s.OK {
		t.Errorf("not ready after Start: %+v", s)
	}
	m.Stop(nil)
	if s := m.Ready(); s.OK || s.Reason != "pipeline stopped" {
		t.Errorf("Ready after Stop = %+v", s)
	}
}
