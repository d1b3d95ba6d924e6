package signals_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/markcheno/go-talib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/signals"
)

func specs(t testing.TB, list string) []indicators.Spec {
	t.Helper()
	s, err := indicators.ParseSpecs(list)
	require.NoError(t, err)
	return s
}

// ohlcWalk is a random walk with distinct open, high, low and close, for
// the indicators that read more than the close.
func ohlcWalk(symbol string, n int, seed uint64) []market.Bar {
	r := rand.New(rand.NewPCG(seed, 9))
	bars := make([]market.Bar, n)
	p := 100.0
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	for i := range bars {
		o := p
		p *= 1 + (r.Float64()-0.5)*0.02
		hi, lo := max(o, p)*(1+r.Float64()*0.005), min(o, p)*(1-r.Float64()*0.005)
		bars[i] = market.Bar{Symbol: symbol, Time: t0.Add(time.Duration(i) * time.Minute),
			Open: o, High: hi, Low: lo, Close: p, Volume: 1 + float64(r.IntN(1000))}
	}
	return bars
}

func TestComputedSchema(t *testing.T) {
	c, err := signals.NewComputed(indicators.Config{}, specs(t, "macd(12,26,9),slow=sma(200),bbands(20,2,2)"))
	require.NoError(t, err)
	assert.Equal(t, []string{"ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "macd_hist", "slow",
		"bbands_upper", "bbands_middle", "bbands_lower"}, c.Schema().Names())
	assert.True(t, c.Schema().HasPrefix(market.DefaultSchema), "the default values come first")
	hs, err := c.Handles(specs(t, "sma(200)")[0]) // same indicator, another name
	require.NoError(t, err)
	assert.Equal(t, []market.Handle{6}, hs)
	hs, err = c.Handles(specs(t, "macd")[0])
	require.NoError(t, err)
	assert.Equal(t, []market.Handle{3, 4, 5}, hs)
	_, err = c.Handles(specs(t, "sma(50)")[0])
	assert.ErrorContains(t, err, "sma(50) is not computed")

	none, err := signals.NewComputed(indicators.Config{}, nil)
	require.NoError(t, err)
	assert.Equal(t, market.DefaultNames, none.Schema().Names())
}

func TestComputedErrors(t *testing.T) {
	for _, tc := range []struct {
		list, want string
	}{
		{"ema(50)", `ema(50) writes the field "ema", which the default indicators (EMA(20) StochRSI(14,14,3)) writes too: add name=`},
		{"fast=sma(5),fast=ema(5)", "add name="},
		{"sma(5),slow=sma(9),sma_signal=ema(3),sma(7)", `writes the field "sma"`},
		{"m=macd,m_signal=sma(3)", `m_signal=sma(3) writes the field "m_signal", which m=macd(12,26,9) writes too: add name=`},
		{"bbands,b2=bbands,b3=bbands,b4=bbands,b5=bbands", "18 values (3 default, 15 from 5 indicators): a record holds at most 16"},
	} {
		// ParseSpecs rejects a name twice itself: build the list by hand.
		var list []indicators.Spec
		for _, item := range splitTop(tc.list) {
			s, err := indicators.ParseSpec(item)
			require.NoError(t, err, item)
			list = append(list, s)
		}
		_, err := signals.NewComputed(indicators.Config{}, list)
		assert.ErrorContains(t, err, tc.want, tc.list)
	}
	_, err := signals.NewComputed(indicators.Config{}, []indicators.Spec{{Name: "x"}})
	assert.ErrorContains(t, err, "indicator 1 has no function")
	_, err = signals.NewComputed(indicators.Config{EMA: -1}, nil)
	assert.Error(t, err)
	bbands5 := specs(t, "b1=bbands,b2=bbands,b3=bbands,b4=bbands")
	_, err = signals.NewComputed(indicators.Config{}, append(bbands5, specs(t, "sma")...))
	assert.NoError(t, err, "16 values fit")
}

// splitTop splits a spec list at its top-level commas.
func splitTop(list string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range list {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, list[start:i])
				start = i + 1
			}
		}
	}
	return append(out, list[start:])
}

// talibColumns is go-talib's batch values of the extra indicators of
// TestComputedEqualsTalib, each with its first defined index.
func talibColumns(bars []market.Bar) (cols [][]float64, first []int) {
	n := len(bars)
	o, h, l, c, v := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, b := range bars {
		o[i], h[i], l[i], c[i], v[i] = b.Open, b.High, b.Low, b.Close, b.Volume
	}
	_ = o
	up, mid, lo := talib.BBands(c, 20, 2, 2, talib.SMA)
	cols = [][]float64{talib.Sma(c, 200), up, mid, lo, talib.Rsi(c, 14), talib.Atr(h, l, c, 14), talib.Obv(c, v)}
	first = []int{199, 19, 19, 19, 14, 14, 0}
	return cols, first
}

func TestComputedEqualsTalib(t *testing.T) {
	const list = "slow=sma(200),bbands(20,2,2),rsi(14),atr(14),obv"
	c, err := signals.NewComputed(indicators.Config{}, specs(t, list))
	require.NoError(t, err)
	all := map[string]func(t *testing.T) []market.Bar{
		"random walk": func(*testing.T) []market.Bar { return ohlcWalk("RW", 5000, 1) },
	}
	for _, name := range []string{"spy-1d.csv", "btcusdt-1h.csv"} {
		all[name] = func(t *testing.T) []market.Bar { return loadShared(t, name) }
	}
	for name, load := range all {
		t.Run(name, func(t *testing.T) {
			bars := load(t)
			second := ohlcWalk("OTHER", len(bars), 2)
			var in []market.Event
			for i := range bars { // interleaved with another symbol, on two workers
				in = append(in, market.Event{Bar: bars[i]}, market.Event{Bar: second[i]})
			}
			got := map[string][]market.Event{}
			p := pipeline.New(pipeline.Config[market.Event]{Workers: 2, Key: market.Event.Key}).
				From("in", sourcesSlice(in)).Then("indicators", c.Stage()).
				To("out", pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
					for _, e := range es {
						got[e.Symbol] = append(got[e.Symbol], e)
					}
					return nil
				}))
			require.NoError(t, p.Run(context.Background()))
			for _, sym := range [][]market.Bar{bars, second} {
				evs := got[sym[0].Symbol]
				require.Len(t, evs, len(sym))
				cols, first := talibColumns(sym)
				for i, e := range evs {
					require.Same(t, c.Schema(), e.Indicators.Schema)
					for j, col := range cols {
						h := market.Handle(len(market.DefaultNames) + j)
						v, ok := e.Indicators.Get(h)
						name := c.Schema().Name(int(h))
						require.Equal(t, i >= first[j], ok, "%s bar %d: %s defined", sym[0].Symbol, i, name)
						if ok {
							require.InDelta(t, col[i], v, 1e-9*math.Max(1, math.Abs(col[i])), "%s bar %d: %s", sym[0].Symbol, i, name)
						}
					}
				}
			}
		})
	}
}

func TestComputedDefaultValuesUnchangedByExtras(t *testing.T) {
	bars := ohlcWalk("A", 2000, 4)
	plain, err := signals.NewComputed(indicators.Config{}, nil)
	require.NoError(t, err)
	extra, err := signals.NewComputed(indicators.Config{}, specs(t, "macd,atr"))
	require.NoError(t, err)
	ps, es := plain.Stage()(), extra.Stage()()
	var a, b []market.Event
	for _, bar := range bars {
		require.NoError(t, ps.Process(context.Background(), market.Event{Bar: bar}, emitTo(&a)))
		require.NoError(t, es.Process(context.Background(), market.Event{Bar: bar}, emitTo(&b)))
	}
	defined := 0
	for i := range a {
		for h := range market.Handle(3) {
			va, oka := a[i].Indicators.Get(h)
			vb, okb := b[i].Indicators.Get(h)
			require.Equal(t, oka, okb)
			require.Equal(t, va, vb)
			if oka {
				defined++
			}
		}
	}
	assert.Positive(t, defined)
}

func TestStagesAreKeyed(t *testing.T) {
	c, err := signals.NewComputed(indicators.Config{}, specs(t, "macd"))
	require.NoError(t, err)
	strat, err := signals.NewStochRSIEMA(0, 0)
	require.NoError(t, err)
	for name, s := range map[string]func() pipeline.Stage[market.Event]{"computed": c.Stage(), "decisions": signals.Decisions(strat)} {
		_, ok := s().(pipeline.KeyedStage[market.Event])
		assert.True(t, ok, "%s keeps its state in the pipeline's keyed slots", name)
	}
	var in []market.Event
	for _, sym := range []string{"A", "B", "C"} {
		for _, b := range ohlcWalk(sym, 300, uint64(sym[0])) {
			in = append(in, market.Event{Bar: b})
		}
	}
	pipelinetest.TestStage(t, c.Stage(), market.Event.Key, in)
}

type sliceEmitter struct{ out *[]market.Event }

func (s sliceEmitter) Emit(e market.Event) error { *s.out = append(*s.out, e); return nil }
func (sliceEmitter) Flush() error                { return nil }
func (sliceEmitter) Fail(string, error)          {}

func emitTo(out *[]market.Event) pipeline.Emitter[market.Event] { return sliceEmitter{out} }

// The one-stage path of the default pipeline gives what the chain of keyed
// stages gives, event for event, with and without only-signals.
func TestDecidedEqualsChain(t *testing.T) {
	c, err := signals.NewComputed(indicators.Config{}, specs(t, "macd,atr"))
	require.NoError(t, err)
	strat, err := signals.NewStochRSIEMA(0, 0)
	require.NoError(t, err)
	a, b := ohlcWalk("A", 3000, 11), randomWalk("B", 3000, 12, 1)
	var in []market.Event
	for i := range a { // interleave the two symbols
		in = append(in, market.Event{Bar: a[i]}, market.Event{Bar: b[i]})
	}
	collect := func(stages ...func() pipeline.Stage[market.Event]) []market.Event {
		var got []market.Event
		p := pipeline.New(pipeline.Config[market.Event]{Workers: 2, Key: market.Event.Key}).From("in", sourcesSlice(in))
		for i, s := range stages {
			p.Then(string(rune('a'+i)), s)
		}
		p.To("out", pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
			for _, e := range es {
				if e.Signal != nil {
					s := *e.Signal
					e.Signal = &s
				}
				got = append(got, e)
			}
			return nil
		}))
		require.NoError(t, p.Run(context.Background()))
		return got
	}
	chain := collect(c.Stage(), signals.Decisions(strat))
	require.Len(t, chain, 6000)
	require.Equal(t, chain, collect(c.Decided(strat, false)))
	only := collect(c.Stage(), signals.Decisions(strat), signals.OnlySignals)
	require.NotEmpty(t, only)
	require.Equal(t, only, collect(c.Decided(strat, true)))
	for _, e := range only {
		require.NotNil(t, e.Signal)
	}
	_, ok := c.Decided(strat, true)().(pipeline.KeyedStage[market.Event])
	assert.True(t, ok)
	pipelinetest.TestStage(t, c.Decided(strat, false), market.Event.Key, in)
}
