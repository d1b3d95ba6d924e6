package sources

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Resample is a source that aggregates the bars of another source into bars
// of a coarser timeframe, such as 1-minute bars into hourly ones. It works
// with any source whose bars come in time order within a symbol.
//
// # The rule
//
// A bar belongs to the bucket [k·Timeframe, (k+1)·Timeframe) that holds its
// time, counted in UTC from the Unix epoch (1970-01-01T00:00:00Z), so hourly
// buckets start on the hour and daily ones at midnight UTC (weekly ones on
// Thursdays, as the epoch was). The bars of one symbol in one bucket make one
// bar:
//
//	Time    the bucket's start
//	Open    the first bar's open
//	High    the highest high
//	Low     the lowest low
//	Close   the last bar's close
//	Volume  the sum of the volumes, added in arrival order
//
// A bucket is emitted when the first bar of a later bucket of its symbol
// arrives, and at the end of the input; then the buckets still open are
// emitted in the order their first bars arrived. A bucket with no bars
// (a gap) is not emitted.
//
//	1m bars in:  A 10:59   A 11:00   B 11:05   A 11:30   A 12:00   (end)
//	1h bars out:           A 10:00                       A 11:00   B 11:00, A 12:00
//
// # Errors
//
// When the source fails a symbol, that symbol's open bucket is dropped, as
// its bars are incomplete, and the failure is passed on. A bar not after the
// symbol's previous one fails the symbol. Produce fails if Source is nil or
// Timeframe is not a positive whole number of seconds.
type Resample struct {
	Source    pipeline.Source[market.Event]
	Timeframe time.Duration
}

// ParseTimeframe reads a timeframe as the CLI's --timeframe flag takes it: a
// Go duration (90s, 5m, 1h) or a whole number of days or weeks (1d, 1w).
func ParseTimeframe(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	switch unit := s[max(len(s)-1, 0):]; unit {
	case "d", "w":
		var n int64
		n, err = strconv.ParseInt(s[:len(s)-1], 10, 32)
		d = time.Duration(n) * 24 * time.Hour
		if unit == "w" {
			d *= 7
		}
	default:
		d, err = time.ParseDuration(s)
	}
	if err != nil {
		return 0, fmt.Errorf("sources.Resample: timeframe %q: want a duration such as 5m, 1h, 1d or 1w", s)
	}
	if err := checkTimeframe(d); err != nil {
		return 0, err
	}
	return d, nil
}

func checkTimeframe(d time.Duration) error {
	if d <= 0 || d%time.Second != 0 {
		return fmt.Errorf("sources.Resample: timeframe %v is not a positive whole number of seconds", d)
	}
	return nil
}

// Produce runs the source, emitting the aggregated bars.
func (r *Resample) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	if r.Source == nil {
		return errors.New("sources.Resample: no source")
	}
	if err := checkTimeframe(r.Timeframe); err != nil {
		return err
	}
	rs := &resampler{out: out, tf: int64(r.Timeframe / time.Second), open: map[string]*bucket{}}
	if err := r.Source.Produce(ctx, rs); err != nil {
		return err
	}
	return rs.finish()
}

// bucket is a symbol's bar being aggregated.
type bucket struct {
	bar    market.Bar
	start  int64     // Unix seconds of the bucket's start
	last   time.Time // of the last bar in it
	seq    uint64    // when its first bar arrived
	empty  bool      // emitted; waits for the symbol's next bar
	failed bool
}

// resampler is the Emitter that the inner source emits to.
type resampler struct {
	out  pipeline.Emitter[market.Event]
	tf   int64
	open map[string]*bucket
	seq  uint64
}

func (rs *resampler) start(t time.Time) int64 {
	s := t.Unix()
	k := s / rs.tf
	if s%rs.tf < 0 { // round toward -∞ before the epoch
		k--
	}
	return k * rs.tf
}

func (rs *resampler) Emit(e market.Event) error {
	b := e.Bar
	bk := rs.open[b.Symbol]
	if bk == nil {
		bk = &bucket{empty: true}
		rs.open[b.Symbol] = bk
	}
	if bk.failed {
		return nil
	}
	if !bk.last.IsZero() && !b.Time.After(bk.last) {
		rs.Fail(b.Symbol, fmt.Errorf("sources.Resample: %s: bar at %s is not after %s", b.Symbol,
			b.Time.Format(time.RFC3339Nano), bk.last.Format(time.RFC3339Nano)))
		return nil
	}
	bk.last = b.Time
	start := rs.start(b.Time)
	if !bk.empty && start == bk.start {
		agg := &bk.bar
		agg.High = max(agg.High, b.High)
		agg.Low = min(agg.Low, b.Low)
		agg.Close = b.Close
		agg.Volume += b.Volume
		return nil
	}
	if !bk.empty {
		if err := rs.out.Emit(market.Event{Bar: bk.bar}); err != nil {
			return err
		}
	}
	rs.seq++
	bk.bar, bk.start, bk.seq, bk.empty = b, start, rs.seq, false
	bk.bar.Time = time.Unix(start, 0).UTC()
	return nil
}

func (rs *resampler) Flush() error { return rs.out.Flush() }

func (rs *resampler) Fail(key string, err error) {
	bk := rs.open[key]
	if bk == nil {
		bk = &bucket{}
		rs.open[key] = bk
	}
	bk.failed, bk.empty = true, true
	rs.out.Fail(key, err)
}

// finish emits the open buckets, in the order their first bars arrived.
func (rs *resampler) finish() error {
	var left []*bucket
	for _, bk := range rs.open {
		if !bk.empty {
			left = append(left, bk)
		}
	}
	// Sequence numbers are distinct: the order is total.
	slices.SortFunc(left, func(a, b *bucket) int { return cmp.Compare(a.seq, b.seq) })
	for _, bk := range left {
		if err := rs.out.Emit(market.Event{Bar: bk.bar}); err != nil {
			return err
		}
	}
	return nil
}
