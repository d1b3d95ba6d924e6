package indicators

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// FuzzPriceStreamers feeds arbitrary bars, either raw float64 bits (NaN,
// ±Inf, subnormals, huge values) or small tick steps (flat windows, zero
// ranges), to every function of the price family with small periods, and
// checks that nothing panics, that a bar with a non-finite field the
// function reads is skipped, that outputs are defined exactly from the
// idle period on (counting kept bars), and that a Reset replays the same
// bits.
func FuzzPriceStreamers(f *testing.F) {
	seed := make([]byte, 0, 8*5*40)
	s := randomBars("seed", 61, 40, 0.01, 0.1)
	for i := range s.len() {
		for _, v := range []float64{s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]} {
			seed = binary.LittleEndian.AppendUint64(seed, math.Float64bits(v))
		}
	}
	f.Add(seed, false, uint8(3))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 2, 3, 0xff, 0, 0, 0, 0, 0, 0xf0, 0x7f}, false, uint8(0))
	f.Add([]byte("\x01\x00\x00\xff\x01\x01\x00\x00\x00\x00\x02\xfe\x00\x00\x00\x05\x00\x00"), true, uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, ticks bool, p uint8) {
		bars := fuzzBars(raw, ticks)
		n := 2 + int(p%6)
		for i := range priceFuncs {
			fn := &priceFuncs[i]
			args := make([]float64, len(fn.Params))
			for j, prm := range fn.Params {
				args[j] = prm.Default
				if prm.Kind == IntParam && prm.Max == MaxPeriod {
					args[j] = float64(n + j)
				}
			}
			st, err := fn.New(args)
			if err != nil {
				t.Fatalf("%s%v: %v", fn.Name, args, err)
			}
			out := make([]float64, len(fn.Outputs))
			first := make([]uint64, 0, len(bars)*len(out))
			for pass := range 2 {
				kept := 0
				for k, b := range bars {
					ok := st.Update(b, out)
					if !readsFinite(priceReads[fn.Name], b) {
						if ok {
							t.Fatalf("%v bar %d: ok with a non-finite field it reads: %+v", st, k, b)
						}
						continue
					}
					if ok != (kept >= st.IdlePeriod()) {
						t.Fatalf("%v bar %d (kept %d): ok = %v, idle period %d", st, k, kept, ok, st.IdlePeriod())
					}
					kept++
					for _, v := range out {
						if pass == 0 {
							first = append(first, math.Float64bits(v))
						} else if first[0] != math.Float64bits(v) {
							t.Fatalf("%v bar %d: %v after Reset, %v before", st, k, v, math.Float64frombits(first[0]))
						} else {
							first = first[1:]
						}
					}
				}
				st.Reset()
			}
		}
	})
}

// fuzzBars reads bars from raw: five of fuzzPrices' prices each.
func fuzzBars(raw []byte, ticks bool) []Bar {
	vals := fuzzPrices(raw, ticks)
	bars := make([]Bar, 0, len(vals)/5)
	for i := 0; i+5 <= len(vals); i += 5 {
		v := vals[i : i+5]
		bars = append(bars, Bar{Time: int64(i) * 60e9, Open: v[0], High: v[1], Low: v[2], Close: v[3], Volume: v[4]})
	}
	return bars
}

// readsFinite reports whether every field in reads ("ohlcv") is finite in b.
func readsFinite(reads string, b Bar) bool {
	for k, v := range []float64{b.Open, b.High, b.Low, b.Close, b.Volume} {
		if strings.IndexByte(reads, "ohlcv"[k]) >= 0 && !finite(v) {
			return false
		}
	}
	return true
}
