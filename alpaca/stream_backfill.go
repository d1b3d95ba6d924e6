package alpaca

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/market"
)

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
		if err := r.out.Emit(market.Event{Bar: b}); err != nil {
			return emitErr(ctx, err)
		}
		r.last[b.Symbol] = b.Time
		st.emitted.Add(1)
	}
	return nil
}

// backfill fetches, from REST, the one-minute bars of syms after each
// one's last emitted bar; a symbol with none yet gets its warm-up: the last
// WarmupBars bars within WarmupLookback.
func (r *streamRun) backfill(ctx context.Context, syms map[string]bool) error {
	var fetch []string
	var start time.Time
	warm := map[string]bool{}
	for sym := range syms {
		if r.failed[sym] {
			continue
		}
		s, ok := r.last[sym]
		if !ok {
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
	tf, tfDur, _ := parseTimeFrame("1Min")
	f := &barFetch{c: r.rc, tf: tf, tfDur: tfDur, start: start, planEnd: r.now()}
	st := &r.s.stats
	rings := map[string][]market.Bar{}
	err := f.run(ctx, fetch,
		func(sym string, bars []market.Bar) error {
			if warm[sym] {
				ring := append(rings[sym], bars...)
				if n := len(ring) - r.warmupBars; n > 0 {
					ring = append(ring[:0], ring[n:]...)
				}
				rings[sym] = ring
				return nil
			}
			lt := r.last[sym]
			for _, b := range bars {
				if !b.Time.After(lt) {
					continue
				}
				if err := r.out.Emit(market.Event{Bar: b}); err != nil {
					return emitErr(ctx, err)
				}
				lt = b.Time
				st.emitted.Add(1)
				st.backfilled.Add(1)
			}
			r.last[sym] = lt
			return nil
		},
		func(sym string, err error) {
			r.failed[sym] = true
			r.out.Fail(sym, fmt.Errorf("%w: %w", ErrGap, err))
		})
	if err != nil {
		return err
	}
	for _, sym := range f.symbols {
		ring := rings[sym]
		if !warm[sym] || len(ring) == 0 || r.failed[sym] {
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
		r.last[sym] = ring[len(ring)-1].Time
	}
	return nil
}
