package indicators

import "testing"

// benchMASpecs is one spec per function of maFuncs, at TA-Lib's defaults
// unless a common setting says more (MACD 12/26/9, BBANDS 20).
var benchMASpecs = []string{
	"sma(20)", "ema(20)", "mama(0.5,0.05)", "wma(20)", "dema(20)", "tema(20)", "trima(20)", "kama(20)", "t3(5,0.7)",
	"rsi(14)", "cmo(14)", "apo(12,26,ema)", "ppo(12,26,ema)", "trix(15)", "stddev(20,1)", "var(20)",
	"macd(12,26,9)", "macdext(12,ema,26,ema,9,ema)", "macdext(12,kama,26,t3,9,dema)", "bbands(20,2,2,sma)",
	"stoch(14,3,sma,3,sma)", "stochf(14,3,sma)", "stochrsi(14,14,3,sma)", "stochrsi(14,14,3,ema)",
}

// BenchmarkMAStreamers: one op is one Streamer.Update, one new bar.
//
//	go test -run '^$' -bench MAStreamers -benchtime 0.5s ./indicators/
func BenchmarkMAStreamers(b *testing.B) {
	walk := randomBars("bench", 21, 1<<14, 0.01, 0.01)
	bars := make([]Bar, walk.len())
	for i := range bars {
		bars[i] = walk.bar(i)
	}
	for _, name := range benchMASpecs {
		b.Run(name, func(b *testing.B) {
			spec, err := ParseSpec(name)
			if err != nil {
				b.Fatal(err)
			}
			st, err := spec.New()
			if err != nil {
				b.Fatal(err)
			}
			out := make([]float64, len(spec.Func.Outputs))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				st.Update(bars[i&(len(bars)-1)], out)
			}
			sinkF += out[0]
		})
	}
}
