package indicators

import "testing"

// The benchmarks of both families: one op is one new bar through a spec's
// Streamer, built as the pipeline builds it. cpu-ns/op is the CPU time of
// the benchmark's thread per update, steadier than ns/op on a shared
// machine. Run both with a short -benchtime, e.g.
//
//	go test -run '^$' -bench Streamers -benchtime 0.3s ./indicators/

// benchBars is a bar walk on cent ticks with some flat runs; a power of two
// long so the index wraps with a mask.
var benchBars = randomBars("bench", 51, 1<<14, 0.01, 0.01)

// benchMASpecs is one spec per function of maFuncs, at TA-Lib's defaults
// unless a common setting says more (MACD 12/26/9, BBANDS 20).
var benchMASpecs = []string{
	"sma(20)", "ema(20)", "mama(0.5,0.05)", "wma(20)", "dema(20)", "tema(20)", "trima(20)", "kama(20)", "t3(5,0.7)",
	"rsi(14)", "cmo(14)", "apo(12,26,ema)", "ppo(12,26,ema)", "trix(15)", "stddev(20,1)", "var(20)",
	"macd(12,26,9)", "macdext(12,ema,26,ema,9,ema)", "macdext(12,kama,26,t3,9,dema)", "bbands(20,2,2,sma)",
	"stoch(14,3,sma,3,sma)", "stochf(14,3,sma)", "stochrsi(14,14,3,sma)", "stochrsi(14,14,3,ema)",
}

// BenchmarkMAStreamers runs each spec of benchMASpecs.
func BenchmarkMAStreamers(b *testing.B) {
	for _, spec := range benchMASpecs {
		b.Run(spec, func(b *testing.B) { benchStreamer(b, spec) })
	}
}

// BenchmarkPriceStreamers runs each function of the price family with its
// default parameters.
func BenchmarkPriceStreamers(b *testing.B) {
	for i := range priceFuncs {
		b.Run(priceFuncs[i].Name, func(b *testing.B) { benchStreamer(b, priceFuncs[i].Name) })
	}
}

// benchStreamer is the one body of both benchmarks.
func benchStreamer(b *testing.B, spec string) {
	bars := make([]Bar, benchBars.len())
	for i := range bars {
		bars[i] = benchBars.bar(i)
	}
	sp, err := ParseSpec(spec)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sp.New()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float64, len(sp.Func.Outputs))
	b.ReportAllocs()
	cpuPerOp(b, func() {
		for i := 0; b.Loop(); i++ {
			st.Update(bars[i&(len(bars)-1)], out)
		}
	})
	sinkF += out[0]
}
