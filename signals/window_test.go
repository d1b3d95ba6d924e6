package signals_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sources"
)

func TestInWindow(t *testing.T) {
	t0 := time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC)
	t1 := t0.AddDate(0, 0, 1)
	var zero time.Time
	for _, tc := range []struct {
		t, start, end time.Time
		want          bool
	}{
		{t0, t0, t1, true}, // start is inclusive
		{t1, t0, t1, false},
		{t1.Add(-time.Nanosecond), t0, t1, true}, // end is exclusive
		{t0.Add(-time.Nanosecond), t0, t1, false},
		{t0.AddDate(-50, 0, 0), zero, t1, true}, // zero bounds are unbounded
		{t1.AddDate(50, 0, 0), t0, zero, true},
		{t0, zero, zero, true},
	} {
		if got := signals.InWindow(tc.t, tc.start, tc.end); got != tc.want {
			t.Errorf("InWindow(%v, %v, %v) = %v", tc.t, tc.start, tc.end, got)
		}
	}
}

func TestWindowStage(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	var in []market.Event
	for i := range 40 {
		for _, s := range []string{"A", "B"} {
			in = append(in, market.Event{Bar: market.Bar{Symbol: s, Time: t0.Add(time.Duration(i) * time.Hour), Close: float64(i)}})
		}
	}
	start, end := t0.Add(10*time.Hour), t0.Add(30*time.Hour)
	pipelinetest.TestStage(t, signals.Window(start, end), market.Event.Key, in)
	st := signals.Window(start, end)()
	var got []float64
	for _, e := range in {
		require.NoError(t, st.Process(context.Background(), e, emitFunc(func(e market.Event) { got = append(got, e.Close) })))
	}
	require.Len(t, got, 40)
	require.Equal(t, 10.0, got[0])
	require.Equal(t, 29.0, got[len(got)-1])
}

type emitFunc func(market.Event)

func (f emitFunc) Emit(e market.Event) error { f(e); return nil }
func (emitFunc) Flush() error                { return nil }
func (emitFunc) Fail(string, error)          {}

// specStage computes indicators.Specs per symbol into the values after the
// default ones, as a user's extra indicator would.
type specStage struct {
	specs  []indicators.Spec
	schema *market.Schema
	state  map[string][]indicators.Streamer
	out    []float64
}

func newSpecStage(t *testing.T, list string) (func() pipeline.Stage[market.Event], *market.Schema) {
	specs, err := indicators.ParseSpecs(list)
	require.NoError(t, err)
	names := append([]string(nil), market.DefaultNames...)
	for _, s := range specs {
		names = append(names, s.Fields()...)
	}
	schema, err := market.NewSchema(names...)
	require.NoError(t, err)
	return func() pipeline.Stage[market.Event] {
		return &specStage{specs: specs, schema: schema, state: map[string][]indicators.Streamer{}, out: make([]float64, market.MaxValues)}
	}, schema
}

func (s *specStage) Process(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
	st := s.state[e.Symbol]
	if st == nil {
		for _, sp := range s.specs {
			ind, err := sp.New()
			if err != nil {
				return err
			}
			st = append(st, ind)
		}
		s.state[e.Symbol] = st
	}
	e.Indicators.Schema = s.schema
	h := market.Handle(len(market.DefaultNames))
	b := indicators.Bar{Time: e.Time.UnixNano(), Open: e.Open, High: e.High, Low: e.Low, Close: e.Close, Volume: e.Volume}
	for i, ind := range st {
		ok := ind.Update(b, s.out)
		for j := range s.specs[i].Fields() {
			e.Indicators.SetOpt(h, s.out[j], ok)
			h++
		}
	}
	return out.Emit(e)
}

// runEvents runs the pipeline of cfg over src and returns every event the
// sink got, by time.
func runEvents(t *testing.T, src pipeline.Source[market.Event], cfg tickflow.Config) map[time.Time]market.Event {
	var mu sync.Mutex
	got := map[time.Time]market.Event{}
	p, err := tickflow.New(src, pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range es {
			got[e.Time] = e
		}
		return nil
	}), cfg)
	require.NoError(t, err)
	require.NoError(t, p.Run(context.Background()))
	return got
}

const spyCSV = "../../shared/data/spy-1d.csv"

// TestWindowOfTrailingIndicators: on spy-1d.csv, a window after the whole
// history gives every value of the full run on the window's bars, bit for
// bit (the default EMA and StochRSI too) and the full run's signals in the
// window; with a warm-up of N bars, an indicator of trailing windows gives
// the full run's values once N is at least its idle period (bit for bit
// without a running sum, within 1e-12 with TA-Lib's running sums: SMA,
// BBANDS), and not with one bar fewer.
func TestWindowOfTrailingIndicators(t *testing.T) {
	if _, err := os.Stat(spyCSV); err != nil {
		t.Skip("no recorded data:", err)
	}
	const list = "sma(50),willr(14),bbands(20,2,2),max(30),midprice(10),aroon(25),mom(10)"
	stage, schema := newSpecStage(t, list)
	specs, _ := indicators.ParseSpecs(list)
	idle := 0
	for _, sp := range specs {
		ind, err := sp.New()
		require.NoError(t, err)
		idle = max(idle, ind.IdlePeriod())
	}
	require.Equal(t, 49, idle) // sma(50)
	start, end := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 7, 1, 0, 0, 0, 0, time.UTC)
	base := tickflow.Config{Workers: 2, Stages: []tickflow.Stage{{Name: "specs", New: stage}}}
	full := runEvents(t, &sources.CSV{Paths: []string{spyCSV}}, base)
	inWindow := func(m map[time.Time]market.Event) map[time.Time]market.Event {
		out := map[time.Time]market.Event{}
		for tm, e := range m {
			if signals.InWindow(tm, start, end) {
				out[tm] = e
			}
		}
		return out
	}
	want := inWindow(full)
	require.Len(t, want, 125)
	signalsIn := func(m map[time.Time]market.Event) (n int) {
		for _, e := range m {
			if e.Signal != nil {
				n++
			}
		}
		return n
	}
	require.NotZero(t, signalsIn(want), "the window should hold signals to compare")

	windowed := base
	windowed.Start, windowed.End = start, end
	t.Run("whole history", func(t *testing.T) {
		got := runEvents(t, &sources.CSV{Paths: []string{spyCSV}}, windowed)
		require.Equal(t, want, got) // every value, bit for bit, and every signal
	})
	for _, n := range []int{idle, idle + 200} {
		t.Run(fmt.Sprint("warm-up ", n), func(t *testing.T) {
			got := runEvents(t, &sources.Lookback{Source: &sources.CSV{Paths: []string{spyCSV}}, Start: start, Bars: n}, windowed)
			require.Len(t, got, len(want))
			worst := 0.0
			for tm, w := range want {
				g := got[tm]
				for h := len(market.DefaultNames); h < schema.Len(); h++ {
					wv, wok := w.Indicators.Get(market.Handle(h))
					gv, gok := g.Indicators.Get(market.Handle(h))
					require.True(t, wok && gok, "%s %s: defined %v, want %v", tm, schema.Name(h), gok, wok)
					d := math.Abs(gv-wv) / max(1, math.Abs(wv))
					if name := schema.Name(h); name != "sma" && !strings.HasPrefix(name, "bbands") {
						require.Equal(t, wv, gv, "%s %s: no running sum, so bit for bit", tm, name)
					}
					worst = max(worst, d)
					require.LessOrEqual(t, d, 1e-12, "%s %s: %v, want %v", tm, schema.Name(h), gv, wv)
				}
			}
			t.Logf("warm-up %d: largest relative difference %.3g", n, worst)
		})
	}
	t.Run("one bar short", func(t *testing.T) {
		got := runEvents(t, &sources.Lookback{Source: &sources.CSV{Paths: []string{spyCSV}}, Start: start, Bars: idle - 1}, windowed)
		first := time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)
		h, _ := schema.Lookup("sma")
		g, w := got[first], want[first]
		require.False(t, g.Indicators.Defined(h), "SMA(50) after 48 bars of warm-up")
		require.True(t, w.Indicators.Defined(h))
	})
}
