package sources

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

var replayT0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

// bar is symbol's bar at minute m after replayT0, closing at m.
func replayBar(symbol string, m int) market.Event {
	return market.Event{Bar: market.Bar{Symbol: symbol, Time: replayT0.Add(time.Duration(m) * time.Minute), Close: float64(m)}}
}

// script is a history: events, and failures where an item has err set.
type scriptItem struct {
	event market.Event
	key   string
	err   error
}

func script(items ...scriptItem) pipeline.Source[market.Event] {
	return pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
		for _, it := range items {
			if it.err != nil {
				out.Fail(it.key, it.err)
				continue
			}
			if err := out.Emit(it.event); err != nil {
				return err
			}
		}
		return nil
	})
}

func replayBars(symbol string, minutes ...int) []scriptItem {
	var items []scriptItem
	for _, m := range minutes {
		items = append(items, scriptItem{event: replayBar(symbol, m)})
	}
	return items
}

// timedRecorder logs what a source does and when, one line per call:
// "1s A@2" for an Emit of A's bar of minute 2 one second after start,
// "1s flush", "1s FAIL A".
type timedRecorder struct {
	start time.Time
	lines []string
	// events are the emitted events, in order.
	events []market.Event
}

func (r *timedRecorder) at() time.Duration { return time.Since(r.start) }

func (r *timedRecorder) Emit(e market.Event) error {
	r.events = append(r.events, e)
	r.lines = append(r.lines, fmt.Sprintf("%v %s@%d", r.at(), e.Symbol, int(e.Time.Sub(replayT0)/time.Minute)))
	return nil
}

func (r *timedRecorder) Flush() error {
	r.lines = append(r.lines, fmt.Sprintf("%v flush", r.at()))
	return nil
}

func (r *timedRecorder) Fail(key string, _ error) {
	r.lines = append(r.lines, fmt.Sprintf("%v FAIL %s", r.at(), key))
}

func concat(parts ...[]scriptItem) []scriptItem { return slices.Concat(parts...) }

func TestReplayPacing(t *testing.T) {
	fail := errors.New("bad row")
	for _, tc := range []struct {
		name    string
		history []scriptItem
		speed   float64
		maxWait time.Duration
		want    []string
	}{{
		// One symbol after another, as CSV reads files: merged by time,
		// one minute of bars per second at 60x.
		name:    "merge at 60x",
		history: concat(replayBars("A", 0, 1, 3), replayBars("B", 0, 1, 2)),
		speed:   60,
		want: []string{
			"0s A@0", "0s B@0", "0s flush",
			"1s A@1", "1s B@1", "1s flush",
			"2s B@2", "2s flush",
			"3s A@3", "3s flush",
		},
	}, {
		name:    "ties keep the source's order",
		history: concat(replayBars("B", 0, 1), replayBars("A", 0, 1)),
		speed:   120,
		want:    []string{"0s B@0", "0s A@0", "0s flush", "500ms B@1", "500ms A@1", "500ms flush"},
	}, {
		// A's third bar is earlier than its second: it follows the second.
		name:    "a symbol keeps its order",
		history: concat(replayBars("A", 0, 5, 2), replayBars("B", 3)),
		speed:   60,
		want:    []string{"0s A@0", "0s flush", "3s B@3", "3s flush", "5s A@5", "5s A@2", "5s flush"},
	}, {
		// A fails after its bar of minute 1: the failure follows that bar;
		// C fails before any bar: with the first group.
		name: "failures keep their place",
		history: concat(replayBars("A", 0, 1), []scriptItem{{key: "A", err: fail}}, replayBars("B", 0, 1, 2),
			[]scriptItem{{key: "C", err: fail}}),
		speed: 60,
		want: []string{
			"0s A@0", "0s B@0", "0s FAIL C", "0s flush",
			"1s A@1", "1s FAIL A", "1s B@1", "1s flush",
			"2s B@2", "2s flush",
		},
	}, {
		name:    "MaxWait caps a gap",
		history: replayBars("A", 0, 1, 600, 601),
		speed:   60,
		maxWait: 2 * time.Second,
		want:    []string{"0s A@0", "0s flush", "1s A@1", "1s flush", "3s A@600", "3s flush", "4s A@601", "4s flush"},
	}, {
		name:    "as fast as possible",
		history: concat(replayBars("A", 0, 1, 3), replayBars("B", 0, 1, 2)),
		speed:   0,
		want:    []string{"0s A@0", "0s B@0", "0s A@1", "0s B@1", "0s B@2", "0s A@3"},
	}, {
		name:  "empty",
		speed: 60,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &timedRecorder{start: time.Now()}
				r := &Replay{Source: script(tc.history...), Speed: tc.speed, MaxWait: tc.maxWait}
				if err := r.Produce(context.Background(), rec); err != nil {
					t.Fatalf("Produce: %v", err)
				}
				if !slices.Equal(rec.lines, tc.want) {
					t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(rec.lines, "\n\t"), strings.Join(tc.want, "\n\t"))
				}
			})
		})
	}
}

// A pipeline slower than the schedule gets late groups at once, then the
// schedule resumes: no group is skipped, none waits twice.
func TestReplayFallsBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &timedRecorder{start: time.Now()}
		slow := &slowEmitter{timedRecorder: rec, block: map[int]time.Duration{0: 2500 * time.Millisecond}}
		r := &Replay{Source: script(replayBars("A", 0, 1, 2, 3, 4)...), Speed: 60}
		if err := r.Produce(context.Background(), slow); err != nil {
			t.Fatal(err)
		}
		want := []string{"2.5s A@0", "2.5s flush", "2.5s A@1", "2.5s flush", "2.5s A@2", "2.5s flush", "3s A@3", "3s flush", "4s A@4", "4s flush"}
		if !slices.Equal(rec.lines, want) {
			t.Errorf("got %q, want %q", rec.lines, want)
		}
	})
}

// slowEmitter blocks the n-th Emit for block[n] before it is accepted.
type slowEmitter struct {
	*timedRecorder
	n     int
	block map[int]time.Duration
}

func (s *slowEmitter) Emit(e market.Event) error {
	time.Sleep(s.block[s.n]) // the pipeline's back-pressure, in virtual time
	s.n++
	return s.timedRecorder.Emit(e)
}

func TestReplayCancelledWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rec := &timedRecorder{start: time.Now()}
		done := make(chan error, 1)
		r := &Replay{Source: script(replayBars("A", 0, 1, 2)...), Speed: 1}
		go func() { done <- r.Produce(ctx, rec) }()
		time.Sleep(90 * time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Produce: %v, want context.Canceled", err)
		}
		want := []string{"0s A@0", "0s flush", "1m0s A@1", "1m0s flush"}
		if !slices.Equal(rec.lines, want) {
			t.Errorf("got %q, want %q", rec.lines, want)
		}
		if d := rec.at(); d != 90*time.Second {
			t.Errorf("Produce returned %v after the start, want at the cancellation (1m30s)", d)
		}
	})
}

// stepClock is a Clock that never waits: Sleep advances it and records d.
type stepClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func TestReplayInjectedClock(t *testing.T) {
	clock := &stepClock{now: time.Unix(0, 0)}
	rec := &timedRecorder{start: time.Now()}
	r := &Replay{Source: script(replayBars("A", 0, 1, 3, 4)...), Speed: 30, Clock: clock}
	if err := r.Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 2 * time.Second}
	if !slices.Equal(clock.sleeps, want) {
		t.Errorf("slept %v, want %v", clock.sleeps, want)
	}
	if len(rec.events) != 4 {
		t.Errorf("emitted %d bars, want 4", len(rec.events))
	}
}

func TestReplayErrors(t *testing.T) {
	broken := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		r    *Replay
		want string
	}{
		{"no source", &Replay{}, "sources.Replay: no Source"},
		{"negative speed", &Replay{Source: script(), Speed: -1}, "sources.Replay: Speed -1 is negative"},
		{"negative MaxWait", &Replay{Source: script(), MaxWait: -time.Second}, "sources.Replay: MaxWait -1s is negative"},
		{"history fails", &Replay{Source: pipeline.SourceFunc[market.Event](func(_ context.Context, out pipeline.Emitter[market.Event]) error {
			_ = out.Emit(replayBar("A", 0))
			return broken
		}), Speed: 60}, "sources.Replay: loading the history: disk on fire"},
		{"CSV path missing", &Replay{Source: &CSV{Paths: []string{"testdata/missing.csv"}}}, "sources.Replay: loading the history: sources.CSV: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &timedRecorder{start: time.Now()}
			err := tc.r.Produce(context.Background(), rec)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Produce: %v, want %q", err, tc.want)
			}
			if len(rec.lines) != 0 {
				t.Errorf("emitted %q before failing, want nothing", rec.lines)
			}
		})
	}
	r := &Replay{Source: pipeline.SourceFunc[market.Event](func(context.Context, pipeline.Emitter[market.Event]) error { return broken })}
	if err := r.Produce(context.Background(), &timedRecorder{}); !errors.Is(err, broken) {
		t.Errorf("the history's error is not wrapped with %%w: %v", err)
	}
}

// Replaying real data as fast as possible gives each symbol's bars in the
// CSV's order, and all symbols merged by time.
func TestReplayRealData(t *testing.T) {
	paths := []string{"../../shared/data/spy-1d.csv", "../../shared/data/btcusdt-1h.csv"}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("real data not found (%v): it lives beside the repository in ../shared/data", err)
		}
	}
	csv := &CSV{Paths: paths, SkipBadRows: true}
	direct := &timedRecorder{}
	if err := csv.Produce(context.Background(), direct); err != nil {
		t.Fatal(err)
	}
	rec := &timedRecorder{}
	r := &Replay{Source: &CSV{Paths: paths, SkipBadRows: true}}
	if err := r.Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != len(direct.events) || len(rec.events) < 9000 {
		t.Fatalf("replayed %d bars, the CSV has %d", len(rec.events), len(direct.events))
	}
	bySymbol := func(es []market.Event) map[string][]market.Event {
		m := map[string][]market.Event{}
		for _, e := range es {
			m[e.Symbol] = append(m[e.Symbol], e)
		}
		return m
	}
	want, got := bySymbol(direct.events), bySymbol(rec.events)
	for s := range want {
		if !slices.EqualFunc(want[s], got[s], func(a, b market.Event) bool { return a.Bar == b.Bar }) {
			t.Errorf("%s: replayed bars differ from the CSV's", s)
		}
	}
	if !slices.IsSortedFunc(rec.events, func(a, b market.Event) int { return a.Time.Compare(b.Time) }) {
		t.Error("replayed bars are not in time order")
	}
}

func TestReplayConformance(t *testing.T) {
	history := func() pipeline.Source[market.Event] {
		return &CSV{Paths: []string{"testdata/good.csv", "testdata/dir"}}
	}
	t.Run("as fast as possible", func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &Replay{Source: history()}
		}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 3})
	})
	t.Run("failures", func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &Replay{Source: &CSV{Paths: []string{"testdata/bad.csv"}}}
		}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 3})
	})
	t.Run("live", func(t *testing.T) {
		// 200 minutes of bars, 4 symbols, a minute in 10 ms: a 2 s feed.
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &Replay{Source: &Synthetic{Symbols: 4, Bars: 200}, Speed: 6000}
		}, pipelinetest.SourceOptions{MinItems: 20})
	})
}

func TestParseReplaySpeed(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  bool
	}{
		{"60x", 60, false},
		{"1x", 1, false},
		{"0.5x", 0.5, false},
		{"60", 60, false},
		{"2X", 2, false},
		{" 10x ", 10, false},
		{"max", 0, false},
		{"MAX", 0, false},
		{"0x", 0, true},
		{"-1x", 0, true},
		{"x", 0, true},
		{"", 0, true},
		{"60xx", 0, true},
		{"60Xx", 0, true},
		{"infx", 0, true},
		{"1e3x", 0, true},
		{"0x1p4", 0, true},
		{"fast", 0, true},
	} {
		got, err := ParseReplaySpeed(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseReplaySpeed(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
			t.Errorf("ParseReplaySpeed(%q): error %q does not name the value", tc.in, err)
		}
	}
}

func FuzzParseReplaySpeed(f *testing.F) {
	for _, s := range []string{"60x", "1x", "max", "0.25X", "", "x", "-3x", "1e9", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseReplaySpeed(s)
		if err != nil {
			if v != 0 || !strings.HasPrefix(err.Error(), "sources.Replay: speed ") {
				t.Fatalf("ParseReplaySpeed(%q) = %v, %v", s, v, err)
			}
			return
		}
		if v == 0 {
			if !strings.EqualFold(strings.TrimSpace(s), "max") {
				t.Fatalf("ParseReplaySpeed(%q) = 0 (max) for something other than max", s)
			}
			return
		}
		if !(v > 0) || math.IsInf(v, 0) {
			t.Fatalf("ParseReplaySpeed(%q) = %v, want a positive finite speed", s, v)
		}
		// What it accepts, it reads back the same in plain decimal form.
		canon := strconv.FormatFloat(v, 'f', -1, 64) + "x"
		if back, err := ParseReplaySpeed(canon); err != nil || back != v {
			t.Fatalf("%q → %v → %q → %v, %v", s, v, canon, back, err)
		}
	})
}

// Replay's Produce is safe to run while another Replay runs: nothing is
// shared between them.
func TestReplayIndependentRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := script(concat(replayBars("A", 0, 1, 2), replayBars("B", 0, 2))...)
		var wg sync.WaitGroup
		out := make([][]string, 2)
		for i := range out {
			wg.Go(func() {
				rec := &timedRecorder{start: time.Now()}
				if err := (&Replay{Source: src, Speed: 60}).Produce(context.Background(), rec); err != nil {
					t.Error(err)
				}
				out[i] = rec.lines
			})
		}
		wg.Wait()
		if !slices.Equal(out[0], out[1]) || len(out[0]) != 8 {
			t.Errorf("two runs: %q and %q", out[0], out[1])
		}
	})
}

// Cancelled while the history loads: Produce returns the context's error
// unwrapped, having emitted nothing.
func TestReplayCancelledWhileLoading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		loading := pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
			_ = out.Emit(replayBar("A", 0))
			<-ctx.Done()
			return fmt.Errorf("reading: %w", ctx.Err())
		})
		rec := &timedRecorder{start: time.Now()}
		done := make(chan error, 1)
		go func() { done <- (&Replay{Source: loading, Speed: 60}).Produce(ctx, rec) }()
		synctest.Wait()
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("Produce: %v, want context.Canceled", err)
		}
		if len(rec.lines) != 0 {
			t.Errorf("emitted %q, want nothing", rec.lines)
		}
	})
}
