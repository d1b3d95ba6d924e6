package indicators

import "testing"

// benchBars is a bar walk on cent ticks with some flat runs; a power of two
// long so the index wraps with a mask.
var benchBars = randomBars("bench", 51, 1<<14, 0.01, 0.01)

// BenchmarkPriceStreamers is one new bar through each function of the price
// family with its default parameters, built from its spec as the pipeline
// builds it (so through the Streamer interface). cpu-ns/op is the CPU time
// of the benchmark's thread per update, steadier than ns/op on a shared
// machine. Run with a short -benchtime, e.g.
//
//	go test -run '^$' -bench PriceStreamers -benchtime 0.3s ./indicators/
func BenchmarkPriceStreamers(b *testing.B) {
	bars := make([]Bar, benchBars.len())
	for i := range bars {
		bars[i] = benchBars.bar(i)
	}
	for i := range priceFuncs {
		f := &priceFuncs[i]
		b.Run(f.Name, func(b *testing.B) {
			st, out := defaultStreamer(b, f)
			b.ReportAllocs()
			cpuPerOp(b, func() {
				for i := 0; b.Loop(); i++ {
					st.Update(bars[i&(len(bars)-1)], out)
				}
			})
			sinkF += out[0]
		})
	}
}
