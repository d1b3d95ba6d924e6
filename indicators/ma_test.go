package indicators

import (
	"math"
	"testing"
)

// Reset must give a fresh start, and a bar with a NaN or infinite price the
// indicator reads must change nothing: the outputs equal those of the series
// without it.
func TestMAStreamersResetAndSkip(t *testing.T) {
	s := barWalks(600)[2]
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, c := range maCases {
		spec, _ := ParseSpec(c.spec)
		a, _ := spec.New()
		b, _ := spec.New()
		n := len(spec.Func.Outputs)
		readsHL := spec.Func.Name == "stoch" || spec.Func.Name == "stochf"
		outA, outB := make([]float64, n), make([]float64, n)
		run := func(st Streamer, out []float64, withBad bool) [][]float64 {
			var got [][]float64
			for i := range s.len() {
				if withBad && i%5 == 0 {
					bar := s.bar(i)
					// Close is read by all of them; High and Low by the
					// stochastics of bars, which must skip those too.
					reads := true
					switch x := bad[i%len(bad)]; i % 3 {
					case 0:
						bar.Close = x
					case 1:
						bar.High, reads = x, readsHL
					default:
						bar.Low, reads = x, readsHL
					}
					if reads && st.Update(bar, out) {
						t.Fatalf("%v bar %d: ok for %+v", st, i, bar)
					}
				}
				ok := st.Update(s.bar(i), out)
				got = append(got, append([]float64{boolFloat(ok)}, out...))
			}
			return got
		}
		first := run(a, outA, false)
		a.Reset()
		second := run(a, outA, false)
		skipped := run(b, outB, true)
		for i := range first {
			for j := range first[i] {
				if !same(first[i][j], second[i][j]) || !same(first[i][j], skipped[i][j]) {
					t.Fatalf("%s bar %d: fresh %v, after Reset %v, with bad bars skipped %v", c.spec, i, first[i], second[i], skipped[i])
				}
			}
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Updates must not allocate: the pipeline calls them once per bar per symbol.
func TestMAStreamersAllocateNothing(t *testing.T) {
	s := barWalks(1000)[1]
	for _, c := range maCases {
		spec, _ := ParseSpec(c.spec)
		st, _ := spec.New()
		out := make([]float64, len(spec.Func.Outputs))
		i := 0
		// 900 runs cover the warm-up and the steady state.
		if n := testing.AllocsPerRun(900, func() { st.Update(s.bar(i%s.len()), out); i++ }); n != 0 {
			t.Errorf("%v: %v allocations per Update, want 0", st, n)
		}
	}
}

func TestMAConstructorsValidate(t *testing.T) {
	checkConstructors(t, []ctorCase{
		{"SMA(1)", func() error { _, err := NewSMA(1); return err }, nil, ""},
		{"SMA(0)", func() error { _, err := NewSMA(0); return err }, ErrPeriod, "indicators.NewSMA: n = 0"},
		{"WMA(-1)", func() error { _, err := NewWMA(-1); return err }, ErrPeriod, "indicators.NewWMA: n = -1"},
		{"DEMA(0)", func() error { _, err := NewDEMA(0); return err }, ErrPeriod, "indicators.NewDEMA: n = 0"},
		{"TEMA(max+1)", func() error { _, err := NewTEMA(MaxPeriod + 1); return err }, ErrPeriod, "indicators.NewTEMA: n = 100001"},
		{"TRIMA(0)", func() error { _, err := NewTRIMA(0); return err }, ErrPeriod, "indicators.NewTRIMA: n = 0"},
		{"KAMA(0)", func() error { _, err := NewKAMA(0); return err }, ErrPeriod, "indicators.NewKAMA: n = 0"},
		{"T3(5,1.5)", func() error { _, err := NewT3(5, 1.5); return err }, ErrParam, "indicators.NewT3: vfactor = 1.5"},
		{"T3(5,NaN)", func() error { _, err := NewT3(5, math.NaN()); return err }, ErrParam, "vfactor = NaN"},
		{"T3(0,0.7)", func() error { _, err := NewT3(0, 0.7); return err }, ErrPeriod, "indicators.NewT3: n = 0"},
		{"CMO(1)", func() error { _, err := NewCMO(1); return err }, ErrPeriod, "indicators.NewCMO: n = 1"},
		{"TRIX(0)", func() error { _, err := NewTRIX(0); return err }, ErrPeriod, "indicators.NewTRIX: n = 0"},
		{"VAR(1)", func() error { _, err := NewVar(1); return err }, nil, ""},
		{"STDDEV(1,1)", func() error { _, err := NewStdDev(1, 1); return err }, ErrPeriod, "indicators.NewStdDev: n = 1"},
		{"STDDEV(5,Inf)", func() error { _, err := NewStdDev(5, math.Inf(1)); return err }, ErrParam, "nbdev = +Inf"},
		{"APO(1,26)", func() error { _, err := NewAPO(1, 26, SMAType); return err }, ErrPeriod, "indicators.NewAPO: fast = 1"},
		{"PPO(12,26,mama)", func() error { _, err := NewPPO(12, 26, MAMAType); return err }, nil, ""},
		{"APO(12,26,99)", func() error { _, err := NewAPO(12, 26, 99); return err }, ErrMAType, "fast type 99"},
		{"MACD(12,26,0)", func() error { _, err := NewMACD(12, 26, 0); return err }, ErrPeriod, "indicators.NewMACD: signal = 0"},
		{"MACD(1,1,9)", func() error { _, err := NewMACD(1, 1, 9); return err }, ErrPeriod, "slow = 1"},
		{"MACDExt signal 9", func() error { _, err := NewMACDExt(12, SMAType, 26, SMAType, 9, 9); return err }, ErrMAType, "indicators.NewMACDExt: signal type 9"},
		{"BBands(1,...)", func() error { _, err := NewBBands(1, 2, 2, SMAType); return err }, ErrPeriod, "indicators.NewBBands: n = 1"},
		{"BBands NaN", func() error { _, err := NewBBands(5, math.NaN(), 2, SMAType); return err }, ErrParam, "up = NaN"},
		{"Stoch(0,...)", func() error { _, err := NewStoch(0, 3, SMAType, 3, SMAType); return err }, ErrPeriod, "indicators.NewStoch: fastk = 0"},
		{"Stoch type -1", func() error { _, err := NewStoch(5, 3, SMAType, 3, -1); return err }, ErrMAType, "slowd type -1"},
		{"MAMA(0.5,0.05)", func() error { _, err := NewMAMA(0.5, 0.05); return err }, nil, ""},
		{"MAMA(1,0.05)", func() error { _, err := NewMAMA(1, 0.05); return err }, ErrParam, "indicators.NewMAMA: fastlimit = 1"},
		{"MAMA(0.5,0)", func() error { _, err := NewMAMA(0.5, 0); return err }, ErrParam, "slowlimit = 0"},
		{"StochF(5,0)", func() error { _, err := NewStochF(5, 0, SMAType); return err }, ErrPeriod, "indicators.NewStochF: fastd = 0"},
		{"StochRSIMA(1,...)", func() error { _, err := NewStochRSIMA(1, 14, 1, 3, EMAType); return err }, ErrPeriod, "indicators.NewStochRSIMA: rsi = 1"},
		{"StochRSIMA ema", func() error { _, err := NewStochRSIMA(14, 14, 3, 3, EMAType); return err }, nil, ""},
	})
}

// The typed values: Update equals the Streamer's, a zero value never claims
// a value, and String names the parameters.
func TestMATypedValues(t *testing.T) {
	s := barWalks(400)[0]
	sma, _ := NewSMA(10)
	kama, _ := NewKAMA(10)
	macd, _ := NewMACD(26, 12, 9)
	bb, _ := NewBBands(20, 2, 1.5, EMAType)
	stoch, _ := NewStoch(14, 3, SMAType, 3, EMAType)
	srsi, _ := NewStochRSIMA(14, 14, 3, 3, WMAType)
	for _, c := range []struct {
		spec string
		next func(i int) []float64 // nil when not ok
	}{
		{"sma(10)", func(i int) []float64 { v, ok := sma.Update(s.close[i]); return vals(ok, v) }},
		{"kama(10)", func(i int) []float64 { v, ok := kama.Update(s.close[i]); return vals(ok, v) }},
		{"macd(12,26,9)", func(i int) []float64 { a, b, c, ok := macd.Update(s.close[i]); return vals(ok, a, b, c) }},
		{"bbands(20,2,1.5,ema)", func(i int) []float64 { a, b, c, ok := bb.Update(s.close[i]); return vals(ok, a, b, c) }},
		{"stoch(14,3,sma,3,ema)", func(i int) []float64 {
			k, d, ok := stoch.Update(s.high[i], s.low[i], s.close[i])
			return vals(ok, k, d)
		}},
	} {
		spec, _ := ParseSpec(c.spec)
		st, _ := spec.New()
		out := make([]float64, len(spec.Func.Outputs))
		for i := range s.len() {
			ok := st.Update(s.bar(i), out)
			got := c.next(i)
			if ok != (got != nil) || ok && !equalBits(got, out) {
				t.Fatalf("%s bar %d: typed %v, Streamer %v %v", c.spec, i, got, ok, out)
			}
		}
	}
	// SmoothK with a type: %K is the WMA of raw %K; %D the WMA of that.
	if got := srsi.String(); got != "StochRSI(14,14,3,3,wma)" {
		t.Errorf("String = %q", got)
	}
	if got := srsi.IdlePeriod(); got != 14+13+2+2 {
		t.Errorf("IdlePeriod = %d", got)
	}
	for _, c := range []struct{ got, want string }{
		{sma.String(), "SMA(10)"}, {kama.String(), "KAMA(10)"}, {macd.String(), "MACD(12,26,9)"},
		{bb.String(), "BBANDS(20,2,1.5,ema)"}, {stoch.String(), "STOCH(14,3,sma,3,ema)"},
	} {
		if c.got != c.want {
			t.Errorf("String %q, want %q", c.got, c.want)
		}
	}

	var (
		zs    SMA
		zw    WMA
		zd    DEMA
		zt    TEMA
		ztr   TRIMA
		zk    KAMA
		zt3   T3
		zc    CMO
		zp    PriceOscillator
		ztx   TRIX
		zv    Variance
		zm    MACD
		zme   MACDExt
		zb    BBands
		zst   Stoch
		zsf   StochF
		zsrsi StochRSI
		zmama MAMA
	)
	for range 3 {
		oks := []bool{}
		for _, u := range []func(float64) (float64, bool){zs.Update, zw.Update, zd.Update, zt.Update, ztr.Update,
			zk.Update, zt3.Update, zc.Update, zp.Update, ztx.Update, zv.Update} {
			_, ok := u(1)
			oks = append(oks, ok)
		}
		_, _, _, ok := zm.Update(1)
		oks = append(oks, ok)
		_, _, _, ok = zme.Update(1)
		oks = append(oks, ok)
		_, _, _, ok = zb.Update(1)
		oks = append(oks, ok)
		_, _, ok = zst.Update(2, 1, 1)
		oks = append(oks, ok)
		_, _, ok = zsf.Update(2, 1, 1)
		oks = append(oks, ok)
		_, _, ok = zsrsi.Update(1)
		oks = append(oks, ok)
		_, _, ok = zmama.Update(1)
		oks = append(oks, ok)
		for i, ok := range oks {
			if ok {
				t.Errorf("zero value %d: ok", i)
			}
		}
	}
}

// vals is the outputs when ok, nil otherwise.
func vals(ok bool, v ...float64) []float64 {
	if !ok {
		return nil
	}
	return v
}
