package alpaca

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tickflow/tickflow/market"
)

// maxUnverified bounds the bar times kept per symbol since its last
// back-fill (about 17 hours of minute bars): a reconnection noticed later
// than that many bars after it happened is not checked.
const maxUnverified = 1024

// sinceVerified holds a symbol's emitted bar times since the last time REST
// confirmed its history, oldest first: times[0] is the confirmed point
// itself. A back-fill asks REST for everything after times[0] and checks
// that every bar REST has up to the last emitted one was emitted.
type sinceVerified struct{ times []int64 }

func (v *sinceVerified) add(t time.Time) {
	if len(v.times) >= 2*maxUnverified {
		// Forget the oldest half: the check starts later from now on.
		v.times = append(v.times[:0], v.times[len(v.times)-maxUnverified:]...)
	}
	v.times = append(v.times, t.UnixNano())
}

func (v *sinceVerified) floor() time.Time { return time.Unix(0, v.times[0]).UTC() }

func (v *sinceVerified) has(t time.Time) bool {
	n := t.UnixNano()
	i := sort.Search(len(v.times), func(i int) bool { return v.times[i] >= n })
	return i < len(v.times) && v.times[i] == n
}

// verified restarts the record at t: REST agrees with the stream up to it.
func (v *sinceVerified) verified(t time.Time) { v.times = append(v.times[:0], t.UnixNano()) }

// drain emits what the queue holds; when a gap is ready it emits the bars
// from before the gap, back-fills the gap's symbols from REST, then emits
// the rest.
func (r *streamRun) drain(ctx context.Context) error {
	items, gap := r.q.take(r.buf[:0])
	defer func() { r.buf = items[:0] }()
	if gap == nil {
		return r.emitItems(ctx, items, func(qItem) bool { return true })
	}
	if err := r.emitItems(ctx, items, func(it qItem) bool { return it.seq < gap.mark || !gap.syms[it.bar.Symbol] }); err != nil {
		return err
	}
	if err := r.backfill(ctx, gap.syms); err != nil {
		return err
	}
	return r.emitItems(ctx, items, func(it qItem) bool { return it.seq >= gap.mark && gap.syms[it.bar.Symbol] })
}

// emit hands one bar on and records it.
func (r *streamRun) emit(ctx context.Context, b market.Bar) error {
	if err := r.out.Emit(market.Event{Bar: b}); err != nil {
		return emitErr(ctx, err)
	}
	r.last[b.Symbol] = b.Time
	if v := r.seen[b.Symbol]; v != nil {
		v.add(b.Time)
	} else {
		// Without a warm-up the first live bar starts the record.
		v = &sinceVerified{}
		v.verified(b.Time)
		r.seen[b.Symbol] = v
	}
	r.s.stats.emitted.Add(1)
	return nil
}

func (r *streamRun) emitItems(ctx context.Context, items []qItem, pick func(qItem) bool) error {
	st := &r.s.stats
	for _, it := range items {
		if !pick(it) {
			continue
		}
		b := it.bar
		if r.failed[b.Symbol] {
			continue
		}
		if lt, ok := r.last[b.Symbol]; ok && !b.Time.After(lt) {
			st.duplicates.Add(1)
			continue
		}
		if err := r.emit(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// backfill fetches, from REST, the one-minute bars of syms since each one's
// last verified bar; a symbol with none yet gets its warm-up: the last
// WarmupBars bars within WarmupLookback.
//
// The SDK starts its connect and disconnect callbacks with go, so a
// reconnection may be noticed after the new socket's first bars were
// emitted: the gap's bars are then older than the symbol's last bar and
// cannot be emitted in order. The back-fill therefore checks every bar
// REST has between the last verified bar and the last emitted one: one
// that was never emitted fails the symbol (ErrGap) instead of being lost
// silently. Bars after the last emitted one are emitted.
func (r *streamRun) backfill(ctx context.Context, syms map[string]bool) error {
	var fetch []string
	var start time.Time
	warm := map[string]bool{}
	for sym := range syms {
		if r.failed[sym] {
			continue
		}
		var s time.Time
		if _, ok := r.last[sym]; ok {
			s = r.seen[sym].floor()
		} else {
			if r.warmupBars < 0 {
				continue
			}
			s = r.now().Add(-r.lookback)
			warm[sym] = true
		}
		if start.IsZero() || s.Before(start) {
			start = s
		}
		fetch = append(fetch, sym)
	}
	if len(fetch) == 0 {
		return nil
	}
	st := &r.s.stats
	rings := map[string][]market.Bar{}
	lost := func(sym string, err error) {
		r.failed[sym] = true
		r.out.Fail(sym, fmt.Errorf("%w: %w", ErrGap, err))
	}
	got, err := r.fetch(ctx, fetch, start,
		func(sym string, bars []market.Bar) error {
			if r.failed[sym] {
				return nil
			}
			if warm[sym] {
				ring := append(rings[sym], bars...)
				if n := len(ring) - r.warmupBars; n > 0 {
					ring = append(ring[:0], ring[n:]...)
				}
				rings[sym] = ring
				return nil
			}
			v, lt := r.seen[sym], r.last[sym]
			for _, b := range bars {
				switch {
				case !b.Time.After(v.floor()):
				case !b.Time.After(lt):
					if !v.has(b.Time) {
						lost(sym, fmt.Errorf("bar %s was missed across a reconnection noticed after later bars (last bar %s)",
							b.Time.Format(time.RFC3339), lt.Format(time.RFC3339)))
						return nil
					}
				default:
					if err := r.emit(ctx, b); err != nil {
						return err
					}
					lt = b.Time
					st.backfilled.Add(1)
				}
			}
			return nil
		},
		func(sym string, err error) { lost(sym, err) })
	if err != nil {
		return err
	}
	for _, sym := range got {
		if r.failed[sym] {
			continue
		}
		if !warm[sym] {
			r.seen[sym].verified(r.last[sym])
			continue
		}
		ring := rings[sym]
		if len(ring) == 0 {
			continue
		}
		for _, b := range ring {
			// Counted before the hand-off, so that whoever sees the bar
			// downstream also sees it counted.
			st.emitted.Add(1)
			st.warmup.Add(1)
			if err := r.out.Emit(market.Event{Bar: b}); err != nil {
				st.emitted.Add(-1)
				st.warmup.Add(-1)
				return emitErr(ctx, err)
			}
		}
		last := ring[len(ring)-1].Time
		r.last[sym] = last
		r.seen[sym] = &sinceVerified{}
		r.seen[sym].verified(last)
	}
	return nil
}

// restFetch is streamRun.fetch from Alpaca's REST API: one-minute bars of
// syms from start on, each symbol's in time order to emit; it returns the
// symbols fetched.
func (r *streamRun) restFetch(ctx context.Context, syms []string, start time.Time,
	emit func(sym string, bars []market.Bar) error, fail func(sym string, err error)) ([]string, error) {
	tf, tfDur, _ := parseTimeFrame("1Min")
	f := &barFetch{c: r.rc, tf: tf, tfDur: tfDur, start: start, planEnd: r.now(), limit: r.fetchLimit}
	err := f.run(ctx, syms, emit, fail)
	return f.symbols, err
}
