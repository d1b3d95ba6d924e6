package indicators

import (
	"testing"

	talib "github.com/markcheno/go-talib"
)

// maCase is one spec of the moving-average family checked on every bar of
// every test series: idle is the first defined bar, written out (go-talib's
// first output where go-talib is right, TA-Lib C's lookback otherwise), and
// ref gives the reference outputs, in the Func's order, valid from idle on.
type maCase struct {
	spec string
	idle int
	ref  func(s *ohlcv) [][]float64
}

// Reference builders. go-talib's own function is the reference wherever it
// agrees with TA-Lib C; where it does not (MACD, MACDEXT, the non-SMA
// averages chained in STOCH and STOCHRSI), the reference is go-talib's
// primitives composed as TA-Lib C composes them, which the TA-Lib C oracle
// test (talibc_test.go) checks in turn.
func ref1(f func(c []float64) []float64) func(*ohlcv) [][]float64 {
	return func(s *ohlcv) [][]float64 { return [][]float64{f(s.close)} }
}

// byPeriod is go-talib's function of the close and one period.
func byPeriod(f func([]float64, int) []float64, n int) func(*ohlcv) [][]float64 {
	return ref1(func(c []float64) []float64 { return f(c, n) })
}

func ma(t MAType, n int) func([]float64) []float64 {
	return func(c []float64) []float64 { return talib.Ma(c, n, talib.MaType(t)) }
}

// placed returns v moved to start at index at of an array of length n, as
// TA-Lib C's outBegIdx places a result.
func placed(v []float64, at, n int) []float64 {
	out := make([]float64, n)
	copy(out[at:], v)
	return out
}

// macdRef is TA-Lib C's MACDEXT from go-talib's Ma: both averages first
// defined on the larger lookback, the signal over the MACD line from there.
func macdRef(fp int, ft MAType, sp int, st MAType, gp int, gt MAType) func(*ohlcv) [][]float64 {
	return func(s *ohlcv) [][]float64 {
		if sp < fp {
			fp, sp, ft, st = sp, fp, st, ft
		}
		c, n := s.close, s.len()
		lf, ls := maLookback(ft, fp), maLookback(st, sp)
		l := max(lf, ls)
		fast := placed(ma(ft, fp)(c[l-lf:]), l-lf, n)
		slow := placed(ma(st, sp)(c[l-ls:]), l-ls, n)
		line := make([]float64, n)
		for i := l; i < n; i++ {
			line[i] = fast[i] - slow[i]
		}
		sig := placed(ma(gt, gp)(line[l:]), l, n)
		hist := make([]float64, n)
		for i := range hist {
			hist[i] = line[i] - sig[i]
		}
		return [][]float64{line, sig, hist}
	}
}

// chain is TA-Lib C's chaining of averages: each starts on the first defined
// value of its input (defined from index from).
func chain(x []float64, from int, t MAType, n int) ([]float64, int) {
	return placed(ma(t, n)(x[from:]), from, len(x)), from + maLookback(t, n)
}

func stochRef(fk, sk int, skt MAType, sd int, sdt MAType) func(*ohlcv) [][]float64 {
	return func(s *ohlcv) [][]float64 {
		if skt == SMAType && sdt == SMAType {
			k, d := talib.Stoch(s.high, s.low, s.close, fk, sk, talib.SMA, sd, talib.SMA)
			return [][]float64{k, d}
		}
		raw, _ := talib.StochF(s.high, s.low, s.close, fk, 1, talib.SMA)
		k, from := chain(raw, fk-1, skt, sk)
		d, _ := chain(k, from, sdt, sd)
		return [][]float64{k, d}
	}
}

func mamaRef(fast, slow float64) func(*ohlcv) [][]float64 {
	return func(s *ohlcv) [][]float64 {
		m, f := talib.Mama(s.close, fast, slow)
		return [][]float64{m, f}
	}
}

func stochFRef(fk, fd int, t MAType) func(*ohlcv) [][]float64 {
	return func(s *ohlcv) [][]float64 {
		k, d := talib.StochF(s.high, s.low, s.close, fk, fd, talib.MaType(t))
		return [][]float64{k, d}
	}
}

func stochRSIRef(tp, fk, fd int, t MAType) func(*ohlcv) [][]float64 {
	return func(s *ohlcv) [][]float64 {
		if t == SMAType {
			k, d := talib.StochRsi(s.close, tp, fk, fd, talib.SMA)
			return [][]float64{k, d}
		}
		r := talib.Rsi(s.close, tp)[tp:]
		raw, _ := talib.StochF(r, r, r, fk, 1, talib.SMA)
		k := placed(raw, tp, s.len())
		d, _ := chain(k, tp+fk-1, t, fd)
		return [][]float64{k, d}
	}
}

// bbandsRef is go-talib's BBands where the average's lookback is n-1;
// beyond, TA-Lib C starts the deviation's sums n-1 bars before the lookback.
func bbandsRef(n int, up, dn float64, t MAType) func(*ohlcv) [][]float64 {
	return func(s *ohlcv) [][]float64 {
		delay := maLookback(t, n) - (n - 1)
		if delay == 0 {
			u, m, l := talib.BBands(s.close, n, up, dn, talib.MaType(t))
			return [][]float64{u, m, l}
		}
		m := talib.Ma(s.close, n, talib.MaType(t))
		sd := placed(talib.StdDev(s.close[delay:], n, 1), delay, s.len())
		u, l := make([]float64, s.len()), make([]float64, s.len())
		for i := range m {
			u[i], l[i] = m[i]+sd[i]*up, m[i]-sd[i]*dn
		}
		return [][]float64{u, m, l}
	}
}

var maCases = []maCase{
	{"sma(1)", 0, byPeriod(talib.Sma, 1)},
	{"sma(2)", 1, byPeriod(talib.Sma, 2)},
	{"sma", 29, byPeriod(talib.Sma, 30)},
	{"sma(200)", 199, byPeriod(talib.Sma, 200)},
	{"ema(1)", 0, byPeriod(talib.Ema, 1)},
	{"ema(9)", 8, byPeriod(talib.Ema, 9)},
	{"wma(1)", 0, byPeriod(talib.Wma, 1)},
	{"wma(2)", 1, byPeriod(talib.Wma, 2)},
	{"wma(30)", 29, byPeriod(talib.Wma, 30)},
	{"dema(1)", 0, byPeriod(talib.Dema, 1)},
	{"dema(2)", 2, byPeriod(talib.Dema, 2)},
	{"dema(30)", 58, byPeriod(talib.Dema, 30)},
	{"tema(1)", 0, byPeriod(talib.Tema, 1)},
	{"tema(2)", 3, byPeriod(talib.Tema, 2)},
	{"tema(30)", 87, byPeriod(talib.Tema, 30)},
	{"trima(1)", 0, byPeriod(talib.Trima, 1)},
	{"trima(2)", 1, byPeriod(talib.Trima, 2)},
	{"trima(3)", 2, byPeriod(talib.Trima, 3)},
	{"trima(30)", 29, byPeriod(talib.Trima, 30)},
	{"trima(31)", 30, byPeriod(talib.Trima, 31)},
	{"kama(1)", 1, byPeriod(talib.Kama, 1)},
	{"kama(2)", 2, byPeriod(talib.Kama, 2)},
	{"kama", 30, byPeriod(talib.Kama, 30)},
	{"t3(1)", 0, ref1(func(c []float64) []float64 { return talib.T3(c, 1, 0.7) })},
	{"t3(2,0.7)", 6, ref1(func(c []float64) []float64 { return talib.T3(c, 2, 0.7) })},
	{"t3", 24, ref1(func(c []float64) []float64 { return talib.T3(c, 5, 0.7) })},
	{"t3(5,0)", 24, ref1(func(c []float64) []float64 { return talib.T3(c, 5, 0) })},
	{"t3(20,1)", 114, ref1(func(c []float64) []float64 { return talib.T3(c, 20, 1) })},
	{"mama", 32, mamaRef(0.5, 0.05)},
	{"mama(0.99,0.01)", 32, mamaRef(0.99, 0.01)},
	{"mama(0.3,0.2)", 32, mamaRef(0.3, 0.2)},
	{"rsi(2)", 2, byPeriod(talib.Rsi, 2)},
	{"rsi", 14, byPeriod(talib.Rsi, 14)},
	{"cmo(2)", 2, byPeriod(talib.Cmo, 2)},
	{"cmo", 14, byPeriod(talib.Cmo, 14)},
	{"apo", 25, ref1(func(c []float64) []float64 { return talib.Apo(c, 12, 26, talib.SMA) })},
	{"apo(26,12,ema)", 25, ref1(func(c []float64) []float64 { return talib.Apo(c, 26, 12, talib.EMA) })},
	{"apo(2,3,wma)", 2, ref1(func(c []float64) []float64 { return talib.Apo(c, 2, 3, talib.WMA) })},
	{"apo(5,10,kama)", 10, ref1(func(c []float64) []float64 { return talib.Apo(c, 5, 10, talib.KAMA) })},
	{"apo(5,10,t3)", 54, ref1(func(c []float64) []float64 { return talib.Apo(c, 5, 10, talib.T3MA) })},
	{"ppo", 25, ref1(func(c []float64) []float64 { return talib.Ppo(c, 12, 26, talib.SMA) })},
	{"ppo(10,5,dema)", 18, ref1(func(c []float64) []float64 { return talib.Ppo(c, 10, 5, talib.DEMA) })},
	{"ppo(3,8,tema)", 21, ref1(func(c []float64) []float64 { return talib.Ppo(c, 3, 8, talib.TEMA) })},
	{"ppo(4,9,trima)", 8, ref1(func(c []float64) []float64 { return talib.Ppo(c, 4, 9, talib.TRIMA) })},
	{"trix(1)", 1, byPeriod(talib.Trix, 1)},
	{"trix(2)", 4, byPeriod(talib.Trix, 2)},
	{"trix", 88, byPeriod(talib.Trix, 30)},
	{"stddev", 4, ref1(func(c []float64) []float64 { return talib.StdDev(c, 5, 1) })},
	{"stddev(2,2)", 1, ref1(func(c []float64) []float64 { return talib.StdDev(c, 2, 2) })},
	{"stddev(20,-0.5)", 19, ref1(func(c []float64) []float64 { return talib.StdDev(c, 20, -0.5) })},
	{"var(1)", 0, byPeriod(talib.Var, 1)},
	{"var", 4, byPeriod(talib.Var, 5)},
	{"var(30)", 29, byPeriod(talib.Var, 30)},
	{"bbands", 4, bbandsRef(5, 2, 2, SMAType)},
	{"bbands(2,1,1)", 1, bbandsRef(2, 1, 1, SMAType)},
	{"bbands(20,2,1,ema)", 19, bbandsRef(20, 2, 1, EMAType)},
	{"bbands(10,1,2.5,wma)", 9, bbandsRef(10, 1, 2.5, WMAType)},
	{"bbands(10,1.5,1,dema)", 18, bbandsRef(10, 1.5, 1, DEMAType)},
	{"bbands(10,2,2,tema)", 27, bbandsRef(10, 2, 2, TEMAType)},
	{"bbands(10,2,2,trima)", 9, bbandsRef(10, 2, 2, TRIMAType)},
	{"bbands(10,2,2,kama)", 10, bbandsRef(10, 2, 2, KAMAType)},
	{"bbands(5,0.5,3,t3)", 24, bbandsRef(5, 0.5, 3, T3Type)},
	{"macd", 33, macdRef(12, EMAType, 26, EMAType, 9, EMAType)},
	{"macd(26,12,9)", 33, macdRef(12, EMAType, 26, EMAType, 9, EMAType)},
	{"macd(2,3,1)", 2, macdRef(2, EMAType, 3, EMAType, 1, EMAType)},
	{"macd(5,35,5)", 38, macdRef(5, EMAType, 35, EMAType, 5, EMAType)},
	{"macdext", 33, macdRef(12, SMAType, 26, SMAType, 9, SMAType)},
	{"macdext(12,ema,26,ema,9,ema)", 33, macdRef(12, EMAType, 26, EMAType, 9, EMAType)},
	{"macdext(5,wma,10,kama,4,dema)", 16, macdRef(5, WMAType, 10, KAMAType, 4, DEMAType)},
	{"macdext(3,t3,8,trima,2,tema)", 15, macdRef(3, T3Type, 8, TRIMAType, 2, TEMAType)},
	{"macdext(20,dema,10,sma,1,sma)", 38, macdRef(10, SMAType, 20, DEMAType, 1, SMAType)},
	{"bbands(10,2,2,mama)", 32, bbandsRef(10, 2, 2, MAMAType)},
	{"macdext(12,mama,26,ema,9,sma)", 40, macdRef(12, MAMAType, 26, EMAType, 9, SMAType)},
	{"stoch", 8, stochRef(5, 3, SMAType, 3, SMAType)},
	{"stoch(14,3,sma,3,sma)", 17, stochRef(14, 3, SMAType, 3, SMAType)},
	{"stoch(1,1,sma,1,sma)", 0, stochRef(1, 1, SMAType, 1, SMAType)},
	{"stoch(5,3,ema,3,ema)", 8, stochRef(5, 3, EMAType, 3, EMAType)},
	{"stoch(14,3,wma,5,kama)", 20, stochRef(14, 3, WMAType, 5, KAMAType)},
	{"stoch(5,2,dema,3,t3)", 18, stochRef(5, 2, DEMAType, 3, T3Type)},
	{"stoch(5,4,trima,2,tema)", 10, stochRef(5, 4, TRIMAType, 2, TEMAType)},
	{"stoch(5,3,mama,3,sma)", 38, stochRef(5, 3, MAMAType, 3, SMAType)},
	{"stochf", 6, stochFRef(5, 3, SMAType)},
	{"stochf(1,1)", 0, stochFRef(1, 1, SMAType)},
	{"stochf(14,3,ema)", 15, stochFRef(14, 3, EMAType)},
	{"stochf(5,3,kama)", 7, stochFRef(5, 3, KAMAType)},
	{"stochrsi", 20, stochRSIRef(14, 5, 3, SMAType)},
	{"stochrsi(14,14,3)", 29, stochRSIRef(14, 14, 3, SMAType)},
	{"stochrsi(2,1,1)", 2, stochRSIRef(2, 1, 1, SMAType)},
	{"stochrsi(14,14,3,ema)", 29, stochRSIRef(14, 14, 3, EMAType)},
	{"stochrsi(9,5,4,wma)", 16, stochRSIRef(9, 5, 4, WMAType)},
	{"stochrsi(6,6,3,kama)", 14, stochRSIRef(6, 6, 3, KAMAType)},
	{"stochrsi(6,6,2,t3)", 17, stochRSIRef(6, 6, 2, T3Type)},
	{"stochrsi(5,3,4,mama)", 39, stochRSIRef(5, 3, 4, MAMAType)},
}

// TestMAFuncsMatchReference runs every case on every bar of every series:
// the outputs are undefined exactly before idle and equal the reference
// from there on (bit for bit on the default amd64 build).
func TestMAFuncsMatchReference(t *testing.T) {
	series := allBars(t, 3000)
	for _, c := range maCases {
		t.Run(c.spec, func(t *testing.T) {
			spec, err := ParseSpec(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			for i := range series {
				s := &series[i]
				st, err := spec.New()
				if err != nil {
					t.Fatal(err)
				}
				if st.IdlePeriod() != c.idle {
					t.Fatalf("%v: IdlePeriod %d, want %d", st, st.IdlePeriod(), c.idle)
				}
				checkStreamer(t, s, st, c.ref(s), c.idle)
			}
		})
	}
}

func checkStreamer(t *testing.T, s *ohlcv, st Streamer, want [][]float64, idle int) {
	t.Helper()
	out := make([]float64, len(want))
	for i := range s.len() {
		ok := st.Update(s.bar(i), out)
		if ok != (i >= idle) {
			t.Fatalf("%s %v bar %d: ok = %v, first output at %d", s.name, st, i, ok, idle)
		}
		if !ok {
			continue
		}
		for j := range want {
			if !same(out[j], want[j][i]) {
				t.Fatalf("%s %v bar %d output %d: got %v, want %v (diff %g)", s.name, st, i, j, out[j], want[j][i], out[j]-want[j][i])
			}
		}
	}
}
