package sources

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

// lookbackBars is two symbols' hourly bars interleaved, A with 10 and B
// with 4, then C with 3: before start, A's first 6, B's first 3 and all of C.
func lookbackBars() (bars []market.Bar, start time.Time) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		bars = append(bars, market.Bar{Symbol: "A", Time: t0.Add(time.Duration(i) * time.Hour), Close: float64(i)})
		if i < 4 {
			bars = append(bars, market.Bar{Symbol: "B", Time: t0.Add(time.Duration(i+3) * time.Hour), Close: float64(100 + i)})
		}
	}
	for i := range 3 {
		bars = append(bars, market.Bar{Symbol: "C", Time: t0.Add(time.Duration(i) * time.Hour), Close: float64(200 + i)})
	}
	return bars, t0.Add(6 * time.Hour)
}

func closes(events []market.Event, sym string) []float64 {
	var out []float64
	for _, e := range events {
		if e.Symbol == sym {
			out = append(out, e.Close)
		}
	}
	return out
}

// TestLookback: per symbol, the last Bars bars before Start, then every bar
// from Start on, each symbol's bars in order; a symbol with no bar from
// Start on gets its last Bars at the end; zero Bars or Start pass all.
func TestLookback(t *testing.T) {
	bars, start := lookbackBars()
	for _, tc := range []struct {
		n       int
		start   time.Time
		a, b, c []float64
	}{
		{2, start, []float64{4, 5, 6, 7, 8, 9}, []float64{101, 102, 103}, []float64{201, 202}},
		{1, start, []float64{5, 6, 7, 8, 9}, []float64{102, 103}, []float64{202}},
		{100, start, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []float64{100, 101, 102, 103}, []float64{200, 201, 202}},
		{0, start, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []float64{100, 101, 102, 103}, []float64{200, 201, 202}},
		{2, time.Time{}, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []float64{100, 101, 102, 103}, []float64{200, 201, 202}},
	} {
		t.Run(fmt.Sprintf("bars=%d start=%v", tc.n, !tc.start.IsZero()), func(t *testing.T) {
			rec := &emitRecorder{}
			src := &Lookback{Source: BarSlice(bars), Start: tc.start, Bars: tc.n}
			if err := src.Produce(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			for sym, want := range map[string][]float64{"A": tc.a, "B": tc.b, "C": tc.c} {
				if got := closes(rec.events, sym); !slices.Equal(got, want) {
					t.Errorf("%s: %v, want %v", sym, got, want)
				}
			}
		})
	}
}

// failing fails symbol A after its second bar.
type failing struct{ bars []market.Bar }

func (f failing) Produce(_ context.Context, out pipeline.Emitter[market.Event]) error {
	a := 0
	for _, b := range f.bars {
		if b.Symbol == "A" {
			if a++; a == 3 {
				out.Fail("A", errors.New("broken"))
				continue
			}
			if a > 3 {
				continue
			}
		}
		if err := out.Emit(market.Event{Bar: b}); err != nil {
			return err
		}
	}
	return nil
}

// A symbol that fails while its warm-up is held loses the warm-up; the
// failure is passed on and the other symbols go on.
func TestLookbackFailedSymbolDropsItsWarmup(t *testing.T) {
	bars, start := lookbackBars()
	rec := &emitRecorder{}
	if err := (&Lookback{Source: failing{bars}, Start: start, Bars: 2}).Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if got := closes(rec.events, "A"); len(got) != 0 {
		t.Errorf("A emitted %v after failing", got)
	}
	if got := closes(rec.events, "B"); !slices.Equal(got, []float64{101, 102, 103}) {
		t.Errorf("B: %v", got)
	}
	if len(rec.fails) != 1 || rec.fails[0] != "A: broken" {
		t.Errorf("fails %v", rec.fails)
	}
}

// The pipeline's conformance suite: cancellation, no leaks, determinism.
func TestLookbackConformance(t *testing.T) {
	pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
		return &Lookback{Source: &Synthetic{Symbols: 3, Bars: 500}, Start: DefaultSyntheticStart.Add(300 * time.Minute), Bars: 50}
	}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 100})
}

func TestLookbackErrors(t *testing.T) {
	if err := (&Lookback{}).Produce(context.Background(), &emitRecorder{}); err == nil {
		t.Error("no Source: no error")
	}
	if err := (&Lookback{Source: BarSlice(nil), Bars: -1}).Produce(context.Background(), &emitRecorder{}); err == nil {
		t.Error("negative Bars: no error")
	}
}
