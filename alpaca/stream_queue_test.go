package alpaca

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tickflow/tickflow/market"
)

var gapT0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

func minuteBar(sym string, i int) market.Bar {
	p := 100 + float64(i)
	return market.Bar{Symbol: sym, Time: gapT0.Add(time.Duration(i) * time.Minute), Open: p, High: p, Low: p, Close: p, Volume: 1}
}

// gapRecorder is the run's Emitter: what was emitted, and the failures.
type gapRecorder struct {
	bars  []string
	fails map[string]error
}

func (g *gapRecorder) Emit(e market.Event) error {
	g.bars = append(g.bars, fmt.Sprintf("%s %02d", e.Symbol, int(e.Time.Sub(gapT0)/time.Minute)))
	return nil
}
func (*gapRecorder) Flush() error                 { return nil }
func (g *gapRecorder) Fail(sym string, err error) { g.fails[sym] = err }

// gapRun is a streamRun without sockets: the test plays the SDK (bars
// pushed by its reader, callbacks started with go) and REST is rest, the
// symbol's whole history.
func gapRun(rest []market.Bar) (*streamRun, *gapRecorder) {
	s := &Stream{}
	rec := &gapRecorder{fails: map[string]error{}}
	r := &streamRun{s: s, last: map[string]time.Time{}, seen: map[string]*sinceVerified{}, failed: map[string]bool{},
		warmupBars: -1, now: func() time.Time { return gapT0.Add(time.Hour) }, out: rec}
	r.q = newBarQueue(100, &s.stats)
	r.fetch = func(_ context.Context, syms []string, start time.Time,
		emit func(string, []market.Bar) error, _ func(string, error)) ([]string, error) {
		for _, sym := range syms {
			var bars []market.Bar
			for _, b := range rest {
				if b.Symbol == sym && !b.Time.Before(start) { // Alpaca's start is inclusive
					bars = append(bars, b)
				}
			}
			if err := emit(sym, bars); err != nil {
				return nil, err
			}
		}
		return syms, nil
	}
	return r, rec
}

// sdkCallback starts f as the SDK starts a connect or disconnect
// callback, on a goroutine of its own, held until the returned function
// lets it run (and waits for it).
func sdkCallback(f func()) (run func()) {
	release := make(chan struct{})
	go func() {
		<-release
		f()
	}()
	return func() {
		close(release)
		synctest.Wait()
	}
}

func wantBars(sym string, minutes ...int) []string {
	var out []string
	for _, m := range minutes {
		out = append(out, fmt.Sprintf("%s %02d", sym, m))
	}
	return out
}

// The orderings of a reconnection's callbacks against the new socket's
// first bar. Minutes 0-2 arrive on the first socket, 3 and 4 are missed
// while it is down (REST has them), 5 arrives on the new socket.
func TestGapQueueCallbackOrderings(t *testing.T) {
	syms := []string{"AAPL"}
	var rest []market.Bar
	for i := range 6 {
		rest = append(rest, minuteBar("AAPL", i))
	}
	cases := []struct {
		name string
		// play runs the reconnection: push delivers a bar from the
		// socket, drain is Produce's loop taking what is queued.
		play      func(t *testing.T, q *barQueue, push func(int), drain func())
		want      []string
		wantGapAt string // a failure naming this bar, if not ""
	}{
		{"callbacks before the new socket's first bar", func(t *testing.T, q *barQueue, push func(int), drain func()) {
			sdkCallback(func() { q.disconnected(1, syms) })()
			sdkCallback(func() { q.connected(1, syms) })()
			push(5)
			drain()
		}, wantBars("AAPL", 0, 1, 2, 3, 4, 5), ""},
		{"connect callback before the disconnect callback", func(t *testing.T, q *barQueue, push func(int), drain func()) {
			connect := sdkCallback(func() { q.connected(1, syms) })
			disconnect := sdkCallback(func() { q.disconnected(1, syms) })
			connect()
			push(5)
			disconnect()
			drain()
		}, wantBars("AAPL", 0, 1, 2, 3, 4, 5), ""},
		{"the new socket's bar queued before the callbacks run", func(t *testing.T, q *barQueue, push func(int), drain func()) {
			connect := sdkCallback(func() { q.connected(1, syms) })
			disconnect := sdkCallback(func() { q.disconnected(1, syms) })
			push(5) // queued, not yet drained
			disconnect()
			connect()
			drain()
		}, wantBars("AAPL", 0, 1, 2, 5), "2024-01-02T14:33:00Z"},
		{"the new socket's bar emitted before the callbacks run", func(t *testing.T, q *barQueue, push func(int), drain func()) {
			connect := sdkCallback(func() { q.connected(1, syms) })
			disconnect := sdkCallback(func() { q.disconnected(1, syms) })
			push(5)
			drain() // emitted: nothing says yet that a gap came before it
			connect()
			disconnect()
			drain()
		}, wantBars("AAPL", 0, 1, 2, 5), "2024-01-02T14:33:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r, rec := gapRun(rest)
				ctx := t.Context()
				q := r.q
				drain := func() {
					t.Helper()
					if err := r.drain(ctx); err != nil {
						t.Fatal(err)
					}
				}
				push := func(i int) { q.push(minuteBar("AAPL", i)) }
				q.startGap(1, syms) // as run does before the first dial
				sdkCallback(func() { q.connected(1, syms) })()
				for i := range 3 {
					push(i)
				}
				drain()
				tc.play(t, q, push, drain)
				if !slices.Equal(rec.bars, tc.want) {
					t.Errorf("emitted %v, want %v", rec.bars, tc.want)
				}
				err := rec.fails["AAPL"]
				switch {
				case tc.wantGapAt == "" && err != nil:
					t.Errorf("AAPL failed: %v", err)
				case tc.wantGapAt != "" && (!errors.Is(err, ErrGap) || !strings.Contains(err.Error(), tc.wantGapAt)):
					t.Errorf("AAPL: %v; want ErrGap naming the missed bar %s: a lost bar must not go unnoticed", err, tc.wantGapAt)
				}
			})
		})
	}
}

// A reconnection that lost nothing is not a failure even when it is
// noticed late: REST agrees with what was emitted.
func TestGapQueueLateCallbacksWithoutLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syms := []string{"AAPL"}
		var rest []market.Bar
		for i := range 5 {
			rest = append(rest, minuteBar("AAPL", i))
		}
		r, rec := gapRun(rest)
		q := r.q
		q.startGap(1, syms)
		sdkCallback(func() { q.connected(1, syms) })()
		for i := range 4 { // minute 3 was the old socket's last bar
			q.push(minuteBar("AAPL", i))
		}
		if err := r.drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		connect := sdkCallback(func() { q.connected(1, syms) })
		disconnect := sdkCallback(func() { q.disconnected(1, syms) })
		q.push(minuteBar("AAPL", 4)) // the new socket's first bar
		if err := r.drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		disconnect()
		connect()
		if err := r.drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		if want := wantBars("AAPL", 0, 1, 2, 3, 4); !slices.Equal(rec.bars, want) || len(rec.fails) != 0 {
			t.Fatalf("emitted %v, failures %v; want %v and none", rec.bars, rec.fails, want)
		}
	})
}

// The record of bars since the last verification stays bounded.
func TestSinceVerifiedIsBounded(t *testing.T) {
	var v sinceVerified
	v.verified(gapT0)
	for i := range 10 * maxUnverified {
		v.add(gapT0.Add(time.Duration(i+1) * time.Minute))
		if len(v.times) > 2*maxUnverified {
			t.Fatalf("%d times kept", len(v.times))
		}
	}
	last := gapT0.Add(10 * maxUnverified * time.Minute)
	if !v.has(last) || v.floor().After(last) || v.has(gapT0) {
		t.Fatalf("floor %v, has last %v", v.floor(), v.has(last))
	}
}
