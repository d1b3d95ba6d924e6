package signals_test

import (
	"context"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/markcheno/go-talib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/signals"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// reference computes the strategy's signals the batch way: go-talib over the
// whole series, then the rules of the issue as written, bar by bar.
func reference(bars []market.Bar, ema, rsi, stoch, d int, oversold, overbought float64) []market.Signal {
	closes := make([]float64, len(bars))
	for i, b := range bars {
		closes[i] = b.Close
	}
	if len(closes) <= rsi || len(closes) < ema {
		return nil
	}
	e := talib.Ema(closes, ema)
	k, dd := talib.StochRsi(closes, rsi, stoch, d, talib.SMA)
	firstE, firstKD := ema-1, rsi+stoch-1+d-1
	var out []market.Signal
	long := false
	for t := range closes {
		if t < firstE || t-1 < firstKD {
			continue
		}
		up := k[t-1] <= dd[t-1] && k[t] > dd[t]
		down := k[t-1] >= dd[t-1] && k[t] < dd[t]
		var side market.Side
		switch {
		case !long && up && dd[t] < oversold && closes[t] > e[t]:
			side, long = market.Buy, true
		case long && ((down && dd[t] > overbought) || closes[t] < e[t]):
			side, long = market.Sell, false
		default:
			continue
		}
		out = append(out, market.Signal{Symbol: bars[t].Symbol, Time: bars[t].Time, Side: side, Price: closes[t],
			Indicators: market.DefaultRecord(e[t], true, k[t], dd[t], true)})
	}
	return out
}

// stream runs bars through the indicator and decision stages in a pipeline
// with the given number of workers.
func stream(t *testing.T, bars []market.Bar, workers int, cfg indicators.Config, oversold, overbought float64) []market.Signal {
	t.Helper()
	ind, err := signals.Indicators(cfg)
	require.NoError(t, err)
	strat, err := signals.NewStochRSIEMA(oversold, overbought)
	require.NoError(t, err)
	var got []market.Signal
	p := pipeline.New(pipeline.Config[market.Event]{Workers: workers, Key: market.Event.Key}).
		From("bars", pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
			for _, b := range bars {
				if err := out.Emit(market.Event{Bar: b}); err != nil {
					return err
				}
			}
			return nil
		})).
		Then("indicators", ind).Then("strategy", signals.Decisions(strat)).Then("only", signals.OnlySignals).
		To("collect", pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
			for _, e := range es {
				s := *e.Signal
				s.Reason = ""
				got = append(got, s)
			}
			return nil
		}))
	require.NoError(t, p.Run(context.Background()))
	return got
}

func randomWalk(symbol string, n int, seed uint64, tick float64) []market.Bar {
	r := rand.New(rand.NewPCG(seed, 7))
	bars := make([]market.Bar, n)
	p := 100.0
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	for i := range bars {
		p *= 1 + (r.Float64()-0.5)*0.02
		c := p
		if tick > 0 {
			c = max(tick, float64(int64(p/tick+0.5))*tick)
		}
		bars[i] = market.Bar{Symbol: symbol, Time: t0.Add(time.Duration(i) * time.Minute), Open: c, High: c, Low: c, Close: c, Volume: 1}
	}
	return bars
}

func loadShared(t *testing.T, name string) []market.Bar {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "shared", "data", name))
	if err != nil {
		t.Skipf("recorded data not available (%v): needs ../shared/data beside the repository", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	var bars []market.Bar
	for _, r := range rows[1:] {
		tm, err := time.Parse(time.RFC3339, r[1])
		require.NoError(t, err)
		var v [5]float64 // open, high, low, close, volume
		for i := range v {
			v[i], err = strconv.ParseFloat(r[2+i], 64)
			require.NoError(t, err)
		}
		bars = append(bars, market.Bar{Symbol: r[0], Time: tm, Open: v[0], High: v[1], Low: v[2], Close: v[3], Volume: v[4]})
	}
	return bars
}

func TestSignalsEqualBatchReference(t *testing.T) {
	type series struct {
		name string
		bars func(t *testing.T) []market.Bar
	}
	all := []series{
		{"random walk", func(*testing.T) []market.Bar { return randomWalk("RW", 20000, 1, 0) }},
		{"whole-unit ticks", func(*testing.T) []market.Bar { return randomWalk("TICK", 20000, 2, 1) }},
		{"cent ticks", func(*testing.T) []market.Bar { return randomWalk("CENT", 20000, 3, 0.01) }},
	}
	for _, name := range []string{"spy-1d.csv", "btcusdt-1h.csv", "btcperp-1m.csv"} {
		all = append(all, series{name, func(t *testing.T) []market.Bar { return loadShared(t, name) }})
	}
	for _, s := range all {
		t.Run(s.name, func(t *testing.T) {
			bars := s.bars(t)
			for _, p := range []struct {
				ema, rsi, stoch, d int
				lo, hi             float64
			}{{20, 14, 14, 3, 20, 80}, {50, 7, 10, 5, 30, 70}} {
				want := reference(bars, p.ema, p.rsi, p.stoch, p.d, p.lo, p.hi)
				require.NotEmpty(t, want, "the reference finds signals, so the comparison means something")
				got := stream(t, bars, 2, indicators.Config{EMA: p.ema, RSI: p.rsi, Stoch: p.stoch, D: p.d}, p.lo, p.hi)
				require.Equal(t, want, got)
			}
		})
	}
}

func TestStochRSIEMARules(t *testing.T) {
	ev := func(close, ema, k, d float64) market.Event {
		return market.Event{Bar: market.Bar{Symbol: "X", Close: close},
			Indicators: market.DefaultRecord(ema, true, k, d, true)}
	}
	for _, tc := range []struct {
		name  string
		steps []market.Event
		want  []market.Side // per step, 0 for none
	}{
		{"buy on cross up below oversold above ema", []market.Event{ev(10, 9, 5, 10), ev(10, 9, 15, 12)}, []market.Side{0, market.Buy}},
		{"no buy when D not oversold", []market.Event{ev(10, 9, 20, 30), ev(10, 9, 35, 25)}, []market.Side{0, 0}},
		{"no buy below ema", []market.Event{ev(10, 11, 5, 10), ev(10, 11, 15, 12)}, []market.Side{0, 0}},
		{"equal then above is a cross", []market.Event{ev(10, 9, 10, 10), ev(10, 9, 11, 10)}, []market.Side{0, market.Buy}},
		{"sell on cross down above overbought", []market.Event{ev(10, 9, 5, 10), ev(10, 9, 15, 12), ev(10, 9, 95, 90), ev(10, 9, 85, 88)},
			[]market.Side{0, market.Buy, 0, market.Sell}},
		{"sell below ema", []market.Event{ev(10, 9, 5, 10), ev(10, 9, 15, 12), ev(8, 9, 50, 40)}, []market.Side{0, market.Buy, market.Sell}},
		{"no second buy while long", []market.Event{ev(10, 9, 5, 10), ev(10, 9, 15, 12), ev(10, 9, 5, 10), ev(10, 9, 15, 12)},
			[]market.Side{0, market.Buy, 0, 0}},
		{"nothing without a previous bar", []market.Event{ev(10, 9, 15, 12)}, []market.Side{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &signals.StochRSIEMA{}
			for i, e := range tc.steps {
				sig := s.Decide(e)
				if tc.want[i] == 0 {
					assert.Nil(t, sig, "step %d", i)
				} else if assert.NotNil(t, sig, "step %d", i) {
					assert.Equal(t, tc.want[i], sig.Side, "step %d", i)
					assert.NotEmpty(t, sig.Reason)
				}
			}
		})
	}
}

func TestThresholdValidation(t *testing.T) {
	for _, tc := range [][2]float64{{80, 20}, {-1, 80}, {20, 101}, {50, 50}} {
		_, err := signals.NewStochRSIEMA(tc[0], tc[1])
		assert.Error(t, err, "%v", tc)
	}
	_, err := signals.Indicators(indicators.Config{EMA: -3})
	assert.Error(t, err)
}

func TestStagesConform(t *testing.T) {
	var in []market.Event
	for _, sym := range []string{"A", "B", "C"} {
		for _, b := range randomWalk(sym, 300, uint64(len(sym)+int(sym[0])), 0) {
			in = append(in, market.Event{Bar: b})
		}
	}
	ind, err := signals.Indicators(indicators.Config{})
	require.NoError(t, err)
	pipelinetest.TestStage(t, ind, market.Event.Key, in)
	strat, err := signals.NewStochRSIEMA(0, 0)
	require.NoError(t, err)
	pipelinetest.TestStage(t, signals.Decisions(strat), market.Event.Key, in)
}

func sourcesSlice(in []market.Event) pipeline.Source[market.Event] {
	return pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
		for _, e := range in {
			if err := out.Emit(e); err != nil {
				return err
			}
		}
		return nil
	})
}
