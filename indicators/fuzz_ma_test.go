package indicators

import (
	"math"
	"testing"
)

// FuzzMAStreamers feeds arbitrary bars, from raw float64 bits (NaN, ±Inf,
// subnormals, huge values) or from small tick steps (flat windows), to a
// spec of maCases and checks that nothing panics, that a bar with a
// non-finite close is skipped, and that on the bars kept the outputs equal
// the reference's.
func FuzzMAStreamers(f *testing.F) {
	seed := fuzzSeed()
	for i := range maCases {
		f.Add(seed, false, uint8(i))
	}
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\xf8\x7f\x01\x02\x03\x04\x05\x06\x07\x08"), false, uint8(60))
	f.Add([]byte("\x01\x00\x00\xff\x01\x01\x00\x00\x00\x00\x02\xfe\x00\x00\x00\x05\x00\x00\x00\x00\xfb\x00\x01"), true, uint8(70))
	f.Fuzz(func(t *testing.T, raw []byte, ticks bool, pick uint8) {
		c := maCases[int(pick)%len(maCases)]
		prices := fuzzPrices(raw, ticks)
		spec, _ := ParseSpec(c.spec)
		st, err := spec.New()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, len(spec.Func.Outputs))
		readsHL := spec.Func.Name == "stoch" || spec.Func.Name == "stochf"
		var kept ohlcv
		var got [][]float64
		bounded := true
		for i, x := range prices {
			// Highs and lows a little off the close, so stochastics have a range.
			w := math.Abs(x) * 0.001 * float64(i%3)
			bar := Bar{Open: x, High: x + w, Low: x - w, Close: x}
			ok := st.Update(bar, out)
			if !finite(x) || readsHL && (!finite(bar.High) || !finite(bar.Low)) {
				if ok {
					t.Fatalf("%v: ok on a bar %+v", st, bar)
				}
				continue
			}
			if n := kept.len(); ok != (n >= st.IdlePeriod()) {
				t.Fatalf("%v bar %d: ok %v, idle period %d", st, n, ok, st.IdlePeriod())
			}
			bounded = bounded && math.Abs(x) <= 1e150
			kept.time = append(kept.time, 0)
			kept.open, kept.close = append(kept.open, x), append(kept.close, x)
			kept.high, kept.low = append(kept.high, bar.High), append(kept.low, bar.Low)
			kept.volume = append(kept.volume, 0)
			got = append(got, append([]float64(nil), out...))
		}
		// Beyond 1e150 squares and changes may overflow, where the order of
		// a scan and of a deque may differ on NaNs; only panics count there.
		if !bounded || kept.len() <= c.idle || !bitExact {
			return
		}
		want := c.ref(&kept)
		for i := c.idle; i < kept.len(); i++ {
			for j := range want {
				if !same(got[i][j], want[j][i]) {
					t.Fatalf("%v bar %d output %d: got %v, want %v", st, i, j, got[i][j], want[j][i])
				}
			}
		}
	})
}
