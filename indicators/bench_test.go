package indicators

import (
	"testing"

	talib "github.com/markcheno/go-talib"
)

// Each benchmark op is one new bar. Run with a short -benchtime, e.g.
//
//	go test -run '^$' -bench . -benchtime 0.3s ./indicators/

var benchCloses = randomWalk(21, 1<<14, 0.01, 0.01)

var sinkF float64

func BenchmarkSetUpdate(b *testing.B) {
	set, _ := NewSet(Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e, _, k, d, _ := set.Update(benchCloses[i&(len(benchCloses)-1)])
		sinkF += e + k + d
	}
}

func BenchmarkEMAUpdate(b *testing.B) {
	ema, _ := NewEMA(20)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, _ := ema.Update(benchCloses[i&(len(benchCloses)-1)])
		sinkF += v
	}
}

func BenchmarkRSIUpdate(b *testing.B) {
	rsi, _ := NewRSI(14)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, _ := rsi.Update(benchCloses[i&(len(benchCloses)-1)])
		sinkF += v
	}
}

func BenchmarkStochRSIUpdate(b *testing.B) {
	st, _ := NewStochRSI(14, 14, 3)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k, d, _ := st.Update(benchCloses[i&(len(benchCloses)-1)])
		sinkF += k + d
	}
}

// BenchmarkTalibWindow500 is what the streaming types replace: on every new
// bar, go-talib's StochRsi and Ema recomputed over the last 500 bars.
func BenchmarkTalibWindow500(b *testing.B) {
	const window = 500
	span := len(benchCloses) - window
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w := benchCloses[i%span : i%span+window]
		k, d := talib.StochRsi(w, 14, 14, 3, talib.SMA)
		e := talib.Ema(w, 20)
		sinkF += k[window-1] + d[window-1] + e[window-1]
	}
}

// BenchmarkBatchStochRSIEMA is go-talib over a whole series once, per bar.
func BenchmarkBatchStochRSIEMA(b *testing.B) {
	closes := benchCloses[:2000]
	b.ReportAllocs()
	for b.Loop() {
		k, d, _ := BatchStochRSI(closes, 14, 14, 3)
		e, _ := BatchEMA(closes, 20)
		sinkF += k[len(k)-1] + d[len(d)-1] + e[len(e)-1]
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(closes)), "ns/bar")
}
