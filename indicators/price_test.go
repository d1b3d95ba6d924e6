package indicators

import (
	"fmt"
	"math"
	"strings"
	"testing"

	talib "github.com/markcheno/go-talib"
)

// priceCase is one function of the price family with the parameter sets it
// is checked on and go-talib's batch outputs for them.
type priceCase struct {
	fn   string // closeOnly reports whether fn reads only the close
	args [][]float64
	ref  func(s *ohlcv, a []float64) [][]float64
}

func one(v []float64) [][]float64 { return [][]float64{v} }

// closeOnly are the functions that read only the close: they also run on
// the close-only series of allSeries.
var closeOnly = map[string]bool{
	"roc": true, "rocp": true, "mom": true, "max": true, "min": true, "midpoint": true,
	"linearreg": true, "linearreg_slope": true, "linearreg_angle": true, "linearreg_intercept": true,
}

// closeBars makes bars of close-only series: every price the close, no
// volume, a minute apart.
func closeBars(in []series) []ohlcv {
	out := make([]ohlcv, len(in))
	for k, s := range in {
		b := ohlcv{name: "close-" + s.name, open: s.close, high: s.close, low: s.close, close: s.close,
			volume: make([]float64, len(s.close)), time: make([]int64, len(s.close))}
		for i := range b.time {
			b.time[i] = int64(i) * 60e9
		}
		out[k] = b
	}
	return out
}

var priceCases = []priceCase{
	{"atr", [][]float64{{1}, {2}, {14}, {30}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.Atr(s.high, s.low, s.close, int(a[0])))
	}},
	{"natr", [][]float64{{1}, {2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.Natr(s.high, s.low, s.close, int(a[0])))
	}},
	{"trange", [][]float64{{}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.TRange(s.high, s.low, s.close))
	}},
	{"adx", [][]float64{{2}, {3}, {14}, {30}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.Adx(s.high, s.low, s.close, int(a[0])))
	}},
	{"adxr", [][]float64{{2}, {3}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.AdxR(s.high, s.low, s.close, int(a[0])))
	}},
	{"plus_di", [][]float64{{1}, {2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.PlusDI(s.high, s.low, s.close, int(a[0])))
	}},
	{"minus_di", [][]float64{{1}, {2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.MinusDI(s.high, s.low, s.close, int(a[0])))
	}},
	{"dx", [][]float64{{2}, {14}, {30}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.Dx(s.high, s.low, s.close, int(a[0])))
	}},
	{"cci", [][]float64{{2}, {5}, {14}, {20}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.Cci(s.high, s.low, s.close, int(a[0])))
	}},
	{"mfi", [][]float64{{2}, {14}, {30}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(mfiAsTALibC(s, int(a[0]), talib.Mfi(s.high, s.low, s.close, s.volume, int(a[0]))))
	}},
	{"obv", [][]float64{{}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.Obv(s.close, s.volume)) }},
	{"ad", [][]float64{{}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.Ad(s.high, s.low, s.close, s.volume))
	}},
	{"adosc", [][]float64{{3, 10}, {2, 2}, {10, 3}, {5, 30}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.AdOsc(s.high, s.low, s.close, s.volume, int(a[0]), int(a[1])))
	}},
	{"roc", [][]float64{{1}, {2}, {10}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.Roc(s.close, int(a[0]))) }},
	{"rocp", [][]float64{{1}, {10}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.Rocp(s.close, int(a[0]))) }},
	{"mom", [][]float64{{1}, {10}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.Mom(s.close, int(a[0]))) }},
	{"willr", [][]float64{{2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.WillR(s.high, s.low, s.close, int(a[0])))
	}},
	{"aroon", [][]float64{{2}, {14}, {25}}, func(s *ohlcv, a []float64) [][]float64 {
		down, up := talib.Aroon(s.high, s.low, int(a[0]))
		return [][]float64{down, up}
	}},
	{"aroonosc", [][]float64{{2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.AroonOsc(s.high, s.low, int(a[0])))
	}},
	{"ultosc", [][]float64{{7, 14, 28}, {1, 1, 1}, {28, 7, 14}, {3, 3, 9}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.UltOsc(s.high, s.low, s.close, int(a[0]), int(a[1]), int(a[2])))
	}},
	{"bop", [][]float64{{}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.Bop(s.open, s.high, s.low, s.close)) }},
	{"medprice", [][]float64{{}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.MedPrice(s.high, s.low)) }},
	{"typprice", [][]float64{{}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.TypPrice(s.high, s.low, s.close))
	}},
	{"linearreg", [][]float64{{2}, {3}, {14}, {50}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(linearRegAsTALibC(s.close, int(a[0]), regressionValue))
	}},
	{"linearreg_slope", [][]float64{{2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(linearRegAsTALibC(s.close, int(a[0]), regressionSlope))
	}},
	{"linearreg_angle", [][]float64{{2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(linearRegAsTALibC(s.close, int(a[0]), regressionAngle))
	}},
	{"linearreg_intercept", [][]float64{{2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(linearRegAsTALibC(s.close, int(a[0]), regressionIntercept))
	}},
	{"sar", [][]float64{{0.02, 0.2}, {0.1, 0.05}, {0, 0.2}, {0.05, 0.5}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.Sar(s.high, s.low, a[0], a[1]))
	}},
	{"midpoint", [][]float64{{2}, {14}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.MidPoint(s.close, int(a[0]))) }},
	{"midprice", [][]float64{{2}, {14}}, func(s *ohlcv, a []float64) [][]float64 {
		return one(talib.MidPrice(s.high, s.low, int(a[0])))
	}},
	{"max", [][]float64{{2}, {30}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.Max(s.close, int(a[0]))) }},
	{"min", [][]float64{{2}, {30}}, func(s *ohlcv, a []float64) [][]float64 { return one(talib.Min(s.close, int(a[0]))) }},
}

// mfiAsTALibC undoes go-talib's Mfi slip: when the first window's money flow
// is below 1.0 it writes no value there and every later value one index
// early; TA-Lib C writes 0 there and keeps the others in place.
func mfiAsTALibC(s *ohlcv, n int, got []float64) []float64 {
	total := 0.0
	prev := (s.high[0] + s.low[0] + s.close[0]) / 3.0
	for i := 1; i <= n; i++ {
		tp := (s.high[i] + s.low[i] + s.close[i]) / 3.0
		if tp != prev {
			total += tp * s.volume[i]
		}
		prev = tp
	}
	if total >= 1.0 {
		return got
	}
	fixed := make([]float64, len(got))
	copy(fixed[n+1:], got[n:len(got)-1])
	return fixed
}

// linearRegAsTALibC is TA-Lib C's ta_LINEARREG.c loop: both sums afresh over
// every window. go-talib keeps running sums whose rounding drifts (see
// [LinearReg]), so it is not the reference here; TestPriceFuncsMatchTALibC
// checks this against TA-Lib C itself.
func linearRegAsTALibC(x []float64, n int, kind regressionKind) []float64 {
	out := make([]float64, len(x))
	fn := float64(n)
	sumX := fn * (fn - 1) * 0.5
	sumXSqr := fn * (fn - 1) * (2*fn - 1) / 6
	divisor := sumX*sumX - fn*sumXSqr
	for today := n - 1; today < len(x); today++ {
		sumY, sumXY := 0.0, 0.0
		for i := n - 1; i >= 0; i-- {
			sumY += x[today-i]
			sumXY += float64(i) * x[today-i]
		}
		m := (fn*sumXY - sumX*sumY) / divisor
		b := (sumY - m*sumX) / fn
		switch kind {
		case regressionValue:
			out[today] = b + m*(fn-1)
		case regressionSlope:
			out[today] = m
		case regressionAngle:
			out[today] = math.Atan(m) * (180.0 / math.Pi)
		case regressionIntercept:
			out[today] = b
		}
	}
	return out
}

// specOf writes a spec for fn with args.
func specOf(fn string, args []float64) string {
	s := fn + "("
	for i, a := range args {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(a)
	}
	return s + ")"
}

// runStreamer feeds every bar of s to st and returns its outputs per bar and
// whether each was defined.
func runStreamer(st Streamer, s *ohlcv, outs int) ([][]float64, []bool) {
	got := make([][]float64, outs)
	for j := range got {
		got[j] = make([]float64, s.len())
	}
	ok := make([]bool, s.len())
	out := make([]float64, outs)
	for i := range s.len() {
		ok[i] = st.Update(s.bar(i), out)
		for j := range out {
			got[j][i] = out[j]
		}
	}
	return got, ok
}

// Every function of the family, built from its spec, returns go-talib's
// values (TA-Lib C's for MFI) on every bar of every series, defined exactly
// from go-talib's first output on.
func TestPriceFuncsMatchTalib(t *testing.T) {
	bars := allBars(t, 3000)
	withCloses := append(closeBars(allSeries(t, 3000)), bars...)
	for _, c := range priceCases {
		series := bars
		if closeOnly[c.fn] {
			series = withCloses
		}
		for _, a := range c.args {
			spec := specOf(c.fn, a)
			t.Run(spec, func(t *testing.T) {
				sp, err := ParseSpec(spec)
				if err != nil {
					t.Fatal(err)
				}
				for i := range series {
					s := &series[i]
					st, err := sp.New()
					if err != nil {
						t.Fatal(err)
					}
					want := c.ref(s, a)
					if len(want) != len(sp.Func.Outputs) {
						t.Fatalf("%d reference outputs, %d declared", len(want), len(sp.Func.Outputs))
					}
					idle := st.IdlePeriod()
					for j := range want {
						for b := range min(idle, s.len()) {
							if want[j][b] != 0 {
								t.Fatalf("%s %v bar %d: go-talib has %v inside the idle period %d", s.name, st, b, want[j][b], idle)
							}
						}
					}
					checkStreamer(t, s, st, want, idle)
					// Reset forgets everything: a second run is the same.
					st.Reset()
					checkStreamer(t, s, st, want, idle)
				}
			})
		}
	}
}

// priceReads is the bar fields each function reads: open, high, low, close,
// volume.
var priceReads = map[string]string{
	"atr": "hlc", "natr": "hlc", "trange": "hlc", "adx": "hlc", "adxr": "hlc", "plus_di": "hlc",
	"minus_di": "hlc", "dx": "hlc", "cci": "hlc", "mfi": "hlcv", "obv": "cv", "ad": "hlcv",
	"adosc": "hlcv", "roc": "c", "rocp": "c", "mom": "c", "willr": "hlc", "aroon": "hl",
	"aroonosc": "hl", "ultosc": "hlc", "bop": "ohlc", "medprice": "hl", "typprice": "hlc",
	"linearreg": "c", "linearreg_slope": "c", "linearreg_angle": "c", "linearreg_intercept": "c",
	"sar": "hl", "midpoint": "c", "midprice": "hl", "max": "c", "min": "c", "vwap": "hlcv",
	"heikinashi": "ohlc",
}

// A bar with a NaN or infinite value in a field the function reads leaves
// the state as it was: the outputs after it are those of the series without
// it.
func TestPriceFuncsIgnoreNonFiniteBars(t *testing.T) {
	s := randomBars("float", 31, 400, 0, 0.02)
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for fi := range priceFuncs {
		f := &priceFuncs[fi]
		reads, ok := priceReads[f.Name]
		if !ok {
			t.Fatalf("%s: no entry in priceReads", f.Name)
		}
		clean, want := defaultStreamer(t, f)
		dirty, out := defaultStreamer(t, f)
		for i := range s.len() {
			b := s.bar(i)
			if i%37 == 5 {
				for k, field := range "ohlcv" {
					if !strings.ContainsRune(reads, field) {
						continue
					}
					nb := b
					*[]*float64{&nb.Open, &nb.High, &nb.Low, &nb.Close, &nb.Volume}[k] = bad[(i+k)%len(bad)]
					if dirty.Update(nb, out) {
						t.Fatalf("%v bar %d: ok with a non-finite %c", dirty, i, field)
					}
				}
			}
			wok := clean.Update(b, want)
			gok := dirty.Update(b, out)
			if gok != wok {
				t.Fatalf("%v bar %d: ok %v after non-finite bars, %v without", dirty, i, gok, wok)
			}
			for j := range out {
				if math.Float64bits(out[j]) != math.Float64bits(want[j]) {
					t.Fatalf("%v bar %d: %v after non-finite bars, %v without", dirty, i, out[j], want[j])
				}
			}
		}
	}
}

// defaultStreamer builds f with its default parameters, from its spec as the
// pipeline does, with a slice for its outputs.
func defaultStreamer(tb testing.TB, f *Func) (Streamer, []float64) {
	tb.Helper()
	sp, err := ParseSpec(f.Name)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := sp.New()
	if err != nil {
		tb.Fatal(err)
	}
	return st, make([]float64, len(f.Outputs))
}
