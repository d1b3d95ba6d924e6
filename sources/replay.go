package sources

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Replay is a source that plays a finite history (a CSV, a Store, a Slice)
// back as a live feed: bars go out in bar-time order across symbols, paced
// so that Speed seconds of bar time pass per second of the clock.
//
//	history ──load all──▶ order by bar time ──▶ group of equal time ──Emit…Flush──▶ wait ──▶ next group
//
// # Order
//
// Bars are merged by time across symbols; bars of equal time keep the order
// in which Source emitted them, and every symbol keeps its own order: a bar
// whose time is before an earlier bar of its symbol goes out right after
// that one. A failure that Source reported for a key (Emitter.Fail) is
// replayed after the key's bars emitted before it, so the pipeline keeps
// those bars; a failure before any bar of its key goes out with the first
// group.
//
// # Pacing
//
// The first group goes out at once; the group of bar time t goes out when
// the clock has advanced (t - t₀)/Speed since the start, with every gap
// between two groups capped at MaxWait when that is positive (nights,
// weekends). Replay flushes the emitter after each paced group, before it
// waits. If the pipeline falls behind (Emit blocks), late groups go out at
// once until the schedule is met again. Speed 0 replays as fast as possible:
// then Replay never waits and never flushes, like a history.
//
// # Cost
//
// Produce loads the whole history before the first bar (about 200 bytes a
// bar), since a source such as CSV emits one symbol after another; it fails
// with the history's error, having emitted nothing, when Source fails. Source
// must end by itself: a live source never finishes loading. Loading and
// ordering took 1.3 to 3 µs a bar on a shared, loaded machine
// (BenchmarkReplay: 100,000 bars of 4 symbols). Each Produce loads Source anew.
type Replay struct {
	// Source is the history; it must be finite.
	Source pipeline.Source[market.Event]
	// Speed is the multiple of real time (60: a minute of bars per second);
	// 0 or +Inf means as fast as possible. See [ParseReplaySpeed].
	Speed float64
	// MaxWait, if positive, caps the wait between two groups.
	MaxWait time.Duration
	// Clock paces the replay (default the system clock).
	Clock Clock
}

var _ pipeline.Source[market.Event] = (*Replay)(nil)

// Clock is the time a paced source follows; a test can drive its own.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx is done and then returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the [Clock] of package time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d on a timer, or until ctx is done.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

const replayName = "sources.Replay"

// ParseReplaySpeed reads a replay speed as the CLI's --replay-speed takes
// it: a positive multiple of real time with an optional x ("60x", "1x",
// "0.5x", "60"), or "max" for as fast as possible (returned as 0).
func ParseReplaySpeed(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "max") {
		return 0, nil
	}
	num := t
	if strings.HasSuffix(num, "x") || strings.HasSuffix(num, "X") {
		num = num[:len(num)-1]
	}
	// Plain decimals only: ParseFloat would also take "inf", "1e3" or hex.
	plain := num != "" && strings.Trim(num, "0123456789.") == ""
	v, err := strconv.ParseFloat(num, 64)
	if !plain || err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: speed %q is not a positive multiple of real time like 60x or 1x, nor max", replayName, s)
	}
	return v, nil
}

// replayItem is a loaded bar, or a failure when err is not nil.
type replayItem struct {
	event market.Event
	key   string // the failed key
	err   error
	at    time.Time // the bar time it goes out at
}

// replayLoader is the Emitter that Source fills.
type replayLoader struct {
	// chunks hold the items in source order; fixed-size chunks, so a long
	// history is not copied as it grows.
	chunks [][]replayItem
	n      int
	latest map[string]time.Time // per key, the latest time loaded
}

func (l *replayLoader) Emit(e market.Event) error {
	at := e.Time
	if last, ok := l.latest[e.Symbol]; ok && at.Before(last) {
		at = last // keeps the symbol's order
	}
	l.latest[e.Symbol] = at
	l.add(replayItem{event: e, at: at})
	return nil
}

// replayChunk is the number of items per chunk of a replayLoader.
const replayChunk = 4096

func (l *replayLoader) add(it replayItem) {
	if l.n%replayChunk == 0 {
		l.chunks = append(l.chunks, make([]replayItem, 0, replayChunk))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, it)
	l.n++
}

func (l *replayLoader) item(i int) *replayItem { return &l.chunks[i/replayChunk][i%replayChunk] }

func (l *replayLoader) Flush() error { return nil }

func (l *replayLoader) Fail(key string, err error) {
	// Zero time (no bar of key yet) is set to the first group's time later.
	l.add(replayItem{key: key, err: err, at: l.latest[key]})
}

// Produce loads Source, then replays it (see [Replay]).
func (r *Replay) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	if r.Source == nil {
		return fmt.Errorf("%s: no Source", replayName)
	}
	if r.Speed < 0 || math.IsNaN(r.Speed) {
		return fmt.Errorf("%s: Speed %v is negative", replayName, r.Speed)
	}
	if r.MaxWait < 0 {
		return fmt.Errorf("%s: MaxWait %v is negative", replayName, r.MaxWait)
	}
	clock := r.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	items, err := r.load(ctx)
	if err != nil {
		return err
	}
	if r.Speed == 0 || math.IsInf(r.Speed, 1) {
		for i := range items {
			if i%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := emitReplayed(items[i], out); err != nil {
				return emitErr(ctx, err)
			}
		}
		return ctx.Err()
	}
	return r.pace(ctx, clock, items, out)
}

// load runs Source to its end and returns its items in replay order.
func (r *Replay) load(ctx context.Context) ([]*replayItem, error) {
	l := &replayLoader{latest: make(map[string]time.Time)}
	if err := r.Source.Produce(ctx, l); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%s: loading the history: %w", replayName, err)
	}
	var first time.Time
	for i := range l.n {
		if it := l.item(i); it.err == nil && (first.IsZero() || it.at.Before(first)) {
			first = it.at
		}
	}
	// Sort small keys, not the items: ties by source order (idx). Each
	// key's times do not decrease (see Emit), so each key keeps its order.
	type sortKey struct {
		sec       int64
		nsec, idx int32
	}
	if l.n > math.MaxInt32 {
		return nil, fmt.Errorf("%s: the history has more than %d bars", replayName, math.MaxInt32)
	}
	keys := make([]sortKey, l.n)
	for i := range l.n {
		it := l.item(i)
		if it.at.IsZero() {
			it.at = first
		}
		at := it.at
		keys[i] = sortKey{sec: at.Unix(), nsec: int32(at.Nanosecond()), idx: int32(i)}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if c := cmp.Compare(a.sec, b.sec); c != 0 {
			return c
		}
		if c := cmp.Compare(a.nsec, b.nsec); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	order := make([]*replayItem, len(keys))
	for i, k := range keys {
		order[i] = l.item(int(k.idx))
	}
	return order, nil
}

func emitReplayed(it *replayItem, out pipeline.Emitter[market.Event]) error {
	if it.err != nil {
		out.Fail(it.key, it.err)
		return nil
	}
	return out.Emit(it.event)
}

// maxWait bounds one scaled gap, so that a slow replay of a long gap cannot
// overflow a Duration.
const maxWait = time.Duration(math.MaxInt64 / 4)

// pace emits items group by group on the schedule of [Replay].
func (r *Replay) pace(ctx context.Context, clock Clock, items []*replayItem, out pipeline.Emitter[market.Event]) error {
	if len(items) == 0 {
		return ctx.Err()
	}
	start := clock.Now()
	var offset time.Duration // from start to the current group
	prev := items[0].at
	for i := 0; i < len(items); {
		at := items[i].at
		if gap := at.Sub(prev); gap > 0 {
			wait := maxWait
			if w := float64(gap) / r.Speed; w < float64(maxWait) {
				wait = time.Duration(w)
			}
			if r.MaxWait > 0 {
				wait = min(wait, r.MaxWait)
			}
			offset = min(offset+wait, maxWait)
			prev = at
			if d := start.Add(offset).Sub(clock.Now()); d > 0 {
				if err := clock.Sleep(ctx, d); err != nil {
					return err
				}
			}
		}
		for ; i < len(items) && items[i].at.Equal(at); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := emitReplayed(items[i], out); err != nil {
				return emitErr(ctx, err)
			}
		}
		// Nothing may wait in a half-full batch while the feed is idle.
		if err := out.Flush(); err != nil {
			return emitErr(ctx, err)
		}
	}
	return ctx.Err()
}
