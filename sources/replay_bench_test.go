package sources

import (
	"context"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

// BenchmarkReplay measures loading, ordering and emitting a history of 4
// symbols held one after another (as CSV files are), as fast as possible.
func BenchmarkReplay(b *testing.B) {
	const symbols, perSymbol = 4, 25_000
	history := make(BarSlice, 0, symbols*perSymbol)
	t0 := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for s := range symbols {
		for i := range perSymbol {
			history = append(history, market.Bar{Symbol: string(rune('A' + s)), Time: t0.Add(time.Duration(i) * time.Minute), Close: 1})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		var out countingEmitter
		if err := (&Replay{Source: history}).Produce(context.Background(), &out); err != nil {
			b.Fatal(err)
		}
		if out.n != len(history) {
			b.Fatalf("emitted %d bars, want %d", out.n, len(history))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(history)), "ns/bar")
}
