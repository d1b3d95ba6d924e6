package indicators

import (
	"fmt"
	"math"
	"testing"

	talib "github.com/markcheno/go-talib"
)

// The streaming types must return go-talib's values on every bar, warm-up
// flags included. On the default amd64 build (GOAMD64=v1) the comparison is
// bit for bit (see exact_v1_test.go); elsewhere within 1e-9.

const walkLen = 50000

var emaPeriods = []int{1, 2, 3, 5, 8, 10, 13, 20, 21, 34, 50, 55, 89, 100, 144, 199, 200}

func TestEMAMatchesTalib(t *testing.T) {
	for _, s := range allSeries(t, walkLen) {
		for _, n := range emaPeriods {
			want := talib.Ema(s.close, n)
			e, err := NewEMA(n)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range s.close {
				got, ok := e.Update(x)
				if ok != (i >= e.IdlePeriod()) {
					t.Fatalf("%s %v bar %d: ok = %v, idle period %d", s.name, e, i, ok, e.IdlePeriod())
				}
				if ok && !same(got, want[i]) {
					t.Fatalf("%s %v bar %d: got %v, go-talib %v", s.name, e, i, got, want[i])
				}
			}
		}
	}
}

func TestRSIMatchesTalib(t *testing.T) {
	for _, s := range allSeries(t, walkLen) {
		for _, n := range []int{2, 3, 5, 9, 11, 14, 21, 30, 50} {
			want := talib.Rsi(s.close, n)
			r, err := NewRSI(n)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range s.close {
				got, ok := r.Update(x)
				if ok != (i >= r.IdlePeriod()) {
					t.Fatalf("%s %v bar %d: ok = %v, idle period %d", s.name, r, i, ok, r.IdlePeriod())
				}
				if ok && !same(got, want[i]) {
					t.Fatalf("%s %v bar %d: got %v, go-talib %v", s.name, r, i, got, want[i])
				}
			}
		}
	}
}

var stochParams = [][3]int{{14, 14, 3}, {14, 5, 3}, {11, 13, 16}, {14, 14, 1}, {5, 1, 1}, {2, 2, 2}, {3, 30, 7}}

func TestStochRSIMatchesTalib(t *testing.T) {
	for _, s := range allSeries(t, walkLen) {
		if s.ticked && !bitExact {
			// Without bit equality a flat RSI window may put %K at 0 on one
			// side and 100 on the other; nothing to compare within 1e-9.
			t.Logf("%s: skipped on a build that may fuse FMAs", s.name)
			continue
		}
		for _, p := range stochParams {
			wantK, wantD := talib.StochRsi(s.close, p[0], p[1], p[2], talib.SMA)
			st, err := NewStochRSI(p[0], p[1], p[2])
			if err != nil {
				t.Fatal(err)
			}
			checkStoch(t, s.name, st, s.close, wantK, wantD)
		}
	}
}

func checkStoch(t *testing.T, name string, st *StochRSI, close, wantK, wantD []float64) {
	t.Helper()
	for i, x := range close {
		k, d, ok := st.Update(x)
		if ok != (i >= st.IdlePeriod()) {
			t.Fatalf("%s %v bar %d: ok = %v, idle period %d", name, st, i, ok, st.IdlePeriod())
		}
		if !ok {
			continue
		}
		if !same(k, wantK[i]) || !same(d, wantD[i]) {
			t.Fatalf("%s %v bar %d: got K %v D %v, want K %v D %v", name, st, i, k, d, wantK[i], wantD[i])
		}
	}
}

// Smoothed %K is go-talib's %D of StochRsi(close, rsi, stoch, smoothK), and
// the smoothed %D is go-talib's SMA of the StochF %D over the padded RSI
// array, which is where the streaming averages start.
func TestSmoothStochRSIMatchesTalib(t *testing.T) {
	for _, s := range allSeries(t, 5000) {
		if s.ticked && !bitExact {
			continue
		}
		for _, p := range [][4]int{{14, 14, 3, 3}, {14, 5, 2, 4}, {6, 9, 5, 1}, {3, 3, 1, 3}} {
			rsi, stoch, smoothK, d := p[0], p[1], p[2], p[3]
			_, wantK := talib.StochRsi(s.close, rsi, stoch, smoothK, talib.SMA)
			if smoothK == 1 {
				wantK, _ = talib.StochRsi(s.close, rsi, stoch, 1, talib.SMA)
			}
			_, fastD := talib.StochF(talib.Rsi(s.close, rsi), talib.Rsi(s.close, rsi), talib.Rsi(s.close, rsi), stoch, smoothK, talib.SMA)
			from := stoch - 1 + smoothK - 1 // StochF's first output over the padded array
			wantD := make([]float64, len(s.close))
			copy(wantD[from:], talib.Ma(fastD[from:], d, talib.SMA))
			st, err := NewSmoothStochRSI(rsi, stoch, smoothK, d)
			if err != nil {
				t.Fatal(err)
			}
			checkStoch(t, s.name, st, s.close, wantK, wantD)
		}
	}
}

// Reset must give a fresh start, and Value the last outputs.
func TestResetAndValue(t *testing.T) {
	close := randomWalk(9, 600, 0.01, 0.02)
	set, err := NewSet(Config{SmoothK: 3})
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		e, k, d   float64
		eOK, kdOK bool
	}
	run := func() []out {
		var o []out
		for _, x := range close {
			e, eOK, k, d, kdOK := set.Update(x)
			o = append(o, out{e, k, d, eOK, kdOK})
		}
		return o
	}
	first := run()
	if v, ok := set.ema.Value(); !ok || v != first[len(first)-1].e {
		t.Errorf("EMA.Value = %v, %v; last Update gave %v", v, ok, first[len(first)-1].e)
	}
	if k, d, ok := set.stoch.Value(); !ok || k != first[len(first)-1].k || d != first[len(first)-1].d {
		t.Errorf("StochRSI.Value = %v, %v, %v; last Update gave %+v", k, d, ok, first[len(first)-1])
	}
	set.Reset()
	if _, ok := set.ema.Value(); ok {
		t.Error("EMA.Value ok after Reset")
	}
	if _, _, ok := set.stoch.Value(); ok {
		t.Error("StochRSI.Value ok after Reset")
	}
	second := run()
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("bar %d after Reset: %+v, fresh: %+v", i, second[i], first[i])
		}
	}
	r, _ := NewRSI(14)
	for _, x := range close {
		r.Update(x)
	}
	want, _ := r.Value()
	r.Reset()
	if _, ok := r.Value(); ok {
		t.Error("RSI.Value ok after Reset")
	}
	for _, x := range close {
		r.Update(x)
	}
	if got, _ := r.Value(); got != want {
		t.Errorf("RSI after Reset: %v, fresh %v", got, want)
	}
}

// A non-finite price is skipped: the outputs equal those of the series
// without it.
func TestNonFiniteSkipped(t *testing.T) {
	close := randomWalk(11, 300, 0, 0)
	a, _ := NewSet(Config{})
	b, _ := NewSet(Config{})
	nan := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for i, x := range close {
		if i%7 == 0 {
			e, eOK, k, d, kdOK := b.Update(nan[i%3])
			if eOK || kdOK || e != 0 || k != 0 || d != 0 {
				t.Fatalf("bar %d: Update(%v) = %v %v %v %v %v, want zeros", i, nan[i%3], e, eOK, k, d, kdOK)
			}
		}
		e1, ok1, k1, d1, kd1 := a.Update(x)
		e2, ok2, k2, d2, kd2 := b.Update(x)
		if e1 != e2 || ok1 != ok2 || k1 != k2 || d1 != d2 || kd1 != kd2 {
			t.Fatalf("bar %d: with skipped NaNs %v %v %v %v %v, without %v %v %v %v %v", i, e2, ok2, k2, d2, kd2, e1, ok1, k1, d1, kd1)
		}
	}
}

func TestStrings(t *testing.T) {
	e, _ := NewEMA(20)
	r, _ := NewRSI(14)
	s, _ := NewStochRSI(14, 14, 3)
	tv, _ := NewSmoothStochRSI(14, 14, 3, 3)
	set, _ := NewSet(Config{EMA: 50})
	for _, c := range []struct{ got, want string }{
		{e.String(), "EMA(20)"},
		{r.String(), "RSI(14)"},
		{s.String(), "StochRSI(14,14,3)"},
		{tv.String(), "StochRSI(14,14,3,3)"},
		{set.String(), "EMA(50) StochRSI(14,14,3)"},
		{fmt.Sprint(e), "EMA(20)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if got := s.IdlePeriod(); got != 29 {
		t.Errorf("StochRSI(14,14,3).IdlePeriod = %d, want 29", got)
	}
	if got := tv.IdlePeriod(); got != 31 {
		t.Errorf("StochRSI(14,14,3,3).IdlePeriod = %d, want 31", got)
	}
	if ei, si := set.IdlePeriods(); ei != 49 || si != 29 {
		t.Errorf("Set.IdlePeriods = %d, %d; want 49, 29", ei, si)
	}
	if rsi, stoch, smoothK, d := tv.Periods(); rsi != 14 || stoch != 14 || smoothK != 3 || d != 3 {
		t.Errorf("Periods = %d %d %d %d", rsi, stoch, smoothK, d)
	}
	if e.Period() != 20 || r.Period() != 14 {
		t.Errorf("Period: EMA %d, RSI %d", e.Period(), r.Period())
	}
}

// A zero value (not made by its constructor) must not panic or pretend.
func TestZeroValues(t *testing.T) {
	var e EMA
	var r RSI
	var s StochRSI
	var set Set
	for range 3 {
		if _, ok := e.Update(1); ok {
			t.Error("zero EMA: ok")
		}
		if _, ok := r.Update(1); ok {
			t.Error("zero RSI: ok")
		}
		if _, _, ok := s.Update(1); ok {
			t.Error("zero StochRSI: ok")
		}
		if _, eOK, _, _, kdOK := set.Update(1); eOK || kdOK {
			t.Error("zero Set: ok")
		}
	}
}
