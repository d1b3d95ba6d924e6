package indicators

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// retimed copies s with bars step apart from start, so that a series spans
// many sessions.
func retimed(s ohlcv, start time.Time, step time.Duration) ohlcv {
	s.time = make([]int64, s.len())
	for i := range s.time {
		s.time[i] = start.Add(time.Duration(i) * step).UnixNano()
	}
	return s
}

// vwapBatch is VWAP written from its definition with the time package's own
// calendar: a session is a UTC date (shifted back by offset), or an ISO week,
// which starts on Monday 00:00 UTC.
func vwapBatch(s *ohlcv, offset time.Duration, weekly bool) []float64 {
	out := make([]float64, s.len())
	var pv, vol float64
	var key [2]int
	for i := range s.len() {
		t := time.Unix(0, s.time[i]).UTC()
		var k [2]int
		if weekly {
			k[0], k[1] = t.ISOWeek()
		} else {
			t = t.Add(-offset)
			k = [2]int{t.Year(), t.YearDay()}
		}
		if i == 0 || k != key {
			key, pv, vol = k, 0, 0
		}
		tp := (s.high[i] + s.low[i] + s.close[i]) / 3.0
		pv += tp * s.volume[i]
		vol += s.volume[i]
		if vol == 0 {
			out[i] = tp
		} else {
			out[i] = pv / vol
		}
	}
	return out
}

func TestVWAPMatchesBatch(t *testing.T) {
	start := time.Date(2023, 12, 29, 22, 7, 0, 0, time.UTC) // across a year end
	cases := []struct {
		name            string
		session, offset time.Duration
		weekly          bool
	}{
		{"utc-day", 24 * time.Hour, 0, false},
		{"day-from-13:30", 24 * time.Hour, 13*time.Hour + 30*time.Minute, false},
		{"week-from-monday", 7 * 24 * time.Hour, 4 * 24 * time.Hour, true}, // the epoch was a Thursday
	}
	for _, c := range cases {
		for _, s := range allBars(t, 3000) {
			for _, step := range []time.Duration{time.Minute, 37 * time.Minute, 5 * time.Hour} {
				s := retimed(s, start, step)
				want := vwapBatch(&s, c.offset, c.weekly)
				w, err := NewVWAP(c.session, c.offset)
				if err != nil {
					t.Fatal(err)
				}
				for i := range s.len() {
					got, ok := w.Update(s.bar(i))
					if !ok || !same(got, want[i]) {
						t.Fatalf("%s %s step %v bar %d: got %v (ok %v), batch %v", c.name, s.name, step, i, got, ok, want[i])
					}
				}
			}
		}
	}
}

func TestVWAPKnownAnswers(t *testing.T) {
	day := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return day.Add(d).UnixNano() }
	// Bars with high = low = close = tp, so the typical price is exact.
	bar := func(tm int64, tp, v float64) Bar { return Bar{Time: tm, High: tp, Low: tp, Close: tp, Volume: v} }
	cases := []struct {
		name            string
		session, offset time.Duration
		bars            []Bar
		want            []float64
	}{
		{"weighted", 24 * time.Hour, 0,
			[]Bar{bar(at(time.Hour), 10, 1), bar(at(2*time.Hour), 20, 3), bar(at(3*time.Hour), 30, 4)},
			[]float64{10, 17.5, 23.75}},
		{"new day resets", 24 * time.Hour, 0,
			[]Bar{bar(at(23*time.Hour), 10, 1), bar(at(24*time.Hour), 30, 2), bar(at(25*time.Hour), 60, 1)},
			[]float64{10, 30, 40}},
		{"zero volume at the start is the typical price", 24 * time.Hour, 0,
			[]Bar{bar(at(0), 5, 0), bar(at(time.Minute), 7, 0), bar(at(2*time.Minute), 9, 1), bar(at(3*time.Minute), 12, 1)},
			[]float64{5, 7, 9, 10.5}},
		{"zero-volume bar later weighs nothing", 24 * time.Hour, 0,
			[]Bar{bar(at(0), 8, 2), bar(at(time.Minute), 100, 0)},
			[]float64{8, 8}},
		{"offset splits at 13:30", 24 * time.Hour, 13*time.Hour + 30*time.Minute,
			[]Bar{bar(at(13*time.Hour+29*time.Minute), 10, 1), bar(at(13*time.Hour+30*time.Minute), 20, 1), bar(at(20*time.Hour), 40, 1)},
			[]float64{10, 20, 30}},
		{"before the epoch rounds down", time.Hour, 0,
			[]Bar{bar(-2, 10, 1), bar(-1, 20, 1), bar(0, 40, 1)},
			[]float64{10, 15, 40}},
		{"time going back starts a session", 24 * time.Hour, 0,
			[]Bar{bar(at(48*time.Hour), 10, 1), bar(at(time.Hour), 20, 1)},
			[]float64{10, 20}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := NewVWAP(c.session, c.offset)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]float64, 1)
			for i, b := range c.bars {
				if !w.UpdateBar(b, out) || out[0] != c.want[i] {
					t.Fatalf("bar %d: %v, want %v", i, out[0], c.want[i])
				}
			}
		})
	}
}

func TestVWAPValidates(t *testing.T) {
	for _, c := range []struct {
		session, offset time.Duration
		word            string
	}{
		{0, 0, "session = 0s"},
		{-time.Hour, 0, "session = -1h0m0s"},
		{time.Hour, -time.Minute, "offset = -1m0s"},
		{time.Hour, time.Hour, "offset = 1h0m0s"},
	} {
		_, err := NewVWAP(c.session, c.offset)
		if !errors.Is(err, ErrPeriod) || !strings.Contains(err.Error(), c.word) || !strings.HasPrefix(err.Error(), "indicators.NewVWAP") {
			t.Errorf("NewVWAP(%v, %v) = %v, want an ErrPeriod naming %q", c.session, c.offset, err, c.word)
		}
	}
}

// heikinAshiBatch is the Heikin-Ashi definition over a whole series.
func heikinAshiBatch(s *ohlcv) (open, high, low, close []float64) {
	n := s.len()
	open, high, low, close = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		close[i] = (s.open[i] + s.high[i] + s.low[i] + s.close[i]) / 4
		if i == 0 {
			open[i] = (s.open[i] + s.close[i]) / 2
		} else {
			open[i] = (open[i-1] + close[i-1]) / 2
		}
		high[i] = math.Max(s.high[i], math.Max(open[i], close[i]))
		low[i] = math.Min(s.low[i], math.Min(open[i], close[i]))
	}
	return open, high, low, close
}

func TestHeikinAshiMatchesBatch(t *testing.T) {
	for _, s := range allBars(t, 3000) {
		o, h, l, c := heikinAshiBatch(&s)
		sp, err := ParseSpec("ha=heikinashi")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(sp.Fields(), ","); got != "ha_open,ha_high,ha_low,ha_close" {
			t.Fatalf("fields %s", got)
		}
		st, _ := sp.New()
		got, ok := runStreamer(st, &s, 4)
		for i := range s.len() {
			for j, want := range [][]float64{o, h, l, c} {
				if !ok[i] || math.Float64bits(got[j][i]) != math.Float64bits(want[i]) {
					t.Fatalf("%s bar %d %s: got %v (ok %v), batch %v", s.name, i, sp.Func.Outputs[j], got[j][i], ok[i], want[i])
				}
			}
		}
	}
}

func TestHeikinAshiKnownAnswers(t *testing.T) {
	bars := []Bar{
		{Open: 10, High: 12, Low: 9, Close: 11},
		{Open: 11, High: 13, Low: 10, Close: 12},
		{Open: 12, High: 12, Low: 8, Close: 8},
	}
	want := []Bar{
		{Open: 10.5, High: 12, Low: 9, Close: 10.5},
		{Open: 10.5, High: 13, Low: 10, Close: 11.5},
		{Open: 11, High: 12, Low: 8, Close: 10},
	}
	h := NewHeikinAshi()
	for i, b := range bars {
		got, ok := h.Update(b)
		if !ok || got != want[i] {
			t.Fatalf("bar %d: %+v, want %+v", i, got, want[i])
		}
	}
	// An HA open above the bar's high lifts the HA high.
	h.Reset()
	h.Update(Bar{Open: 20, High: 21, Low: 19, Close: 20})
	got, _ := h.Update(Bar{Open: 10, High: 11, Low: 9, Close: 10})
	if got.Open != 20 || got.High != 20 || got.Low != 9 {
		t.Fatalf("after a gap down: %+v, want open 20, high 20, low 9", got)
	}
}

func TestLinearRegKnownAnswers(t *testing.T) {
	// On a straight line y = 100 + 2t every sum is exact: the fit is the line.
	line := make([]float64, 60)
	for i := range line {
		line[i] = 100 + 2*float64(i)
	}
	const n = 14
	for _, c := range []struct {
		make func(int) (*LinearReg, error)
		want func(t int) float64
	}{
		{NewLinearReg, func(t int) float64 { return line[t] }},
		{NewLinearRegSlope, func(int) float64 { return 2 }},
		{NewLinearRegAngle, func(int) float64 { return math.Atan(2) * 180 / math.Pi }},
		{NewLinearRegIntercept, func(t int) float64 { return line[t-n+1] }},
	} {
		r, err := c.make(n)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range line {
			got, ok := r.Update(x)
			if ok != (i >= n-1) || ok && got != c.want(i) {
				t.Fatalf("%v bar %d: %v (ok %v), want %v", r, i, got, ok, c.want(i))
			}
		}
	}
	// A flat window has slope 0 and angle 0 exactly.
	slope, _ := NewLinearRegSlope(n)
	angle, _ := NewLinearRegAngle(n)
	for i := range 3 * n {
		x := 1e9 + float64(i/n)*1e9 // flat runs of n bars
		s, sok := slope.Update(x)
		a, _ := angle.Update(x)
		if sok && i%n == n-1 && (s != 0 || a != 0) {
			t.Fatalf("flat window at bar %d: slope %v, angle %v", i, s, a)
		}
	}
}
