package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// Run with, for example,
//
//	TICKFLOW_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./store/ -run '^$' -bench . -benchtime 2s
//
// Each benchmark reports rows/s; ns/op is per transaction (WriteBars,
// WriteSignals) or per full read (Bars).

// benchBars returns n bars of 10 symbols with times after the i-th call's.
func benchBars(call, n int) []market.Bar {
	out := make([]market.Bar, n)
	base := t0.Add(time.Duration(call*n) * time.Minute)
	for i := range out {
		p := 100 + float64(i%101)/7
		out[i] = market.Bar{Symbol: fmt.Sprintf("SYM%02d", i%10), Time: base.Add(time.Duration(i/10) * time.Minute),
			Open: p, High: p + 1, Low: p - 1, Close: p + 0.25, Volume: 1e6}
	}
	return out
}

func rowsPerSec(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkWriteBars(b *testing.B) {
	for _, backend := range storetest.Backends {
		for _, batch := range []int{100, 1000, 5000, 20000} {
			b.Run(fmt.Sprintf("%s/batch=%d", backend, batch), func(b *testing.B) {
				st := open(b, storetest.URL(b, backend))
				ctx := context.Background()
				batches := make([][]market.Bar, 0, 64)
				i := 0
				for b.Loop() {
					b.StopTimer()
					if i >= len(batches) {
						batches = append(batches, benchBars(i, batch))
					}
					bars := batches[i]
					b.StartTimer()
					if err := st.WriteBars(ctx, "1m", bars); err != nil {
						b.Fatal(err)
					}
					i++
				}
				rowsPerSec(b, i*batch)
			})
		}
	}
}

// BenchmarkReimportBars writes bars that are all already stored (the
// idempotent re-import path).
func BenchmarkReimportBars(b *testing.B) {
	const batch = 5000
	for _, backend := range storetest.Backends {
		b.Run(fmt.Sprintf("%s/batch=%d", backend, batch), func(b *testing.B) {
			st := open(b, storetest.URL(b, backend))
			ctx := context.Background()
			bars := benchBars(0, batch)
			if err := st.WriteBars(ctx, "1m", bars); err != nil {
				b.Fatal(err)
			}
			n := 0
			for b.Loop() {
				if err := st.WriteBars(ctx, "1m", bars); err != nil {
					b.Fatal(err)
				}
				n += batch
			}
			rowsPerSec(b, n)
		})
	}
}

func BenchmarkReadBars(b *testing.B) {
	const total = 200_000
	for _, backend := range storetest.Backends {
		b.Run(fmt.Sprintf("%s/rows=%d", backend, total), func(b *testing.B) {
			st := open(b, storetest.URL(b, backend))
			ctx := context.Background()
			for i := range total / 20000 {
				if err := st.WriteBars(ctx, "1m", benchBars(i, 20000)); err != nil {
					b.Fatal(err)
				}
			}
			n := 0
			for b.Loop() {
				for _, err := range st.Bars(ctx, store.Query{Timeframe: "1m"}) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			if n%total != 0 {
				b.Fatalf("read %d rows", n)
			}
			rowsPerSec(b, n)
		})
	}
}

func BenchmarkWriteSignals(b *testing.B) {
	for _, backend := range storetest.Backends {
		for _, batch := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", backend, batch), func(b *testing.B) {
				st := open(b, storetest.URL(b, backend))
				ctx := context.Background()
				n := 0
				run, err := st.StartRun(ctx, store.Run{Strategy: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				sigs := make([]market.Signal, batch)
				for b.Loop() {
					for i := range sigs {
						sigs[i] = market.Signal{Symbol: "SYM", Time: t0.Add(time.Duration(n+i) * time.Second), Side: market.Buy,
							Price: 101.5, Reason: "cross up below 20, close above EMA",
							Indicators: market.DefaultRecord(100, true, 0.15, 0.12, true)}
					}
					added, err := st.WriteSignals(ctx, &run, sigs)
					if err != nil || added != batch {
						b.Fatalf("added %d, %v", added, err)
					}
					n += batch
				}
				rowsPerSec(b, n)
			})
		}
	}
}
