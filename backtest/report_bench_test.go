package backtest_test

import (
	"context"
	"io"
	"testing"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/sources"
)

// BenchmarkWriteReport measures the adapter and report.Write together on
// 100,000 bars of one symbol (indicators recomputed, fills, curves).
func BenchmarkWriteReport(b *testing.B) {
	const bars = 100_000
	res, err := backtest.Run(context.Background(), &sources.Synthetic{Symbols: 1, Bars: bars, Seed: 1},
		backtest.Config{KeepBars: true, StopLoss: 0.02})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := res.WriteReport(io.Discard, backtest.ReportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/bars, "ns/bar")
}
