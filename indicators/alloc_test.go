package indicators

import "testing"

// Updates must not allocate: the pipeline calls them once per bar per symbol.
func TestUpdateAllocatesNothing(t *testing.T) {
	close := randomWalk(13, 1000, 0.01, 0.05)
	ema, _ := NewEMA(20)
	rsi, _ := NewRSI(14)
	st, _ := NewSmoothStochRSI(14, 14, 3, 3)
	set, _ := NewSet(Config{})
	i := 0
	next := func() float64 { i++; return close[i%len(close)] }
	for name, f := range map[string]func(){
		"EMA":      func() { ema.Update(next()) },
		"RSI":      func() { rsi.Update(next()) },
		"StochRSI": func() { st.Update(next()) },
		"Set":      func() { set.Update(next()) },
	} {
		// 900 runs cover the warm-up and the steady state.
		if n := testing.AllocsPerRun(900, f); n != 0 {
			t.Errorf("%s.Update: %v allocations per call, want 0", name, n)
		}
	}
}
