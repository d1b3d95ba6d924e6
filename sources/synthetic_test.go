package sources

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tickflow/tickflow/market"
)

func produceAll(t *testing.T, s *Synthetic) []market.Event {
	t.Helper()
	rec := &emitRecorder{}
	if err := s.Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return rec.events
}

// TestSyntheticGolden pins the default walks: the same seed must give the
// same bars on every machine and Go version. The golden file holds the first
// bars and a hash of all of them (exact float bits).
func TestSyntheticGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Synthetic
	}{
		{"synthetic-default", Synthetic{}},
		{"synthetic-ticks", Synthetic{Seed: 7, Names: []string{"AAA", "BBB"}, Bars: 5000, Tick: 1, Price: 50, Volatility: 0.02}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := produceAll(t, &tc.s)
			h := sha256.New()
			got := ""
			for i, e := range events {
				if i < 8 {
					got += fmtBar(e.Bar) + "\n"
				}
				fmt.Fprintf(h, "%s %d %x %x %x %x %x\n", e.Symbol, e.Time.UnixNano(), math.Float64bits(e.Open),
					math.Float64bits(e.High), math.Float64bits(e.Low), math.Float64bits(e.Close), math.Float64bits(e.Volume))
			}
			got += fmt.Sprintf("%d bars, last %s\nsha256 %x\n", len(events), fmtBar(events[len(events)-1].Bar), h.Sum(nil))
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestSyntheticShape(t *testing.T) {
	s := &Synthetic{Symbols: 12, Bars: 3000, Seed: 3, Volatility: 0.05}
	events := produceAll(t, s)
	if len(events) != 12*3000 {
		t.Fatalf("%d events, want %d", len(events), 12*3000)
	}
	checkBars(t, events)
	for j, e := range events {
		k, i := j%12, j/12
		want := fmt.Sprintf("SYM%02d", k+1)
		if e.Symbol != want || !e.Time.Equal(DefaultSyntheticStart.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("event %d is %s at %v, want %s at bar %d", j, e.Symbol, e.Time, want, i)
		}
		if e.Close <= 0 || e.Volume < 100 || e.Volume > 10099 || e.Volume != math.Trunc(e.Volume) {
			t.Fatalf("bad bar %s", fmtBar(e.Bar))
		}
		if i > 0 && e.Open != events[j-12].Close {
			t.Fatalf("bar %s does not open at the previous close %v", fmtBar(e.Bar), events[j-12].Close)
		}
	}
}

// A symbol's walk depends only on the seed and its position, not on how many
// symbols there are; seeds and symbols differ from each other.
func TestSyntheticIndependent(t *testing.T) {
	one := produceAll(t, &Synthetic{Symbols: 1, Bars: 100, Seed: 9})
	five := produceAll(t, &Synthetic{Symbols: 5, Bars: 100, Seed: 9})
	other := produceAll(t, &Synthetic{Symbols: 1, Bars: 100, Seed: 10})
	for i := range one {
		if one[i].Bar != func() market.Bar { b := five[i*5].Bar; b.Symbol = "SYM1"; return b }() {
			t.Fatalf("bar %d: %s alone, %s among five", i, fmtBar(one[i].Bar), fmtBar(five[i*5].Bar))
		}
	}
	if one[50].Close == other[50].Close || five[50*5].Close == five[50*5+1].Close {
		t.Errorf("walks of different seeds or symbols coincide")
	}
}

func TestSyntheticTicks(t *testing.T) {
	for _, tick := range []float64{1, 0.25, 0.01} {
		events := produceAll(t, &Synthetic{Symbols: 2, Bars: 2000, Tick: tick, Price: 20})
		checkBars(t, events)
		flat := 0
		for j, e := range events {
			for _, p := range []float64{e.Open, e.High, e.Low, e.Close} {
				if k := p / tick; math.Abs(k-math.Round(k)) > 1e-6 || p < tick {
					t.Fatalf("tick %v: price %v is not a multiple of the tick", tick, p)
				}
			}
			if tick == 0.01 {
				// Decimal ticks print as short decimals.
				for _, p := range []float64{e.Open, e.High, e.Low, e.Close} {
					if s := fmtNum(p); len(s) > len(strconv.FormatFloat(p, 'f', 2, 64)) {
						t.Fatalf("price %s is not a 2-decimal number", s)
					}
				}
			}
			if j >= 2 && e.Close == events[j-2].Close {
				flat++
			}
		}
		if tick == 1 && flat == 0 {
			t.Errorf("whole-unit ticks at price 20 gave no unchanged close")
		}
	}
}

func TestSyntheticInvalid(t *testing.T) {
	for _, tc := range []struct {
		s    Synthetic
		want string
	}{
		{Synthetic{Symbols: -1}, "sources.Synthetic: Symbols -1 is negative"},
		{Synthetic{Names: []string{"A", "A"}}, `sources.Synthetic: symbol name "A" is empty or repeated`},
		{Synthetic{Volatility: 0.3}, "sources.Synthetic: Volatility 0.3 is not in (0, 0.25)"},
		{Synthetic{Price: -1}, "sources.Synthetic: Price -1 is not a positive number"},
		{Synthetic{Tick: math.NaN()}, "sources.Synthetic: Tick NaN is not a positive number"},
		{Synthetic{Interval: -time.Second}, "sources.Synthetic: Interval -1s is negative"},
		{Synthetic{Bars: -2}, "sources.Synthetic: Bars -2 is negative"},
		{Synthetic{Live: true, Rate: -5}, "sources.Synthetic: Rate -5 is not a positive number"},
	} {
		err := tc.s.Produce(context.Background(), &emitRecorder{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: got %v, want %s", tc.s, err, tc.want)
		}
	}
}

func TestSyntheticCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := cancelAfter(100, cancel)
	if err := (&Synthetic{}).Produce(ctx, rec); !errors.Is(err, context.Canceled) {
		t.Errorf("Produce = %v, want context.Canceled", err)
	}
	// An emitter that never refuses: Produce still notices.
	ctx, cancel = context.WithCancel(context.Background())
	rec = &emitRecorder{onEmit: func(n int) error {
		if n == 10 {
			cancel()
		}
		return nil
	}}
	if err := (&Synthetic{Bars: 100_000}).Produce(ctx, rec); !errors.Is(err, context.Canceled) || len(rec.events) > checkEvery {
		t.Errorf("Produce = %v after %d events, want context.Canceled within %d", err, len(rec.events), checkEvery)
	}
}

// TestSyntheticLive checks the pacing on a fake clock: bar k goes out at
// k/Rate, the emitter is flushed before every wait, and the feed runs until
// its context is done.
func TestSyntheticLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second+50*time.Millisecond)
		defer cancel()
		start := time.Now()
		var at []time.Duration
		rec := &emitRecorder{onEmit: func(int) error { at = append(at, time.Since(start)); return nil }}
		s := &Synthetic{Symbols: 3, Live: true, Rate: 10}
		if err := s.Produce(ctx, rec); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Produce = %v, want context.DeadlineExceeded", err)
		}
		if len(at) != 21 {
			t.Fatalf("%d bars in 2.05 s at 10 bars/s, want 21", len(at))
		}
		for k, d := range at {
			if want := time.Duration(k) * 100 * time.Millisecond; d != want {
				t.Errorf("bar %d emitted at %v, want %v", k, d, want)
			}
		}
		if rec.flushes != 21 {
			t.Errorf("%d flushes, want one before each of the 21 waits", rec.flushes)
		}
		// The live feed is the history sequence, paced.
		hist := produceAll(t, &Synthetic{Symbols: 3, Bars: 7})
		for k, e := range rec.events {
			if e.Bar != hist[k].Bar {
				t.Fatalf("live bar %d %s, history %s", k, fmtBar(e.Bar), fmtBar(hist[k].Bar))
			}
		}
	})
}

// Above 1000 bars/s the feed sends bursts each millisecond, and a live feed
// with Bars set ends by itself.
func TestSyntheticLiveBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &emitRecorder{}
		s := &Synthetic{Symbols: 4, Bars: 500, Live: true, Rate: 20_000}
		if err := s.Produce(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.events) != 2000 {
			t.Errorf("%d bars, want 2000", len(rec.events))
		}
		// 2000 bars at 20000/s: the last is due at 99.95 ms, sent on the
		// 100th tick.
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("took %v, want 100ms", d)
		}
		if rec.flushes != 100 {
			t.Errorf("%d flushes, want 100", rec.flushes)
		}
	})
}

func TestSlice(t *testing.T) {
	bars := []market.Bar{{Symbol: "A", Close: 1}, {Symbol: "B", Close: 2}, {Symbol: "A", Close: 3}}
	rec := &emitRecorder{}
	if err := BarSlice(bars).Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	rec2 := &emitRecorder{}
	if err := Slice[market.Event](rec.events).Produce(context.Background(), rec2); err != nil {
		t.Fatal(err)
	}
	if len(rec2.events) != 3 {
		t.Fatalf("%d events", len(rec2.events))
	}
	for i, e := range rec2.events {
		if e.Bar != bars[i] {
			t.Errorf("event %d: %v, want %v", i, e.Bar, bars[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := BarSlice(bars).Produce(ctx, &emitRecorder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("BarSlice.Produce = %v, want context.Canceled", err)
	}
	if err := Slice[market.Event](rec.events).Produce(ctx, &emitRecorder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Slice.Produce = %v, want context.Canceled", err)
	}
}

func BenchmarkSynthetic(b *testing.B) {
	s := &Synthetic{Symbols: 1000, Bars: 200}
	b.ReportAllocs()
	for b.Loop() {
		c := &countingEmitter{}
		if err := s.Produce(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000*200), "ns/bar")
}
