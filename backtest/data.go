package backtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Series is one symbol's bars in columns (times in Unix nanoseconds), with
// the strategy's signal on each bar when it was recorded from a pipeline
// (Signal is nil for bars loaded without one).
type Series struct {
	Symbol                 string
	Time                   []int64
	Open, High, Low, Close []float64
	Signal                 []market.Side
}

// Len returns the number of bars.
func (s *Series) Len() int { return len(s.Time) }

// Data is the bars of every symbol, in the order symbols first appeared.
type Data struct {
	Symbols []*Series
}

// Bars returns the number of bars over all symbols.
func (d *Data) Bars() int {
	n := 0
	for _, s := range d.Symbols {
		n += s.Len()
	}
	return n
}

// Recorder is a pipeline sink that keeps every event, for [Simulate] and
// the sweeps. Like every sink it is written by one goroutine; call Data only
// after the pipeline has returned.
type Recorder struct {
	syms  []*recSeries
	index map[string]int
	last  *recSeries // the series of the previous event: runs of one symbol skip the map
}

// recSeries holds a symbol's bars as records while they arrive: one append
// per bar touches one cache line, where columns would touch six. Records go
// in fixed chunks, so a long series is never copied to grow.
type recSeries struct {
	symbol string
	full   [][]recBar // chunks of recChunk bars
	bars   []recBar   // the chunk being filled
	n      int
	last   int64 // the time of the latest bar
}

const recChunk = 1024

func (s *recSeries) add(b recBar) {
	if len(s.bars) == cap(s.bars) {
		if s.bars != nil {
			s.full = append(s.full, s.bars)
		}
		s.bars = make([]recBar, 0, recChunk)
	}
	s.bars = append(s.bars, b)
	s.n++
	s.last = b.t
}

// each yields every bar in order.
func (s *recSeries) each(yield func(recBar) bool) {
	for _, c := range s.full {
		for _, b := range c {
			if !yield(b) {
				return
			}
		}
	}
	for _, b := range s.bars {
		if !yield(b) {
			return
		}
	}
}

// count returns how many bars lie in [start, end].
func (s *recSeries) count(start, end int64) int {
	n := 0
	for b := range s.each {
		if b.t >= start && b.t <= end {
			n++
		}
	}
	return n
}

type recBar struct {
	t          int64
	o, h, l, c float64
	side       market.Side
}

// Write implements pipeline.Sink. A bar not after its symbol's previous bar
// is an error naming the symbol and both times.
func (r *Recorder) Write(_ context.Context, events []market.Event) error {
	if r.index == nil {
		r.index = map[string]int{}
	}
	for i := range events {
		e := &events[i]
		s := r.last
		if s == nil || s.symbol != e.Symbol {
			k, ok := r.index[e.Symbol]
			if !ok {
				k = len(r.syms)
				r.index[e.Symbol] = k
				r.syms = append(r.syms, &recSeries{symbol: e.Symbol})
			}
			s = r.syms[k]
			r.last = s
		}
		t := e.Time.UnixNano()
		if s.n > 0 && t <= s.last {
			return fmt.Errorf("backtest: %s: bar at %v is not after the previous one at %v",
				e.Symbol, e.Time.UTC(), time.Unix(0, s.last).UTC())
		}
		var side market.Side
		if e.Signal != nil {
			side = e.Signal.Side
		}
		s.add(recBar{t: t, o: e.Open, h: e.High, l: e.Low, c: e.Close, side: side})
	}
	return nil
}

// Data returns what was recorded, in columns, symbols in the order they
// first appeared.
func (r *Recorder) Data() *Data {
	d := &Data{Symbols: make([]*Series, len(r.syms))}
	for i, rs := range r.syms {
		n := rs.n
		s := &Series{Symbol: rs.symbol, Time: make([]int64, n), Open: make([]float64, n), High: make([]float64, n),
			Low: make([]float64, n), Close: make([]float64, n), Signal: make([]market.Side, n)}
		j := 0
		for b := range rs.each {
			s.Time[j], s.Open[j], s.High[j], s.Low[j], s.Close[j], s.Signal[j] = b.t, b.o, b.h, b.l, b.c, b.side
			j++
		}
		d.Symbols[i] = s
	}
	return d
}

// drop removes the named symbols (ones the source failed).
func (d *Data) drop(symbols []string) {
	d.Symbols = slices.DeleteFunc(d.Symbols, func(s *Series) bool { return slices.Contains(symbols, s.Symbol) })
}

// Load reads every bar of src into Data, without indicators or signals:
// the input of the sweeps, which compute their own. As with [Run], when the
// source fails some symbols the others are returned with the Failures.
func Load(ctx context.Context, src pipeline.Source[market.Event]) (*Data, error) {
	var rec Recorder
	err := pipeline.New(pipeline.Config[market.Event]{}).From("source", src).To("load", &rec).Run(ctx)
	var failures pipeline.Failures
	if err != nil && !errors.As(err, &failures) {
		return nil, fmt.Errorf("backtest.Load: %w", err)
	}
	data := rec.Data()
	data.drop(failures.Keys())
	for _, s := range data.Symbols {
		s.Signal = nil
	}
	if failures != nil {
		return data, fmt.Errorf("backtest.Load: %w", failures)
	}
	return data, nil
}

// window returns the index range [lo, hi) of s's bars inside [start, end].
func (s *Series) window(start, end int64) (lo, hi int) {
	lo, _ = slices.BinarySearch(s.Time, start)
	hi, found := slices.BinarySearch(s.Time, end)
	if found {
		hi++
	}
	return lo, hi
}

// timeline is the portfolio's clock: the union of the symbols' times, and
// for each symbol the position of each of its times in it.
type timeline struct {
	times   []int64
	aligned bool      // every symbol has exactly these times
	pos     [][]int32 // pos[i][j]: index in times of symbol i's j-th time (nil when aligned)
}

func newTimeline(series [][]int64) *timeline {
	tl := &timeline{aligned: true}
	if len(series) == 0 {
		return tl
	}
	first := series[0]
	for _, s := range series[1:] {
		if !slices.Equal(s, first) {
			tl.aligned = false
			break
		}
	}
	if tl.aligned {
		tl.times = first
		return tl
	}
	n := 0
	for _, s := range series {
		n += len(s)
	}
	all := make([]int64, 0, n)
	for _, s := range series {
		all = append(all, s...)
	}
	slices.Sort(all)
	tl.times = slices.Compact(all)
	tl.pos = make([][]int32, len(series))
	for i, s := range series {
		p := make([]int32, len(s))
		k := 0
		for j, t := range s {
			for tl.times[k] != t {
				k++
			}
			p[j] = int32(k)
		}
		tl.pos[i] = p
	}
	return tl
}

// portfolio sums the symbols' equity at each time of tl: each symbol counts
// its latest equity, or its starting share before its first bar. out is
// reused when large enough.
func (tl *timeline) portfolio(equity [][]float64, shares []float64, out []float64) []float64 {
	out = slices.Grow(out[:0], len(tl.times))[:len(tl.times)]
	if tl.aligned {
		clear(out)
		for _, e := range equity {
			for k, v := range e {
				out[k] += v
			}
		}
		return out
	}
	// Add each symbol's changes where they happen, then accumulate.
	clear(out)
	var total float64
	for i, e := range equity {
		total += shares[i]
		prev := shares[i]
		for j, v := range e {
			out[tl.pos[i][j]] += v - prev
			prev = v
		}
	}
	acc := total
	for k := range out {
		acc += out[k]
		out[k] = acc
	}
	return out
}
