package sources

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

// referenceResample aggregates bars the slow, obvious way: all of a symbol's
// bars grouped by the float floor of their Unix time over the timeframe.
func referenceResample(in []market.Event, tf time.Duration) map[string][]market.Bar {
	out := map[string][]market.Bar{}
	secs := tf.Seconds()
	for _, e := range in {
		k := math.Floor(float64(e.Time.Unix()) / secs)
		start := time.Unix(int64(k*secs), 0).UTC()
		bars := out[e.Symbol]
		if n := len(bars); n > 0 && bars[n-1].Time.Equal(start) {
			last := &bars[n-1]
			if e.High > last.High {
				last.High = e.High
			}
			if e.Low < last.Low {
				last.Low = e.Low
			}
			last.Close = e.Close
			last.Volume += e.Volume
			continue
		}
		b := e.Bar
		b.Time = start
		out[e.Symbol] = append(bars, b)
	}
	return out
}

func produce(t *testing.T, src pipeline.Source[market.Event]) *emitRecorder {
	t.Helper()
	rec := &emitRecorder{}
	if err := src.Produce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func checkResample(t *testing.T, in []market.Event, got *emitRecorder, tf time.Duration) {
	t.Helper()
	want := referenceResample(in, tf)
	by := map[string][]market.Bar{}
	for _, e := range got.events {
		by[e.Symbol] = append(by[e.Symbol], e.Bar)
	}
	if len(by) != len(want) {
		t.Fatalf("%v: %d symbols, want %d", tf, len(by), len(want))
	}
	for sym, w := range want {
		g := by[sym]
		if len(g) != len(w) {
			t.Fatalf("%v %s: %d bars, want %d", tf, sym, len(g), len(w))
		}
		for i := range w {
			if !sameBar(g[i], w[i]) {
				t.Fatalf("%v %s bar %d: %s, want %s", tf, sym, i, fmtBar(g[i]), fmtBar(w[i]))
			}
		}
	}
}

// Resampled random walks equal the reference, for timeframes that divide an
// hour or a day or neither, over the Unix epoch.
func TestResampleMatchesReference(t *testing.T) {
	src := func() pipeline.Source[market.Event] {
		return &Synthetic{Symbols: 3, Bars: 6000, Seed: 9, Interval: 37 * time.Second,
			Start: time.Date(1969, 12, 30, 22, 17, 3, 0, time.UTC)}
	}
	in := produce(t, src()).events
	for _, tf := range []time.Duration{time.Second, time.Minute, 5 * time.Minute, 7 * time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour} {
		got := produce(t, &Resample{Source: src(), Timeframe: tf})
		checkResample(t, in, got, tf)
		if len(got.fails) != 0 {
			t.Errorf("%v: fails %q", tf, got.fails)
		}
	}
}

// The recorded 1-minute BTCUSDT-PERP bars (2021-12-31 23:01 to 2022-02-01
// 05:31) resampled to hours equal the
// reference; so do the daily SPY bars to weeks.
func TestResampleSharedData(t *testing.T) {
	dir := sharedData(t)
	for _, tc := range []struct {
		file string
		tf   time.Duration
		n    int
	}{{"btcperp-1m.csv", time.Hour, 1 + 31*24 + 6}, {"spy-1d.csv", 7 * 24 * time.Hour, 0}} {
		path := filepath.Join(dir, tc.file)
		in := produce(t, &CSV{Paths: []string{path}}).events
		got := produce(t, &Resample{Source: &CSV{Paths: []string{path}}, Timeframe: tc.tf})
		checkResample(t, in, got, tc.tf)
		if tc.n > 0 && len(got.events) != tc.n {
			t.Errorf("%s: %d bars, want %d", tc.file, len(got.events), tc.n)
		}
	}
}

// Buckets are emitted when the symbol's next bucket starts, and at the end in
// the order their first bars arrived.
func TestResampleOrder(t *testing.T) {
	at := func(sym, hm string, o, h, l, c, v float64) market.Bar {
		tm, err := time.Parse("2006-01-02 15:04", "2024-01-02 "+hm)
		if err != nil {
			t.Fatal(err)
		}
		return market.Bar{Symbol: sym, Time: tm, Open: o, High: h, Low: l, Close: c, Volume: v}
	}
	in := BarSlice{
		at("A", "10:59", 1, 2, 1, 2, 1),
		at("A", "11:00", 2, 3, 2, 3, 1),
		at("B", "11:05", 7, 8, 6, 7, 5),
		at("A", "11:30", 3, 5, 1, 4, 2),
		at("A", "12:00", 4, 4, 4, 4, 3),
	}
	got := produce(t, &Resample{Source: in, Timeframe: time.Hour}).String()
	want := `A 2024-01-02T10:00:00Z o=1 h=2 l=1 c=2 v=1
A 2024-01-02T11:00:00Z o=2 h=5 l=1 c=4 v=3
B 2024-01-02T11:00:00Z o=7 h=8 l=6 c=7 v=5
A 2024-01-02T12:00:00Z o=4 h=4 l=4 c=4 v=3
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A symbol the source fails loses its open bucket, and the failure is passed
// on; a bar out of order fails its symbol.
func TestResampleFailures(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)
	bar := func(sym string, min int) market.Event {
		return market.Event{Bar: market.Bar{Symbol: sym, Time: t0.Add(time.Duration(min) * time.Minute), Open: 1, High: 1, Low: 1, Close: 1, Volume: 1}}
	}
	src := pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
		for _, e := range []market.Event{bar("A", 0), bar("B", 0), bar("A", 61), bar("B", 62)} {
			if err := out.Emit(e); err != nil {
				return err
			}
		}
		out.Fail("A", errors.New("bad row"))
		for _, e := range []market.Event{bar("A", 62), bar("B", 30), bar("C", 0)} {
			if err := out.Emit(e); err != nil {
				return err
			}
		}
		return nil
	})
	got := produce(t, &Resample{Source: src, Timeframe: time.Hour}).String()
	want := `A 2024-01-02T10:00:00Z o=1 h=1 l=1 c=1 v=1
B 2024-01-02T10:00:00Z o=1 h=1 l=1 c=1 v=1
C 2024-01-02T10:00:00Z o=1 h=1 l=1 c=1 v=1
FAIL A: bad row
FAIL B: sources.Resample: B: bar at 2024-01-02T10:30:00Z is not after 2024-01-02T11:02:00Z
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestResampleSettings(t *testing.T) {
	for _, tc := range []struct {
		r    *Resample
		want string
	}{
		{&Resample{Timeframe: time.Hour}, "sources.Resample: no source"},
		{&Resample{Source: BarSlice{}, Timeframe: 0}, "sources.Resample: timeframe 0s is not a positive whole number of seconds"},
		{&Resample{Source: BarSlice{}, Timeframe: 1500 * time.Millisecond}, "sources.Resample: timeframe 1.5s is not a positive whole number of seconds"},
	} {
		if err := tc.r.Produce(context.Background(), &emitRecorder{}); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "5m": 5 * time.Minute, "1h": time.Hour, "1d": 24 * time.Hour, " 2w ": 14 * 24 * time.Hour} {
		if got, err := ParseTimeframe(in); err != nil || got != want {
			t.Errorf("ParseTimeframe(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "-1h", "1.5s", "xd", "1y"} {
		if _, err := ParseTimeframe(in); err == nil || !strings.HasPrefix(err.Error(), "sources.Resample: timeframe") {
			t.Errorf("ParseTimeframe(%q): %v", in, err)
		}
	}
}

func TestResampleConformance(t *testing.T) {
	pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
		return &Resample{Source: &Synthetic{Symbols: 3, Bars: 3000}, Timeframe: 5 * time.Minute}
	}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 100})
}

// BenchmarkResample aggregates 1-minute bars of 4 symbols into hours.
func BenchmarkResample(b *testing.B) {
	bars := make(BarSlice, 0, 400_000)
	for _, e := range produceB(b, &Synthetic{Symbols: 4, Bars: 100_000}) {
		bars = append(bars, e.Bar)
	}
	src := &Resample{Source: bars, Timeframe: time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		c := &countingEmitter{}
		if err := src.Produce(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(bars))*float64(b.N)/b.Elapsed().Seconds(), "bars/s")
}

func produceB(b *testing.B, src pipeline.Source[market.Event]) []market.Event {
	rec := &emitRecorder{}
	if err := src.Produce(context.Background(), rec); err != nil {
		b.Fatal(err)
	}
	return rec.events
}
