package indicators

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzStochRSI feeds arbitrary prices, either raw float64 bits (NaN, ±Inf,
// subnormals, huge values) or small tick steps (flat windows), to the
// streaming types and checks that nothing panics, that non-finite prices are
// skipped as documented, and that the streamed values equal the batch ones
// on the finite prices that were kept.
func FuzzStochRSI(f *testing.F) {
	seed := fuzzSeed()
	f.Add(seed, false, uint8(12), uint8(13), uint8(2), uint8(0))
	f.Add(seed, false, uint8(3), uint8(4), uint8(0), uint8(2))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 2, 3}, false, uint8(0), uint8(0), uint8(0), uint8(0))
	f.Add([]byte("\x01\x00\x00\xff\x01\x01\x00\x00\x00\x00\x02\xfe\x00\x00\x00\x05\x00\x00\x00\x00\xfb\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00"), true, uint8(3), uint8(5), uint8(1), uint8(0))
	f.Fuzz(func(t *testing.T, raw []byte, ticks bool, p1, p2, p3, p4 uint8) {
		rsi, stoch, d, smoothK := 2+int(p1%20), 1+int(p2%20), 1+int(p3%10), 1+int(p4%4)
		prices := fuzzPrices(raw, ticks)
		st, err := NewSmoothStochRSI(rsi, stoch, smoothK, d)
		if err != nil {
			t.Fatal(err)
		}
		ema, _ := NewEMA(rsi)
		var kept, ks, ds, es []float64
		bounded, allFinite := true, true
		for _, x := range prices {
			k, dd, ok := st.Update(x)
			e, eok := ema.Update(x)
			if !finite(x) {
				allFinite = false
				if ok || eok || k != 0 || dd != 0 || e != 0 {
					t.Fatalf("Update(%v) = %v %v %v / %v %v; a non-finite price must be skipped", x, k, dd, ok, e, eok)
				}
				continue
			}
			n := len(kept)
			if ok != (n >= st.IdlePeriod()) || eok != (n >= ema.IdlePeriod()) {
				t.Fatalf("price %d: ok %v, EMA ok %v; idle periods %d, %d", n, ok, eok, st.IdlePeriod(), ema.IdlePeriod())
			}
			bounded = bounded && math.Abs(x) <= 1e300
			kept, ks, ds, es = append(kept, x), append(ks, k), append(ds, dd), append(es, e)
		}

		if !allFinite && len(prices) > StochRSIIdlePeriod(rsi, stoch, d) {
			if _, _, err := BatchStochRSI(prices, rsi, stoch, d); !errors.Is(err, ErrNotFinite) {
				t.Fatalf("BatchStochRSI with a non-finite price: err %v, want ErrNotFinite", err)
			}
		}
		// Past 1e300 a price change may overflow to NaN, where go-talib's scan
		// and the deques disagree about the extremes (documented as
		// unspecified); only the absence of panics is checked there.
		if !bounded {
			return
		}
		if we, err := BatchEMA(kept, rsi); err == nil {
			for i := ema.IdlePeriod(); i < len(kept); i++ {
				if !same(es[i], we[i]) {
					t.Fatalf("%v price %d: streamed %v, batch %v", ema, i, es[i], we[i])
				}
			}
		} else if !errors.Is(err, ErrTooShort) {
			t.Fatal(err)
		}
		if smoothK != 1 || !bitExact {
			return
		}
		wk, wd, err := BatchStochRSI(kept, rsi, stoch, d)
		if errors.Is(err, ErrTooShort) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := st.IdlePeriod(); i < len(kept); i++ {
			if !same(ks[i], wk[i]) || !same(ds[i], wd[i]) {
				t.Fatalf("%v price %d: streamed %v %v, batch %v %v", st, i, ks[i], ds[i], wk[i], wd[i])
			}
		}
	})
}

// fuzzSeed is a random walk as raw float64 bits, the fuzz tests' first seed.
func fuzzSeed() []byte {
	seed := make([]byte, 0, 8*64)
	for _, x := range randomWalk(12, 64, 0.01, 0.1) {
		seed = binary.LittleEndian.AppendUint64(seed, math.Float64bits(x))
	}
	return seed
}

// fuzzPrices reads a fuzz input as prices: with ticks each byte is a step of
// a cent from 100 (flat windows), otherwise every 8 bytes are float64 bits
// (NaN, ±Inf, subnormals, huge values).
func fuzzPrices(raw []byte, ticks bool) []float64 {
	var prices []float64
	if ticks {
		x := 100.0
		for _, b := range raw {
			x += float64(int8(b)) * 0.01
			prices = append(prices, x)
		}
		return prices
	}
	for ; len(raw) >= 8; raw = raw[8:] {
		prices = append(prices, math.Float64frombits(binary.LittleEndian.Uint64(raw)))
	}
	return prices
}
