package sources

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Defaults of [Synthetic] fields left zero.
const (
	DefaultSyntheticSymbols    = 4
	DefaultSyntheticBars       = 2000
	DefaultSyntheticInterval   = time.Minute
	DefaultSyntheticPrice      = 100.0
	DefaultSyntheticVolatility = 0.01
	DefaultSyntheticRate       = 100.0
)

// DefaultSyntheticStart is the time of the first bar when Synthetic.Start is
// zero: a fixed instant, so that the same configuration always gives the
// same bars.
var DefaultSyntheticStart = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

// Synthetic is a source of seeded random walks, one per symbol. The same
// configuration gives the same bars on every machine and Go version: the
// generator is math/rand/v2's PCG with explicit seeds, and the walk uses only
// IEEE arithmetic (no math.Exp or math.Log, whose last bit may vary by
// platform, and no fused multiply-add). Its zero value generates 4 symbols of
// 2,000 one-minute bars each.
//
// Each bar opens at the previous close; the close moves by a factor 1+r,
// where r has mean 0 and standard deviation Volatility (an Irwin-Hall sum of
// four uniforms, nearly normal and bounded by ±3.5 Volatility); high and low
// reach a little beyond open and close; volume is a whole number from 100 to
// 10,099.
//
// In history mode (Live false) Produce emits Bars bars per symbol at once,
// interleaved by time: bar 0 of every symbol in Names order, then bar 1, and
// so on. In live mode it emits the same sequence paced at Rate bars per
// second across all symbols, flushing the emitter before each wait, until
// ctx is done (or, if Bars > 0, until Bars per symbol are out).
//
// A bar costs about 25 ns and no allocation.
type Synthetic struct {
	// Symbols is how many symbols to generate when Names is empty
	// (default 4). They are named SYM1, SYM2, ... with zero padding to a
	// common width (SYM01 ... SYM12), so that names sort in order.
	Symbols int
	// Names are the symbols; when set, Symbols is ignored.
	Names []string
	// Bars is the number of bars per symbol (default 2000; in live mode,
	// zero means no end).
	Bars int
	// Seed selects the walks. Symbol i's walk depends only on Seed and i.
	Seed uint64
	// Start is the time of bar 0 (default DefaultSyntheticStart).
	Start time.Time
	// Interval is the time between two bars of a symbol (default 1 minute).
	Interval time.Duration
	// Price is every symbol's first open (default 100).
	Price float64
	// Volatility is the standard deviation of the relative change of close
	// per bar (default 0.01); it must be below 0.25 so prices stay positive.
	Volatility float64
	// Tick, if positive, rounds every price to a multiple of Tick (not below
	// one Tick): Tick 1 gives whole-unit prices, with flat stretches that
	// test indicators' edge cases.
	Tick float64
	// Live paces the bars instead of emitting them at once.
	Live bool
	// Rate is the live pace in bars per second across all symbols
	// (default 100).
	Rate float64
}

// walk is one symbol's random walk.
type walk struct {
	rng   rand.PCG
	price float64 // the last close, unrounded
}

// synth is a validated Synthetic with its walks.
type synth struct {
	names    []string
	walks    []walk
	start    time.Time
	interval time.Duration
	vol      float64
	tick     float64
	perUnit  float64 // 1/tick when that is a whole number, else 0
}

func (s *Synthetic) prepare() (*synth, error) {
	names := s.Names
	if len(names) == 0 {
		n := s.Symbols
		if n == 0 {
			n = DefaultSyntheticSymbols
		}
		if n < 0 {
			return nil, fmt.Errorf("sources.Synthetic: Symbols %d is negative", n)
		}
		names = symbolNames(n)
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || seen[n] {
			return nil, fmt.Errorf("sources.Synthetic: symbol name %q is empty or repeated", n)
		}
		seen[n] = true
	}
	g := &synth{
		names:    names,
		walks:    make([]walk, len(names)),
		start:    s.Start,
		interval: s.Interval,
		vol:      s.Volatility,
		tick:     s.Tick,
	}
	if g.start.IsZero() {
		g.start = DefaultSyntheticStart
	}
	g.start = g.start.UTC()
	if g.interval == 0 {
		g.interval = DefaultSyntheticInterval
	}
	if g.vol == 0 {
		g.vol = DefaultSyntheticVolatility
	}
	price := s.Price
	if price == 0 {
		price = DefaultSyntheticPrice
	}
	switch {
	case g.interval < 0:
		return nil, fmt.Errorf("sources.Synthetic: Interval %v is negative", g.interval)
	case !(g.vol > 0 && g.vol < 0.25):
		return nil, fmt.Errorf("sources.Synthetic: Volatility %v is not in (0, 0.25)", g.vol)
	case !(price > 0) || math.IsInf(price, 0):
		return nil, fmt.Errorf("sources.Synthetic: Price %v is not a positive number", price)
	case g.tick < 0 || math.IsNaN(g.tick) || math.IsInf(g.tick, 0):
		return nil, fmt.Errorf("sources.Synthetic: Tick %v is not a positive number", g.tick)
	case s.Bars < 0:
		return nil, fmt.Errorf("sources.Synthetic: Bars %d is negative", s.Bars)
	}
	if inv := 1 / g.tick; g.tick > 0 && g.tick < 1 && inv == math.Round(inv) {
		g.perUnit = inv
	}
	for i := range g.walks {
		// The second PCG word selects the symbol's stream; mixing i through
		// a constant keeps streams of neighbouring symbols unrelated.
		g.walks[i].rng.Seed(s.Seed, uint64(i+1)*0x9e3779b97f4a7c15)
		g.walks[i].price = price
	}
	return g, nil
}

func symbolNames(n int) []string {
	width := len(strconv.Itoa(n))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("SYM%0*d", width, i+1)
	}
	return names
}

// sqrt3 scales the Irwin-Hall sum of four uniforms (variance 1/3) to
// variance 1.
const sqrt3 = 1.7320508075688772

// bar makes the next bar of symbol k, at time t. The explicit float64 conversions forbid the
// compiler from fusing a multiply and an add, which would change results on
// platforms with FMA.
func (g *synth) bar(k int, t time.Time) market.Bar {
	w := &g.walks[k]
	u := w.rng.Uint64()
	sum := u&0xffff + u>>16&0xffff + u>>32&0xffff + u>>48
	z := float64(float64(sum)/65536-2) * sqrt3
	r := float64(g.vol * z)
	open := w.price
	closePrice := float64(open * float64(1+r))
	w.price = closePrice

	v := w.rng.Uint64()
	up := float64(float64(g.vol*0.5)*float64(v&0xffff)) / 65536
	down := float64(float64(g.vol*0.5)*float64(v>>16&0xffff)) / 65536
	high := float64(max(open, closePrice) * float64(1+up))
	low := float64(min(open, closePrice) * float64(1-down))
	if g.tick > 0 {
		open, closePrice, high, low = g.round(open), g.round(closePrice), g.round(high), g.round(low)
	}
	return market.Bar{
		Symbol: g.names[k],
		Time:   t,
		Open:   open,
		High:   high,
		Low:    low,
		Close:  closePrice,
		Volume: float64(100 + (v>>32)%10000),
	}
}

// at returns the time of bar i.
func (g *synth) at(i int) time.Time { return g.start.Add(time.Duration(i) * g.interval) }

// round is monotonic, so low <= open, close <= high survives it. For a
// decimal tick like 0.01 it divides by 100 rather than multiplying by 0.01:
// k/100 is the float64 nearest to the decimal, so prices print as 185.64,
// not 185.64000000000001.
func (g *synth) round(p float64) float64 {
	if g.perUnit > 0 {
		return max(math.Round(p*g.perUnit)/g.perUnit, g.tick)
	}
	return max(math.Round(p/g.tick)*g.tick, g.tick)
}

// Produce emits the walks: all at once, or paced when s.Live.
func (s *Synthetic) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	g, err := s.prepare()
	if err != nil {
		return err
	}
	if len(g.names) == 0 {
		return nil
	}
	if s.Live {
		rate := s.Rate
		if rate == 0 {
			rate = DefaultSyntheticRate
		}
		if !(rate > 0) || math.IsInf(rate, 0) {
			return fmt.Errorf("sources.Synthetic: Rate %v is not a positive number", rate)
		}
		return g.live(ctx, out, s.Bars, rate)
	}
	bars := s.Bars
	if bars == 0 {
		bars = DefaultSyntheticBars
	}
	n := 0
	for i := range bars {
		t := g.at(i)
		for k := range g.names {
			if n++; n%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := out.Emit(market.Event{Bar: g.bar(k, t)}); err != nil {
				return emitErr(ctx, err)
			}
		}
	}
	return nil
}

// minLiveWait keeps a high Rate from turning into a timer per bar: above
// 1000 bars/s, bars go out in small bursts.
const minLiveWait = time.Millisecond

// live emits bars so that by time t after the start, 1 + floor(t·rate) bars
// are out (the first at once), waiting on a ticker between bursts.
func (g *synth) live(ctx context.Context, out pipeline.Emitter[market.Event], bars int, rate float64) error {
	nsym := int64(len(g.names))
	total := int64(math.MaxInt64)
	if bars > 0 {
		total = int64(bars) * nsym
	}
	wait := max(time.Duration(float64(time.Second)/rate), minLiveWait)
	ticker := time.NewTicker(wait)
	defer ticker.Stop()
	start := time.Now()
	var sent int64
	for {
		due := min(int64(time.Since(start).Seconds()*rate)+1, total)
		for ; sent < due; sent++ {
			if err := out.Emit(market.Event{Bar: g.bar(int(sent%nsym), g.at(int(sent/nsym)))}); err != nil {
				return emitErr(ctx, err)
			}
		}
		if sent == total {
			return nil
		}
		// Nothing may wait in a half-full batch while the feed is idle.
		if err := out.Flush(); err != nil {
			return emitErr(ctx, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// emitErr prefers ctx.Err(): once ctx is done, an emitter's error only says
// so.
func emitErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}
